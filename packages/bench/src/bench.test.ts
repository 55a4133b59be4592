import http from "node:http";
import { clusterAvailability, cpuClockResolutionMs, inCi } from "@streamchat/cluster";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planFor, runBench, type BenchResults } from "./bench.js";
import { defaultPaths, targetFor } from "./paths.js";
import { readStream } from "./reader.js";
import { renderTables, summarize } from "./report.js";
import { benchPrompt, benchTokens } from "./tokens.js";

// The stack-postgres path runs on the test cluster when there is one (pnpm test:pg, CI); the run works in a schema
// of its own there and drops it.
const databaseUrl = process.env["STREAMCHAT_TEST_DATABASE_URL"] || undefined;
// The stack-cluster path (2 replicas behind nginx) also needs the test run's Redis and an nginx binary.
const cluster = clusterAvailability();
const redisUrl = cluster.urls?.redisUrl;
const pathNames = defaultPaths(databaseUrl, redisUrl);
if (!databaseUrl && !inCi) console.warn("[postgres] SKIPPED the stack-postgres path of the bench smoke run: STREAMCHAT_TEST_DATABASE_URL is not set");
if (!redisUrl && !inCi) console.warn(`[cluster] SKIPPED the stack-cluster path of the bench smoke run: ${cluster.missing.join(", ")} missing`);

describe.runIf(!databaseUrl && inCi)("bench under CI", () => {
  it("runs the stack-postgres path (STREAMCHAT_TEST_DATABASE_URL is required under CI=true)", () => {
    throw new Error("STREAMCHAT_TEST_DATABASE_URL is not set: under CI=true the bench smoke run must include stack-postgres");
  });
});

describe.runIf(!redisUrl && inCi)("bench under CI", () => {
  it("runs the stack-cluster path (Redis, PostgreSQL and nginx are required under CI=true)", () => {
    throw new Error(`under CI=true the bench smoke run must include stack-cluster; missing: ${cluster.missing.join(", ")}`);
  });
});

