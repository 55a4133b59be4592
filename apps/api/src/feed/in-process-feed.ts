import { randomBytes } from "node:crypto";
import { FeedClosedError, feedStarted, FollowingFeed, SubscriberWake, type FeedStats, type FollowGenerator, type SubscribeOptions } from "./conversation-feed.js";
import type { FeedDelivery, FeedEvent } from "./feed-events.js";

export interface InProcessFeedOptions {
  /** Recent events kept per user for reconnecting clients (default 256); a client further behind gets `resync`. */
  bufferSize?: number;
  /** How long a user's recent events are kept once no client of theirs is subscribed (default 10 min). */
  idleRetentionMs?: number;
  now?: () => number;
}

export const defaultFeedBufferSize = 256;
export const defaultFeedIdleRetentionMs = 10 * 60_000;

interface Held {
  seq: number;
  delivery: FeedDelivery;
}

/** One user's recent events and current subscribers. */
interface Channel {
  /** Oldest first, at most bufferSize. */
  events: Held[];
  /** Events of the user up to this seq may be missing from `events` (dropped, or from before the channel existed). */
  missingThrough: number;
  wakers: Set<() => void>;
  lastActive: number;
}

/**
 * The conversation feed of one API process. Ids are `<process epoch>-<seq>`: an id from an earlier run of the
 * process (or another process) is foreign and answered with `resync`.
 *
 * Subscribers hold no queue: each keeps a cursor (the last seq it yielded) into its user's channel, a bounded ring
 * of recent events shared by the user's subscribers. A reader slower than the ring (more than bufferSize events
 * behind) finds its cursor fell off the ring and gets `resync`; memory per subscriber is a cursor and a callback.
 */
export class InProcessFeed extends FollowingFeed {
  private readonly epoch = randomBytes(4).toString("hex");
  private readonly bufferSize: number;
  private readonly idleRetentionMs: number;
  private readonly now: () => number;
  private readonly channels = new Map<string, Channel>();
  private seq = 0;
  private subscribers = 0;
  private closed = false;
  private lastSweep: number;

  constructor(opts: InProcessFeedOptions = {}) {
    super();
    this.bufferSize = Math.max(1, opts.bufferSize ?? defaultFeedBufferSize);
    this.idleRetentionMs = opts.idleRetentionMs ?? defaultFeedIdleRetentionMs;
    this.now = opts.now ?? Date.now;
    this.lastSweep = this.now();
  }

  publish(userId: string, event: FeedEvent): void {
    if (this.closed) return;
    this.sweep();
    const channel = this.channel(userId);
    const seq = ++this.seq;
    channel.events.push({ seq, delivery: { id: this.idOf(seq), event } });
    if (channel.events.length > this.bufferSize) {
      const dropped = channel.events.shift();
      if (dropped) channel.missingThrough = dropped.seq;
    }
    channel.lastActive = this.now();
    for (const wake of channel.wakers) wake();
  }

  protected async *follow(userId: string, { lastEventId, signal }: SubscribeOptions): FollowGenerator {
    if (this.closed) throw new FeedClosedError();
    this.sweep();
    const channel = this.channel(userId);
    let cursor = this.seq;
    let resync = false;
    if (lastEventId !== null) {
      const seq = this.seqOf(lastEventId);
      if (seq === undefined || seq < channel.missingThrough) resync = true;
      else cursor = seq;
    }
    const wakeup = new SubscriberWake();
    const waker = wakeup.wake;
    channel.wakers.add(waker);
    signal.addEventListener("abort", waker);
    this.subscribers++;
    try {
      yield feedStarted;
      for (;;) {
        if (signal.aborted) return;
        if (this.closed) throw new FeedClosedError();
        if (resync || cursor < channel.missingThrough) {
          resync = false;
          cursor = this.seq;
          yield { id: this.idOf(cursor), event: { type: "resync", at: this.now() } };
          continue;
        }
        const next = channel.events.find((held) => held.seq > cursor);
        if (next) {
          cursor = next.seq;
          yield next.delivery;
          continue;
        }
        await wakeup.next();
      }
    } finally {
      channel.wakers.delete(waker);
      signal.removeEventListener("abort", waker);
      channel.lastActive = this.now();
      this.subscribers--;
    }
  }

  stats(): FeedStats {
    return { subscribers: this.subscribers, users: this.channels.size };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const channel of this.channels.values()) for (const wake of channel.wakers) wake();
  }

  private channel(userId: string): Channel {
    let channel = this.channels.get(userId);
    if (!channel) {
      // What the user's clients may have missed before now is not known here.
      channel = { events: [], missingThrough: this.seq, wakers: new Set(), lastActive: this.now() };
      this.channels.set(userId, channel);
    }
    return channel;
  }

  private idOf(seq: number): string {
    return `${this.epoch}-${seq}`;
  }

  /** The seq of an id this process gave out; undefined for anything else. */
  private seqOf(id: string): number | undefined {
    const match = /^([0-9a-f]{8})-(\d{1,15})$/.exec(id);
    if (!match || match[1] !== this.epoch) return undefined;
    const seq = Number(match[2]);
    return seq <= this.seq ? seq : undefined;
  }

  /** Forgets users without subscribers whose last activity is older than the retention (checked at most once a minute). */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < Math.min(this.idleRetentionMs, 60_000)) return;
    this.lastSweep = now;
    for (const [userId, channel] of this.channels) {
      if (channel.wakers.size === 0 && now - channel.lastActive >= this.idleRetentionMs) this.channels.delete(userId);
    }
  }
}
