import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { promisify } from "node:util";
import pg from "pg";
import { parentPid } from "./proc-tree.js";
import { testServicesScript } from "./paths.js";

const run = promisify(execFile);

/** The backing services of the replicated topology: one PostgreSQL, one Redis. */
export interface ServiceUrls {
  /** Admin URL of a PostgreSQL server (the helpers create a schema in it per cluster). */
  databaseUrl: string;
  /** redis://127.0.0.1:PORT */
  redisUrl: string;
}

/**
 * The services scripts/test-services.sh started for this test run (`pnpm test:pg`, .ci/run), from the variables
 * it exports; null with what is missing otherwise.
 */
export function servicesFromEnv(env: NodeJS.ProcessEnv = process.env): { urls: ServiceUrls | null; missing: string[] } {
  const databaseUrl = env["STREAMCHAT_TEST_DATABASE_URL"] || undefined;
  const redisUrl = env["STREAMCHAT_TEST_REDIS_URL"] || undefined;
  const missing = [...(databaseUrl ? [] : ["STREAMCHAT_TEST_DATABASE_URL"]), ...(redisUrl ? [] : ["STREAMCHAT_TEST_REDIS_URL"])];
  return { urls: databaseUrl && redisUrl ? { databaseUrl, redisUrl } : null, missing };
}

export interface StartedServices extends ServiceUrls {
  /** The temp directory with their data and logs (removed by stop()). */
  dir: string;
  /** Every variable test-services.sh exported. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** `export NAME=VALUE` lines as test-services.sh prints them (bash's %q quoting undone for the plain cases). */
export function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (!match?.[1] || match[2] === undefined) continue;
    let value = match[2];
    if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) value = value.slice(1, -1);
    else value = value.replace(/\\(.)/g, "$1");
    out[match[1]] = value;
  }
  return out;
}

/**
 * PostgreSQL and Redis started by scripts/test-services.sh (Debian's packages, throwaway data, free loopback ports):
 * the one place that knows how to start them, shared with the test suites and CI.
 */
export async function startServices(opts: { durable?: boolean } = {}): Promise<StartedServices> {
  const { stdout } = await run(testServicesScript, ["start"], {
    env: {
      ...process.env,
      STREAMCHAT_TEST_SERVICES: "postgres redis",
      ...(opts.durable ? { STREAMCHAT_TEST_PG_DURABLE: "1" } : {}),
    },
    maxBuffer: 1024 * 1024,
  });
  const env = parseExports(stdout);
  const dir = env["STREAMCHAT_TEST_SERVICES_DIR"];
  const stop = async () => {
    if (dir) await run(testServicesScript, ["stop", dir], { env: { ...process.env, STREAMCHAT_TEST_SERVICES: "postgres redis" } });
  };
  const { urls, missing } = servicesFromEnv(env);
  if (!dir || !urls) {
    await stop().catch(() => {});
    throw new Error(`scripts/test-services.sh start did not export ${missing.join(", ") || "STREAMCHAT_TEST_SERVICES_DIR"}`);
  }
  return { ...urls, dir, env, stop };
}

export interface Schema {
  name: string;
  /** The database URL with this schema on the search_path of every connection (the API's DATABASE_URL). */
  url: string;
  drop(): Promise<void>;
}

async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

/**
 * A schema of its own in the given database, so clusters on one server never see each other's data. Creating a
 * schema takes a millisecond, a database a few hundred.
 */
export async function createSchema(databaseUrl: string, prefix = "streamchat_cluster"): Promise<Schema> {
  const name = `${prefix}_${process.pid}_${randomBytes(3).toString("hex")}`;
  await adminQuery(databaseUrl, `CREATE SCHEMA ${name}`);
  const url = new URL(databaseUrl);
  url.searchParams.set("options", `-c search_path=${name}`);
  return { name, url: url.toString(), drop: async () => void (await adminQuery(databaseUrl, `DROP SCHEMA ${name} CASCADE`)) };
}

/** PostgreSQL's postmaster pid (server on this machine): the parent of the backend that answers us. */
export async function postgresPid(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    // Read while connected: the backend ends with the connection.
    const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    if (!rows[0]) throw new Error("pg_backend_pid() returned nothing");
    return parentPid(rows[0].pid);
  } finally {
    await client.end();
  }
}

/** One inline command to Redis and its whole reply (small replies only: INFO, PING). */
export function redisCommand(redisUrl: string, command: string, timeoutMs = 5_000): Promise<string> {
  const url = new URL(redisUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port || 6379), url.hostname);
    let reply = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`Redis at ${url.host} did not answer ${command} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("utf8");
      // A bulk reply ($len\r\n…\r\n) or a simple one (+OK / -ERR) is complete once its length is in.
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      const complete = bulk?.[1] ? reply.length >= bulk[0].length + Number(bulk[1]) + 2 : /\r\n$/.test(reply);
      if (complete) {
        clearTimeout(timer);
        socket.end();
        if (reply.startsWith("-")) reject(new Error(`Redis: ${reply.slice(1).trim()}`));
        else resolve(bulk ? reply.slice(bulk[0].length, bulk[0].length + Number(bulk[1])) : reply.trim());
      }
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** redis-server's pid (server on this machine), from INFO server. */
export async function redisPid(redisUrl: string): Promise<number> {
  const info = await redisCommand(redisUrl, "INFO server");
  const match = /^process_id:(\d+)/m.exec(info);
  if (!match?.[1]) throw new Error("INFO server did not report process_id");
  return Number(match[1]);
}