// Correctness only: every path, tiny sizes. Speed is never asserted (a loaded CI box must pass too).
describe("bench harness smoke run", () => {
  let results: BenchResults;
  const logged: string[] = [];

  beforeAll(async () => {
    results = await runBench({
      plan: planFor("smoke", [...pathNames]),
      log: (line) => logged.push(line),
      ...(databaseUrl ? { databaseUrl } : {}),
      ...(redisUrl ? { redisUrl } : {}),
    });
  }, 180_000);

  it("starts every server under test", () => {
    expect(results.failures).toEqual([]);
  });

  it("warms every server up with short answers before it measures (the per-stream code compiled)", () => {
    const servers = pathNames.filter((path) => path !== "direct");
    expect(servers.length).toBeGreaterThan(0);
    for (const path of servers) expect(logged).toContain(`warmed up ${path}: 2 one-token answers, 0 errors`);
    // Before the first measured window: the first flood row's log line comes after every warm-up.
    const lastWarmup = Math.max(...servers.map((path) => logged.indexOf(`warmed up ${path}: 2 one-token answers, 0 errors`)));
    expect(logged.findIndex((line) => line.startsWith("flood "))).toBeGreaterThan(lastWarmup);
  });

  it("delivers exactly the tokens sent, in order, on every path and level, with 0 errors", () => {
    for (const path of pathNames) {
      const floods = results.flood.filter((r) => r.path === path);
      expect(floods.map((r) => [r.concurrency, r.errors, r.errorSamples])).toEqual([
        [1, 0, []],
        [3, 0, []],
      ]);
      // Verified tokens only count streams whose text matched token for token.
      for (const r of floods) expect(r.tokens).toBe(r.streams * r.tokensPerStream);
      const pacedRows = results.paced.filter((r) => r.path === path);
      expect(pacedRows.map((r) => [r.concurrency, r.errors, r.errorSamples])).toEqual([[3, 0, []]]);
      expect(pacedRows[0]?.ttftP50Ms).not.toBeNull();
      // The level's streams with 2- and 6-token answers, for what its further tokens cost (further-tokens.ts).
      const split = pacedRows[0]?.split;
      expect([split?.streams, split?.short.tokensPerStream, split?.short.errors, split?.long.tokensPerStream, split?.long.errors]).toEqual([3, 2, 0, 6, 0]);
    }
  });

  it.runIf(cpuClockResolutionMs() < 1)("reads a paced level's server CPU however small its window, where the clock reads microseconds", () => {
    // The smoke level's 15 tokens cost each server a few ms: under the 200 ms that 10-ms ticks would need.
    for (const row of results.paced.filter((r) => r.path !== "direct")) {
      expect(row.serverCpuMs, row.path).toBeGreaterThan(0);
      expect(row.serverCpuMsPer1kTokens, row.path).toBeGreaterThan(0);
    }
  });

  it("measures the cost of one-token streams on every path, after unmeasured ones, with 0 errors", () => {
    expect(results.perStream.map((r) => [r.path, r.streams, r.warmupStreams, r.warmupErrors, r.errors])).toEqual(pathNames.map((p) => [p, 3, 2, 0, 0]));
  });

  it("measures the one-token streams in blocks the paths take turns at, and sums each path's blocks", () => {
    const blocks = logged.filter((line) => line.startsWith("stream block "));
    // Three streams in two blocks: two in the first, one in the second; every path's first block before any second one.
    expect(blocks).toEqual([
      ...pathNames.map((path) => `stream block 1/2 ${path.padEnd(12)} 2 × 1 token, 0 errors`),
      ...pathNames.map((path) => `stream block 2/2 ${path.padEnd(12)} 1 × 1 token, 0 errors`),
    ]);
    for (const row of results.perStream.filter((r) => r.path !== "direct")) {
      expect(row.serverCpuMs, row.path).toBeGreaterThan(0);
      expect(row.serverCpuMsPerStream).toBeCloseTo(row.serverCpuMs! / 3, 9);
    }
  });

  it("holds streams open on every server path and reads its RSS", () => {
    expect(results.hold.map((h) => [h.path, h.openAtMeasurement, h.errors])).toEqual(
      pathNames.filter((p) => p !== "direct").map((p) => [p, 3, 0]),
    );
    for (const h of results.hold) {
      expect(h.rssOpenKb).toBeGreaterThan(0);
      // RSS is read again once half of the streams are open; the servers report their young generation and code
      // after each GC, and the per-stream figure is the second half's, net of their growth.
      expect(h.openAtHalf).toBe(1);
      expect(h.rssHalfKb).toBeGreaterThan(0);
      expect(Number.isFinite(h.vmFixedGrowthKb)).toBe(true);
      expect(h.rssPerStreamMarginalKb).toBeCloseTo((h.rssOpenKb - h.rssHalfKb - h.vmFixedGrowthKb) / (h.openAtMeasurement - h.openAtHalf), 6);
      // Idle CPU is read with no stream open (the floor) and with all open; the per-stream figure is their difference.
      expect(h.idleFloorCpuMsPerSec).toBeGreaterThanOrEqual(0);
      expect(h.idleCpuMsPerSec).toBeGreaterThanOrEqual(0);
      expect(h.idleCpuMsPerSecPer1kStreams).toBeCloseTo(Math.max(0, h.idleCpuMsPerSec - h.idleFloorCpuMsPerSec) / (h.openAtMeasurement / 1000), 6);
    }
  });

  it("reads server CPU from /proc for every path but direct", () => {
    for (const r of results.flood) {
      if (r.path === "direct") expect(r.serverCpuMs).toBeNull();
      else expect(r.serverCpuMs).toBeGreaterThanOrEqual(0);
    }
  });

  it.runIf(pathNames.includes("stack-cluster"))("counts the replicas', nginx's, Redis's and PostgreSQL's CPU in stack-cluster's cost", () => {
    const cpu = results.cpuByPart?.["stack-cluster"];
    expect(cpu).toBeDefined();
    // Every part is read (/proc counts in 10 ms ticks: over smoke-sized windows nginx, Redis or even PostgreSQL may
    // read 0; packages/cluster's tests check the readings themselves).
    expect(Object.keys(cpu!).sort()).toEqual(["nginx", "postgres", "redis", "replicas"]);
    expect(cpu!.replicas).toBeGreaterThan(0);
    for (const part of Object.values(cpu!)) expect(part).toBeGreaterThanOrEqual(0);
    const total = cpu!.replicas + cpu!.nginx + cpu!.redis + cpu!.postgres;
    // The split covers the same windows as the workloads' rows (and the warm-up): at least what the rows counted.
    const rows = [...results.flood, ...results.paced].filter((r) => r.path === "stack-cluster");
    const measured = rows.reduce((sum, r) => sum + (r.serverCpuMs ?? 0), 0);
    expect(measured).toBeGreaterThan(0);
    expect(measured).toBeLessThanOrEqual(total);
    expect(renderTables(results, summarize(results), true)).toContain("Where the CPU of the paths on PostgreSQL goes");
  });

  it.runIf(pathNames.includes("stack-postgres"))("tells stack-postgres's PostgreSQL CPU apart, its rows counting the API process alone", () => {
    const cpu = results.cpuByPart?.["stack-postgres"];
    expect(cpu).toBeDefined();
    // No nginx or Redis in this topology. PostgreSQL's tree is read per thread to the microsecond: the smoke run's
    // streams cost it ~70 ms, so a zero says the path's reading of the database is not wired.
    expect(cpu!.nginx).toBe(0);
    expect(cpu!.redis).toBe(0);
    expect(cpu!.replicas).toBeGreaterThan(0);
    expect(cpu!.postgres).toBeGreaterThan(0);
    // The split covers the rows' windows and the warm-up: the rows' CPU is at most the API process's.
    const rows = [...results.flood, ...results.paced].filter((r) => r.path === "stack-postgres");
    const measured = rows.reduce((sum, r) => sum + (r.serverCpuMs ?? 0), 0);
    expect(measured).toBeGreaterThan(0);
    expect(measured).toBeLessThanOrEqual(cpu!.replicas);
    const text = renderTables(results, summarize(results), true);
    expect(text).toContain("Where the CPU of the paths on PostgreSQL goes");
    expect(text).toMatch(/\| Redis \|.*— \|/);
  });

  it("renders the tables and target checks", () => {
    const summary = summarize(results);
    expect(summary.totalErrors).toBe(0);
    const text = renderTables(results, summary, true);
    for (const path of pathNames) expect(text).toContain(`| ${path} |`);
    expect(summary.targets.map((t) => t.target)).toContain("flood CPU per token ≤ 2× bare-relay");
  });
});

