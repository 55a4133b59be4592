import { clusterAvailability } from "@streamchat/cluster";
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { countPlan, renderCounts, runCount, type CountRow } from "./count.js";

describe("bench --count", () => {
  let rows: CountRow[];
  const row = (path: string) => {
    const found = rows.find((r) => r.path === path);
    if (!found) throw new Error(`no row for ${path}`);
    return found;
  };

  beforeAll(async () => {
    rows = await runCount({ plan: countPlan("smoke", ["bare-relay", "stack-memory"]) });
  }, 180_000);

  it("counts every path it was given, with every stream verified", () => {
    expect(rows.map((r) => r.path)).toEqual(["bare-relay", "stack-memory"]);
    for (const r of rows) expect(r.errors, `${r.path}: ${r.errorSamples.join("; ")}`).toBe(0);
  });

  it("counts what a stream creates in the server: the bare relay's few promises against the stack's requests, run and subscription", () => {
    const bare = row("bare-relay").perStream;
    const stack = row("stack-memory").perStream;
    expect(bare.promises).toBeGreaterThan(0);
    expect(bare.promises).toBeLessThan(10);
    expect(bare.abortControllers).toBe(0);
    // The stack's own: the subscription's signal and the run's, at least.
    expect(stack.abortControllers).toBeGreaterThanOrEqual(2);
    expect(stack.promises).toBeGreaterThan(bare.promises * 5);
    expect(stack.timers).toBeGreaterThan(0);
  });

  it("keeps a token's way through the stack free of promises and timers (stop 26's synchronous path), like the bare relay's", () => {
    for (const r of rows) {
      expect(r.perToken.promises, r.path).toBeLessThan(0.5);
      expect(r.perToken.timers, r.path).toBeLessThan(0.5);
      expect(r.perToken.abortControllers, r.path).toBe(0);
      // Node's own work per socket read and write: a tick or more per token on every path.
      expect(r.perToken.ticks, r.path).toBeGreaterThan(0.5);
    }
  });

  it("renders a table per stream and per token", () => {
    const text = renderCounts(rows);
    expect(text).toContain("Created per one-token stream");
    expect(text).toContain("Created per further token of a paced stream");
    expect(text).toMatch(/^\| bare-relay \| \d+(\.\d)? \| /m);
    expect(text).toMatch(/^\| stack-memory \| \d+(\.\d)? \| /m);
  });
});

describe("countPlan", () => {
  it("refuses the paths a count cannot run (no server of its own)", () => {
    expect(() => countPlan("smoke", ["direct"])).toThrow(/--count runs on .*; not on direct/);
    expect(countPlan("smoke", ["stack-postgres", "stack-cluster", "stack-cluster-1"]).paths).toEqual(["stack-postgres", "stack-cluster", "stack-cluster-1"]);
  });
});

// The test cluster when there is one (pnpm test:pg, CI: bench.test.ts requires it there), and its Redis with nginx.
const databaseUrl = process.env["STREAMCHAT_TEST_DATABASE_URL"] || undefined;
const redisUrl = clusterAvailability().urls?.redisUrl;

describe.runIf(databaseUrl)("bench --count on PostgreSQL", () => {
  /** The schemas this process's bench runs made and have not dropped. */
  async function leftSchemas(): Promise<string[]> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const result = await client.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", [`streamchat_bench_${process.pid}_%`]);
      return result.rows.map((row) => row.nspname);
    } finally {
      await client.end();
    }
  }

  it("counts stack-postgres in a schema of its own, dropped afterwards: a stream's store work is promises there", async () => {
    const [postgres, sqlite] = await runCount({ plan: countPlan("smoke", ["stack-postgres", "stack"]), databaseUrl: databaseUrl! });
    expect(postgres?.path).toBe("stack-postgres");
    expect(postgres?.errors, postgres?.errorSamples.join("; ")).toBe(0);
    // node:sqlite answers synchronously; every query of pg is a promise (and its socket's reads).
    expect(postgres!.perStream.promises).toBeGreaterThan(sqlite!.perStream.promises);
    expect(postgres!.perToken.timers).toBeLessThan(0.5);
    expect(await leftSchemas()).toEqual([]);
  }, 180_000);
});

describe.runIf(databaseUrl && redisUrl)("bench --count on the replicated path", () => {
  it("sums both replicas: a stream's run and subscription, and a token that goes through Redis on its way", async () => {
    const [row] = await runCount({ plan: countPlan("smoke", ["stack-cluster"]), databaseUrl: databaseUrl!, redisUrl: redisUrl! });
    expect(row?.path).toBe("stack-cluster");
    expect(row?.errors, row?.errorSamples.join("; ")).toBe(0);
    // The subscription's signal and the run's, whichever replica each was on.
    expect(row!.perStream.abortControllers).toBeGreaterThanOrEqual(2);
    // Unlike the one-process paths' synchronous token: each event is a Redis command (run-event-script.ts), a promise.
    expect(row!.perToken.promises).toBeGreaterThan(0.5);
    expect(renderCounts([row!])).toContain("A cluster path's figures are its replicas' sum");
  }, 180_000);
});
