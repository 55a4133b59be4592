/**
 * The SQLite store's checkpoints, on a thread of their own (checkpointer.ts starts it; see there for why).
 *
 * Watches the WAL's length in the wal-index (the `-shm` file, whose header SQLite documents in "WAL-mode file
 * formats": `mxFrame` at byte 16, `nBackfill` at byte 96, native byte order) and, once it reaches `thresholdFrames`,
 * copies the WAL into the database without blocking writers (PASSIVE), then finishes with RESTART: the few frames
 * committed meanwhile, the fsyncs, and the next writer starts the WAL over from its beginning.
 *
 * Erasable TypeScript only: Node runs this file itself from the sources (tests) and the compiled .js from dist.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

export interface CheckpointWorkerData {
  path: string;
  thresholdFrames: number;
  pollMs: number;
  /** How long RESTART waits for another connection's writer or readers before it gives up until the next poll. */
  busyTimeoutMs: number;
}

/** What the worker tells the store: ready, each checkpoint, or a failure (then it exits). */
export type CheckpointWorkerMessage =
  | { type: "ready" }
  | { type: "checkpoint"; frames: number; copiedAll: boolean; restarted: boolean }
  | { type: "failed"; message: string };

const sqliteBusy = 5;
const { path, thresholdFrames, pollMs, busyTimeoutMs } = workerData as CheckpointWorkerData;
/** The WAL length past which the checkpoint ends with RESTART if copying alone did not catch up with the writers. */
const restartFrames = 4 * thresholdFrames;
const port = parentPort!;
const db = new DatabaseSync(path);
db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
// A checkpoint syncs the WAL before it copies and the database after, as the store's own connection would.
db.exec("PRAGMA synchronous = NORMAL");
// This connection never writes, so it never checkpoints by itself either; the explicit ones below are its work.
const passive = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
const restart = db.prepare("PRAGMA wal_checkpoint(RESTART)");

const header = new Uint32Array(25);
const headerBytes = new Uint8Array(header.buffer);
let shm: number | null = null;

/** The WAL's length in frames while some of it is not in the database yet; 0 when all of it is, or no wal-index exists (yet). */
function uncopiedWalLength(): number {
  if (shm === null) {
    try {
      shm = openSync(`${path}-shm`, "r");
    } catch {
      return 0;
    }
  }
  if (readSync(shm, headerBytes, 0, headerBytes.length, 0) < headerBytes.length) return 0;
  // A torn read only moves the moment of the next checkpoint: SQLite itself checks what it reads.
  const mxFrame = header[4]!;
  const backfilled = header[24]!;
  return mxFrame > backfilled ? mxFrame : 0;
}

/** Frames of the WAL not in the database yet (as last read by uncopiedWalLength or here). */
function uncopiedFrames(): number {
  if (shm === null || readSync(shm, headerBytes, 0, headerBytes.length, 0) < headerBytes.length) return 0;
  return Math.max(0, header[4]! - header[24]!);
}

function checkpoint(): void {
  const frames = uncopiedWalLength();
  if (frames < thresholdFrames) return;
  // Copies with writers going on. The WAL starts over at the first commit that finds it wholly copied, so copy
  // again what was committed during the copy (a few frames, well under a millisecond) until nothing is left.
  let left = frames;
  for (let pass = 0; pass < 4 && left > 0; pass++) {
    passive.get();
    left = uncopiedFrames();
  }
  // Commits that never pause long enough for that: RESTART keeps writers out (they wait in their busy handler)
  // while it copies the rest, and the WAL starts over.
  const restarted = left > 0 && frames >= restartFrames && (restart.get() as { busy: number } | undefined)?.busy === 0;
  port.postMessage({ type: "checkpoint", frames, copiedAll: left === 0, restarted } satisfies CheckpointWorkerMessage);
}

const timer = setInterval(() => {
  try {
    checkpoint();
  } catch (error) {
    // SQLITE_BUSY past the timeout is the normal "not now"; anything else ends the worker, and the store checkpoints itself again.
    if ((((error as { errcode?: number }).errcode ?? 0) & 0xff) === sqliteBusy) return;
    port.postMessage({ type: "failed", message: error instanceof Error ? error.message : String(error) } satisfies CheckpointWorkerMessage);
    stop();
  }
}, pollMs);

function stop(): void {
  clearInterval(timer);
  if (shm !== null) closeSync(shm);
  shm = null;
  db.close();
  port.close();
}

port.on("message", (message: unknown) => {
  if (message === "stop") stop();
});
port.postMessage({ type: "ready" } satisfies CheckpointWorkerMessage);
