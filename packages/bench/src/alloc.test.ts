import { clusterAvailability } from "@streamchat/cluster";
import { beforeAll, describe, expect, it } from "vitest";
import { allocPlan, renderAlloc, runAlloc, type AllocRow } from "./alloc.js";

describe("bench --alloc", () => {
  let rows: AllocRow[];
  const row = (path: string) => {
    const found = rows.find((r) => r.path === path);
    if (!found) throw new Error(`no row for ${path}`);
    return found;
  };

  beforeAll(async () => {
    rows = await runAlloc({ plan: allocPlan("smoke", ["bare-relay", "stack-memory"]) });
  }, 180_000);

  it("measures every path it was given, with every stream verified", () => {
    expect(rows.map((r) => r.path)).toEqual(["bare-relay", "stack-memory"]);
    for (const r of rows) expect(r.errors, `${r.path}: ${r.errorSamples.join("; ")}`).toBe(0);
  });

  it("reads what a stream and a token allocate: kilobytes for the bare relay's request, more for the stack's two and its run", () => {
    const bare = row("bare-relay");
    const stack = row("stack-memory");
    // A relayed request and its model request: Node's parsers, headers, sockets' buffers' wrappers, tens of KB.
    expect(bare.perStream).toBeGreaterThan(10 * 1024);
    expect(bare.perStream).toBeLessThan(200 * 1024);
    expect(stack.perStream).toBeGreaterThan(bare.perStream * 1.5);
    // A token: a read, a line, a write on every path.
    expect(bare.perToken).toBeGreaterThan(500);
    expect(stack.perToken).toBeGreaterThan(bare.perToken);
  });

  it("renders bytes and ratios against the bare relay", () => {
    const text = renderAlloc(rows);
    expect(text).toMatch(/^\| bare-relay \| \d+\.\d \| 1\.00× \| \d+ \| 1\.00× \|$/m);
    expect(text).toMatch(/^\| stack-memory \| \d+\.\d \| \d+\.\d\d× \| \d+ \| \d+\.\d\d× \|$/m);
  });

  it("refuses the paths it cannot measure", () => {
    expect(() => allocPlan("smoke", ["direct", "stack-cluster"])).toThrow(/--alloc runs on .*; not on direct$/);
  });
});

// The test cluster's PostgreSQL and Redis, with nginx (pnpm test:pg, CI: bench.test.ts requires them there).
const databaseUrl = process.env["STREAMCHAT_TEST_DATABASE_URL"] || undefined;
const redisUrl = clusterAvailability().urls?.redisUrl;

describe.runIf(databaseUrl && redisUrl)("bench --alloc on the replicated path", () => {
  it("reads both replicas' heaps, summed, with every stream verified", async () => {
    const rows = await runAlloc({ plan: allocPlan("smoke", ["bare-relay", "stack-cluster"]), databaseUrl: databaseUrl!, redisUrl: redisUrl! });
    const [bare, cluster] = rows;
    expect(cluster?.path).toBe("stack-cluster");
    for (const row of rows) expect(row.errors, `${row.path}: ${row.errorSamples.join("; ")}`).toBe(0);
    // Two HTTP exchanges, a run, a subscription and their Redis commands, in whichever replica each ran.
    expect(cluster!.perStream).toBeGreaterThan(bare!.perStream * 1.5);
    expect(cluster!.perToken).toBeGreaterThan(bare!.perToken);
    expect(renderAlloc(rows)).toContain("A cluster path's figures are its replicas' sum");
  }, 180_000);
});
