/**
 * The SQLite store's checkpoints, on a thread of their own (checkpointer.ts starts it; see there for why).
 *
 * When the store's connection says the WAL reached the threshold (and every `pollMs` by itself), copies the WAL into
 * the database with writers going on (PASSIVE), again until nothing is left: the next commit then starts the WAL
 * over. A WAL that still passes 4× the threshold (writers that never pause long enough) gets a RESTART.
 *
 * Erasable TypeScript only: Node runs this file itself from the sources (tests) and the compiled .js from dist.
 */
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";
import type { WalIndexReader as Reader, checkpointDue as Due } from "./wal-index.js";

export interface CheckpointWorkerData {
  path: string;
  thresholdFrames: number;
  /** How often the worker looks at the WAL by itself (a safety net: the store's commits say when to look). */
  pollMs: number;
  /** How long RESTART waits for another connection's writer or readers before it gives up until the next time. */
  busyTimeoutMs: number;
}

/** What the worker tells the store: ready, each checkpoint (or that none was due when asked), or a failure (then it exits). */
export type CheckpointWorkerMessage =
  | { type: "ready" }
  | { type: "checkpoint"; frames: number; copiedAll: boolean; restarted: boolean }
  | { type: "nothing-due" }
  | { type: "failed"; message: string };

// By URL: Node runs the sources' .ts itself, where an import of "./wal-index.js" names no file.
const walIndexUrl = new URL(import.meta.url.endsWith(".ts") ? "./wal-index.ts" : "./wal-index.js", import.meta.url);
const { WalIndexReader, checkpointDue } = (await import(walIndexUrl.href)) as { WalIndexReader: typeof Reader; checkpointDue: typeof Due };

const sqliteBusy = 5;
const { path, thresholdFrames, pollMs, busyTimeoutMs } = workerData as CheckpointWorkerData;
/** The WAL length at which a checkpoint ends with RESTART: a WAL this long did not start over by itself. */
const restartFrames = 4 * thresholdFrames;
const port = parentPort!;
const db = new DatabaseSync(path);
db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
// A checkpoint syncs the WAL before it copies and the database after, as the store's own connection would.
db.exec("PRAGMA synchronous = NORMAL");
// This connection never writes, so it never checkpoints by itself either; the explicit ones below are its work.
const passive = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
const restart = db.prepare("PRAGMA wal_checkpoint(RESTART)");
const wal = new WalIndexReader(path);

interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

function checkpoint(): CheckpointWorkerMessage {
  const head = wal.read();
  if (!checkpointDue(head, thresholdFrames)) return { type: "nothing-due" };
  const frames = head.length;
  // The WAL starts over at the first commit that finds it wholly copied: copy again what was committed during the
  // copy (a few frames, well under a millisecond) until nothing is left.
  let left = frames - head.copied;
  for (let pass = 0; pass < 4 && left > 0; pass++) {
    const result = passive.get() as unknown as CheckpointResult;
    left = result.log - result.checkpointed;
  }
  // A WAL this long did not start over after the last checkpoint (its writers never found it wholly copied, or a
  // reader kept it): RESTART keeps writers out (they wait in their busy handler) while it copies the rest and waits
  // for the readers, and the WAL starts over.
  const restarted = frames >= restartFrames && (restart.get() as unknown as CheckpointResult).busy === 0;
  // A RESTART that ran copied everything: the next commit starts the WAL over.
  return { type: "checkpoint", frames, copiedAll: left <= 0 || restarted, restarted };
}

function check(asked: boolean): void {
  try {
    const outcome = checkpoint();
    if (asked || outcome.type === "checkpoint") port.postMessage(outcome satisfies CheckpointWorkerMessage);
  } catch (error) {
    const code = ((error as { errcode?: number }).errcode ?? 0) & 0xff;
    if (code === sqliteBusy) {
      // Another connection held a lock past the timeout: the normal "not now".
      if (asked) port.postMessage({ type: "nothing-due" } satisfies CheckpointWorkerMessage);
      return;
    }
    // Anything else ends the worker, and the store checkpoints itself again.
    port.postMessage({ type: "failed", message: error instanceof Error ? error.message : String(error) } satisfies CheckpointWorkerMessage);
    stop();
  }
}

// A wake-up of this thread costs ~0.1 ms of CPU: it looks by itself only this seldom.
const timer = setInterval(() => check(false), pollMs);

function stop(): void {
  clearInterval(timer);
  wal.close();
  db.close();
  port.close();
}

port.on("message", (message: unknown) => {
  if (message === "check") check(true);
  else if (message === "stop") stop();
});
port.postMessage({ type: "ready" } satisfies CheckpointWorkerMessage);