describe("bench run whose warm-up fails", () => {
  it("lists the warm-up's failed streams among the run's failures, not only in its log", async () => {
    // Answers of 500 tokens that must end within 1 ms: the simulator alone writes them for longer than that.
    const plan = {
      ...planFor("smoke", ["bare-relay"]),
      flood: [],
      paced: [],
      perStream: { streams: 0, concurrency: 1, warmupStreams: 0, blocks: 1 },
      holdStreams: 0,
      warmupTokens: 1_000,
      warmupStreams: 0,
      streamTimeoutMs: 1,
    };
    const logged: string[] = [];
    const run = await runBench({ plan, log: (line) => logged.push(line) });
    expect(logged).toContain("warmed up bare-relay: 0 tokens, 2 errors");
    expect(run.failures).toEqual([expect.stringMatching(/^bare-relay: 2 of 2 warm-up answers failed \(timeout after 1 ms \(\d+ token events received\)/)]);
  }, 60_000);
});

describe("reader verification", () => {
  let sim: Simulator;
  const agent = new http.Agent({ keepAlive: false });
  beforeAll(async () => {
    sim = await startSimulator({ tokenDelayMs: 0 });
  });
  afterAll(async () => {
    agent.destroy();
    await sim.close();
  });

  it("accepts the exact tokens", async () => {
    const target = targetFor("direct", { simUrl: sim.url, serverUrl: null }, "sim-bench");
    const result = await readStream(target, benchPrompt(20, "[ok]"), { agent, timeoutMs: 10_000, expectedTokens: benchTokens(20) });
    expect([result.ok, result.error, result.tokenEvents]).toEqual([true, null, 20]);
  });

  it("fails a stream that delivers other tokens than expected", async () => {
    const target = targetFor("direct", { simUrl: sim.url, serverUrl: null }, "sim-bench");
    const expected = benchTokens(20);
    [expected[3], expected[4]] = [expected[4] as string, expected[3] as string];
    const result = await readStream(target, benchPrompt(20, "[swap]"), { agent, timeoutMs: 10_000, expectedTokens: expected });
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/differs from the tokens sent at char 18/);
  });

  it("fails a stream cut before its done line", async () => {
    const target = targetFor("direct", { simUrl: sim.url, serverUrl: null }, "sim-truncated");
    const result = await readStream(target, "hello", { agent, timeoutMs: 10_000, expectedTokens: ["The ", "answer ", "starts "] });
    expect([result.ok, result.error]).toEqual([false, "stream ended without a done event"]);
  });
});
