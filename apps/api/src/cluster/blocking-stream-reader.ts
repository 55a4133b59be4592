import type { RunLog } from "../runs/run-log.js";
import type { Redis } from "./redis-connection.js";
import { xreadPairs } from "./redis-keys.js";

/** How long one blocking read waits by default (BlockingStreamReaderOptions.blockMs). */
export const defaultBlockMs = 5000;

/** A stream entry as XREAD returns it: its id, and its fields as the reply has them. */
export type StreamEntry = readonly [id: string, fields: unknown];

/** One stream followed by the reader; `cursor` is the last id read (the next read starts after it). */
export interface FollowedStream {
  readonly key: string;
  readonly cursor: string;
  /** Leaves the stream out of the next reads; entries of a read under way are dropped. */
  stop(): void;
}

export interface BlockingStreamReaderOptions {
  /** The dedicated connection for the blocking reads: nothing else may use it; close() destroys it. */
  connection: Redis;
  /** A command connection for the wake-ups (not closed here). */
  command: Redis;
  /** This reader's own wake stream: an entry there ends the read under way, so the next one has the new key set. */
  wakeKey: string;
  log: RunLog;
  /** In the reader's log lines (e.g. the replica id). */
  logContext?: Record<string, unknown>;
  /** Entries per stream per read (default 512). */
  count?: number;
  /** How long one blocking read waits (default defaultBlockMs, 5000 ms). */
  blockMs?: number;
}

interface Followed extends FollowedStream {
  cursor: string;
  deliver: (entries: StreamEntry[]) => void;
}

/**
 * A blocking read's XREAD, kept from one read to the next while the followed set stays the same: every read names every
 * followed stream, so building it anew per read was work (and garbage) in proportion to the streams a replica follows,
 * for each batch of entries it brought (per token, when it read the run streams too: run-stream-followers.ts now
 * subscribes to their channels instead). A new cursor is written into its slot when an entry is read.
 */
interface ReadCommand {
  args: string[];
  /** The streams the read names, by key, each with the index of its cursor in `args`. */
  byKey: Map<string, { stream: Followed; slot: number }>;
  /** The index of the wake stream's cursor. */
  wakeSlot: number;
}

/**
 * ONE blocking `XREAD … BLOCK` loop on a dedicated connection over every stream its users follow (the feed streams
 * of the users a replica serves): a replica holds one blocking connection, whatever it follows. Never a shared
 * command connection: a blocking read there would hold every other command behind it.
 *
 * The key set changes while the read blocks: the wake stream is part of every read, and following a new stream
 * writes an entry there, which ends the current read at once; the next one includes the new stream. Cursors are
 * always concrete ids (never `$`), so no entry falls between two reads, nor across an outage: when the connection
 * breaks the loop retries (backoff up to 1 s) and resumes every stream still followed from its cursor; isHealthy and
 * onHealth tell whether it reads (the replica's health includes it: redis-streams.ts).
 */
export class BlockingStreamReader {
  private readonly streams = new Map<string, Followed>();
  private readonly healthListeners = new Set<(healthy: boolean) => void>();
  private wakeCursor = "0-0";
  /** The blocking read of the current followed set (undefined: build it for the next read). */
  private command: ReadCommand | undefined;
  /**
   * A wake-up was sent since the loop last sent a read: that read ends with it, and the next names every stream
   * followed meanwhile, so more follows need no wake-up of their own (a burst of new subscriptions writes one wake-up
   * entry, not one each).
   */
  private woken = false;
  private healthy = true;
  private closed = false;
  private readonly loop: Promise<void>;

  constructor(private readonly opts: BlockingStreamReaderOptions) {
    this.loop = this.run();
  }

  /** False from a failed read until the next one succeeds, and once closed. */
  get isHealthy(): boolean {
    return this.healthy && !this.closed;
  }

  /** Streams followed. */
  get size(): number {
    return this.streams.size;
  }

  /**
   * Reads `key` after `cursor` (a concrete id) from now on: `deliver` gets each read's new entries, in order. One
   * follower per key (its user fans out): a second one is a bug.
   */
  follow(key: string, cursor: string, deliver: (entries: StreamEntry[]) => void): FollowedStream {
    if (this.closed) throw new Error("the stream reader is closed");
    if (key === this.opts.wakeKey || this.streams.has(key)) throw new Error(`the stream ${key} is followed already`);
    const followed: Followed = {
      key,
      cursor,
      deliver,
      // The next read leaves the stream out; no wake-up needed for that.
      stop: () => this.unfollow(followed),
    };
    this.streams.set(key, followed);
    this.command = undefined;
    // One wake-up ends the read under way; the next read names every stream followed until then.
    if (!this.woken) this.wakeUp();
    return followed;
  }

