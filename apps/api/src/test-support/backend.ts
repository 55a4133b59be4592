import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { inject } from "vitest";
import {
  openPostgresStore,
  openSqliteStore,
  type ChatStore,
  type EventBatcherStats,
  type PostgresStoreOptions,
  type SqliteStoreOptions,
} from "@streamchat/store";

/**
 * The store backend the API suite runs on: the vitest project decides ("sqlite" or "postgres", vitest.config.ts).
 * Every API a test starts gets fresh, empty data on it: a SQLite file in a temp dir, or a schema of its own in the
 * run's PostgreSQL database (one database per test run, made by postgres-setup.ts: creating a schema takes a
 * millisecond, a database a few hundred).
 */
export type TestBackend = "sqlite" | "postgres";

export const testBackend: TestBackend = process.env["STREAMCHAT_TEST_BACKEND"] === "postgres" ? "postgres" : "sqlite";

declare module "vitest" {
  export interface ProvidedContext {
    /** The PostgreSQL database of this test run (postgres project only). */
    streamchatApiDatabaseUrl: string;
  }
}

export type TestStore = ChatStore & { stats(): EventBatcherStats };

/** Options of a store a test opens itself, on either backend. */
export type TestStoreOptions = Pick<SqliteStoreOptions & PostgresStoreOptions, "flushIntervalMs" | "maxBatch" | "retryForMs" | "now" | "onFlushError"> &
  Pick<SqliteStoreOptions, "busyTimeoutMs">;

/** One API's data: where it lives, and a way in for the test (another process's view). */
export interface TestData {
  backend: TestBackend;
  /** The API's environment for it: DATABASE_PATH, plus DATABASE_URL on PostgreSQL. */
  env: Record<string, string>;
  /** The SQLite file; on PostgreSQL nothing may be created there (the harness checks). */
  dbPath: string;
  /** The PostgreSQL URL (search_path set to this data's schema); undefined on SQLite. */
  url: string | undefined;
  /** Opens a store on this data, as another process would. The caller closes it. */
  openStore(options?: TestStoreOptions): Promise<TestStore>;
}

let schemas = 0;

/** A schema of its own in the run's database; the URL selects it for every connection (`options=-c search_path=`). */
export async function freshSchemaUrl(): Promise<string> {
  const database = inject("streamchatApiDatabaseUrl");
  if (!database) throw new Error("no PostgreSQL database for this test run (the postgres project's globalSetup makes one)");
  const schema = `api_${process.pid}_${++schemas}_${randomBytes(3).toString("hex")}`;
  const admin = new pg.Client({ connectionString: database });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const url = new URL(database);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return url.toString();
}

/** Fresh data in `dir` (the SQLite file's place, also on PostgreSQL) on this project's backend. */
export async function freshTestData(dir: string, backend: TestBackend = testBackend): Promise<TestData> {
  const dbPath = join(dir, "chat.db");
  if (backend === "sqlite") {
    return {
      backend,
      env: { DATABASE_PATH: dbPath },
      dbPath,
      url: undefined,
      openStore: async (options = {}) => openSqliteStore({ path: dbPath, ...options }),
    };
  }
  return postgresDataAt(await freshSchemaUrl(), dir);
}

/** Data on a given PostgreSQL database (a private cluster a test kills and restarts). */
export function postgresDataAt(url: string, dir: string): TestData {
  const dbPath = join(dir, "chat.db");
  return {
    backend: "postgres",
    env: { DATABASE_PATH: dbPath, DATABASE_URL: url },
    dbPath,
    url,
    openStore: (options = {}) => {
      const { busyTimeoutMs: _sqliteOnly, ...rest } = options;
      return openPostgresStore({ url, poolSize: 4, ...rest });
    },
  };
}

/** A store on fresh data of this project's backend, for tests of the run modules; `close()` also removes its files. */
export async function openTestStore(options: TestStoreOptions = {}): Promise<TestStore & { data: TestData }> {
  const dir = mkdtempSync(join(tmpdir(), "streamchat-store-"));
  const data = await freshTestData(dir);
  const store = await data.openStore(options);
  const close = store.close.bind(store);
  return Object.assign(store, {
    data,
    close: async () => {
      try {
        await close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  });
}

/**
 * Runs one SQL statement on `data` behind the API's back, on a connection of its own, as another process (an older
 * version, a hand edit) could. Parameters are written $1, $2… on both backends (SQLite's ?1, ?2… mean the same).
 */
export async function runSql(data: TestData, sql: string, params: Array<string | number | null> = []): Promise<void> {
  if (data.url === undefined) {
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(data.dbPath);
    try {
      db.prepare(sql.replace(/\$(\d+)/g, "?$1")).run(...params);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: data.url });
  await client.connect();
  try {
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/**
 * Marks a finished run running again, as a version before a committed `done` finished its run in the same
 * transaction could leave it (its process died between the two): the state recovery still has to mend.
 */
export async function unfinishRun(data: TestData, runId: string): Promise<void> {
  await runSql(data, "UPDATE runs SET status = 'running', reason = NULL, usage = NULL, finished_at = NULL WHERE id = $1", [runId]);
}
