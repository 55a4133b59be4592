import { randomBytes } from "node:crypto";
import type { RunLog } from "../runs/run-log.js";
import { closeRedis, openRedis, type Redis } from "../cluster/redis-connection.js";
import { feedStreamKey, feedWakeStreamKey, xreadPairs } from "../cluster/redis-keys.js";
import { FeedClosedError, feedStarted, startedSubscription, type ConversationFeed, type FeedStats } from "./conversation-feed.js";
import { feedEventSchema, type FeedDelivery, type FeedEvent } from "./feed-events.js";
import { defaultFeedBufferSize, defaultFeedIdleRetentionMs } from "./in-process-feed.js";

export interface RedisFeedOptions {
  /** Shared command connection (XADD, XRANGE). */
  command: Redis;
  /** Dedicated connection for the one blocking XREAD loop: nothing else may use it; the feed closes it. */
  reader: Redis;
  log: RunLog;
  /** Events kept per user in Redis (exact MAXLEN, default 256); a client further behind gets `resync`. */
  bufferSize?: number;
  /** How long a user's stream lives after their last event (default 10 min). */
  idleRetentionMs?: number;
  /** How long one blocking read waits before it starts over (default 5000 ms). */
  blockMs?: number;
}

const eventField = "e";
/** A marker entry (no event): gives an empty stream a concrete id to resume from. */
const markField = "m";

interface Entry {
  id: string;
  event: FeedEvent | null;
}

/** One user's stream as this replica follows it: entries read by the loop after `floor`, at most bufferSize. */
interface Channel {
  key: string;
  /** The last id read by the loop (the next XREAD starts after it). */
  cursor: string;
  /** `ring` holds every entry of the stream after this id (up to `cursor`). */
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
 * Live reads: ONE blocking XREAD loop per replica on a dedicated connection over the streams of the users with a
 * subscriber here (as cluster/stream-reader.ts does for runs; its wake stream restarts the read when the set changes).
 * Entries go to a per-user ring of bufferSize shared by that user's subscribers, which keep only a cursor; one that
 * fell behind the ring reads Redis (XRANGE, bufferSize at a time) or gets `resync`.
 */
export class RedisFeed implements ConversationFeed {
  private readonly replicaId = randomBytes(6).toString("hex");
  private readonly wakeKey = feedWakeStreamKey(this.replicaId);
  private wakeCursor = "0-0";
  private readonly bufferSize: number;
  private readonly retentionMs: string;
  private readonly channels = new Map<string, Channel>();
  private subscribers = 0;
  private closed = false;
  private readonly loop: Promise<void>;

  constructor(private readonly opts: RedisFeedOptions) {
    this.bufferSize = Math.max(1, opts.bufferSize ?? defaultFeedBufferSize);
    this.retentionMs = String(opts.idleRetentionMs ?? defaultFeedIdleRetentionMs);
    this.loop = this.run();
  }

  async publish(userId: string, event: FeedEvent): Promise<void> {
    if (this.closed) return;
    await this.add(feedStreamKey(userId), eventField, JSON.stringify(event));
  }

  subscribe(userId: string, options: { lastEventId: string | null; signal: AbortSignal }): Promise<AsyncGenerator<FeedDelivery, void, void>> {
    return startedSubscription(this.follow(userId, options));
  }

  private async *follow(
    userId: string,
    { lastEventId, signal }: { lastEventId: string | null; signal: AbortSignal },
  ): AsyncGenerator<FeedDelivery | typeof feedStarted, void, void> {
    if (this.closed) throw new FeedClosedError();
    let wake: (() => void) | null = null;
    const waker = () => {
      const w = wake;
      wake = null;
      w?.();
    };
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
          await new Promise<void>((resolve) => (wake = resolve));
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
      // The next read leaves the stream out; no wake-up needed for that.
      if (channel.wakers.size === 0 && this.channels.get(userId) === channel) this.channels.delete(userId);
    }
  }

  stats(): FeedStats {
    return { subscribers: this.subscribers, users: this.channels.size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const channel of this.channels.values()) for (const wake of channel.wakers) wake();
    // Ends the blocked read at once.
    this.opts.reader.destroy();
    await this.loop.catch(() => {});
    await closeRedis(this.opts.command);
  }

