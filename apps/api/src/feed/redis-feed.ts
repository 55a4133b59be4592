import { randomBytes } from "node:crypto";
import type { RunLog } from "../runs/run-log.js";
import type { FollowedStream, StreamEntry } from "../cluster/blocking-stream-reader.js";
import type { Redis } from "../cluster/redis-connection.js";
import { feedStreamKey } from "../cluster/redis-keys.js";
import { ReplicaRedis } from "../cluster/replica-redis.js";
import { FeedClosedError, feedStarted, FollowingFeed, SubscriberWake, type FeedStats, type FollowGenerator, type SubscribeOptions } from "./conversation-feed.js";
import { feedEventSchema, type FeedDelivery, type FeedEvent } from "./feed-events.js";
import { defaultFeedBufferSize, defaultFeedIdleRetentionMs } from "./in-process-feed.js";

export interface RedisFeedOptions {
  /**
   * The replica's shared connections: commands (XADD, XRANGE) and its one blocking stream reader, which reads the
   * feed streams of the users with a subscriber here. The feed takes a share and gives it back when it closes.
   */
  redis: ReplicaRedis;
  /** Events kept per user in Redis (exact MAXLEN, default 256); a client further behind gets `resync`. */
  bufferSize?: number;
  /** How long a user's stream lives after their last event, at least (default 10 min). */
  idleRetentionMs?: number;
  /** How often this replica renews a user's stream's expiry at most (default feedExpiryRenewalMs). */
  expiryRenewalMs?: number;
  /** The clock of the renewals (tests). */
  now?: () => number;
}

/**
 * How often a replica renews the expiry of a user's stream at most. A renewal sets retention + this, so the stream
 * still lives at least the retention after its last entry, and at most this much longer. Without it every entry cost a
 * PEXPIRE: 4 of a one-token answer's ~20 Redis commands (docs/benchmarks-log.md, stop 57).
 */
export const feedExpiryRenewalMs = 60_000;

const eventField = "e";
/** A marker entry (no event): gives an empty stream a concrete id to resume from. */
const markField = "m";

interface Entry {
  id: string;
  event: FeedEvent | null;
}

/** One user's stream as this replica follows it: entries read by the reader after `floor`, at most bufferSize. */
interface Channel {
  key: string;
  /** The stream as the replica's reader follows it (its cursor: the last id read). */
  stream: FollowedStream;
  /** `ring` holds every entry of the stream after this id (up to the reader's cursor). */
  floor: string;
  ring: Entry[];
  wakers: Set<() => void>;
}

/**
 * The conversation feed over Redis Streams (cluster mode): one stream per user (`streamchat:feed:<userId>`, exact
 * MAXLEN bufferSize, expiring idleRetentionMs after its last write). Event ids are the stream entry ids, so they
 * increase per user on every replica and any replica resumes any id.
 *
 * A resume point is held when its entry is still in the stream (trimming only removes from the head, so everything
 * after it is there too); else `resync`, whose id is the stream's newest entry (a marker entry is added to an empty
 * stream so that there is one).
 *
 * Live reads: the replica's one blocking reader (cluster/blocking-stream-reader.ts, shared with the run streams)
 * follows the streams of the users with a subscriber here. Entries go to a per-user ring of bufferSize shared by
 * that user's subscribers, which keep only a cursor; one that fell behind the ring reads Redis (XRANGE, bufferSize
 * at a time) or gets `resync`. Across a Redis outage the reader keeps following from where it was.
 */
export class RedisFeed extends FollowingFeed {
  private readonly bufferSize: number;
  /** The TTL a renewal sets: the retention plus the renewal interval. */
  private readonly ttlMs: string;
  private readonly renewalMs: number;
  private readonly now: () => number;
  /** When this replica last renewed each stream's expiry, oldest first (a renewal moves its key to the end). */
  private readonly renewedAt = new Map<string, number>();
  private readonly forgetRenewals = (): void => this.renewedAt.clear();
  private readonly channels = new Map<string, Channel>();
  private readonly command: Redis;
  private readonly release: () => Promise<void>;
  private subscribers = 0;
  private closed = false;

  constructor(private readonly opts: RedisFeedOptions) {
    super();
    this.bufferSize = Math.max(1, opts.bufferSize ?? defaultFeedBufferSize);
    this.renewalMs = Math.max(0, opts.expiryRenewalMs ?? feedExpiryRenewalMs);
    this.ttlMs = String((opts.idleRetentionMs ?? defaultFeedIdleRetentionMs) + this.renewalMs);
    this.now = opts.now ?? Date.now;
    this.command = opts.redis.command;
    // A Redis that restarted without its data lost the streams and their expiry: the next entry of each renews it
    // (an XADD recreates a stream without one, which would otherwise live until this replica's next renewal).
    this.command.on("ready", this.forgetRenewals);
    this.release = opts.redis.retain();
  }

