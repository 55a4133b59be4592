import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { startWalCheckpointer, type CheckpointDone, type WalCheckpointer } from "./checkpointer.js";
import { newRecordId } from "./ids.js";
import { openSqliteStore } from "./sqlite.js";

const dirs: string[] = [];
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function openDatabase(): { db: DatabaseSync; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "streamchat-checkpoint-"));
  dirs.push(dir);
  const path = join(dir, "chat.db");
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000");
  db.exec("CREATE TABLE rows (id INTEGER PRIMARY KEY, text TEXT NOT NULL)");
  cleanup.push(() => db.close());
  return { db, path };
}

/** The WAL's length in frames, from the wal-index header SQLite documents (mxFrame, native byte order). */
function walFrames(path: string): number {
  const header = readFileSync(`${path}-shm`).subarray(0, 20);
  return new Uint32Array(header.buffer, header.byteOffset, 5)[4]!;
}

/** Commits of one page-sized row each: one WAL frame or two per commit. */
function commitRows(db: DatabaseSync, commits: number): void {
  const insert = db.prepare("INSERT INTO rows (text) VALUES (?)");
  for (let i = 0; i < commits; i++) insert.run("x".repeat(3000));
}

/** Commits rows until the WAL holds at least `frames` frames; returns the rows committed. */
function commitUntilWal(db: DatabaseSync, path: string, frames: number): number {
  let rows = 0;
  while (rows === 0 || walFrames(path) < frames) {
    commitRows(db, 1);
    rows++;
  }
  return rows;
}

const autocheckpoint = (db: DatabaseSync) => (db.prepare("PRAGMA wal_autocheckpoint").get() as { wal_autocheckpoint: number }).wal_autocheckpoint;

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function start(db: DatabaseSync, path: string, options: Parameters<typeof startWalCheckpointer>[2] = {}): WalCheckpointer {
  const checkpointer = startWalCheckpointer(db, path, options);
  cleanup.push(() => checkpointer.close());
  return checkpointer;
}

describe("startWalCheckpointer", () => {
  it("stops the connection's own checkpoints: its commits leave the database file alone past SQLite's 1,000 pages", async () => {
    const { db, path } = openDatabase();
    // A worker that never reaches its threshold: whatever reaches the database file was copied by the connection.
    const checkpointer = start(db, path, { thresholdFrames: 1_000_000, pollMs: 10 });
    await until(() => checkpointer.active, "the worker");
    expect(autocheckpoint(db)).toBe(0);
    const before = statSync(path).size;
    commitRows(db, 1_500);
    expect(walFrames(path)).toBeGreaterThanOrEqual(1_500);
    expect(statSync(path).size).toBe(before);
  });

  it("copies the WAL on its thread, and the next commit starts the WAL over", async () => {
    const { db, path } = openDatabase();
    const done: CheckpointDone[] = [];
    // No round of its own within the test: the connection's word after its commits is what wakes it.
    const checkpointer = start(db, path, { thresholdFrames: 100, pollMs: 600_000, onCheckpoint: (c) => done.push(c) });
    await until(() => checkpointer.active, "the worker");
    const rows = commitUntilWal(db, path, 150);
    checkpointer.committed();
    // Under 4× the threshold: copying alone, no RESTART.
    expect(walFrames(path)).toBeLessThan(400);
    await until(() => done.some((c) => c.copiedAll), "a checkpoint that copied every frame");
    expect(done[0]!.frames).toBeGreaterThanOrEqual(100);
    expect(done[0]!.restarted).toBe(false);
    expect(statSync(path).size).toBeGreaterThan(rows * 3000);
    commitRows(db, 1);
    expect(walFrames(path)).toBeLessThan(10);
    expect((db.prepare("SELECT COUNT(*) AS n FROM rows").get() as { n: number }).n).toBe(rows + 1);
  });

  it("restarts a WAL that grew past 4× the threshold, so that it starts over", async () => {
    const { db, path } = openDatabase();
    const done: CheckpointDone[] = [];
    const checkpointer = start(db, path, { thresholdFrames: 100, pollMs: 600_000, onCheckpoint: (c) => done.push(c) });
    await until(() => checkpointer.active, "the worker");
    commitUntilWal(db, path, 450);
    checkpointer.committed();
    await until(() => done.length > 0, "a checkpoint");
    expect(done[0]).toMatchObject({ copiedAll: true, restarted: true });
    commitRows(db, 1);
    expect(walFrames(path)).toBeLessThan(10);
  });

  it("hands checkpoints back to the connection when the worker fails, and says so once", async () => {
    const { db, path } = openDatabase();
    const reasons: string[] = [];
    const failing = new URL("data:text/javascript,process.exit(3)");
    const checkpointer = start(db, path, { workerUrl: failing, onFallback: (reason) => reasons.push(reason) });
    await until(() => reasons.length > 0, "the fallback");
    expect(reasons).toEqual(["the checkpoint worker exited (code 3)"]);
    expect(checkpointer.active).toBe(false);
    expect(autocheckpoint(db)).toBe(1000);
  });

  it("hands checkpoints back to the connection when it is closed", async () => {
    const { db, path } = openDatabase();
    const reasons: string[] = [];
    const checkpointer = start(db, path, { onFallback: (reason) => reasons.push(reason) });
    await until(() => checkpointer.active, "the worker");
    await checkpointer.close();
    expect(checkpointer.active).toBe(false);
    expect(autocheckpoint(db)).toBe(1000);
    expect(reasons).toEqual([]);
  });
});

describe("the SQLite store's checkpoints", () => {
  it("run on the worker for a database file, and the store's close stops it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "streamchat-checkpoint-"));
    dirs.push(dir);
    const path = join(dir, "chat.db");
    const done: CheckpointDone[] = [];
    const store = openSqliteStore({ path, onCheckpoint: (c) => done.push(c) });
    let closed = false;
    cleanup.push(async () => {
      if (!closed) await store.close();
    });
    // Questions of ~15 pages each until the worker reports a checkpoint (SQLite's 1,000 pages), letting the event
    // loop turn now and then: the worker takes over once its connection is open, and its report comes as a message.
    let written = 0;
    while (done.length === 0 && written < 2_000) {
      const conversation = await store.createConversation({ id: newRecordId(), userId: "u1", title: "checkpoints" });
      await store.appendMessage({ conversationId: conversation.id, runId: null, message: { role: "user", content: "y".repeat(60_000) } });
      if (++written % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await until(() => done.length > 0, "a checkpoint on the worker");
    expect(done[0]!.frames).toBeGreaterThanOrEqual(1000);
    await store.close();
    closed = true;
    // The last connection's close checkpointed what was left and removed the WAL, as without the worker.
    expect(() => statSync(`${path}-wal`)).toThrow();
    const reopened = openSqliteStore({ path, checkpointInWorker: false });
    expect(await reopened.listConversations("u1", { limit: 5_000 })).toHaveLength(written);
    await reopened.close();
  });
});
