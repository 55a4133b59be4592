import { describe, expect, it } from "vitest";
import { type BenchResults, type FloodRow, type HoldRow, type PacedRow, type PerStreamRow, planFor } from "./bench.js";
import { pacedSplit } from "./further-tokens.js";
import type { PathName } from "./paths.js";
import { renderMachine, renderTables, summarize, type TargetCheck } from "./report.js";

const noErrors = { errors: 0, errorSamples: [] as string[] };

function floodRow(path: PathName, concurrency: number, cpuPer1k: number, tokensPerSec: number): FloodRow {
  return {
    ...noErrors,
    path,
    round: 1,
    concurrency,
    streams: concurrency,
    tokensPerStream: 100,
    tokens: 100 * concurrency,
    tokenEvents: 100 * concurrency,
    wallMs: 1000,
    tokensPerSec,
    tokenEventsPerSec: tokensPerSec,
    serverCpuMs: cpuPer1k,
    serverCpuMsPer1kTokens: cpuPer1k,
    benchCpuMs: 1,
  };
}

function pacedRow(path: PathName, cpuPer1k: number, ttftP50Ms: number, ttftP99Ms: number): PacedRow {
  return {
    ...noErrors,
    path,
    concurrency: 100,
    streams: 100,
    tokensPerStream: 30,
    tokensPerSec: 30,
    ttftP50Ms,
    ttftP99Ms,
    tokenLatencyP50Ms: ttftP50Ms,
    tokenLatencyP99Ms: ttftP99Ms,
    wallMs: 2000,
    serverCpuMs: cpuPer1k * 3,
    serverCpuMsPer1kTokens: cpuPer1k,
  };
}

function perStreamRow(path: PathName, cpuMsPerStream: number): PerStreamRow {
  return {
    ...noErrors,
    path,
    streams: 100,
    concurrency: 10,
    warmupStreams: 200,
    warmupErrors: 0,
    serverCpuMs: cpuMsPerStream * 100,
    serverCpuMsPerStream: cpuMsPerStream,
  };
}

/**
 * A hold of `streams` whose first half grew RSS by `firstHalfKb` per stream and whose second half by
 * `rssPerStreamKb` (that half's V8 young generation and code growth `vmFixedKb` included).
 */
function holdRow(path: PathName, streams: number, rssPerStreamKb: number, idleCpu: number, errors = 0, vmFixedKb = 0, firstHalfKb = rssPerStreamKb): HoldRow {
  const half = streams / 2;
  const rssHalfKb = 100_000 + firstHalfKb * half;
  const rssOpenKb = rssHalfKb + rssPerStreamKb * half;
  return {
    ...noErrors,
    errors,
    path,
    streams,
    requestedStreams: streams,
    cappedBy: null,
    openAtMeasurement: streams,
    openMs: 1000,
    rssBeforeKb: 100_000,
    rssOpenKb,
    rssPerStreamKb: (rssOpenKb - 100_000) / streams,
    openAtHalf: half,
    rssHalfKb,
    vmFixedGrowthKb: vmFixedKb,
    rssPerStreamMarginalKb: rssPerStreamKb - vmFixedKb / half,
    idleFloorCpuMsPerSec: 3,
    idleCpuMsPerSec: 3 + (idleCpu * streams) / 1000,
    idleCpuMsPerSecPer1kStreams: idleCpu,
    wallMs: 5000,
  };
}

function results(parts: Pick<BenchResults, "flood" | "paced" | "perStream" | "hold">, paths: PathName[]): BenchResults {
  return {
    schema: 1,
    mode: "quick",
    startedAt: "2026-11-30T00:00:00.000Z",
    durationMs: 1,
    machine: { cpus: 2, cpuModel: "test", node: "v24", platform: "linux", openFileLimit: 20_000, loadAvgAtStart: [0], loadAvgAtEnd: [0] },
    plan: planFor("quick", paths),
    paths: paths.map((name) => ({ name, description: name })),
    failures: [],
    ...parts,
  };
}

const statusOf = (targets: TargetCheck[], target: string, level?: string) =>
  targets.filter((t) => t.path === "stack" && t.target === target && (level === undefined || t.level === level)).map((t) => [t.status, t.measured]);