  private unfollow(followed: Followed): void {
    if (this.streams.get(followed.key) !== followed) return;
    this.streams.delete(followed.key);
    this.command = undefined;
  }

  /** `listener(false)` when a read fails while healthy, `listener(true)` at the first read that succeeds after. */
  onHealth(listener: (healthy: boolean) => void): () => void {
    this.healthListeners.add(listener);
    return () => this.healthListeners.delete(listener);
  }

  /** Ends the loop (the blocked read at once) and destroys the connection, which is this reader's alone. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.opts.connection.destroy();
    await this.loop.catch(() => {});
    this.streams.clear();
  }

  private wakeUp(): void {
    const { command, wakeKey } = this.opts;
    this.woken = true;
    command
      .sendCommand(["XADD", wakeKey, "MAXLEN", "~", "16", "*", "w", "1"])
      .then(() => command.sendCommand(["PEXPIRE", wakeKey, "3600000"]))
      .catch(() => {
        // Redis down: the read fails by itself and the loop starts over with the current key set. The next follow
        // wakes it again.
        this.woken = false;
      });
  }

  private setHealthy(healthy: boolean): void {
    if (this.healthy === healthy) return;
    this.healthy = healthy;
    for (const listener of [...this.healthListeners]) listener(healthy);
  }

  private async run(): Promise<void> {
    const { connection, log, wakeKey } = this.opts;
    let failures = 0;
    while (!this.closed) {
      // The first read after a failure does not block: with nothing new to read, a blocking one would keep the
      // reader unhealthy (sends refused with 503) for blockMs after Redis is back.
      const read = failures > 0 ? this.buildCommand(false) : (this.command ??= this.buildCommand(true));
      // Sent now with every stream followed so far: a follow from here on must end it.
      this.woken = false;
      let reply: unknown;
      try {
        reply = await connection.sendCommand<unknown>(read.args);
      } catch (error) {
        if (this.closed) return;
        if (failures === 0) log.warn({ err: error, ...this.opts.logContext }, "the blocking Redis stream reader lost its connection; retrying");
        failures++;
        // Rebuilt from the streams' cursors once reads succeed again: the non-blocking ones meanwhile move them.
        this.command = undefined;
        this.setHealthy(false);
        await sleep(Math.min(50 * 2 ** Math.min(failures, 5), 1000));
        continue;
      }
      if (this.closed) return;
      if (failures > 0) log.info({ ...this.opts.logContext }, "the blocking Redis stream reader is back");
      failures = 0;
      this.setHealthy(true);
      for (const [key, raw] of xreadPairs(reply)) {
        const entries = raw.filter((entry): entry is StreamEntry => Array.isArray(entry) && typeof entry[0] === "string");
        const last = entries.at(-1);
        if (!last) continue;
        if (key === wakeKey) {
          this.wakeCursor = last[0];
          read.args[read.wakeSlot] = last[0];
          continue;
        }
        // Only to the follower this read was made for, if it still follows: one that stopped and followed again
        // meanwhile has a cursor of its own, and reads these entries itself if they are after it.
        const named = read.byKey.get(key);
        if (!named || this.streams.get(key) !== named.stream) continue;
        named.stream.cursor = last[0];
        read.args[named.slot] = last[0];
        try {
          named.stream.deliver(entries);
        } catch (error) {
          // One user's bug must not stop the reads of every other.
          log.error({ err: error, key, ...this.opts.logContext }, "a stream follower failed on its entries");
        }
      }
    }
  }

  /** XREAD over the wake stream and every followed stream, from their cursors. */
  private buildCommand(block: boolean): ReadCommand {
    const { wakeKey } = this.opts;
    const count = String(this.opts.count ?? 512);
    const args = block ? ["XREAD", "COUNT", count, "BLOCK", String(this.opts.blockMs ?? defaultBlockMs), "STREAMS", wakeKey] : ["XREAD", "COUNT", count, "STREAMS", wakeKey];
    const streams = [...this.streams.values()];
    for (const stream of streams) args.push(stream.key);
    const wakeSlot = args.length;
    args.push(this.wakeCursor);
    const byKey = new Map<string, { stream: Followed; slot: number }>();
    for (const stream of streams) {
      byKey.set(stream.key, { stream, slot: args.length });
      args.push(stream.cursor);
    }
    return { args, byKey, wakeSlot };
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