  async publish(userId: string, event: FeedEvent): Promise<void> {
    if (this.closed) return;
    await this.add(feedStreamKey(userId), eventField, JSON.stringify(event));
  }

  protected async *follow(userId: string, { lastEventId, signal }: SubscribeOptions): FollowGenerator {
    if (this.closed) throw new FeedClosedError();
    const wakeup = new SubscriberWake();
    const waker = wakeup.wake;
    const channel = await this.join(userId, waker);
    signal.addEventListener("abort", waker);
    let counted = false;
    try {
      let cursor: string;
      let resync = false;
      if (lastEventId === null) cursor = await this.topOrMark(channel.key);
      else if (parseId(lastEventId) && (await this.holds(channel.key, lastEventId))) cursor = lastEventId;
      else {
        cursor = "0-0";
        resync = true;
      }
      // Counted once its starting point is fixed: from here on it misses nothing published.
      this.subscribers++;
      counted = true;
      yield feedStarted;
      for (;;) {
        if (signal.aborted) return;
        if (this.closed) throw new FeedClosedError();
        if (resync) {
          resync = false;
          cursor = await this.topOrMark(channel.key);
          yield { id: cursor, event: { type: "resync", at: Date.now() } };
          continue;
        }
        if (compareIds(cursor, channel.floor) >= 0) {
          const next = channel.ring.find((entry) => compareIds(entry.id, cursor) > 0);
          if (next) {
            cursor = next.id;
            if (next.event) yield { id: next.id, event: next.event };
            continue;
          }
          await wakeup.next();
          continue;
        }
        // Behind the ring: read Redis from the cursor, which must still be there.
        const batch = await this.range(channel.key, cursor);
        if (batch[0]?.id !== cursor) {
          resync = true;
          continue;
        }
        for (const entry of batch.slice(1)) {
          if (signal.aborted) return;
          if (this.closed) throw new FeedClosedError();
          cursor = entry.id;
          if (entry.event) yield { id: entry.id, event: entry.event };
        }
      }
    } catch (error) {
      // A command cut short by close() is the close, not a failure.
      if (this.closed) throw new FeedClosedError();
      throw error;
    } finally {
      channel.wakers.delete(waker);
      signal.removeEventListener("abort", waker);
      if (counted) this.subscribers--;
      if (channel.wakers.size === 0 && this.channels.get(userId) === channel) {
        this.channels.delete(userId);
        channel.stream.stop();
      }
    }
  }

  stats(): FeedStats {
    return { subscribers: this.subscribers, users: this.channels.size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const channel of this.channels.values()) {
      channel.stream.stop();
      for (const wake of channel.wakers) wake();
    }
    this.command.off("ready", this.forgetRenewals);
    // The reader and the command connection close with the replica's last share.
    await this.release();
  }

  private async add(key: string, field: string, value: string): Promise<string> {
    const { command } = this;
    const xadd = command.sendCommand<unknown>(["XADD", key, "MAXLEN", String(this.bufferSize), "*", field, value]);
    const id = this.renewalDue(key) ? (await Promise.all([xadd, this.renew(key)]))[0] : await xadd;
    if (typeof id !== "string") throw new Error("XADD returned no id");
    return id;
  }

  /**
   * True when this replica has not renewed `key`'s expiry in the last renewalMs (then it is marked renewed now).
   * Renewals older than that are forgotten on the way: the map holds at most the keys renewed in the last interval.
   */
  private renewalDue(key: string): boolean {
    const now = this.now();
    const last = this.renewedAt.get(key);
    if (last !== undefined && now - last < this.renewalMs) return false;
    for (const [renewed, at] of this.renewedAt) {
      if (now - at < this.renewalMs) break;
      this.renewedAt.delete(renewed);
    }
    this.renewedAt.delete(key);
    this.renewedAt.set(key, now);
    return true;
  }

  private async renew(key: string): Promise<unknown> {
    try {
      return await this.command.sendCommand(["PEXPIRE", key, this.ttlMs]);
    } catch (error) {
      this.renewedAt.delete(key); // not renewed: the next entry tries again
      throw error;
    }
  }

