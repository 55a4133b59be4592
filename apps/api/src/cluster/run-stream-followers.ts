import type { StoredEvent } from "@streamchat/store";
import type { Listener } from "../runs/live-runs.js";
import type { LiveHandle } from "../runs/subscribe.js";
import type { BlockingStreamReader, FollowedStream, StreamEntry } from "./blocking-stream-reader.js";
import type { Redis } from "./redis-connection.js";
import { entryJson, entryToEvent, runStreamKey, seqOf, streamId } from "./redis-keys.js";

export interface RunStreamFollowersOptions {
  /** The replica's blocking reader (shared with the conversation feed). */
  reader: BlockingStreamReader;
  /** The shared command connection (stream tops). */
  command: Redis;
  /**
   * Every this often (default 3000 ms), the runs of the feeds that were silent since the last time are looked up:
   * the followers of one no longer running check the durable record (its end may not have reached the stream).
   */
  stallMs?: number;
  /** Which of these runs are still running: one read for every silent feed (ChatStore.runningAmong). */
  runningAmong: (runIds: string[]) => Promise<Set<string>>;
}

interface Follower {
  listener: Listener;
  wake: () => void;
  stalled: boolean;
}

/** One run's stream as this replica reads it, with the followers it fans out to. */
interface Feed {
  runId: string;
  stream: FollowedStream;
  followers: Set<Follower>;
  /** Deliveries since the last stall sweep. */
  active: boolean;
}

/**
 * The live reads of the runs executing on other replicas: each run stream followed here is read once, by the
 * replica's blocking reader (blocking-stream-reader.ts), and each entry is fanned out in memory to the run's
 * followers on this replica (as the embedded listeners do).
 *
 * When the reader's connection breaks, every open feed is closed (its followers go back to the durable log, and
 * come back when the reader is healthy again).
 */
export class RunStreamFollowers {
  private readonly feeds = new Map<string, Feed>();
  /** Bumped when the reader's connection breaks: handles of an older generation are closed. */
  private generation = 0;
  private closed = false;
  private readonly stallTimer: NodeJS.Timeout;
  private sweeping = false;
  private readonly stopHealth: () => void;

  constructor(private readonly opts: RunStreamFollowersOptions) {
    this.stallTimer = setInterval(() => void this.sweepStalled(), opts.stallMs ?? 3000);
    this.stallTimer.unref();
    this.stopHealth = opts.reader.onHealth((healthy) => {
      if (!healthy) this.closeFeeds();
    });
  }

  get isHealthy(): boolean {
    return this.opts.reader.isHealthy && !this.closed;
  }

  /** Run streams followed. */
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
        const followers = new Set<Follower>();
        const opened: Feed = {
          runId,
          followers,
          active: false,
          stream: this.opts.reader.follow(key, streamId(top), (entries) => this.deliver(opened, entries)),
        };
        feed = opened;
        this.feeds.set(key, feed);
      }
    }
    const follower: Follower = { listener, wake, stalled: false };
    feed.followers.add(follower);
    const generation = this.generation;
    const opened = feed;
    return new FeedHandle(
      follower,
      () => this.generation !== generation || this.closed,
      () => {
        opened.followers.delete(follower);
        if (opened.followers.size === 0 && this.feeds.get(key) === opened) {
          this.feeds.delete(key);
          opened.stream.stop();
        }
      },
    );
  }

  /** Ends every feed; the reader is the replica's (ReplicaRedis closes it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.stallTimer);
    this.stopHealth();
    this.closeFeeds();
  }

  private deliver(feed: Feed, entries: StreamEntry[]): void {
    for (const entry of entries) {
      const json = entryJson(entry);
      const stored: StoredEvent | undefined = entryToEvent(entry, json);
      if (!stored) continue;
      feed.active = true;
      for (const follower of feed.followers) follower.listener(stored, json);
    }
  }

  private async topSeq(key: string): Promise<number> {
    const reply = await this.opts.command.sendCommand<unknown>(["XREVRANGE", key, "+", "-", "COUNT", "1"]);
    const entry = Array.isArray(reply) ? reply[0] : undefined;
    return Array.isArray(entry) && typeof entry[0] === "string" ? seqOf(entry[0]) : 0;
  }

  /** Every open feed ends: its followers read the durable log and listen again once the reader is back. */
  private closeFeeds(): void {
    this.generation++;
    const feeds = [...this.feeds.values()];
    this.feeds.clear();
    for (const feed of feeds) {
      feed.stream.stop();
      for (const follower of feed.followers) follower.wake();
    }
  }

  /**
   * A run whose replica died is closed by another one, whose closing events may not reach this feed: the followers
   * of a silent feed whose run is no longer running are told to look at the durable record. One status read for all
   * silent feeds per sweep (a quiet answer — a model thinking, a tool waiting for approval — is the common case, and a
   * read per follower cost a database query per open stream every sweep). Skipped while a sweep is still reading, and
   * when the read fails (the followers could not check either; the next sweep asks again).
   */
  private async sweepStalled(): Promise<void> {
    if (this.sweeping) return;
    const silent: Feed[] = [];
    for (const feed of this.feeds.values()) {
      if (feed.active) feed.active = false;
      else silent.push(feed);
    }
    if (silent.length === 0) return;
    this.sweeping = true;
    let running: Set<string>;
    try {
      running = await this.opts.runningAmong(silent.map((feed) => feed.runId));
    } catch {
      return;
    } finally {
      this.sweeping = false;
    }
    for (const feed of silent) {
      if (running.has(feed.runId)) continue;
      for (const follower of feed.followers) {
        follower.stalled = true;
        follower.wake();
      }
    }
  }
}

/**
 * A follower's handle on its feed. A class, not an object literal: V8 makes a literal with a getter (`closed`) a
 * dictionary, larger and slower to read, and every open subscription keeps one.
 */
class FeedHandle implements LiveHandle {
  constructor(
    private readonly follower: Follower,
    private readonly isClosed: () => boolean,
    readonly stop: () => void,
  ) {}

  get closed(): boolean {
    return this.isClosed();
  }

  takeStalled(): boolean {
    const stalled = this.follower.stalled;
    this.follower.stalled = false;
    return stalled;
  }
}
