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
 * The shapes of a sequence, consecutive token (and reasoning) events joined into one: how a provider cuts the text
 * into events follows the model server's network reads (one chunk per read), which tests do not control. The joined
 * text is the contract.
 */
export function shapes(events: readonly ChatEvent[]): string[] {
  const out: string[] = [];
  let previous: ChatEvent | undefined;
  for (const event of events) {
    if ((event.type === "token" || event.type === "reasoning") && previous?.type === event.type) {
      out[out.length - 1] += event.text;
    } else {
      out.push(shape(event));
    }
    previous = event;
  }
  return out;
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
    return shapes(this.events);
  }
}

export async function collect(run: AsyncGenerator<ChatEvent, RunResult, void>): Promise<{ events: ChatEvent[]; shapes: string[]; result: RunResult }> {
  const { events, result } = await new RunRecorder(run).finished;
  return { events, shapes: shapes(events), result };
}
