/**
 * Turns raw results into what people read: per-path tables, this stack's ratios to the bare relay and to the
 * AI SDK, and a pass/fail line per target. Pure functions of BenchResults, so the JSON can be re-rendered.
 */
import type { BenchResults, FloodRow, HoldRow, PacedRow, PerStreamRow } from "./bench.js";
import { fmt } from "./bench.js";
import type { SplitRun } from "./further-tokens.js";
import { partsTotal, type PartsCpu } from "./parts-cpu.js";
import { clusterPaths, type PathName } from "./paths.js";

export type Status = "pass" | "fail" | "n/a";

export interface TargetCheck {
  target: string;
  path: PathName;
  level: string;
  measured: string;
  status: Status;
}

export interface RatioRow {
  path: PathName;
  concurrency: number;
  cpuVsBare: number | null;
  cpuVsAiSdk: number | null;
  tokensPerSecVsBare: number | null;
  tokensPerSecVsAiSdk: number | null;
  ttftP50AddedVsBareMs: number | null;
  ttftP99AddedVsBareMs: number | null;
  ttftP50AddedVsAiSdkMs: number | null;
  ttftP99AddedVsAiSdkMs: number | null;
  pacedCpuVsBare: number | null;
  pacedCpuVsAiSdk: number | null;
  /** The paced level's further tokens, without their streams' own cost (further-tokens.ts), against the bare relay's. */
  pacedFurtherTokensCpuVsBare: number | null;
}

export interface Summary {
  flood: FloodRow[];
  paced: PacedRow[];
  perStream: PerStreamRow[];
  hold: HoldRow[];
  ratios: RatioRow[];
  targets: TargetCheck[];
  totalErrors: number;
}

const stackVariants: PathName[] = ["stack", "stack-memory", "stack-postgres", "stack-cluster-1", "stack-cluster", "stack-rest"];
/** The paths the targets are checked on: the main path (chat.events) on each store and topology, and the REST stream. */
const targetPaths: PathName[] = ["stack", "stack-postgres", "stack-cluster", "stack-rest"];

const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a === null || a === undefined || b === null || b === undefined || b === 0 ? null : a / b;
const diff = (a: number | null | undefined, b: number | null | undefined) =>
  a === null || a === undefined || b === null || b === undefined ? null : a - b;