  /** The user's channel with `waker` in it (added before any await, so a leaving subscriber cannot drop it meanwhile). */
  private async join(userId: string, waker: () => void): Promise<Channel> {
    let channel = this.channels.get(userId);
    if (!channel) {
      const key = feedStreamKey(userId);
      const top = (await this.top(key)) ?? "0-0";
      if (this.closed) throw new FeedClosedError();
      // Another subscriber may have opened it meanwhile (its floor is at most this top: it reads what comes next).
      channel = this.channels.get(userId);
      if (!channel) {
        const opened: Channel = {
          key,
          floor: top,
          ring: [],
          wakers: new Set(),
          stream: this.opts.redis.reader.follow(key, top, (entries) => this.receive(opened, entries)),
        };
        channel = opened;
        this.channels.set(userId, channel);
      }
    }
    channel.wakers.add(waker);
    return channel;
  }

  private async top(key: string): Promise<string | undefined> {
    const reply = await this.command.sendCommand<unknown>(["XREVRANGE", key, "+", "-", "COUNT", "1"]);
    return toEntries(reply)[0]?.id;
  }

  /** The newest entry's id; an empty stream gets a marker entry, so the id is one a resume finds. */
  private async topOrMark(key: string): Promise<string> {
    return (await this.top(key)) ?? (await this.add(key, markField, "1"));
  }

  private async holds(key: string, id: string): Promise<boolean> {
    const reply = await this.command.sendCommand<unknown>(["XRANGE", key, id, id]);
    return toEntries(reply).length === 1;
  }

  /** Entries from `from` (inclusive), at most bufferSize + 1. */
  private async range(key: string, from: string): Promise<Entry[]> {
    const reply = await this.command.sendCommand<unknown>(["XRANGE", key, from, "+", "COUNT", String(this.bufferSize + 1)]);
    return toEntries(reply);
  }

  /** A read's new entries of the user's stream: into the ring (bufferSize at most), then the subscribers wake. */
  private receive(channel: Channel, raw: StreamEntry[]): void {
    for (const entry of toEntries(raw)) channel.ring.push(entry);
    while (channel.ring.length > this.bufferSize) channel.floor = channel.ring.shift()!.id;
    for (const wake of channel.wakers) wake();
  }
}

/** XRANGE/XREAD entries → ids and events (null for markers or anything unreadable). */
function toEntries(reply: unknown): Entry[] {
  if (!Array.isArray(reply)) return [];
  const out: Entry[] = [];
  for (const item of reply) {
    if (!Array.isArray(item) || typeof item[0] !== "string") continue;
    const fields: unknown = item[1];
    let event: FeedEvent | null = null;
    if (Array.isArray(fields)) {
      const at = fields.indexOf(eventField);
      const json: unknown = at >= 0 ? fields[at + 1] : undefined;
      if (typeof json === "string") {
        try {
          const parsed = feedEventSchema.safeParse(JSON.parse(json));
          if (parsed.success) event = parsed.data;
        } catch {
          // Not ours: skipped.
        }
      }
    }
    out.push({ id: item[0], event });
  }
  return out;
}

/** A stream id `<ms>-<seq>`; undefined for anything else (a client's Last-Event-ID is untrusted). */
function parseId(id: string): [bigint, bigint] | undefined {
  const match = /^(\d{1,20})-(\d{1,20})$/.exec(id);
  return match ? [BigInt(match[1]!), BigInt(match[2]!)] : undefined;
}

function compareIds(a: string, b: string): number {
  const [am, as] = parseId(a) ?? [0n, 0n];
  const [bm, bs] = parseId(b) ?? [0n, 0n];
  return am === bm ? (as === bs ? 0 : as < bs ? -1 : 1) : am < bm ? -1 : 1;
}

/** A RedisFeed on connections of its own (commands, a blocking reader): a replica's feed shares the run streams' instead. */
export async function openRedisFeed(
  opts: Omit<RedisFeedOptions, "redis"> & {
    url: string;
    log: RunLog;
    blockMs?: number;
    /** The watchdog deadline of its connections (ReplicaRedisOptions.unansweredMs). */
    unansweredMs?: number;
  },
): Promise<RedisFeed> {
  const { url, log, blockMs, unansweredMs, ...feed } = opts;
  const redis = await ReplicaRedis.open({
    url,
    replicaId: `feed-${randomBytes(6).toString("hex")}`,
    log,
    ...(blockMs ? { blockMs } : {}),
    ...(unansweredMs === undefined ? {} : { unansweredMs }),
  });
  return new RedisFeed({ redis, ...feed });
}
