import type { ChatEvent } from "@streamchat/core";
import type { StoredEvent } from "@streamchat/store";
import { tracked, type TrackedEnvelope } from "@trpc/server";
import { attachWriter, type DirectWrite, type DirectWritesSource } from "../sse/direct-writes.js";
import type { DirectSlot, RunEventStream } from "../runs/subscribe.js";

type Tracked = TrackedEnvelope<ChatEvent>;

const trackedOf = (stored: StoredEvent): Tracked => tracked(String(stored.seq), stored.event);

/** A follower's step as the subscription's: made once, not a closure per `next()` (one waits for every open stream). */
const trackedStep = (result: IteratorResult<StoredEvent, void>): IteratorResult<Tracked, void> =>
  result.done ? result : { done: false, value: trackedOf(result.value) };

/**
 * chat.events' values: the run's events as tRPC `tracked` envelopes (the seq is the SSE id a client resumes from),
 * pulled from the run's follower, or written by it straight to the SSE writer while the subscriber is caught up
 * (direct-writes.ts, subscribe.ts `DirectSlot`).
 */
export class RunEventFeed implements AsyncIterableIterator<Tracked, void, void>, DirectWritesSource {
  readonly #slot: DirectSlot = { reader: null };
  readonly #events: RunEventStream;

  /** `follow` opens the follower with this feed's slot (RunManager.subscribe). */
  constructor(follow: (direct: DirectSlot) => RunEventStream) {
    this.#events = follow(this.#slot);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Tracked, void>> {
    return this.#events.next().then(trackedStep);
  }

  /** The subscription ended early (the client left): the follower's `finally` runs. */
  return(): Promise<IteratorResult<Tracked, void>> {
    return this.#events.return().then(() => ({ done: true, value: undefined }));
  }

  [attachWriter](write: DirectWrite): void {
    this.#slot.reader = { take: (stored, json) => write(stored.event, String(stored.seq), json) };
  }
}
