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

/** What `follow` hands out: the run's events, and `return` to stop following early. */
export interface RunEventStream extends AsyncIterableIterator<StoredEvent, void, void> {
  return(): Promise<IteratorResult<StoredEvent, void>>;
}

export interface FollowRunOptions {
  queueLimit?: number | undefined;
  pageSize?: number | undefined;
  track?: FollowerTally | undefined;
  direct?: DirectSlot | undefined;
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
export function followRun(
  source: FollowSource,
  runId: string,
  afterSeq: number,
  signal: AbortSignal | undefined,
  opts: FollowRunOptions = {},
): RunEventStream {
  return new RunFollowing(source, runId, afterSeq, signal, opts);
}

const finished: IteratorResult<StoredEvent, void> = Object.freeze({ done: true, value: undefined });

/**
 * followRun's follower: an iterator whose state is its fields, stepped by `#advance` (an async function only while it
 * reads history, listens or polls). A caught-up follower waits for the next live event as a pending `next()` that the
 * run's publish settles, not as a suspended generator: every open stream kept one (its registers, its generator
 * object, its `await`'s closures and the generator's request queue) for as long as it was open.
 */
class RunFollowing implements RunEventStream {
  readonly #source: FollowSource;
  readonly #runId: string;
  readonly #signal: AbortSignal | undefined;
  readonly #queueLimit: number;
  readonly #pageSize: number;
  readonly #track: FollowerTally | undefined;
  readonly #direct: DirectSlot | undefined;
  readonly #queue: StoredEvent[] = [];
  #lagging = false;
  /** The last seq handed out, through `next()` or to the direct reader. */
  #last: number;
  #handle: LiveHandle | null = null;
  #fromLog = true;
  /** A queued event after a gap, for which history has since been read to its end. */
  #gapChecked: number | undefined;
  /** A queued event after a gap, for which history has been read again after the run was seen ended. */
  #gapFinal: number | undefined;
  /**
   * Events being handed out in order, from #batchAt: a page of history, or (#batchIsPage false) what a closed feed
   * delivered past `last`.
   */
  #batch: readonly StoredEvent[] | null = null;
  #batchAt = 0;
  #batchIsPage = false;
  /** "new": no step yet; "listening": the first step opens the live feed; "open"; "ended": nothing more comes. */
  #state: "new" | "listening" | "open" | "ended" = "new";
  /** The pending `next()`: its promise (a `next()` meanwhile waits for it) and how it settles. */
  #pending: Promise<IteratorResult<StoredEvent, void>> | null = null;
  #resolve: ((result: IteratorResult<StoredEvent, void>) => void) | null = null;
  #reject: ((error: unknown) => void) | null = null;
  /** The pending `next()` waits for a live event, with nothing queued (every queued event wakes it). */
  #waiting = false;

  constructor(source: FollowSource, runId: string, afterSeq: number, signal: AbortSignal | undefined, opts: FollowRunOptions) {
    this.#source = source;
    this.#runId = runId;
    this.#signal = signal;
    this.#queueLimit = opts.queueLimit ?? defaultSubscriberQueueLimit;
    this.#pageSize = opts.pageSize ?? defaultLogPageSize;
    this.#track = opts.track;
    this.#direct = opts.direct;
    this.#last = afterSeq;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<StoredEvent, void>> {
    // One step at a time, as a generator's requests queue (the readers here never overlap them).
    const pending = this.#pending;
    if (pending !== null) {
      const again = () => this.next();
      return pending.then(again, again);
    }
    if (this.#state === "ended") return Promise.resolve(finished);
    if (this.#state === "new") {
      this.#state = "listening";
      this.#track?.start();
      this.#signal?.addEventListener("abort", this.wakeUp);
      this.#source.closing?.addEventListener("abort", this.wakeUp);
    }
    const next = new Promise<IteratorResult<StoredEvent, void>>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#pending = next;
    this.#step();
    return next;
  }

  /** Stops following: the follower's feed and listeners are let go; `next()` says done from now on. */
  return(): Promise<IteratorResult<StoredEvent, void>> {
    this.#end();
    return Promise.resolve(finished);
  }

  throw(error: unknown): Promise<IteratorResult<StoredEvent, void>> {
    this.#end();
    return Promise.reject(error);
  }

  /** Steps until the pending `next()` is settled, or waits for a live event (then wakeUp steps again). */
  #step(): void {
    void this.#advance();
  }

