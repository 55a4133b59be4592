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
  it("refuses the paths a count cannot run (no server of its own, or one that needs PostgreSQL or Redis)", () => {
    expect(() => countPlan("smoke", ["direct"])).toThrow(/--count runs on .*; not on direct/);
    expect(() => countPlan("smoke", ["stack-postgres", "stack-cluster"])).toThrow(/not on stack-postgres, stack-cluster/);
  });
});
