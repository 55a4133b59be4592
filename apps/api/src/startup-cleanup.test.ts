import { AsyncLocalStorage, createHook } from "node:async_hooks";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { faultServer } from "@streamchat/mcp/test-support";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { buildServer } from "./app.js";
import { closeRedis, openRedis, type Redis } from "./cluster/redis-connection.js";
import { loadConfig } from "./config.js";
import { silentLog } from "./runs/run-log.js";
import { freshTestData, runSql, testBackend, type TestData } from "./test-support/backend.js";
import { clientList, testRedisUrl } from "./test-support/cluster-mode.js";
import { eventually } from "./test-support/harness.js";

// buildServer in this process, failing in its last step (start-up recovery), after it opened the store, the liveness,
// the run streams and the feed (on Redis when the postgres project has one), the in-process simulator and an MCP
// server: the error reaches the caller, and nothing it opened is left open (a process that embeds the API and gets
// the error must be able to exit, and to use its database).

const dirs: string[] = [];
const probes: Redis[] = [];
const afterEachStop: Array<() => void> = [];
afterEach(async () => {
  for (const stop of afterEachStop.splice(0)) stop();
  for (const probe of probes.splice(0)) await closeRedis(probe);
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Per kind, the resources keeping the event loop alive (sockets, servers, child processes, timers). */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/**
 * The kinds with more resources now than in `before`, and how many more; timers aside (`StartupTimers` counts those:
 * the test files of a worker share it, and another file's clients may start timers of their own meanwhile).
 */
function addedSince(before: Map<string, number>): Record<string, number> {
  const added: Record<string, number> = {};
  for (const [kind, count] of activeResources()) {
    if (kind !== "Timeout" && count > (before.get(kind) ?? 0)) added[kind] = count - (before.get(kind) ?? 0);
  }
  return added;
}

/**
 * The timers made by what runs inside `run` (any callback of what it opened included, as async context follows
 * them) and still keeping the event loop alive, each as the stack that made it.
 */
class StartupTimers {
  private readonly context = new AsyncLocalStorage<true>();
  private readonly made = new Map<number, { stack: string; timer: { hasRef(): boolean } }>();
  private readonly hook = createHook({
    init: (id, type, _trigger, resource) => {
      if (type === "Timeout" && this.context.getStore()) this.made.set(id, { stack: new Error().stack ?? "", timer: resource as { hasRef(): boolean } });
    },
    destroy: (id) => {
      this.made.delete(id);
    },
  });

  run<T>(work: () => Promise<T>): Promise<T> {
    this.hook.enable();
    return this.context.run(true, work);
  }

  left(): string[] {
    return [...this.made.values()].filter(({ timer }) => timer.hasRef()).map(({ stack }) => stack.split("\n").slice(2, 12).join("\n"));
  }

  stop(): void {
    this.hook.disable();
  }
}

/**
 * Data holding a run left `running` by a process that is gone (no owner) whose record cannot be read (its usage is
 * not JSON, as a faulty writer or a hand edit can leave it): start-up recovery lists it, and fails reading it.
 */
async function unreadableOrphan(data: TestData): Promise<void> {
  const store = await data.openStore();
  try {
    await store.createConversation({ id: "c-bad", userId: "u", title: "t" });
    await store.createRun({ id: "r-bad", conversationId: "c-bad", userId: "u", model: "demo", provider: "ollama", owner: null });
  } finally {
    await store.close();
  }
  await runSql(data, "UPDATE runs SET usage = '{not json' WHERE id = 'r-bad'");
}

describe("a start-up that fails after opening things", () => {
  it("rethrows the error and closes the store, liveness, run streams, feed, simulator and MCP servers", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "streamchat-startup-cleanup-"));
    dirs.push(dir);
    const data = await freshTestData(dir);
    await unreadableOrphan(data);
    const mcpConfig = join(dir, "mcp.json");
    writeFileSync(mcpConfig, JSON.stringify({ mcpServers: { fault: faultServer() } }));
    const redisUrl = testBackend === "postgres" ? testRedisUrl : undefined;
    let probe: Redis | undefined;
    if (redisUrl) {
      probe = await openRedis({ url: redisUrl, role: "test", log: silentLog });
      probes.push(probe);
    }
    const config = loadConfig({
      HOST: "127.0.0.1",
      PORT: "0",
      CHAT_PROVIDER: "sim",
      ...data.env,
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
      MCP_CONFIG: mcpConfig,
      SHUTDOWN_GRACE_MS: "500",
    });
    // The log says which replica this was (its Redis connection names and PostgreSQL lock are keyed by it).
    const lines: Array<{ level: number; msg: string; replicaId?: string }> = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line) as (typeof lines)[number]);
        done();
      },
    });

    const before = activeResources();
    const timers = new StartupTimers();
    afterEachStop.push(() => timers.stop());
    const failure = await timers.run(() =>
      buildServer({ config, logger: { level: "info", stream }, webDistDir: null, simulator: { tokenDelayMs: 1 } }).then(
        () => undefined,
        (error: unknown) => error,
      ),
    );

    // The error of the step that failed, as it was (not one of the closes).
    expect(failure).toBeInstanceOf(SyntaxError);
    expect((failure as SyntaxError).message).toMatch(/JSON/);
    const replicaId = lines.find((line) => line.replicaId !== undefined)?.replicaId;
    expect(replicaId).toBeDefined();
    // What was opened is closed: nothing it started keeps the event loop alive (the simulator's listening socket,
    // database and Redis connections, the MCP server's child process and pipes, timers).
    await eventually(() => Object.keys(addedSince(before)).length === 0 && timers.left().length === 0, "the resources to be closed", 15_000).catch(
      () => undefined,
    );
    expect.soft(addedSince(before), "resources left open by the failed start-up").toEqual({});
    expect.soft(timers.left(), "timers left running by the failed start-up (where each was made)").toEqual([]);
    // No close failed (each would be logged at error level, the start-up's error being what is thrown).
    expect(lines.filter((line) => line.level >= 50).map((line) => line.msg)).toEqual([]);

    if (data.url === undefined) {
      // The store's connection is closed: SQLite removed the WAL file with the last connection, and another one can
      // take the file for itself and write.
      expect.soft(existsSync(`${data.dbPath}-wal`), "the WAL file is left").toBe(false);
      const db = new DatabaseSync(data.dbPath);
      try {
        db.exec("PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE");
        const write = () => db.exec("BEGIN EXCLUSIVE; UPDATE runs SET usage = NULL; COMMIT");
        expect(write, "an exclusive write").not.toThrow();
      } finally {
        db.close();
      }
    } else {
      // The liveness connection is closed: the replica's advisory lock is free again.
      const client = new pg.Client({ connectionString: data.url });
      await client.connect();
      try {
        const key = "hashtextextended('streamchat:replica:' || $1::text, 0)";
        const { rows } = await client.query<{ free: boolean }>(`SELECT pg_try_advisory_lock(${key}) AS free`, [replicaId]);
        expect.soft(rows[0]?.free, "the replica's liveness lock is free").toBe(true);
        await client.query(`SELECT pg_advisory_unlock(${key})`, [replicaId]);
      } finally {
        await client.end();
      }
    }
    if (probe) {
      // Its Redis connections (commands, the stream reader, control) are gone too.
      const left = async () => (await clientList(probe!)).filter((client) => client["name"]?.startsWith(`streamchat:${replicaId}:`));
      await eventually(async () => (await left()).length === 0, "the replica's Redis connections to close").catch(() => undefined);
      expect((await left()).map((client) => client["name"])).toEqual([]);
    }
  });
});