  #settle(result: IteratorResult<StoredEvent, void> | undefined, error: unknown): void {
    const resolve = this.#resolve;
    const reject = this.#reject;
    this.#pending = null;
    this.#resolve = null;
    this.#reject = null;
    this.#waiting = false;
    if (result !== undefined) resolve?.(result);
    else reject?.(error);
  }

  /**
   * The run's publish (through the live feed): the next event in order goes straight to a waiting direct reader;
   * anything else is queued, and wakes a waiting `next()`.
   */
  readonly listener: Listener = (event, json) => {
    if (this.#lagging) return;
    // The short cut of a caught-up follower: while it waits for the next live event, so does its reader, and nothing
    // is queued or on its way. The next event in order then goes to the reader from here, with no promise, queue or
    // step per event.
    if (this.#waiting && event.seq === this.#last + 1 && this.#handOver(event, json)) {
      this.#last = event.seq;
      return;
    }
    if (this.#queue.length >= this.#queueLimit) {
      this.#lagging = true;
      this.#queue.length = 0;
    } else {
      this.#queue.push(event);
    }
    this.wakeUp();
  };

  /** A waiting `next()` steps again: an event was queued, the feed's state changed, or a signal aborted. */
  readonly wakeUp = (): void => {
    if (!this.#waiting) return;
    this.#waiting = false;
    this.#step();
  };

  /**
   * Gives `stored` to the direct reader, when there is one and it takes it now: only while the reader waits in
   * `next()` (it does whenever the follower steps, and while it waits for a live event). `done` goes the normal way,
   * so that the follower ends with it; so does anything the reader cannot take now (backpressure).
   */
  #handOver(stored: StoredEvent, json?: string): boolean {
    return stored.event.type !== "done" && this.#direct?.reader?.take(stored, json) === true;
  }

  /** Hands `stored` out through `next()`; after `done`, the follower ends at once. */
  #out(stored: StoredEvent): IteratorResult<StoredEvent, void> {
    this.#last = stored.seq;
    if (stored.event.type === "done") this.#end();
    return { done: false, value: stored };
  }

  #end(): void {
    if (this.#state === "ended") return;
    const started = this.#state !== "new";
    this.#state = "ended";
    this.#handle?.stop();
    this.#handle = null;
    this.#queue.length = 0;
    this.#batch = null;
    if (started) {
      this.#signal?.removeEventListener("abort", this.wakeUp);
      this.#source.closing?.removeEventListener("abort", this.wakeUp);
      this.#track?.end();
    }
    // A `next()` waiting for a live event (return() called meanwhile) says done.
    if (this.#waiting) this.#settle(finished, undefined);
  }

  /** Read after an await: `return()` may have ended the follower meanwhile. */
  #hasEnded(): boolean {
    return this.#state === "ended";
  }

