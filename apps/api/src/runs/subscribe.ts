import type { StoredEvent } from "@streamchat/store";
import { headAfter, type Listener, type LiveRun, type LiveRuns, type RunFollower } from "./live-runs.js";
import { replicaClosing, type FollowOptions } from "./run-streams.js";

export const defaultSubscriberQueueLimit = 1024;
export const defaultLogPageSize = 256;
export const defaultRemotePollMs = 250;

/** A follower's live feed of one run: events with seq above the cursor it was opened at, through `listener`. */
export interface LiveHandle {
  /** No more live events will come through it: the run ended on this process, or the channel broke. */
  readonly closed: boolean;
  /**
   * True once (then reset) when the feed stayed silent for a while and cannot tell by itself whether the run still
   * runs (a run executing on another replica whose owner may be gone): the follower then asks the durable record.
   */
  takeStalled(): boolean;
  /**
   * History the feed holds itself (a run executing in this process, before its model answered: `headAfter`), so
   * that a follower need not read the log; undefined when it must.
   */
  history?(afterSeq: number, limit: number): StoredEvent[] | undefined;
  stop(): void;
}

/** Where a follower reads a run from: an implementation of RunStreams provides it. */
export interface FollowSource {
  /** History: events with seq > afterSeq, in order, at most `limit`. */
  read(runId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;
  /**
   * Live events of the run from now on (never fewer than those with seq > fromSeq appended after this resolves);
   * null when there is no live channel for it now (the follower polls the durable log instead). `wake` is called
   * after each delivery and whenever the handle's state changes.
   */
  listen(runId: string, fromSeq: number, listener: Listener, wake: () => void): Promise<LiveHandle | null>;
  /** The durable record says the run is still running (somewhere). */
  isRunning(runId: string): Promise<boolean>;
  /** How often the durable log is read while there is no live channel (default 250 ms). */
  pollMs?: number;
  /** Aborted when the replica shuts down: followers still here end with an AbortError (their clients resume elsewhere). */
  closing?: AbortSignal;
}

/**
 * A follower's reader that can take an event straight from the run's publish: the SSE writer of a subscription.
 * `take` writes it (true) or cannot now (false: a response waiting for `drain`, a client gone); it must not throw.
 */
export interface DirectReader {
  take(stored: StoredEvent, json?: string): boolean;
}

/** Where a follower finds its direct reader: attached whenever the reader is ready (null: none yet). */
export interface DirectSlot {
  reader: DirectReader | null;
}

/**
 * The run's events after `afterSeq`: history, then live events, each seq exactly once and in order; ends after
 * `done` or when `signal` aborts. The one follow algorithm of every RunStreams implementation.
 *
 * Live first, then history: the follower opens its live feed before reading history, so an event appended in
 * between is in the queue, in history, or both (deduplicated by seq), never in neither. Without a live feed (a run
 * on another process with no shared channel, or the channel is down) it reads the durable log every `pollMs` until
 * the run ends, and tries to go live again each time.
 *
 * Memory per follower is bounded whatever the reader does: history is read in pages, and a follower that falls more
 * than `queueLimit` live events behind (a client that stopped reading while the run keeps writing) drops its queue
 * and catches up from history instead of buffering the run.
 */
export async function* followRun(
  source: FollowSource,
  runId: string,
  afterSeq: number,
  signal: AbortSignal | undefined,
  opts: {
    queueLimit?: number | undefined;
    pageSize?: number | undefined;
    track?: FollowerTally | undefined;
    direct?: DirectSlot | undefined;
  } = {},
): AsyncGenerator<StoredEvent, void, void> {
  const queueLimit = opts.queueLimit ?? defaultSubscriberQueueLimit;
  const pageSize = opts.pageSize ?? defaultLogPageSize;
  const pollMs = source.pollMs ?? defaultRemotePollMs;
  const closing = source.closing;
  const direct = opts.direct;
  const queue: StoredEvent[] = [];
  let lagging = false;
  /** The last seq handed out, through `yield` or to the direct reader. */
  let last = afterSeq;
  /** Set while the generator waits for a live event, with nothing queued (every queued event wakes it). */
  let wake: (() => void) | null = null;
  const wakeUp = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  /**
   * Gives `stored` to the direct reader, when there is one and it takes it now: only while the reader waits in this
   * generator's `next()` (it does whenever the generator runs, and while it waits for a live event). `done` goes the
   * normal way, so that the generator ends with it; so does anything the reader cannot take now (backpressure).
   */
  const handOver = (stored: StoredEvent, json?: string): boolean => stored.event.type !== "done" && direct?.reader?.take(stored, json) === true;
  const listener: Listener = (event, json) => {
    if (lagging) return;
    // The short cut of a caught-up follower: while it waits for the next live event, so does its reader, and nothing
    // is queued or on its way. The next event in order then goes to the reader from here, with no promise, queue or
    // generator step per event.
    if (wake !== null && event.seq === last + 1 && handOver(event, json)) {
      last = event.seq;
      return;
    }
    if (queue.length >= queueLimit) {
      lagging = true;
      queue.length = 0;
    } else {
      queue.push(event);
    }
    wakeUp();
  };
  signal?.addEventListener("abort", wakeUp);
  closing?.addEventListener("abort", wakeUp);
  let handle: LiveHandle | null = null;
  opts.track?.start();
  try {
    handle = await source.listen(runId, last, listener, wakeUp);
    let fromLog = true;
    /** A queued event after a gap, for which history has since been read to its end. */
    let gapChecked: number | undefined;
    while (!signal?.aborted) {
      if (closing?.aborted) throw replicaClosing();
      if (fromLog || lagging) {
        // Queue again before reading: whatever is appended after this read lands in the queue.
        lagging = false;
        // A young run's history from its live feed (the client's own subscription, right after chat.send): no log read.
        const page = handle?.history?.(last, pageSize) ?? (await source.read(runId, last, pageSize));
        for (const stored of page) {
          if (signal?.aborted) return;
          if (stored.seq <= last) continue;
          // History too (a subscription's start, a client resuming a long answer): a step of this generator and
          // of its reader per event, unless the reader takes it from here.
          if (handOver(stored)) {
            last = stored.seq;
            continue;
          }
          yield stored;
          last = stored.seq;
          if (stored.event.type === "done") return;
        }
        // A full page: there may be more. Otherwise live events take over, if there is a live feed.
        fromLog = page.length === pageSize;
        if (fromLog) continue;
        if (handle?.closed) {
          // The feed ended (the run ended here, or the channel broke). What it delivered past `last` is still the
          // run's: hand it out first. History was just read to its end, so a gap before it is real (the closing
          // events of a run whose store failed skip seqs, and may never reach history).
          const pending = lagging ? [] : queue.filter((stored) => stored.seq > last);
          // Let go of the feed (inline, not a closure: every open follower would keep one).
          handle.stop();
          handle = null;
          queue.length = 0;
          lagging = false;
          if (pending.length > 0) {
            for (const stored of pending) {
              if (signal?.aborted) return;
              if (stored.seq <= last) continue;
              if (handOver(stored)) {
                last = stored.seq;
                continue;
              }
              yield stored;
              last = stored.seq;
              if (stored.event.type === "done") return;
            }
            fromLog = true;
            continue;
          }
        }
        if (!handle) {
          handle = await source.listen(runId, last, listener, wakeUp);
          if (handle) {
            // Read once more: what was appended before the feed opened is only in history.
            fromLog = true;
            continue;
          }
          if (!(await source.isRunning(runId))) {
            // Finished (or unknown): anything it appended before it was marked finished is in the log by now.
            if ((await source.read(runId, last, 1)).length === 0) return;
          } else {
            await sleep(pollMs, signal, closing);
          }
          fromLog = true;
        }
        continue;
      }
      const next = queue[0];
      if (next) {
        if (next.seq <= last) {
          queue.shift();
          continue;
        }
        // Never skip an event: what is missing before it is in history (every event is there before it is
        // queued). Only when history, read after this event was queued, has nothing more before it is the gap
        // real (seqs skipped on purpose, or the end of a run whose store failed).
        if (next.seq !== last + 1) {
          if (gapChecked !== next.seq) {
            gapChecked = next.seq;
            fromLog = true;
            continue;
          }
          // ... and only once the run has ended: until then the missing events may still be on their way to the
          // durable log. In a cluster the run's live stream has them first, and may lose them before the log
          // commits them (Redis restarted within a commit interval): history then has neither, for a moment. Read
          // again until it has them, or the run ended (its log is final: what it lacks is never coming).
          if (await source.isRunning(runId)) {
            await sleep(pollMs, signal, closing);
            fromLog = true;
            continue;
          }
        }
        queue.shift();
        if (handOver(next)) {
          last = next.seq;
          continue;
        }
        yield next;
        last = next.seq;
        if (next.event.type === "done") return;
      } else if (!handle || handle.closed) {
        // The run ended here (its done may have been dropped from an overflowing queue), or the feed broke.
        fromLog = true;
      } else if (handle.takeStalled()) {
        // Silent for a while: a run whose replica died is closed by another one, which may not reach this feed.
        if (!(await source.isRunning(runId))) {
          if ((await source.read(runId, last, 1)).length === 0) return;
          fromLog = true;
        }
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
      }
    }
  } finally {
    handle?.stop();
    signal?.removeEventListener("abort", wakeUp);
    closing?.removeEventListener("abort", wakeUp);
    opts.track?.end();
  }
}

/**
 * Counts a RunStreams' followers from inside followRun (from its first step to its end), so that `follow` can hand
 * out followRun's own generator: a counting generator around it (`yield*`) was one more async step for every event
 * and one more suspended frame per open stream.
 */
export interface FollowerTally {
  start(): void;
  end(): void;
}

/** followRun's options for a RunStreams implementation: its queue and page sizes, and its count of followers. */
export function followOptions(streams: { followers: number }, opts: FollowOptions): Parameters<typeof followRun>[4] {
  const track: FollowerTally = {
    start: () => {
      streams.followers++;
    },
    end: () => {
      streams.followers--;
    },
  };
  return { queueLimit: opts.queueLimit, pageSize: opts.pageSize, track };
}

/** The live feed of a run executing in this process (its in-process listeners); null when it does not run here. */
export function localLiveHandle(live: LiveRuns, runId: string, listener: Listener, wake: () => void): LiveHandle | null {
  const run = live.get(runId);
  if (!run) return null;
  const handle = new LocalLiveHandle(run, listener, wake);
  run.followers.add(handle);
  return handle;
}

/**
 * A class, not an object literal: V8 makes a literal with a getter (`closed`) a dictionary, larger and slower to read,
 * and every open subscription keeps one.
 */
class LocalLiveHandle implements LiveHandle, RunFollower {
  constructor(
    private readonly run: LiveRun,
    readonly deliver: Listener,
    private readonly wakeUp: () => void,
  ) {}

  wake(): void {
    this.wakeUp();
  }

  get closed(): boolean {
    return this.run.closed;
  }

  takeStalled(): boolean {
    return false;
  }

  history(afterSeq: number, limit: number): StoredEvent[] | undefined {
    return headAfter(this.run, afterSeq, limit);
  }

  stop(): void {
    this.run.followers.delete(this);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined, closing: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      closing?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
    closing?.addEventListener("abort", done);
  });
}
