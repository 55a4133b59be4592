/**
 * Disk taken by the event log and the conversations, per answer and per logged token, against an in-process API on
 * the simulator's demo model (investigation tool: the figures of docs/operations.md, "Disk use").
 *
 *   node --conditions=source --import tsx scripts/event-log-size.ts [answers] [concurrency]
 *
 * On a fresh SQLite file in a temp directory, or with DATABASE_URL on PostgreSQL (the schema of that URL, which must
 * start empty: the sizes read are the whole schema's). The simulator streams a token every TOKEN_DELAY_MS (default 5),
 * as a model does at its pace: one token per read, so one logged event per token.
 *
 * COMPACT=1 then deletes the token events of every finished run, as docs/operations.md tells an operator to (the same
 * statement), and reads the sizes again after a VACUUM (on PostgreSQL a FULL one, which rewrites the table: a plain
 * VACUUM keeps the freed pages for the table's new rows).
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { startSimulator } from "@streamchat/ollama-sim";
import { buildServer } from "../src/app.js";
import { loadConfig } from "../src/config.js";

const answers = Number(process.argv[2] ?? 200);
const concurrency = Number(process.argv[3] ?? 20);
const databaseUrl = process.env["DATABASE_URL"];
const prompts = [
  "Explain server-sent events in a short list",
  "Compare WebSockets and server-sent events",
  "What time is it in Tokyo?",
  "Write a TypeScript function that reverses a string",
];

interface Relation {
  name: string;
  bytes: number;
}

const dir = mkdtempSync(join(tmpdir(), "streamchat-log-size-"));
const dbPath = join(dir, "chat.db");
const sim = await startSimulator({ tokenDelayMs: Number(process.env["TOKEN_DELAY_MS"] ?? 5) });
const server = await buildServer({
  config: loadConfig({
    HOST: "127.0.0.1",
    PORT: "0",
    CHAT_PROVIDER: "ollama",
    OLLAMA_HOST: sim.url,
    CHAT_MODEL: "demo",
    LOG_LEVEL: "silent",
    GENERATE_TITLES: "0",
    MAX_RUNS_PER_USER: String(concurrency),
    DATABASE_PATH: dbPath,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  }),
  logger: false,
  webDistDir: null,
});
const url = await server.listen();
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < answers) {
      const message = prompts[next++ % prompts.length];
      const res = await fetch(`${url}/api/chat`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ message }) });
      if (!res.ok) throw new Error(`POST /api/chat: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
  }),
);
await server.close();
await sim.close();

/** The statements of docs/operations.md ("Disk use"): a finished run's token events, older than `cutoff` (ms). */
const compactSqlite =
  "DELETE FROM events WHERE rowid IN (SELECT e.rowid FROM runs r JOIN events e ON e.run_id = r.id WHERE r.status = 'done' AND r.finished_at < ? AND e.type = 'token' LIMIT 10000)";
const compactPostgres =
  "DELETE FROM events WHERE ctid = ANY (ARRAY(SELECT e.ctid FROM runs r JOIN events e ON e.run_id = r.id WHERE r.status = 'done' AND r.finished_at < $1 AND e.type = 'token' LIMIT 10000))";

interface Sizes {
  relations: Relation[];
  events: Array<{ type: string; n: number; bytes: number }>;
  fileBytes?: number;
}

async function measure(compact: boolean): Promise<Sizes> {
  const cutoff = Date.now();
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      if (compact) while ((await client.query(compactPostgres, [cutoff])).rowCount) continue;
      // FULL: the table rewritten, to read what the log now takes (a plain VACUUM keeps the pages for new rows).
      await client.query(compact ? "VACUUM (FULL, ANALYZE)" : "VACUUM ANALYZE");
      const relations = (
        await client.query<{ name: string; bytes: string }>(
          `SELECT c.relname AS name, pg_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i', 't') ORDER BY 2 DESC`,
        )
      ).rows.map((row) => ({ name: row.name, bytes: Number(row.bytes) }));
      const events = (
        await client.query<{ type: string; n: number; bytes: number }>(
          "SELECT type, COUNT(*)::int AS n, SUM(octet_length(json::text))::int AS bytes FROM events GROUP BY type ORDER BY 3 DESC",
        )
      ).rows;
      return { relations, events };
    } finally {
      await client.end();
    }
  }
  const db = new DatabaseSync(dbPath);
  try {
    if (compact) {
      const statement = db.prepare(compactSqlite);
      while (Number(statement.run(cutoff).changes) > 0) continue;
      db.exec("VACUUM");
    }
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const relations = db.prepare("SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC").all() as unknown as Relation[];
    const events = db.prepare("SELECT type, COUNT(*) AS n, SUM(LENGTH(json)) AS bytes FROM events GROUP BY type ORDER BY bytes DESC").all() as unknown as Sizes["events"];
    return { relations, events, fileBytes: statSync(dbPath).size };
  } finally {
    db.close();
  }
}

function report({ relations, events, fileBytes }: Sizes): void {
  if (fileBytes !== undefined) console.log(`file: ${fileBytes} bytes, ${(fileBytes / answers / 1024).toFixed(1)} KB per answer`);
  const rows = events.reduce((n, e) => n + e.n, 0);
  const tokens = events.find((e) => e.type === "token")?.n ?? 0;
  const log = relations.filter((r) => /^(events|sqlite_autoindex_events|events_)/.test(r.name)).reduce((n, r) => n + r.bytes, 0);
  const all = relations.reduce((n, r) => n + r.bytes, 0);
  console.log(`${answers} answers: ${rows} logged events (${(tokens / answers).toFixed(1)} tokens per answer)`);
  console.log(
    `event log ${log} bytes of ${all} (${((100 * log) / all).toFixed(0)} %): ${(log / rows).toFixed(0)} bytes per logged event, ${(log / answers / 1024).toFixed(1)} KB per answer`,
  );
  console.log("\n| relation | bytes | per answer |\n|---|---:|---:|");
  for (const r of relations.filter((r) => r.bytes > 0)) console.log(`| ${r.name} | ${r.bytes} | ${(r.bytes / answers).toFixed(0)} |`);
  console.log("\n| event type | rows | JSON bytes |\n|---|---:|---:|");
  for (const e of events) console.log(`| ${e.type} | ${e.n} | ${e.bytes} |`);
}

report(await measure(false));
if (process.env["COMPACT"] === "1") {
  console.log("\nafter deleting the finished runs' token events:");
  report(await measure(true));
}
rmSync(dir, { recursive: true, force: true });
