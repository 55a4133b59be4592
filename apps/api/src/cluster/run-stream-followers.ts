import type { StoredEvent } from "@streamchat/store";
import type { Listener } from "../runs/live-runs.js";
import type { RunLog } from "../runs/run-log.js";
import type { LiveHandle } from "../runs/subscribe.js";
import type { Redis } from "./redis-connection.js";
import { isRunChannel, parseLiveMessage, runChannel } from "./redis-keys.js";

export interface RunStreamFollowersOptions {
  /**
   * The replica's subscriber connection (shared with its control channel): each run followed here is one channel
   * subscribed on it.
   */
  subscriber: Redis;
  /**
   * Every this often (default 3000 ms), the runs of the feeds that were silent since the last time are looked up:
   * the followers of one no longer running check the durable record (its end may not have reached the channel).
   */
  stallMs?: number;
  /** Which of these runs are still running: one read for every silent feed (ChatStore.runningAmong). */
  runningAmong: (runIds: string[]) => Promise<Set<string>>;
  log: RunLog;
  /** In log lines (e.g. the replica id). */
  logContext?: Record<string, unknown>;
}

/** One run's channel as this replica hears it, with the followers it fans out to. */
interface Feed {
  runId: string;
  channel: string;
  followers: Set<FeedHandle>;
  /** Deliveries since the last stall sweep. */
  active: boolean;
  /** The channel's listener on the subscriber (its own function, so that it alone is removed). */
  onMessage: (message: string) => void;
  /** Resolves true once Redis confirmed the subscription (false: it failed): what is published after it arrives. */
  subscribed: Promise<boolean>;
}

/**
 * The live events of the runs executing on other replicas. The run's owner publishes each event to the run's
 * channel right after adding it to the run's stream (redis-streams.ts, same connection, so in that order); a replica
 * that follows the run subscribes to the channel once and fans each message out in memory to the run's followers
 * here (as the embedded listeners do). History stays the stream's and the database's: a follower opens its live feed
 * first and reads history after (followRun), so an event published before the subscription took effect is in
 * history, and one after it comes through the channel, or both (deduplicated by seq).
 *
 * Why a channel and not a blocking XREAD of the run's stream: one XREAD names every stream the replica follows, so
 * each batch of entries cost a command (its encoding, Redis's scan of every named stream, its reply) in proportion to
 * the streams followed; a published message costs its delivery alone, however many runs the replica follows
 * (docs/benchmarks-log.md, stop 62).
 *
 * Pub/sub keeps nothing for a subscriber that is away: when the subscriber connection breaks, every open feed is
 * closed (its followers go back to history, and listen again once the connection is back).
 */
export class RunStreamFollowers {
  private readonly feeds = new Map<string, Feed>();
  /** Bumped when the subscriber's connection breaks: handles of an older generation are closed. */
  private generation = 0;
  private closed = false;
  private readonly stallTimer: NodeJS.Timeout;
  private sweeping = false;

  constructor(private readonly opts: RunStreamFollowersOptions) {
    this.stallTimer = setInterval(() => void this.sweepStalled(), opts.stallMs ?? 3000);
    this.stallTimer.unref();
    const { subscriber } = opts;
    // "ready" comes after each reconnect too: whatever was published meanwhile never arrives. Every feed still open
    // then was opened before the break; closing it sends its followers to history.
    subscriber.on("error", this.onBreak);
    subscriber.on("end", this.onBreak);
    subscriber.on("ready", this.onReady);
  }

  get isHealthy(): boolean {
    return this.opts.subscriber.isReady && !this.closed;
  }

  /** Run channels followed. */
  get size(): number {
    return this.feeds.size;
  }

  /**
   * Follows the run's channel from now: every event published after this resolves is delivered. Null while the
   * subscriber is down.
   */
  async listen(runId: string, listener: Listener, wake: () => void): Promise<LiveHandle | null> {
    if (!this.isHealthy) return null;
    const channel = runChannel(runId);
    const generation = this.generation;
    let feed = this.feeds.get(channel);
    if (!feed) {
      feed = this.open(runId, channel);
      this.feeds.set(channel, feed);
    }
    const follower = new FeedHandle(this, feed, listener, wake, generation);
    feed.followers.add(follower);
    // Another follower's subscription may still be on its way: this one's feed starts when it is confirmed.
    if (!(await feed.subscribed) || !this.isCurrent(generation)) {
      follower.stop();
      return null;
    }
    return follower;
  }

