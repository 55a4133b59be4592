import { DatabaseSync } from "node:sqlite";
import { localLiveness, type ReplicaLiveness } from "./liveness.js";

/** Another live process serves the SQLite file (it holds the file's process lock). */
export class DatabaseInUseError extends Error {
  override readonly name = "DatabaseInUseError";
}

/** The file whose lock says which process serves the SQLite file `databasePath`. */
export const processLockPath = (databasePath: string): string => `${databasePath}.lock`;

const sqliteBusy = 5;

/**
 * One process per SQLite file, enforced: recovery takes every run it finds running as a dead process's (localLiveness),
 * so a second process on the same file (`pnpm start` while `pnpm dev` runs, or a restart while the old process still
 * drains its answers) would close the first one's live runs as interrupted while they go on writing.
 *
 * The lock is SQLite's own on a small file beside the database (`<file>.lock`), taken with `locking_mode=EXCLUSIVE` and
 * a write, and held for the life of the connection. The operating system drops it when the process ends, however it
 * ends (a crash, SIGKILL), so a stale lock cannot block a restart, and no process id is trusted. The database file
 * itself stays open to readers (a backup, the sqlite3 shell).
 */
export function openSqliteLiveness(databasePath: string, replicaId?: string): ReplicaLiveness {
  const local = localLiveness(replicaId);
  const lock = new DatabaseSync(processLockPath(databasePath), { timeout: 0 });
  try {
    lock.exec("PRAGMA locking_mode = EXCLUSIVE");
    lock.exec("CREATE TABLE IF NOT EXISTS holder (replica_id TEXT NOT NULL, started_at INTEGER NOT NULL)");
    // A write every time (the table may be there already): an exclusive connection keeps the lock of its first write.
    lock.exec("BEGIN IMMEDIATE");
    lock.exec("DELETE FROM holder");
    lock.prepare("INSERT INTO holder (replica_id, started_at) VALUES (?, ?)").run(local.replicaId, Date.now());
    lock.exec("COMMIT");
  } catch (error) {
    lock.close();
    if ((Number((error as { errcode?: unknown }).errcode) & 0xff) === sqliteBusy) {
      throw new DatabaseInUseError(`another API process serves ${databasePath} (it holds ${processLockPath(databasePath)})`, { cause: error });
    }
    throw error;
  }
  let closed = false;
  return {
    ...local,
    async close() {
      await local.close();
      if (closed) return;
      closed = true;
      lock.close();
    },
  };
}
