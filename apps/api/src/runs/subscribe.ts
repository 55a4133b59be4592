import type { ChatStore, StoredEvent } from "@streamchat/store";
import type { Listener, LiveRuns } from "./live-runs.js";

export interface SubscribeOptions {
  store: ChatStore;
  live: LiveRuns;
  /** Live events a subscriber may fall behind before it is switched to reading the log (default 1024). */
  queueLimit?: number;
  /** Events read from the log at a time when replaying (default 256). */
  pageSize?: number;
  /** How often the log of a run executing in another process is read for new events (default 250 ms). */
  pollMs?: number;
}

export const defaultSubscriberQueueLimit = 1024;
export const defaultLogPageSize = 256;
export const defaultRemotePollMs = 250;

/**
 * The run's events after `afterSeq`: the stored log, then live events, each seq exactly once and in order; ends
 * after `done` or when `signal` aborts.
 *
 * A run executing in this process is followed live (its events reach the listener as they are appended). A run
 * executing in another process is followed through the log, read every `pollMs` until it ends; that is the seam a
 * shared event channel between processes replaces.
 *
 * Memory per subscriber is bounded whatever the reader does: the log is read in pages, and a subscriber that falls
 * more than `queueLimit` live events behind (a client that stopped reading while the run keeps writing) drops its
 * queue and catches up from the log instead of buffering the run.
 */
export async function* subscribeToRun(
  opts: SubscribeOptions,
  runId: string,
  afterSeq: number,
  signal?: AbortSignal,
): AsyncGenerator<StoredEvent, void, void> {
  const { store } = opts;
  const live = opts.live.get(runId);
  const queueLimit = opts.queueLimit ?? defaultSubscriberQueueLimit;
  const pageSize = opts.pageSize ?? defaultLogPageSize;
  const queue: StoredEvent[] = [];
  let lagging = false;
  let wake: (() => void) | null = null;
  const wakeUp = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const listener: Listener = (event) => {
    if (lagging) return;
    if (queue.length >= queueLimit) {
      lagging = true;
      queue.length = 0;
    } else {
      queue.push(event);
    }
    wakeUp();
  };
  // Listen before reading the log: an event appended in between is then in the queue, the log, or
  // both (deduplicated by seq), never in neither.
  live?.listeners.add(listener);
  live?.wake.add(wakeUp);
  signal?.addEventListener("abort", wakeUp);
  try {
    let last = afterSeq;
    let fromLog = true;
    /** A queued event after a gap, for which the log has since been read to its end. */
    let gapChecked: number | undefined;
    while (!signal?.aborted) {
      if (fromLog || lagging) {
        // Queue again before reading: whatever is appended after this read lands in the queue.
        lagging = false;
        const page = await store.readEvents(runId, last, pageSize);
        for (const stored of page) {
          if (signal?.aborted) return;
          if (stored.seq <= last) continue;
          yield stored;
          last = stored.seq;
          if (stored.event.type === "done") return;
        }
        // A full page: there may be more in the log. Otherwise live events take over (if the run is live here).
        fromLog = page.length === pageSize;
        if (!fromLog && !live) {
          if (!(await runningElsewhere(store, runId))) {
            // Finished (or unknown): anything it appended before it was marked finished is in the log by now.
            fromLog = true;
            if ((await store.readEvents(runId, last, 1)).length === 0) return;
            continue;
          }
          await sleep(opts.pollMs ?? defaultRemotePollMs, signal);
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
        // Never skip an event: what is missing before it is in the log (every event is in the log before it
        // is queued). Only when the log, read after this event was queued, has nothing more before it is
        // the gap real (seqs skipped on purpose, or the end of a run the store failed to keep).
        if (next.seq !== last + 1 && gapChecked !== next.seq) {
          gapChecked = next.seq;
          fromLog = true;
          continue;
        }
        queue.shift();
        yield next;
        last = next.seq;
        if (next.event.type === "done") return;
      } else if (live?.closed) {
        // The run ended; its done may have been dropped from an overflowing queue.
        if ((await store.readEvents(runId, last, 1)).length === 0) return;
        fromLog = true;
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
      }
    }
  } finally {
    live?.listeners.delete(listener);
    live?.wake.delete(wakeUp);
    signal?.removeEventListener("abort", wakeUp);
  }
}

async function runningElsewhere(store: ChatStore, runId: string): Promise<boolean> {
  return (await store.getRun(runId))?.status === "running";
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}