  /** No feed of `generation` has been closed since (by a break of the subscriber, or `close`). */
  isCurrent(generation: number): boolean {
    return this.generation === generation && !this.closed;
  }

  /** A follower stops: the last one of its feed lets go of the channel. */
  release(follower: FeedHandle): void {
    const { feed } = follower;
    feed.followers.delete(follower);
    if (feed.followers.size === 0 && this.feeds.get(feed.channel) === feed) {
      this.feeds.delete(feed.channel);
      this.unsubscribe(feed);
    }
  }

  /** Ends every feed; the subscriber is the replica's (redis-streams.ts closes it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.stallTimer);
    const { subscriber } = this.opts;
    subscriber.off("error", this.onBreak);
    subscriber.off("end", this.onBreak);
    subscriber.off("ready", this.onReady);
    this.closeFeeds();
  }

  private open(runId: string, channel: string): Feed {
    // Messages arrive only after the subscription is confirmed, so `feed` is set by the time one calls this.
    const onMessage = (message: string) => this.deliver(feed, message);
    const subscribed = this.opts.subscriber.subscribe(channel, onMessage).then(
      () => true,
      () => false,
    );
    const feed: Feed = { runId, channel, followers: new Set(), active: false, onMessage, subscribed };
    return feed;
  }

  private deliver(feed: Feed, message: string): void {
    if (this.feeds.get(feed.channel) !== feed) {
      // A feed closed while the connection was down (its unsubscribe failed, and the reconnect subscribed it again)
      // hears its channel still: it lets go now; the channel's current feed, if there is one, has a listener of its own.
      this.unsubscribe(feed);
      return;
    }
    const live = parseLiveMessage(message);
    if (!live) return;
    try {
      const stored: StoredEvent = { seq: live.seq, event: JSON.parse(live.json) as StoredEvent["event"] };
      feed.active = true;
      for (const follower of feed.followers) follower.listener(stored, live.json);
    } catch (error) {
      // Called from the connection's reply parser: a throw here would break the connection for every channel on it.
      this.opts.log.error({ err: error, runId: feed.runId, ...this.opts.logContext }, "a run channel's follower failed on its message");
    }
  }

  private unsubscribe(feed: Feed): void {
    // Fails while the connection is down: the reconnect subscribes the channel again, and its first message (or the
    // next "ready") lets go of it.
    this.opts.subscriber.unsubscribe(feed.channel, feed.onMessage).catch(() => {});
  }

  private readonly onBreak = (): void => {
    if (this.feeds.size > 0) this.closeFeeds();
  };

  private readonly onReady = (): void => {
    this.onBreak();
    // Channels of feeds closed while the connection was down, subscribed again by the reconnect.
    for (const channel of this.opts.subscriber.getPubSubListeners("CHANNELS").keys()) {
      if (isRunChannel(channel) && !this.feeds.has(channel)) this.opts.subscriber.unsubscribe(channel).catch(() => {});
    }
  };

  /** Every open feed ends: its followers read history and listen again once the subscriber is back. */
  private closeFeeds(): void {
    this.generation++;
    const feeds = [...this.feeds.values()];
    this.feeds.clear();
    for (const feed of feeds) {
      this.unsubscribe(feed);
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
 * A follower of a run's feed: what the feed fans out to, and the follower's handle on it. A class, not an object
 * literal: V8 makes a literal with a getter (`closed`) a dictionary, larger and slower to read, and every open
 * subscription keeps one.
 */
class FeedHandle implements LiveHandle {
  stalled = false;

  constructor(
    private readonly owner: RunStreamFollowers,
    readonly feed: Feed,
    readonly listener: Listener,
    readonly wake: () => void,
    private readonly generation: number,
  ) {}

  get closed(): boolean {
    return !this.owner.isCurrent(this.generation);
  }

  takeStalled(): boolean {
    const stalled = this.stalled;
    this.stalled = false;
    return stalled;
  }

  stop(): void {
    this.owner.release(this);
  }
}
