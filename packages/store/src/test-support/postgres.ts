import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, it } from "vitest";

/**
 * Real PostgreSQL for the tests. STREAMCHAT_TEST_DATABASE_URL is an admin connection to a THROWAWAY cluster
 * (`scripts/test-services.sh run pnpm test`, `pnpm test:pg`, or .ci/run start one); every test file gets a fresh
 * database on it, dropped at the end.
 *
 * Without the variable the PostgreSQL suites are listed as skipped, with a notice on stderr; under CI=true they fail
 * instead, so CI can never pass without having run them.
 */
export const testDatabaseUrlVariable = "STREAMCHAT_TEST_DATABASE_URL";

export const postgresAdminUrl: string | undefined = process.env[testDatabaseUrlVariable] || undefined;

const inCi = process.env.CI === "true" || process.env.CI === "1";
const missingMessage =
  `${testDatabaseUrlVariable} is not set: the PostgreSQL suites need a throwaway PostgreSQL cluster ` +
  "(run `pnpm test:pg`, or `scripts/test-services.sh run <command>`).";

let reported = false;
/** Without a cluster: one notice per test file (skipped), or under CI a failing test (nothing may pass unrun). */
function reportMissing(): void {
  if (postgresAdminUrl || reported) return;
  reported = true;
  if (inCi) {
    it(`PostgreSQL is required under CI=true (${testDatabaseUrlVariable})`, () => {
      throw new Error(missingMessage);
    });
  } else {
    console.warn(`[postgres] SKIPPED PostgreSQL suites in this file — ${missingMessage}`);
  }
}

/** A describe block that needs PostgreSQL: runs with a cluster, is listed as skipped without one (fails under CI). */
export function describePostgres(name: string, body: () => void): void {
  reportMissing();
  if (postgresAdminUrl) describe(name, body);
  else describe.skip(`${name} [skipped: no ${testDatabaseUrlVariable}]`, body);
}

/** describe.each over backends, where the ones needing PostgreSQL follow describePostgres' rules. */
export function describeEachBackend<T extends { name: string; needsPostgres?: boolean }>(
  title: (backend: T) => string,
  backends: readonly T[],
  body: (backend: T) => void,
): void {
  for (const backend of backends) {
    if (backend.needsPostgres) describePostgres(title(backend), () => body(backend));
    else describe(title(backend), () => body(backend));
  }
}

function adminUrl(): string {
  if (!postgresAdminUrl) throw new Error(missingMessage);
  return postgresAdminUrl;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database on the test cluster. */
export async function createTestDatabase(label = "t"): Promise<TestDatabase> {
  const name = `streamchat_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase().slice(0, 30)}_${process.pid}_${randomBytes(4).toString("hex")}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: withDatabase(adminUrl(), name),
    // FORCE: a store a failed test left open must not keep the database alive.
    drop: () => admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** One fresh database for the calling test file (created before its first test, dropped after its last). */
export function useTestDatabase(label: string): { url(): string } {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(label);
  });
  afterAll(async () => {
    await database?.drop();
  });
  return {
    url() {
      if (!database) throw new Error("The test database is created in beforeAll.");
      return database.url;
    },
  };
}

/** Empties the store's tables (not schema_migrations) between the tests of one file. */
export async function truncateStoreTables(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("TRUNCATE conversations, messages, runs, events, approval_decisions, tool_server_settings, user_settings, conversation_settings RESTART IDENTITY CASCADE");
  } finally {
    await client.end();
  }
}

/** A plain connection to a test database: sees only what the store has committed. */
export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}
