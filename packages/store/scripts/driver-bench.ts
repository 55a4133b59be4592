/**
 * Driver choice for the PostgreSQL store, by measurement: `pg` 8 vs `postgres` (postgres.js) 3.4 on the store's two
 * hot paths, with the store's own schema and SQL.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres pnpm --filter @streamchat/store bench:drivers
 *   (or: scripts/test-services.sh run sh -c 'DATABASE_URL=$STREAMCHAT_TEST_DATABASE_URL pnpm --filter @streamchat/store bench:drivers')
 *
 * DATABASE_URL must allow CREATE DATABASE: the bench works in a fresh database it drops afterwards.
 *
 * 1. event append: one multi-row INSERT per batch (what EventBatcher commits), one batch in flight at a time;
 *    batches of 8 (light load), 64 (16 streams × ~4 tokens per 25 ms) and 256 (the size trigger) events spread over
 *    16 runs. Two statement shapes: VALUES ($1…$4n) and unnest($1::text[], …) (one fixed, preparable statement).
 * 2. run start: createRun with maxRunningPerUser (one call of the schema's streamchat_create_run: per-user advisory
 *    lock, INSERT … SELECT with the count) followed by appendMessage (one UPDATE … INSERT statement), sequentially
 *    (latency) and from 16 concurrent callers on a pool of 10 (throughput).
 *
 * Reported: wall time per operation (median, p95), throughput, and this process's CPU per event / per run start
 * (the API's CPU is what a token costs). Rounds alternate the drivers' order so neither always runs warm.
 */
import { performance } from "node:perf_hooks";
import pg from "pg";
import postgres from "postgres";
import { postgresMigrations } from "../src/postgres/schema.js";

const adminUrl = process.env.DATABASE_URL ?? process.env.STREAMCHAT_TEST_DATABASE_URL;
if (!adminUrl) {
  console.error("driver-bench: set DATABASE_URL to a PostgreSQL server where this user may CREATE DATABASE");
  process.exit(2);
}
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const batchesPerSize = Number(process.env.BENCH_BATCHES ?? 200);
const runStarts = Number(process.env.BENCH_RUN_STARTS ?? 400);
const poolSize = 10;
const concurrency = 16;
const runsPerBatch = 16;

interface Row {
  runId: string;
  seq: number;
  type: string;
  json: string;
}

/** The operations a driver must do for the two paths, written the way the store would write them. */
interface Driver {
  name: string;
  appendValues(rows: Row[]): Promise<void>;
  appendUnnest(rows: Row[]): Promise<void>;
  runStart(input: { runId: string; conversationId: string; userId: string; at: number; messageJson: string; searchText: string }): Promise<void>;
  end(): Promise<void>;
}

const createRunSql = "SELECT streamchat_create_run($1, $2, $3, 'demo', 'sim', NULL, 'bench', $4, $5) AS created";
const appendMessageSql = `WITH touched AS (UPDATE conversations SET updated_at = $2 WHERE id = $1 RETURNING id)
  INSERT INTO messages (conversation_id, run_id, role, search_text, json, created_at)
  SELECT id, $3, 'user', $4, $5, $2 FROM touched RETURNING id`;
const unnestSql = `INSERT INTO events (run_id, seq, type, json)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[])`;
const maxRunning = 1_000_000; // the limit is checked (and the lock taken) but never reached

function valuesSql(n: number): string {
  const tuples: string[] = [];
  for (let i = 0; i < n; i++) tuples.push(`($${4 * i + 1}, $${4 * i + 2}, $${4 * i + 3}, $${4 * i + 4})`);
  return `INSERT INTO events (run_id, seq, type, json) VALUES ${tuples.join(", ")}`;
}

function pgDriver(url: string): Driver {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  pool.on("error", () => {});
  return {
    name: "pg 8.23",
    async appendValues(rows) {
      await pool.query(valuesSql(rows.length), rows.flatMap((r) => [r.runId, r.seq, r.type, r.json]));
    },
    async appendUnnest(rows) {
      await pool.query({
        name: "append-events",
        text: unnestSql,
        values: [rows.map((r) => r.runId), rows.map((r) => r.seq), rows.map((r) => r.type), rows.map((r) => r.json)],
      });
    },
    async runStart(input) {
      await pool.query({
        name: "create-run",
        text: createRunSql,
        values: [input.runId, input.conversationId, input.userId, input.at, maxRunning],
      });
      await pool.query({
        name: "append-message",
        text: appendMessageSql,
        values: [input.conversationId, input.at, input.runId, input.searchText, input.messageJson],
      });
    },
    end: () => pool.end(),
  };
}

function postgresJsDriver(url: string): Driver {
  const sql = postgres(url, { max: poolSize, onnotice: () => {} });
  return {
    name: "postgres 3.4",
    async appendValues(rows) {
      await sql`INSERT INTO events ${sql(
        rows.map((r) => ({ run_id: r.runId, seq: r.seq, type: r.type, json: r.json })),
        "run_id",
        "seq",
        "type",
        "json",
      )}`;
    },
    async appendUnnest(rows) {
      await sql.unsafe(unnestSql, [rows.map((r) => r.runId), rows.map((r) => r.seq), rows.map((r) => r.type), rows.map((r) => r.json)], {
        prepare: true,
      });
    },
    async runStart(input) {
      await sql.unsafe(createRunSql, [input.runId, input.conversationId, input.userId, input.at, maxRunning], { prepare: true });
      await sql.unsafe(appendMessageSql, [input.conversationId, input.at, input.runId, input.searchText, input.messageJson], {
        prepare: true,
      });
    },
    end: () => sql.end({ timeout: 5 }),
  };
}

// ---- measuring ------------------------------------------------------------------------------------------