  private async add(key: string, field: string, value: string): Promise<string> {
    const { command } = this.opts;
    const [id] = await Promise.all([
      command.sendCommand<unknown>(["XADD", key, "MAXLEN", String(this.bufferSize), "*", field, value]),
      command.sendCommand(["PEXPIRE", key, this.retentionMs]),
    ]);
    if (typeof id !== "string") throw new Error("XADD returned no id");
    return id;
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
        channel = { key, cursor: top, floor: top, ring: [], wakers: new Set() };
        this.channels.set(userId, channel);
        this.wakeUp();
      }
    }
    channel.wakers.add(waker);
    return channel;
  }

  private async top(key: string): Promise<string | undefined> {
    const reply = await this.opts.command.sendCommand<unknown>(["XREVRANGE", key, "+", "-", "COUNT", "1"]);
    return toEntries(reply)[0]?.id;
  }

  /** The newest entry's id; an empty stream gets a marker entry, so the id is one a resume finds. */
  private async topOrMark(key: string): Promise<string> {
    return (await this.top(key)) ?? (await this.add(key, markField, "1"));
  }

  private async holds(key: string, id: string): Promise<boolean> {
    const reply = await this.opts.command.sendCommand<unknown>(["XRANGE", key, id, id]);
    return toEntries(reply).length === 1;
  }

  /** Entries from `from` (inclusive), at most bufferSize + 1. */
  private async range(key: string, from: string): Promise<Entry[]> {
    const reply = await this.opts.command.sendCommand<unknown>(["XRANGE", key, from, "+", "COUNT", String(this.bufferSize + 1)]);
    return toEntries(reply);
  }

  private wakeUp(): void {
    this.opts.command
      .sendCommand(["XADD", this.wakeKey, "MAXLEN", "~", "16", "*", "w", "1"])
      .then(() => this.opts.command.sendCommand(["PEXPIRE", this.wakeKey, "3600000"]))
      .catch(() => {
        // Redis down: the read fails by itself and the loop starts over with the current key set.
      });
  }

  private async run(): Promise<void> {
    const { reader, log } = this.opts;
    const block = String(this.opts.blockMs ?? 5000);
    let failures = 0;
    while (!this.closed) {
      const channels = [...this.channels.values()];
      const args = ["XREAD", "COUNT", String(this.bufferSize), "BLOCK", block, "STREAMS", this.wakeKey];
      for (const channel of channels) args.push(channel.key);
      args.push(this.wakeCursor);
      for (const channel of channels) args.push(channel.cursor);
      let reply: unknown;
      try {
        reply = await reader.sendCommand<unknown>(args);
      } catch (error) {
        if (this.closed) return;
        // Cursors are concrete ids: the next read after the outage misses nothing that is still in the stream.
        if (failures === 0) log.warn({ err: error }, "the conversation feed's Redis reader lost its connection; retrying");
        failures++;
        await new Promise<void>((resolve) => setTimeout(resolve, Math.min(50 * 2 ** Math.min(failures, 5), 1000)));
        continue;
      }
      failures = 0;
      for (const [key, raw] of xreadPairs(reply)) {
        const entries = toEntries(raw);
        if (key === this.wakeKey) {
          const last = entries.at(-1);
          if (last) this.wakeCursor = last.id;
          continue;
        }
        const channel = channels.find((c) => c.key === key);
        if (!channel || entries.length === 0) continue;
        for (const entry of entries) {
          channel.ring.push(entry);
          channel.cursor = entry.id;
        }
        while (channel.ring.length > this.bufferSize) channel.floor = channel.ring.shift()!.id;
        for (const wake of channel.wakers) wake();
      }
    }
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

/** A RedisFeed on two connections of its own (commands, the blocking reader). */
export async function openRedisFeed(opts: { url: string; log: RunLog; bufferSize?: number; blockMs?: number }): Promise<RedisFeed> {
  const command = await openRedis({ url: opts.url, role: "feed commands", log: opts.log });
  let reader: Redis;
  try {
    reader = await openRedis({ url: opts.url, role: "feed reader", log: opts.log });
  } catch (error) {
    command.destroy();
    throw error;
  }
  return new RedisFeed({ command, reader, log: opts.log, ...(opts.bufferSize ? { bufferSize: opts.bufferSize } : {}), ...(opts.blockMs ? { blockMs: opts.blockMs } : {}) });
}
