import type { FeedDelivery, FeedEvent } from "./feed-events.js";

/**
 * The per-user stream of conversation changes behind `conversations.feed`. The in-process implementation
 * (in-process-feed.ts) serves one API process; a shared one (Redis streams / pub-sub) implements the same contract
 * so that every process's changes reach every process's subscribers.
 *
 * Contract:
 * - `publish` hands the event to the user's current subscribers (on every process, for a shared backend) and keeps
 *   it for a while for reconnecting ones. Ids are opaque strings, increasing per user in delivery order.
 * - `subscribe` resolves once the subscription's starting point is fixed: with `lastEventId: null` it then yields
 *   the user's events published from that moment on, including any published before its first `next()` (so a
 *   client that refetches once it is subscribed misses nothing). With the id of the last
 *   event a client received it first yields what the user missed after it, in order, then live events; when the
 *   feed no longer holds all of them (too far behind, an unknown or foreign id) it yields one `resync` delivery
 *   instead (whose id is a valid resume point), then live events. Never ends on its own; ends when `signal` aborts
 *   or the feed closes. Memory per subscriber stays bounded whatever the reader does.
 * - Publishing never waits for subscribers. A backend that publishes synchronously returns nothing: every run
 *   publishes a few events, and a promise for each (with its `catch`) is work for nothing.
 */
export interface ConversationFeed {
  publish(userId: string, event: FeedEvent): Promise<void> | void;
  subscribe(userId: string, options: SubscribeOptions): Promise<AsyncGenerator<FeedDelivery, void, void>>;
  stats(): FeedStats;
  /** Ends every subscription (they throw FeedClosedError, so clients reconnect, elsewhere); later publishes are dropped. */
  close(): Promise<void>;
}

export interface SubscribeOptions {
  lastEventId: string | null;
  signal: AbortSignal;
}

/** What a follow generator yields: `feedStarted` first (its starting point is then fixed), then deliveries. */
export type FollowGenerator = AsyncGenerator<FeedDelivery | typeof feedStarted, void, void>;

/** The backends' common `subscribe`: each writes its own `follow` generator. */
export abstract class FollowingFeed implements ConversationFeed {
  subscribe(userId: string, options: SubscribeOptions): Promise<AsyncGenerator<FeedDelivery, void, void>> {
    return startedSubscription(this.follow(userId, options));
  }

  protected abstract follow(userId: string, options: SubscribeOptions): FollowGenerator;
  abstract publish(userId: string, event: FeedEvent): Promise<void> | void;
  abstract stats(): FeedStats;
  abstract close(): Promise<void>;
}

export interface FeedStats {
  subscribers: number;
  /** Users whose recent events are held for reconnecting clients. */
  users: number;
}

/** A subscription ended because its feed closed (the process is stopping): the client should reconnect. */
export class FeedClosedError extends Error {
  constructor() {
    super("The server is restarting; reconnect.");
    this.name = "FeedClosedError";
  }
}

/** What an implementation's follow generator yields once its starting point is fixed, before any delivery. */
export const feedStarted: unique symbol = Symbol("feed subscription started");

/**
 * Runs a follow generator up to its `feedStarted` (its starting point is then fixed, and its `finally` will run
 * whenever it is returned) and hands it out as the subscription.
 */
export async function startedSubscription(follow: FollowGenerator): Promise<AsyncGenerator<FeedDelivery, void, void>> {
  const first = await follow.next();
  if (first.done || first.value !== feedStarted) {
    await follow.return();
    throw new Error("a feed subscription must yield feedStarted first");
  }
  return follow as AsyncGenerator<FeedDelivery, void, void>;
}

/**
 * One subscriber's wake-up call, shared by the backends: the channel and the subscription's signal call `wake`, the
 * follow loop awaits `next()` once it has yielded everything it had. A wake while nobody waits is dropped: the loop
 * looks at its channel again before it waits.
 */
export class SubscriberWake {
  private waiting: (() => void) | null = null;
  readonly wake = (): void => {
    const resolve = this.waiting;
    this.waiting = null;
    resolve?.();
  };

  next(): Promise<void> {
    return new Promise<void>((resolve) => (this.waiting = resolve));
  }
}
