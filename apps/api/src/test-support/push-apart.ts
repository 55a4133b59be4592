import type { ChatEvent } from "@streamchat/core";
import type { ControlledStream, SimChunk } from "@streamchat/ollama-sim";

/**
 * Pushes simulator chunks that must each become a token event of their own. The model transport hands the provider
 * everything that queued while it was busy as one chunk (and the provider joins its text), so pushes written in quick
 * succession may reach the run as one token event; a test that needs many events (to overflow a follower's queue, to
 * cut a stream after a few) waits after each push until a live follower of the run (`seen`) has its text. What the
 * run reads after that comes alone.
 */
export class ApartPusher {
  private expected = 0;
  private seenLength = 0;
  private waiters: Array<{ length: number; resolve: () => void }> = [];

  constructor(private readonly control: Pick<ControlledStream, "push">) {}

  /** Feed every event a live follower of the run receives. */
  readonly seen = (event: ChatEvent): void => {
    if (event.type !== "token") return;
    this.seenLength += event.text.length;
    this.waiters = this.waiters.filter((waiter) => {
      if (this.seenLength < waiter.length) return true;
      waiter.resolve();
      return false;
    });
  };

  /** Pushes a text chunk and waits until the follower has seen it. */
  async push(content: string): Promise<void> {
    this.expected += content.length;
    const length = this.expected;
    await this.control.push({ content } satisfies SimChunk);
    if (this.seenLength >= length) return;
    await new Promise<void>((resolve) => this.waiters.push({ length, resolve }));
  }
}

/** Drains `events` in the background into `onEvent` (a live follower for ApartPusher). */
export function follow(events: AsyncIterable<{ event: ChatEvent }>, onEvent: (event: ChatEvent) => void): Promise<void> {
  return (async () => {
    for await (const { event } of events) onEvent(event);
  })();
}