  /**
   * Steps until there is an event to hand out, the follower ends or fails (each settles the pending `next()`), or it
   * must wait for a live event. Never rejects.
   */
  async #advance(): Promise<void> {
    const source = this.#source;
    const runId = this.#runId;
    const signal = this.#signal;
    const closing = source.closing;
    try {
      if (this.#state === "listening") {
        const handle = await source.listen(runId, this.#last, this.listener, this.wakeUp);
        if (this.#hasEnded()) {
          // Returned while it listened.
          handle?.stop();
          return this.#settle(finished, undefined);
        }
        this.#handle = handle;
        this.#state = "open";
      }
      while (!signal?.aborted && this.#state === "open") {
        if (closing?.aborted) throw replicaClosing();
        const batch = this.#batch;
        if (batch !== null) {
          while (this.#batchAt < batch.length) {
            const stored = batch[this.#batchAt++]!;
            if (signal?.aborted) break;
            if (stored.seq <= this.#last) continue;
            // History too (a subscription's start, a client resuming a long answer): a step of the follower and of
            // its reader per event, unless the reader takes it from here.
            if (this.#handOver(stored)) {
              this.#last = stored.seq;
              continue;
            }
            return this.#settle(this.#out(stored), undefined);
          }
          if (signal?.aborted) break;
          this.#batch = null;
          if (!this.#batchIsPage) {
            // What a closed feed delivered is out: the log again, for what may follow it.
            this.#fromLog = true;
            continue;
          }
          // A full page: there may be more. Otherwise live events take over, if there is a live feed.
          this.#fromLog = batch.length === this.#pageSize;
          if (this.#fromLog) continue;
          if (this.#handle?.closed) {
            // The feed ended (the run ended here, or the channel broke). What it delivered past `last` is still the
            // run's: hand it out first. History was just read to its end, so a gap before it is real (the closing
            // events of a run whose store failed skip seqs, and may never reach history).
            const last = this.#last;
            const pending = this.#lagging ? [] : this.#queue.filter((stored) => stored.seq > last);
            this.#handle.stop();
            this.#handle = null;
            this.#queue.length = 0;
            this.#lagging = false;
            if (pending.length > 0) {
              this.#batch = pending;
              this.#batchAt = 0;
              this.#batchIsPage = false;
              continue;
            }
          }
          if (!this.#handle) {
            const handle = await source.listen(runId, this.#last, this.listener, this.wakeUp);
            if (this.#state !== "open") {
              handle?.stop();
              break;
            }
            this.#handle = handle;
            if (handle) {
              // Read once more: what was appended before the feed opened is only in history.
              this.#fromLog = true;
              continue;
            }
            if (!(await source.isRunning(runId))) {
              // Finished (or unknown): anything it appended before it was marked finished is in the log by now.
              if ((await source.read(runId, this.#last, 1)).length === 0) break;
            } else {
              await sleep(source.pollMs ?? defaultRemotePollMs, signal, closing);
            }
            this.#fromLog = true;
          }
          continue;
        }
        if (this.#fromLog || this.#lagging) {
          // Queue again before reading: whatever is appended after this read lands in the queue.
          this.#lagging = false;
          // A young run's history from its live feed (the client's own subscription, right after chat.send): no log read.
          const page = this.#handle?.history?.(this.#last, this.#pageSize) ?? (await source.read(runId, this.#last, this.#pageSize));
          this.#batch = page;
          this.#batchAt = 0;
          this.#batchIsPage = true;
          continue;
        }
        const queue = this.#queue;
        const next = queue[0];
        if (next) {
          if (next.seq <= this.#last) {
            queue.shift();
            continue;
          }
          // Never skip an event: what is missing before it is in history (every event is there before it is
          // queued). Only when history, read after this event was queued, has nothing more before it is the gap
          // real (seqs skipped on purpose, or the end of a run whose store failed).
          if (next.seq !== this.#last + 1) {
            if (this.#gapChecked !== next.seq) {
              this.#gapChecked = next.seq;
              this.#fromLog = true;
              continue;
            }
            // ... and only once the run has ended: until then the missing events may still be on their way to the
            // durable log. In a cluster the run's live stream has them first, and may lose them before the log
            // commits them (Redis restarted within a commit interval): history then has neither, for a moment. Read
            // again until it has them, or the run ended (its log is final: what it lacks is never coming).
            if (this.#gapFinal !== next.seq) {
              if (await source.isRunning(runId)) {
                await sleep(source.pollMs ?? defaultRemotePollMs, signal, closing);
                this.#fromLog = true;
                continue;
              }
              // Ended, so its log is final; but it may have committed the missing events with its end, after the
              // last read. Read once more before the gap is taken as real.
              this.#gapFinal = next.seq;
              this.#fromLog = true;
              continue;
            }
          }
          queue.shift();
          if (this.#handOver(next)) {
            this.#last = next.seq;
            continue;
          }
          return this.#settle(this.#out(next), undefined);
        } else if (!this.#handle || this.#handle.closed) {
          // The run ended here (its done may have been dropped from an overflowing queue), or the feed broke.
          this.#fromLog = true;
        } else if (this.#handle.takeStalled()) {
          // Silent for a while: a run whose replica died is closed by another one, which may not reach this feed.
          if (!(await source.isRunning(runId))) {
            if ((await source.read(runId, this.#last, 1)).length === 0) break;
            this.#fromLog = true;
          }
        } else {
          // Caught up: the next live event (or a change of the feed, or an abort) steps again (wakeUp).
          this.#waiting = true;
          return;
        }
      }
    } catch (error) {
      this.#end();
      return this.#settle(undefined, error);
    }
    this.#end();
    this.#settle(finished, undefined);
  }
}

/**
 * Counts a RunStreams' followers from inside followRun (from its first step to its end), so that `follow` can hand
 * out followRun's own iterator: a counting generator around it (`yield*`) was one more async step for every event
 * and one more suspended frame per open stream.
 */
export interface FollowerTally {
  start(): void;
  end(): void;
}

/** followRun's options for a RunStreams implementation: its queue and page sizes, and its count of followers. */
export function followOptions(streams: { followers: number }, opts: FollowOptions): FollowRunOptions {
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
