import { Worker } from "node:worker_threads";
import type { DatabaseSync } from "node:sqlite";
import type { CheckpointWorkerData, CheckpointWorkerMessage } from "./checkpoint-worker.js";
import { WalIndexReader, checkpointDue } from "./wal-index.js";

const workerUrl = new URL(import.meta.url.endsWith(".ts") ? "./checkpoint-worker.ts" : "./checkpoint-worker.js", import.meta.url);

/** SQLite's own default for `wal_autocheckpoint`: the WAL length (in pages) at which a commit checkpoints. */
export const defaultCheckpointFrames = 1000;

export interface WalCheckpointerOptions {
  /** The WAL length in frames (pages) at which the worker checkpoints (SQLite's own default: 1,000). */
  thresholdFrames?: number;
  /**
   * How often the worker looks at the WAL's length by itself (default 10 s: a safety net for writes outside the
   * store's transactions), besides the word the connection's commits give it (`committed`).
   */
  pollMs?: number;
  /** Each checkpoint the worker made (for tests and logs). */
  onCheckpoint?: (checkpoint: CheckpointDone) => void;
  /** The worker failed or exited by itself: the store's own connection checkpoints again from here on. */
  onFallback?: (reason: string) => void;
  /** The worker's script (tests: one that fails). */
  workerUrl?: URL;
}

export interface CheckpointDone {
  /** The WAL's length when the checkpoint began. */
  frames: number;
  /** Every frame was copied: the next commit starts the WAL over. */
  copiedAll: boolean;
  /** It ended with RESTART (writers kept out for the rest of the copy). */
  restarted: boolean;
}

export interface WalCheckpointer {
  /** The worker runs the checkpoints (false before it is ready, and after it failed or was closed). */
  readonly active: boolean;
  /**
   * After each commit of the connection: reads the WAL's length (one `pread` of the wal-index header) and wakes the
   * worker once it reaches the threshold. A wake-up of a thread costs ~0.1–0.15 ms of CPU on the reference machine,
   * so the worker does not poll often by itself: an idle process wakes it every `pollMs` only.
   */
  committed(): void;
  /** Stops the worker; the connection checkpoints itself again (its close makes the last checkpoint). */
  close(): Promise<void>;
}

/**
 * Moves a WAL database's checkpoints off the event loop. SQLite checkpoints inside the commit that takes the WAL
 * past 1,000 pages: it copies the WAL into the database and fsyncs both, ~5–30 ms during which no stream of the
 * process moves (the token-latency tail; docs/benchmarks.md). The store's connection now never checkpoints
 * (`wal_autocheckpoint = 0`) while a worker thread, on a connection of its own, does it with writers going on
 * (PASSIVE), again until nothing is left: the WAL starts over only at a commit that finds it wholly copied, which one
 * copy under steady commits never leaves it (stop 29 in docs/benchmarks-log.md: an 892-MB WAL), while the frames
 * committed during a copy take well under a millisecond more. A WAL that still passes 4× the threshold (writers that
 * never pause long enough, ~14,000 commits a second in a tight loop) gets a RESTART: it keeps writers out (a commit
 * that meets it waits in SQLite's busy handler) while it copies the rest, and the WAL starts over. The connection's
 * commits say when to look (`committed`): the worker wakes for a checkpoint, not on a timer.
 *
 * If the worker cannot start or fails, the connection goes back to checkpointing itself (`onFallback`).
 */
export function startWalCheckpointer(db: DatabaseSync, path: string, options: WalCheckpointerOptions = {}): WalCheckpointer {
  const thresholdFrames = options.thresholdFrames ?? defaultCheckpointFrames;
  // Written into a PRAGMA (which takes no parameters): an integer, checked.
  if (!Number.isInteger(thresholdFrames) || thresholdFrames < 1) throw new RangeError("thresholdFrames must be an integer >= 1");
  const pollMs = options.pollMs ?? 10_000;
  const retryPauseMs = Math.min(pollMs, 50);
  const workerData: CheckpointWorkerData = { path, thresholdFrames, pollMs, busyTimeoutMs: 20 };
  const worker = new Worker(options.workerUrl ?? workerUrl, { workerData, execArgv: [], stdout: false, stderr: false });
  // It must not keep a process alive: close() stops it, and a process that just exits leaves a WAL SQLite recovers.
  worker.unref();
  let active = false;
  let closing = false;
  let failed = false;
  const exit = new Promise<void>((resolve) => worker.once("exit", () => resolve()));

  /** The connection checkpoints itself again. */
  const handBack = () => {
    if (active && db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${thresholdFrames}`);
    active = false;
  };
  const fallBack = (reason: string) => {
    if (closing || failed) return;
    failed = true;
    handBack();
    options.onFallback?.(reason);
  };
  worker.on("message", (message: CheckpointWorkerMessage) => {
    if (message.type === "ready") {
      if (closing || failed || !db.isOpen) return;
      db.exec("PRAGMA wal_autocheckpoint = 0");
      active = true;
    } else if (message.type === "nothing-due") {
      // Another connection's lock (or a race with the WAL's restart): asked again after a pause, not at every commit.
      asked = false;
      nextAsk = performance.now() + retryPauseMs;
    } else if (message.type === "checkpoint") {
      asked = false;
      // One that did not catch up with the writers is tried again after a pause, not at the very next commit.
      nextAsk = message.copiedAll ? 0 : performance.now() + retryPauseMs;
      options.onCheckpoint?.({ frames: message.frames, copiedAll: message.copiedAll, restarted: message.restarted });
    } else {
      fallBack(`the checkpoint worker failed: ${message.message}`);
    }
  });
  worker.on("error", (error) => fallBack(`the checkpoint worker failed: ${error.message}`));
  worker.once("exit", (code) => fallBack(`the checkpoint worker exited (code ${code})`));

  const wal = new WalIndexReader(path);
  /** The worker was told to look and has not reported yet. */
  let asked = false;
  let nextAsk = 0;
  return {
    get active() {
      return active;
    },
    committed() {
      // The clock before the wal-index: a commit during a pause reads nothing.
      if (!active || asked || performance.now() < nextAsk || !checkpointDue(wal.read(), thresholdFrames)) return;
      asked = true;
      worker.postMessage("check");
    },
    async close() {
      if (closing) return exit;
      closing = true;
      handBack();
      // Ref'd again: with nothing else to do, a process would otherwise end inside this await, before the worker's
      // exit, without running what follows the store's close (an error's exit code included). A worker that exited
      // already takes neither the ref nor the message.
      worker.ref();
      worker.postMessage("stop");
      await exit;
      wal.close();
    },
  };
}