/** With several flood rounds, the round with the median server CPU per token stands for the level. */
function medianFloods(rows: FloodRow[]): FloodRow[] {
  const groups = new Map<string, FloodRow[]>();
  for (const row of rows) {
    const key = `${row.path}|${row.concurrency}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.values()].map((group) => {
    const sorted = [...group].sort((a, b) => (a.serverCpuMsPer1kTokens ?? a.benchCpuMs) - (b.serverCpuMsPer1kTokens ?? b.benchCpuMs));
    return sorted[Math.floor((sorted.length - 1) / 2)] as FloodRow;
  });
}

export function summarize(results: BenchResults): Summary {
  const flood = medianFloods(results.flood);
  const floodAt = (path: PathName, c: number) => flood.find((r) => r.path === path && r.concurrency === c);
  const pacedAt = (path: PathName, c: number) => results.paced.find((r) => r.path === path && r.concurrency === c);
  const levels = [...new Set([...flood.map((r) => r.concurrency), ...results.paced.map((r) => r.concurrency)])].sort((a, b) => a - b);

  const ratios: RatioRow[] = [];
  for (const path of stackVariants) {
    for (const c of levels) {
      const f = floodAt(path, c);
      const p = pacedAt(path, c);
      if (!f && !p) continue;
      const bare = floodAt("bare-relay", c);
      const ai = floodAt("ai-sdk", c);
      const bareP = pacedAt("bare-relay", c);
      const aiP = pacedAt("ai-sdk", c);
      ratios.push({
        path,
        concurrency: c,
        cpuVsBare: ratio(f?.serverCpuMsPer1kTokens, bare?.serverCpuMsPer1kTokens),
        cpuVsAiSdk: ratio(f?.serverCpuMsPer1kTokens, ai?.serverCpuMsPer1kTokens),
        tokensPerSecVsBare: ratio(f?.tokensPerSec, bare?.tokensPerSec),
        tokensPerSecVsAiSdk: ratio(f?.tokensPerSec, ai?.tokensPerSec),
        ttftP50AddedVsBareMs: diff(p?.ttftP50Ms, bareP?.ttftP50Ms),
        ttftP99AddedVsBareMs: diff(p?.ttftP99Ms, bareP?.ttftP99Ms),
        ttftP50AddedVsAiSdkMs: diff(p?.ttftP50Ms, aiP?.ttftP50Ms),
        ttftP99AddedVsAiSdkMs: diff(p?.ttftP99Ms, aiP?.ttftP99Ms),
        pacedCpuVsBare: ratio(p?.serverCpuMsPer1kTokens, bareP?.serverCpuMsPer1kTokens),
        pacedCpuVsAiSdk: ratio(p?.serverCpuMsPer1kTokens, aiP?.serverCpuMsPer1kTokens),
        pacedFurtherTokensCpuVsBare: ratio(p?.split?.cpuMsPer1kFurtherTokens, bareP?.split?.cpuMsPer1kFurtherTokens),
      });
    }
  }

  const targets: TargetCheck[] = [];
  const check = (target: string, path: PathName, level: string, value: number | null, limit: (v: number) => boolean, shown: string) =>
    targets.push({ target, path, level, measured: value === null ? "not measured" : shown, status: value === null ? "n/a" : limit(value) ? "pass" : "fail" });
  const times = (v: number | null | undefined) => `${fmt(v ?? null, 2)}×`;
  const perStreamAt = (path: PathName) => results.perStream.find((r) => r.path === path);
  const bareStream = perStreamAt("bare-relay");
  const bareHold = results.hold.find((x) => x.path === "bare-relay");

  // The goals of issue #12, each as a ratio against the bare relay of the same run (see docs/benchmarks.md "Targets").
  for (const path of targetPaths) {
    if (!results.plan.paths.includes(path)) continue;
    for (const r of ratios.filter((x) => x.path === path)) {
      const level = `C=${r.concurrency}`;
      if (!floodAt(path, r.concurrency)) continue;
      check("flood CPU per token ≤ 2× bare-relay", path, level, r.cpuVsBare, (v) => v <= 2, times(r.cpuVsBare));
      check("flood tokens/s ≥ 50 % of bare-relay", path, level, r.tokensPerSecVsBare, (v) => v >= 0.5, `${fmt((r.tokensPerSecVsBare ?? 0) * 100, 0)} %`);
    }
    const r100 = ratios.find((x) => x.path === path && x.concurrency === 100);
    check("paced CPU per token ≤ 1.5× bare-relay", path, "C=100", r100?.pacedCpuVsBare ?? null, (v) => v <= 1.5, times(r100?.pacedCpuVsBare));
    check("added TTFT p50 ≤ 1 ms over bare-relay (paced)", path, "C=100", r100?.ttftP50AddedVsBareMs ?? null, (v) => v <= 1, `${fmt(r100?.ttftP50AddedVsBareMs ?? null, 2)} ms`);
    check("added TTFT p99 ≤ 5 ms over bare-relay (paced)", path, "C=100", r100?.ttftP99AddedVsBareMs ?? null, (v) => v <= 5, `${fmt(r100?.ttftP99AddedVsBareMs ?? null, 2)} ms`);

    const s = perStreamAt(path);
    const streamRatio = ratio(s?.serverCpuMsPerStream, bareStream?.serverCpuMsPerStream);
    check("CPU per 1-token stream ≤ 3× bare-relay", path, s ? `${s.streams} streams` : "1-token streams", streamRatio, (v) => v <= 3, times(streamRatio));

    const h = results.hold.find((x) => x.path === path);
    const holdLevel = h ? `${h.streams.toLocaleString("en-US")} open` : "10,000 open";
    // What one more open stream costs (the second half of the hold, net of V8's bounded growth; workloads.ts).
    const rssRatio = ratio(h?.rssPerStreamMarginalKb, bareHold?.rssPerStreamMarginalKb);
    const rawRatio = ratio(h?.rssPerStreamKb, bareHold?.rssPerStreamKb);
    check(
      "RSS per open stream ≤ 1.5× bare-relay",
      path,
      holdLevel,
      rssRatio,
      (v) => v <= 1.5,
      `${times(rssRatio)} (${fmt(h?.rssPerStreamMarginalKb ?? null, 1)} KB per stream of the second half; ${times(rawRatio)}, ${fmt(h?.rssPerStreamKb ?? null, 1)} KB from none)`,
    );
    check(
      "idle CPU ≤ 10 ms/s per 1,000 open streams",
      path,
      holdLevel,
      h?.idleCpuMsPerSecPer1kStreams ?? null,
      (v) => v <= 10,
      // The server's own floor is left out of the figure (it is no stream's), and shown beside it.
      `${fmt(h?.idleCpuMsPerSecPer1kStreams ?? null, 1)} ms/s (${fmt(h?.idleCpuMsPerSec ?? null, 1)} ms/s with all open, ${fmt(h?.idleFloorCpuMsPerSec ?? null, 1)} with none)`,
    );
    const at10k = h !== undefined && h.streams >= 10_000;
    targets.push({
      target: "10,000 open streams with 0 errors",
      path,
      level: holdLevel,
      measured: h ? `${h.errors} errors${at10k ? "" : ` (held ${h.streams.toLocaleString("en-US")}, not 10,000${h.cappedBy ? `: ${h.cappedBy}` : ": run --full"})`}` : "not measured",
      status: h && at10k ? (h.errors === 0 ? "pass" : "fail") : h && h.errors > 0 ? "fail" : "n/a",
    });
  }

  for (const durablePath of ["stack", "stack-postgres"] as const) {
    for (const c of levels) {
      const durable = floodAt(durablePath, c);
      const memory = floodAt("stack-memory", c);
      if (!durable || !memory) continue;
      const overhead = ratio(durable.serverCpuMsPer1kTokens, memory.serverCpuMsPer1kTokens);
      check("durable log ≤ +10 % CPU per token vs memory-only", durablePath, `C=${c}`, overhead === null ? null : overhead - 1, (v) => v <= 0.1, `${overhead === null ? "n/a" : `${fmt((overhead - 1) * 100, 1)} %`}`);
    }
  }

  const totalErrors = [...results.flood, ...results.paced, ...results.perStream, ...results.hold].reduce((s, r) => s + r.errors, 0);
  return { flood, paced: results.paced, perStream: results.perStream, hold: results.hold, ratios, targets, totalErrors };
}

// ---- rendering -----------------------------------------------------------------------------------

type Cell = string;

function table(header: Cell[], rows: Cell[][], markdown: boolean): string {
  if (markdown) {
    const line = (cells: Cell[]) => `| ${cells.join(" | ")} |`;
    return [line(header), line(header.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map(line)].join("\n");
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: Cell[]) => cells.map((c, i) => (i <= 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

const n = (v: number | null | undefined, d: number) => fmt(v ?? null, d);
const times = (v: number | null) => (v === null ? "n/a" : `${fmt(v, 2)}×`);
const plusMs = (v: number | null) => (v === null ? "n/a" : `${v >= 0 ? "+" : ""}${fmt(v, 2)} ms`);

export function renderTables(results: BenchResults, summary: Summary, markdown: boolean): string {
  const levels = [...new Set([...summary.flood.map((r) => r.concurrency), ...summary.paced.map((r) => r.concurrency)])].sort((a, b) => a - b);
  const rows: Cell[][] = [];
  for (const c of levels) {
    for (const path of results.plan.paths) {
      const f = summary.flood.find((r) => r.path === path && r.concurrency === c);
      const p = summary.paced.find((r) => r.path === path && r.concurrency === c);
      if (!f && !p) continue;
      rows.push([
        path,
        String(c),
        n(f?.tokensPerSec, 0),
        n(f?.tokenEventsPerSec, 0),
        path === "direct" ? "—" : n(f?.serverCpuMsPer1kTokens, 2),
        n(p?.ttftP50Ms, 2),
        n(p?.ttftP99Ms, 2),
        n(p?.tokenLatencyP50Ms, 2),
        n(p?.tokenLatencyP99Ms, 2),
        path === "direct" ? "—" : n(p?.serverCpuMsPer1kTokens, 1),
        String((f?.errors ?? 0) + (p?.errors ?? 0)),
      ]);
    }
  }
  const main = table(
    [
      "path",
      "C",
      "tokens/s",
      "token events/s",
      "server CPU ms / 1k tokens",
      "TTFT p50 ms",
      "TTFT p99 ms",
      "token lat. p50 ms",
      "token lat. p99 ms",
      "paced CPU ms / 1k tokens",
      "errors",
    ],
    rows,
    markdown,
  );

  const perStreamAt = (path: PathName) => summary.perStream.find((r) => r.path === path)?.serverCpuMsPerStream ?? null;
  const perStreamTable = table(
    ["path", "1-token streams", "server CPU ms / stream", "vs bare-relay", "vs ai-sdk", "errors"],
    summary.perStream.map((r) => [
      r.path,
      `${r.streams} (C=${r.concurrency}${r.warmupStreams > 0 ? `, after ${r.warmupStreams}` : ""})`,
      r.path === "direct" ? "—" : n(r.serverCpuMsPerStream, 2),
      r.path === "direct" ? "—" : times(ratio(r.serverCpuMsPerStream, perStreamAt("bare-relay"))),
      r.path === "direct" ? "—" : times(ratio(r.serverCpuMsPerStream, perStreamAt("ai-sdk"))),
      String(r.errors),
    ]),
    markdown,
  );

  const holdTable = table(
    ["path", "open streams", "opened in s", "RSS before MB", "RSS at half MB", "RSS open MB", "RSS KB / stream", "2nd half: young gen + code MB", "2nd half: KB / stream, net", "idle CPU ms/s, none open", "idle CPU ms/s, all open", "idle CPU ms/s per 1k streams, net", "errors"],
    summary.hold.map((h) => [
      h.path,
      `${h.openAtMeasurement.toLocaleString("en-US")}${h.cappedBy ? "*" : ""}`,
      n(h.openMs / 1000, 1),
      n(h.rssBeforeKb / 1024, 1),
      n(h.rssHalfKb / 1024, 1),
      n(h.rssOpenKb / 1024, 1),
      n(h.rssPerStreamKb, 1),
      n(h.vmFixedGrowthKb / 1024, 1),
      n(h.rssPerStreamMarginalKb, 1),
      n(h.idleFloorCpuMsPerSec, 1),
      n(h.idleCpuMsPerSec, 1),
      n(h.idleCpuMsPerSecPer1kStreams, 1),
      String(h.errors),
    ]),
    markdown,
  );

  const ratioTable = table(
    [
      "path",
      "C",
      "CPU/token vs bare",
      "CPU/token vs ai-sdk",
      "tokens/s vs bare",
      "tokens/s vs ai-sdk",
      "TTFT p50 vs bare",
      "TTFT p99 vs bare",
      "TTFT p50 vs ai-sdk",
      "TTFT p99 vs ai-sdk",
      "paced CPU vs bare",
      "paced CPU vs ai-sdk",
    ],
    summary.ratios.map((r) => [
      r.path,
      String(r.concurrency),
      times(r.cpuVsBare),
      times(r.cpuVsAiSdk),
      times(r.tokensPerSecVsBare),
      times(r.tokensPerSecVsAiSdk),
      plusMs(r.ttftP50AddedVsBareMs),
      plusMs(r.ttftP99AddedVsBareMs),
      plusMs(r.ttftP50AddedVsAiSdkMs),
      plusMs(r.ttftP99AddedVsAiSdkMs),
      times(r.pacedCpuVsBare),
      times(r.pacedCpuVsAiSdk),
    ]),
    markdown,
  );

  // A paced level's cost split in two: what its further tokens cost, and what is left for its streams' own start and end.
  const splitRows = summary.paced.filter((p) => p.split && p.path !== "direct");
  const bareFurther = (c: number) => summary.paced.find((p) => p.path === "bare-relay" && p.concurrency === c)?.split?.cpuMsPer1kFurtherTokens;
  const per1k = (run: SplitRun | undefined, streams: number) =>
    n(run?.serverCpuMs == null ? null : run.serverCpuMs / ((streams * run.tokensPerStream) / 1000), 1);
  const furtherTable = table(
    ["path", "C", "paced CPU ms / 1k tokens", "short answers: tokens, CPU ms / 1k", "long answers: tokens, CPU ms / 1k", "CPU ms / 1k further tokens", "further tokens vs bare"],
    splitRows.map((p) => [
      p.path,
      String(p.concurrency),
      n(p.serverCpuMsPer1kTokens, 1),
      `${p.split?.short.tokensPerStream ?? "—"}: ${per1k(p.split?.short, p.streams)}`,
      `${p.split?.long.tokensPerStream ?? "—"}: ${per1k(p.split?.long, p.streams)}`,
      n(p.split?.cpuMsPer1kFurtherTokens, 1),
      times(ratio(p.split?.cpuMsPer1kFurtherTokens, bareFurther(p.concurrency))),
    ]),
    markdown,
  );

  const targetTable = table(
    ["target", "path", "level", "measured", "status"],
    summary.targets.map((t) => [t.target, t.path, t.level, t.measured, markdown ? (t.status === "pass" ? "**pass**" : t.status === "fail" ? "**FAIL**" : "n/a") : t.status.toUpperCase()]),
    markdown,
  );

  const splits = Object.entries(results.cpuByPart ?? {}) as Array<[PathName, PartsCpu | undefined]>;
  const share = (ms: number, total: number) => `${fmt(ms / 1000, 1)} s (${fmt(total > 0 ? (ms / total) * 100 : null, 0)} %)`;
  const partsTable =
    splits.length > 0
      ? table(
          ["part", ...splits.map(([path]) => path)],
          (
            [
              ["API process(es)", "replicas"],
              ["nginx (master + worker)", "nginx"],
              ["Redis", "redis"],
              ["PostgreSQL (postmaster + backends)", "postgres"],
            ] as const
          ).map(([label, key]) => [
            label,
            ...splits.map(([path, cpu]) =>
              !cpu ? "n/a" : (key === "nginx" || key === "redis") && !clusterPaths.has(path) ? "—" : share(cpu[key], partsTotal(cpu)),
            ),
          ]),
          markdown,
        )
      : null;

  const capped = summary.hold.find((h) => h.cappedBy);
  // Markdown needs a blank line between a heading and its table; the terminal reads better without.
  const heading = (md: string, text: string) => (markdown ? [md, ""] : [text]);
  const parts = [
    ...heading("#### Throughput, CPU and latency", "Throughput (flood), server CPU, added latency (paced) per path and concurrency C"),
    main,
    "",
    ...(splitRows.length > 0
      ? [
          ...heading(
            "#### A paced token without its stream's own cost",
            "Paced CPU per token split: the level's streams with short and long answers; the difference is what further tokens cost",
          ),
          furtherTable,
          "",
        ]
      : []),
    ...heading("#### Cost of a stream itself", "Server CPU per stream (1-token streams: request, run, teardown)"),
    perStreamTable,
    "",
    ...heading("#### Memory per open stream", "Server RSS per open stream (slow-drip streams held open, after a full GC)"),
    holdTable,
    ...(capped ? ["", `${markdown ? "\\" : ""}* capped: ${capped.cappedBy}`] : []),
    "",
    ...heading("#### Ratios: this stack vs the bare relay and the AI SDK", "Ratios (this stack / reference; TTFT as ms added over the reference)"),
    ratioTable,
    "",
    ...heading("#### Targets", "Targets"),
    targetTable,
    ...(partsTable
      ? [
          "",
          ...heading(
            "#### Where the CPU of the paths on PostgreSQL goes",
            "Paths on PostgreSQL: CPU by part in their measured windows (warm-up and every workload)",
          ),
          ...(markdown
            ? [
                "In their measured windows (warm-up and every workload). A cluster path's rows above count all four parts; " +
                  "stack-postgres's count its API process alone, so that it compares with the other single-process paths.",
                "",
              ]
            : []),
          partsTable,
        ]
      : []),
  ];
  return parts.join("\n");
}

export function renderMachine(results: BenchResults): string {
  const m = results.machine;
  return (
    `${m.cpus} cores (${m.cpuModel}), Node ${m.node}, ${m.platform}, ulimit -n ${m.openFileLimit ?? "unlimited"}; ` +
    `load average ${m.loadAvgAtStart.join(" / ")} at start, ${m.loadAvgAtEnd.join(" / ")} at end` +
    (m.quiet
      ? `; ${m.quiet.windows} waits for a quiet machine before a window, ${fmt(m.quiet.waitedMs / 1000, 1)} s in all, ${m.quiet.notQuiet} gave up after ${fmt(m.quiet.timeoutMs / 1000, 0)} s`
      : "")
  );
}
