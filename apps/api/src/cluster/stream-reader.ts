import type { StoredEvent } from "@streamchat/store";
import type { Listener } from "../runs/live-runs.js";
import type { RunLog } from "../runs/run-log.js";
import type { LiveHandle } from "../runs/subscribe.js";
import type { Redis } from "./redis-connection.js";
import { entryToEvent, runStreamKey, seqOf, streamId, wakeStreamKey, xreadPairs } from "./redis-keys.js";

export interface StreamReaderOptions {
  /** The dedicated connection for the blocking reads: nothing else may use it. */
  reader: Redis;
  /** The shared command connection (stream tops, wake-ups). */
  command: Redis;
  replicaId: string;
  log: RunLog;
  /** Entries per stream per read (default 512). */
  count?: number;
  /** How long one blocking read waits (default 5000 ms). */
  blockMs?: number;
  /** A feed silent this long is flagged stalled for its followers to check the durable record (default 3000 ms). */
  stallMs?: number;
}

interface Follower {
  listener: Listener;
  wake: () => void;
  stalled: boolean;
}

/** One run's stream as this replica reads it: the cursor is the last entry handed to its followers. */
interface Feed {
  key: string;
  cursor: string;
  followers: Set<Follower>;
  /** Deliveries since the last stall sweep. */
  active: boolean;
}

/**
 * The live reads of one replica: ONE blocking `XREAD … BLOCK` loop on a dedicated connection reads every run stream
 * that this replica's followers follow, and fans each entry out in memory to them (as the embedded listeners do).
 * Never the shared command connection: a blocking read there would hold every other command behind it.
 *
 * The key set changes while the read blocks: a replica's own wake stream is part of every read, and adding a run
 * writes an entry there, which ends the current read at once; the next one includes the new run. Cursors are always
 * concrete ids (never `$`), so no entry falls between two reads.
 *
 * When the connection breaks, every open feed is closed (its followers go back to the durable log, and come back
 * when the reader is healthy again); the loop waits for the connection and resumes.
 */
export class StreamReader {
  private readonly feeds = new Map<string, Feed>();
  private readonly wakeKey: string;
  private wakeCursor = "0-0";
  /** Bumped when the connection breaks: handles of an older generation are closed. */
  private generation = 0;
  private healthy = true;
  private closed = false;
  private readonly loop: Promise<void>;
  private readonly stallTimer: NodeJS.Timeout;

  constructor(private readonly opts: StreamReaderOptions) {
    this.wakeKey = wakeStreamKey(opts.replicaId);
    this.stallTimer = setInterval(() => this.sweepStalled(), opts.stallMs ?? 3000);
    this.stallTimer.unref();
    this.loop = this.run();
  }

  get isHealthy(): boolean {
    return this.healthy && !this.closed;
  }

  get size(): number {
    return this.feeds.size;
  }

  /**
   * Follows the run's stream from now: the feed starts at the stream's current top (or the one already open here),
   * so every entry added after this resolves is delivered. Null while the reader is down.
   */
  async listen(runId: string, listener: Listener, wake: () => void): Promise<LiveHandle | null> {
    if (!this.isHealthy) return null;
    const key = runStreamKey(runId);
    let feed = this.feeds.get(key);
    if (!feed) {
      let top: number;
      try {
        top = await this.topSeq(key);
      } catch {
        return null;
      }
      if (!this.isHealthy) return null;
      // Another follower may have opened it meanwhile (its cursor is at least as far as this top, or reads it soon).
      feed = this.feeds.get(key);
      if (!feed) {
        feed = { key, cursor: streamId(top), followers: new Set(), active: false };
        this.feeds.set(key, feed);
        this.wakeUp();
      }
    }
    const follower: Follower = { listener, wake, stalled: false };
    feed.followers.add(follower);
    const generation = this.generation;
    const opened = feed;
    const reader = this;
    return {
      get closed() {
        return reader.generation !== generation || reader.closed;
      },
      takeStalled() {
        const stalled = follower.stalled;
        follower.stalled = false;
        return stalled;
      },
      stop: () => {
        opened.followers.delete(follower);
        // The next read leaves the stream out; no wake-up needed for that.
        if (opened.followers.size === 0 && this.feeds.get(key) === opened) this.feeds.delete(key);
      },
    };
  }

  /** Ends every feed and the loop, and closes the reader's connection (it is this reader's alone). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.stallTimer);
    this.closeFeeds();
    // Ends the blocked read at once.
    this.opts.reader.destroy();
    await this.loop.catch(() => {});
  }

  private async topSeq(key: string): Promise<number> {
    const reply = await this.opts.command.sendCommand<unknown>(["XREVRANGE", key, "+", "-", "COUNT", "1"]);
    const entry = Array.isArray(reply) ? reply[0] : undefined;
    return Array.isArray(entry) && typeof entry[0] === "string" ? seqOf(entry[0]) : 0;
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
    const count = String(this.opts.count ?? 512);
    const block = String(this.opts.blockMs ?? 5000);
    let failures = 0;
    while (!this.closed) {
      const feeds = [...this.feeds.values()];
      const args = ["XREAD", "COUNT", count, "BLOCK", block, "STREAMS", this.wakeKey];
      for (const feed of feeds) args.push(feed.key);
      args.push(this.wakeCursor);
      for (const feed of feeds) args.push(feed.cursor);
      let reply: unknown;
      try {
        reply = await reader.sendCommand<unknown>(args);
      } catch (error) {
        if (this.closed) return;
        if (this.healthy) {
          this.healthy = false;
          log.warn({ err: error, replicaId: this.opts.replicaId }, "the Redis stream reader lost its connection; followers read the database meanwhile");
          this.closeFeeds();
        }
        failures++;
        await sleep(Math.min(50 * 2 ** Math.min(failures, 5), 1000));
        continue;
      }
      if (!this.healthy) {
        this.healthy = true;
        log.info({ replicaId: this.opts.replicaId }, "the Redis stream reader is back");
      }
      failures = 0;
      for (const [key, entries] of xreadPairs(reply)) {
        if (key === this.wakeKey) {
          const last = entries.at(-1);
          if (Array.isArray(last) && typeof last[0] === "string") this.wakeCursor = last[0];
          continue;
        }
        const feed = this.feeds.get(key);
        if (!feed) continue;
        for (const entry of entries) {
          const stored: StoredEvent | undefined = entryToEvent(entry);
          if (!stored) continue;
          feed.cursor = (entry as [string])[0];
          feed.active = true;
          for (const follower of feed.followers) follower.listener(stored);
        }
      }
    }
  }

  /** Every open feed ends: its followers read the durable log and listen again once the reader is back. */
  private closeFeeds(): void {
    this.generation++;
    const feeds = [...this.feeds.values()];
    this.feeds.clear();
    for (const feed of feeds) for (const follower of feed.followers) follower.wake();
  }

  private sweepStalled(): void {
    for (const feed of this.feeds.values()) {
      if (feed.active) {
        feed.active = false;
        continue;
      }
      for (const follower of feed.followers) {
        follower.stalled = true;
        follower.wake();
      }
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
