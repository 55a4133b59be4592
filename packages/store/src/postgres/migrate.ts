import type pg from "pg";
import { assertOrdered, latestVersion, type Migration } from "../migrations.js";
import { postgresMigrations } from "./schema.js";

/** The advisory lock's name (a parameter of every statement that takes or looks for it: hashed to its bigint key). */
const migrationLockName = "streamchat:migrations";

/**
 * How long a start waits for the migration lock before it says who holds it. Replicas started together take turns
 * for a few hundred milliseconds, which is normal and not worth a warning; a wait longer than this is not.
 */
export const migrationWaitReportMs = 3000;
/** How often the lock is tried again before the report. */
const lockRetryMs = 100;

/** Who holds the migration lock, as pg_stat_activity shows it (all null when it is gone by the time it is asked). */
export interface MigrationLockHolder {
  pid: number | null;
  applicationName: string | null;
  /** When its transaction began (ms since the epoch). */
  since: number | null;
}

/** One line for a log: who holds the migration lock, since when. */
export function migrationWaitMessage(holder: MigrationLockHolder, now = Date.now()): string {
  const who = holder.pid === null ? "another process" : `process ${holder.pid}${holder.applicationName ? ` (${holder.applicationName})` : ""}`;
  const since = holder.since === null ? "" : `, its transaction open for ${Math.max(0, Math.round((now - holder.since) / 1000))} s`;
  return `waiting for the database schema migration lock, held by ${who}${since}: another API process migrating, or one stuck in an open transaction (pg_stat_activity shows it)`;
}

async function tryLock(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked", [
    migrationLockName,
  ]);
  return rows[0]?.locked === true;
}

async function lockHolder(client: pg.ClientBase): Promise<MigrationLockHolder> {
  // The key as pg_locks splits a bigint advisory key: classid the high 32 bits, objid the low ones.
  const { rows } = await client.query<{ pid: number; application_name: string | null; xact_start: Date | null }>(
    `SELECT a.pid, a.application_name, a.xact_start
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid::bigint = (hashtextextended($1, 0) >> 32) & 4294967295
        AND l.objid::bigint = hashtextextended($1, 0) & 4294967295
      LIMIT 1`,
    [migrationLockName],
  );
  const row = rows[0];
  return { pid: row?.pid ?? null, applicationName: row?.application_name ?? null, since: row?.xact_start?.getTime() ?? null };
}

/**
 * Brings the database to the latest version of `list` in ONE transaction under a transaction-level advisory lock:
 * two processes starting at once on the same database take turns, and the second finds the work done. The lock is
 * taken before anything else (even `CREATE TABLE IF NOT EXISTS`, which races with itself). Returns the versions
 * applied; refuses a database written by a newer schema. `onWait` hears who holds the lock when it is still not free
 * after `reportAfterMs`.
 */
export async function migratePostgres(
  client: pg.ClientBase,
  list: readonly Migration[] = postgresMigrations,
  now: () => number = Date.now,
  onWait?: (holder: MigrationLockHolder) => void,
  reportAfterMs = migrationWaitReportMs,
): Promise<number[]> {
  assertOrdered(list);
  await client.query("BEGIN");
  try {
    // Taken at once when free (the usual case), or within moments when another replica starting at the same time
    // migrates. Otherwise one hangs holding the lock in an open transaction: the wait has no end then, so the caller
    // is told who holds it before waiting. Tried again rather than waited for with a lock_timeout, whose setting
    // would outlive the wait in this transaction and bound the migrations' own locks.
    const giveUpAt = Date.now() + reportAfterMs;
    let locked = await tryLock(client);
    while (!locked && Date.now() < giveUpAt) {
      await new Promise((resolve) => setTimeout(resolve, lockRetryMs));
      locked = await tryLock(client);
    }
    if (!locked) {
      onWait?.(await lockHolder(client));
      await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [migrationLockName]);
    }
    await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)");
    const { rows } = await client.query<{ version: number }>("SELECT COALESCE(MAX(version), 0)::integer AS version FROM schema_migrations");
    const current = rows[0]?.version ?? 0;
    const latest = latestVersion(list);
    if (current > latest) {
      throw new Error(
        `Database schema version ${current} is newer than this build knows (${latest}); refusing to open it with older code.`,
      );
    }
    const applied: number[] = [];
    for (const migration of list) {
      if (migration.version <= current) continue;
      await client.query(migration.up); // several statements: the simple query protocol runs them in order
      await client.query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", [migration.version, now()]);
      applied.push(migration.version);
    }
    await client.query("COMMIT");
    return applied;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