interface Sample {
  ms: number[];
  cpuUs: number;
  wallMs: number;
  units: number;
}

function summary(sample: Sample, unit: string) {
  const sorted = [...sample.ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    p50ms: round(at(0.5), 3),
    p95ms: round(at(0.95), 3),
    [`${unit}PerSec`]: Math.round((sample.units / sample.wallMs) * 1000),
    [`cpuUsPer${unit[0]!.toUpperCase()}${unit.slice(1)}`]: round(sample.cpuUs / sample.units, 2),
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

async function measure(ops: number, units: number, parallel: number, op: (i: number) => Promise<void>): Promise<Sample> {
  const ms: number[] = [];
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < ops) {
        const i = next++;
        const t = performance.now();
        await op(i);
        ms.push(performance.now() - t);
      }
    }),
  );
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { ms, cpuUs: used.user + used.system, wallMs, units };
}

let runCounter = 0;
let seqCounter = 0;

function eventBatch(size: number, runIds: string[]): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < size; i++) {
    const runId = runIds[i % runIds.length]!;
    const seq = ++seqCounter; // unique per run as well: one counter for all
    rows.push({ runId, seq, type: "token", json: JSON.stringify({ type: "token", runId, at: Date.now(), text: ` token${seq}` }) });
  }
  return rows;
}

async function main() {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const dbName = `streamchat_driver_bench_${process.pid}`;
  await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(adminUrl!);
  url.pathname = `/${dbName}`;
  const benchUrl = url.toString();

  const setup = new pg.Client({ connectionString: benchUrl });
  await setup.connect();
  const server = (await setup.query<{ v: string; fsync: string; sc: string }>(
    "SELECT current_setting('server_version') AS v, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc",
  )).rows[0]!;
  for (const migration of postgresMigrations) await setup.query(migration.up);
  // Runs the event batches belong to, and one conversation per run start (a conversation runs one run at a time).
  await setup.query("INSERT INTO conversations (id, user_id, title, created_at, updated_at) VALUES ('bench-c', 'bench-u', 'bench', 0, 0)");
  await setup.query(`INSERT INTO conversations (id, user_id, title, created_at, updated_at)
    SELECT 'c' || g, 'u' || (g % 50), 'bench', 0, 0 FROM generate_series(1, ${2 * rounds * 2 * runStarts}) g`);
  const runIds = Array.from({ length: runsPerBatch }, (_, i) => `bench-r${i}`);
  for (const [i, id] of runIds.entries()) {
    await setup.query(
      "INSERT INTO runs (id, conversation_id, user_id, model, provider, status, created_at) VALUES ($1, 'bench-c', 'bench-u', 'demo', 'sim', $2, 0)",
      [id, i === 0 ? "running" : "done"],
    );
  }
  // Each measurement starts with the same number of running runs (none): the count in createRun stays comparable.
  const finishBenchRuns = () => setup.query("UPDATE runs SET status = 'done' WHERE status = 'running' AND id LIKE 'run-%'");
  console.log(`PostgreSQL ${server.v} (fsync=${server.fsync}, synchronous_commit=${server.sc}), node ${process.version}, pool ${poolSize}`);

  const drivers = [pgDriver(benchUrl), postgresJsDriver(benchUrl)];
  const results: Record<string, Record<string, ReturnType<typeof summary>[]>> = {};
  const record = (driver: string, path: string, value: ReturnType<typeof summary>) => {
    ((results[driver] ??= {})[path] ??= []).push(value);
  };
  let conversation = 0;

  // Warm-up: connections, prepared statements, JIT.
  for (const driver of drivers) {
    for (let i = 0; i < 20; i++) {
      await driver.appendValues(eventBatch(64, runIds));
      await driver.appendUnnest(eventBatch(64, runIds));
    }
  }

  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? drivers : [...drivers].reverse();
    for (const driver of order) {
      for (const size of [8, 64, 256]) {
        const batches = Array.from({ length: batchesPerSize }, () => eventBatch(size, runIds));
        record(driver.name, `append ${size} (VALUES)`, summary(await measure(batches.length, batches.length * size, 1, (i) => driver.appendValues(batches[i]!)), "event"));
        const more = Array.from({ length: batchesPerSize }, () => eventBatch(size, runIds));
        record(driver.name, `append ${size} (unnest)`, summary(await measure(more.length, more.length * size, 1, (i) => driver.appendUnnest(more[i]!)), "event"));
      }
      const start = (i: number) => {
        const c = ++conversation;
        return driver.runStart({
          runId: `run-${++runCounter}`,
          conversationId: `c${c}`,
          userId: `u${c % 50}`,
          at: Date.now() + i,
          messageJson: JSON.stringify({ role: "user", content: `What time is it in Tokyo? #${c}` }),
          searchText: `what time is it in tokyo? #${c}`,
        });
      };
      await finishBenchRuns();
      record(driver.name, "run start, sequential", summary(await measure(runStarts, runStarts, 1, start), "start"));
      await finishBenchRuns();
      record(driver.name, `run start, ${concurrency} concurrent`, summary(await measure(runStarts, runStarts, concurrency, start), "start"));
    }
  }
  for (const driver of drivers) await driver.end();
  await setup.end();
  await admin.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
  await admin.end();

  // Median over rounds of each figure.
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const table: Array<Record<string, string | number>> = [];
  for (const [driver, paths] of Object.entries(results)) {
    for (const [path, samples] of Object.entries(paths)) {
      const row: Record<string, string | number> = { driver, path };
      for (const key of Object.keys(samples[0]!)) row[key] = median(samples.map((s) => s[key]!));
      table.push(row);
    }
  }
  table.sort((a, b) => String(a.path).localeCompare(String(b.path)) || String(a.driver).localeCompare(String(b.driver)));
  console.table(table);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
