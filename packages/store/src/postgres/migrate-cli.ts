/**
 * Applies the PostgreSQL schema's pending migrations (the API also does it at start-up, under the same advisory lock).
 *
 *   DATABASE_URL=postgres://user:password@host:5432/database pnpm --filter @streamchat/store migrate
 *   DATABASE_URL=… node packages/store/dist/postgres/migrate-cli.js      (after pnpm build)
 *
 * Exit status: 0 done (or nothing to do), 1 failed, 2 DATABASE_URL missing.
 */
import pg from "pg";
import { latestVersion } from "../migrations.js";
import { describeTarget } from "./errors.js";
import { migratePostgres, migrationWaitMessage } from "./migrate.js";
import { postgresMigrations } from "./schema.js";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("migrate: DATABASE_URL is not set (postgres://user:password@host:5432/database)");
  process.exit(2);
}
const target = describeTarget(url);
const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: "streamchat-migrate" });
client.on("error", () => {}); // a connection lost mid-way also fails the pending query, reported below

try {
  await client.connect();
} catch (error) {
  const detail = (error instanceof Error && error.message) || (error as { code?: string }).code || String(error);
  console.error(`migrate: cannot connect to PostgreSQL at ${target} (DATABASE_URL): ${detail}`);
  process.exit(1);
}
try {
  const applied = await migratePostgres(client, undefined, undefined, (holder) => console.error(migrationWaitMessage(holder)));
  const version = latestVersion(postgresMigrations);
  console.log(
    applied.length > 0
      ? `migrate: ${target}: applied version ${applied.join(", ")}; the schema is at version ${version}`
      : `migrate: ${target}: up to date (version ${version})`,
  );
} catch (error) {
  console.error(`migrate: ${target}: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await client.end().catch(() => {});
}
