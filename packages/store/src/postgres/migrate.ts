import type pg from "pg";
import { assertOrdered, latestVersion, type Migration } from "../migrations.js";
import { postgresMigrations } from "./schema.js";

/**
 * Brings the database to the latest version of `list` in ONE transaction under a transaction-level advisory lock:
 * two processes starting at once on the same database take turns, and the second finds the work done. The lock is
 * taken before anything else (even `CREATE TABLE IF NOT EXISTS`, which races with itself). Returns the versions
 * applied; refuses a database written by a newer schema.
 */
export async function migratePostgres(
  client: pg.ClientBase,
  list: readonly Migration[] = postgresMigrations,
  now: () => number = Date.now,
): Promise<number[]> {
  assertOrdered(list);
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('streamchat:migrations', 0))");
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
