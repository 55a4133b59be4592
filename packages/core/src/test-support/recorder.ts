import { chatEventSchema, type ChatEvent } from "../events.js";
import type { RunResult } from "../run.js";

/** One line per event, for comparing whole sequences: `token:Hel`, `tool-result:calculator:ok`, `done:stop`. */
export function shape(event: ChatEvent): string {
  switch (event.type) {
    case "token":
    case "reasoning":
      return `${event.type}:${event.text}`;
    case "status":
      return `status:${event.message}`;
    case "tool-call":
      return `tool-call:${event.name}`;
    case "tool-result":
      return `tool-result:${event.name}:${event.ok ? "ok" : event.error?.code}`;
    case "approval-request":
      return `approval-request:${event.name}`;
    case "approval-result":
      return `approval-result:${event.name}:${event.approved ? "approved" : event.timedOut ? "timed-out" : "denied"}`;
    case "error":
      return `error:${event.code}`;
    case "done":
      return `done:${event.reason}`;
    case "run-start":
      return "run-start";
  }
}

/**
 * Consumes a run in the background, checking every event against the zod union, and lets a test wait for
 * the event it needs before acting (instead of sleeping).
 */
export class RunRecorder {
  readonly events: ChatEvent[] = [];
  readonly finished: Promise<{ events: ChatEvent[]; result: RunResult }>;
  private waiters: Array<{ test: (e: ChatEvent) => boolean; resolve: (e: ChatEvent) => void }> = [];

  constructor(run: AsyncGenerator<ChatEvent, RunResult, void>) {
    this.finished = (async () => {
      for (;;) {
        const next = await run.next();
        if (next.done) {
          for (const w of this.waiters) w.resolve = () => undefined;
          return { events: this.events, result: next.value };
        }
        const event = chatEventSchema.parse(next.value);
        this.events.push(event);
        this.waiters = this.waiters.filter((w) => {
          if (!w.test(event)) return true;
          w.resolve(event);
          return false;
        });
      }
    })();
  }

  /** Resolves with the first event (already seen or future) that passes `test`. */
  until(test: (e: ChatEvent) => boolean): Promise<ChatEvent> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.waiters.push({ test, resolve });
      this.finished.then(() => reject(new Error("run ended before the awaited event")), reject);
    });
  }

  shapes(): string[] {
    return this.events.map(shape);
  }
}

export async function collect(run: AsyncGenerator<ChatEvent, RunResult, void>): Promise<{ events: ChatEvent[]; shapes: string[]; result: RunResult }> {
  const { events, result } = await new RunRecorder(run).finished;
  return { events, shapes: events.map(shape), result };
}