describe("target checks (issue #12's goals, against the bare relay of the same run)", () => {
  const paths: PathName[] = ["bare-relay", "stack", "stack-memory"];
  const base = {
    flood: [
      floodRow("bare-relay", 1, 10, 50_000),
      floodRow("stack", 1, 19, 26_000),
      floodRow("stack-memory", 1, 18, 30_000),
      floodRow("bare-relay", 100, 10, 60_000),
      floodRow("stack", 100, 21, 29_000),
      floodRow("stack-memory", 100, 20, 30_000),
    ],
    paced: [pacedRow("bare-relay", 100, 1, 5), pacedRow("stack", 160, 1.5, 12)],
    perStream: [perStreamRow("bare-relay", 0.5), perStreamRow("stack", 1.4)],
    hold: [holdRow("bare-relay", 500, 60, 0), holdRow("stack", 500, 100, 12)],
  };

  it("passes a ratio at the limit and fails one just over it", () => {
    const { targets } = summarize(results(base, paths));
    expect(statusOf(targets, "flood CPU per token ≤ 2× bare-relay")).toEqual([
      ["pass", "1.90×"],
      ["fail", "2.10×"],
    ]);
    expect(statusOf(targets, "flood tokens/s ≥ 50 % of bare-relay")).toEqual([
      ["pass", "52 %"],
      ["fail", "48 %"],
    ]);
    expect(statusOf(targets, "paced CPU per token ≤ 1.5× bare-relay")).toEqual([["fail", "1.60×"]]);
    expect(statusOf(targets, "added TTFT p50 ≤ 1 ms over bare-relay (paced)")).toEqual([["pass", "0.50 ms"]]);
    expect(statusOf(targets, "added TTFT p99 ≤ 5 ms over bare-relay (paced)")).toEqual([["fail", "7.00 ms"]]);
    expect(statusOf(targets, "CPU per 1-token stream ≤ 3× bare-relay")).toEqual([["pass", "2.80×"]]);
    expect(statusOf(targets, "RSS per open stream ≤ 1.5× bare-relay")).toEqual([["fail", "1.67× (100.0 KB per stream of the second half; 1.67×, 100.0 KB from none)"]]);
    expect(statusOf(targets, "idle CPU ≤ 10 ms/s per 1,000 open streams")).toEqual([["fail", "12.0 ms/s (9.0 ms/s with all open, 3.0 with none)"]]);
    expect(statusOf(targets, "durable log ≤ +10 % CPU per token vs memory-only")).toEqual([
      ["pass", "5.6 %"],
      ["pass", "5.0 %"],
    ]);
  });

  it("checks RSS per open stream on the second half of the hold, net of V8's young generation and code", () => {
    // 500 streams. The bare relay's first 250 grew RSS by 90 KB each (one-time growth: allocator, caches), the next
    // 250 by 40 KB each, 10 of them its young generation still growing (2,500 KB); the stack 100 KB each throughout.
    const hold = [holdRow("bare-relay", 500, 40, 0, 0, 2_500, 90), holdRow("stack", 500, 100, 0, 0, 0)];
    const { targets } = summarize(results({ ...base, hold }, paths));
    // From none the stack looks 1.54×; what one more stream costs is 100 KB against 30: 3.33×.
    expect(statusOf(targets, "RSS per open stream ≤ 1.5× bare-relay")).toEqual([["fail", "3.33× (100.0 KB per stream of the second half; 1.54×, 100.0 KB from none)"]]);
  });

  it("reports 10,000 open streams only when that many were held, and fails any hold error", () => {
    const below = summarize(results(base, paths)).targets;
    expect(statusOf(below, "10,000 open streams with 0 errors")).toEqual([["n/a", "0 errors (held 500, not 10,000: run --full)"]]);
    const full = summarize(results({ ...base, hold: [holdRow("bare-relay", 10_000, 40, 0), holdRow("stack", 10_000, 50, 5)] }, paths)).targets;
    expect(statusOf(full, "10,000 open streams with 0 errors")).toEqual([["pass", "0 errors"]]);
    const failed = summarize(results({ ...base, hold: [holdRow("bare-relay", 500, 40, 0), holdRow("stack", 500, 50, 5, 3)] }, paths)).targets;
    expect(statusOf(failed, "10,000 open streams with 0 errors")).toEqual([["fail", "3 errors (held 500, not 10,000: run --full)"]]);
  });

  it("says 'not measured' instead of passing a target whose baseline is missing", () => {
    const { targets } = summarize(results({ ...base, perStream: [perStreamRow("stack", 1)] }, paths));
    expect(statusOf(targets, "CPU per 1-token stream ≤ 3× bare-relay")).toEqual([["n/a", "not measured"]]);
  });

  it("takes each path's round with the median CPU per token when a level ran several rounds", () => {
    const rounds = (path: PathName, cpus: number[]) => cpus.map((cpu, i) => ({ ...floodRow(path, 100, cpu, 50_000), round: i + 1 }));
    // The bare relay's median round is 10 (of 12, 10, 8), the stack's 25 (of 40, 18, 25): 2.5×, not 40 / 12 or 18 / 8.
    const flood = [...base.flood.filter((r) => r.concurrency !== 100), ...rounds("bare-relay", [12, 10, 8]), ...rounds("stack", [40, 18, 25])];
    const { targets } = summarize(results({ ...base, flood }, paths));
    expect(statusOf(targets, "flood CPU per token ≤ 2× bare-relay", "C=100")).toEqual([["fail", "2.50×"]]);
  });

  it("splits a paced level into its further tokens' cost, from its streams with short and long answers, against the bare relay's", () => {
    // 100 streams of 5 and of 105 tokens: the bare relay's 100 further tokens a stream cost 400 ms more (40 per 1,000),
    // the stack's 600 ms more (60 per 1,000: 1.50×, where its whole level reads 1.60×).
    const split = (row: PacedRow, shortCpuMs: number, furtherCpuMs: number): PacedRow => ({
      ...row,
      split: pacedSplit(100, { tokensPerStream: 5, serverCpuMs: shortCpuMs, errors: 0 }, { tokensPerStream: 105, serverCpuMs: shortCpuMs + furtherCpuMs, errors: 0 }),
    });
    const paced = [split(pacedRow("bare-relay", 100, 1, 5), 200, 400), split(pacedRow("stack", 160, 1.5, 12), 330, 600)];
    const run = results({ ...base, paced }, paths);
    const summary = summarize(run);
    expect(summary.ratios.find((r) => r.path === "stack" && r.concurrency === 100)?.pacedFurtherTokensCpuVsBare).toBeCloseTo(1.5, 9);
    // Not a target of its own: the paced target stays the level's whole figure.
    expect(statusOf(summary.targets, "paced CPU per token ≤ 1.5× bare-relay")).toEqual([["fail", "1.60×"]]);
    const tables = renderTables(run, summary, true);
    expect(tables).toContain("#### A paced token without its stream's own cost");
    // 330 ms over 500 tokens: 660 per 1,000 in the short answers; 930 over 10,500: 88.6 in the long ones.
    expect(tables).toContain("| stack | 100 | 160.0 | 5: 660.0 | 105: 88.6 | 60.0 | 1.50× |");
    // Without a split (older results) there is no such table.
    expect(renderTables(results(base, paths), summarize(results(base, paths)), true)).not.toContain("further tokens");
  });

  it("checks only the paths the run measured", () => {
    const { targets } = summarize(results(base, paths));
    expect(new Set(targets.map((t) => t.path))).toEqual(new Set(["stack"]));
  });
});

describe("the machine line", () => {
  it("says how many windows waited for a quiet machine, and after how long the ones that gave up measured anyway", () => {
    const run = results({ flood: [], paced: [], perStream: [], hold: [] }, ["bare-relay"]);
    expect(renderMachine(run)).not.toContain("quiet");
    run.machine.quiet = { windows: 12, waitedMs: 4_250, notQuiet: 2, timeoutMs: 5_000 };
    expect(renderMachine(run)).toContain("; 12 waits for a quiet machine before a window, 4.3 s in all, 2 gave up after 5 s");
  });
});
