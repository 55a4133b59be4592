/**
 * `pnpm bench [--quick | --full] [--paths=a,b] [--hold=N] [--no-write] [--cpu-prof=DIR]`
 * Prints the tables, writes bench/results/latest.json and the results section of docs/benchmarks.md.
 * `pnpm bench --count [--paths=a,b]`: what a stream and a token make each server create, counted (count.ts); prints only.
 * `pnpm bench --heap [--paths=a,b] [--hold=N]`: a held stream's JS heap by kind, from heap snapshots (heap.ts); prints only.
 * `pnpm bench --alloc [--paths=a,b]`: the bytes a stream and a token make each server allocate (alloc.ts); prints only.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type BenchMode, planFor, runBench } from "./bench.js";
import { allocPlan, renderAlloc, runAlloc } from "./alloc.js";
import { type CountPlan, countPlan, defaultMeasuredPaths, type MeasureServices, measuredPaths, renderCounts, replicatedPaths, runCount } from "./count.js";
import { heapPlan, renderHeap, runHeap } from "./heap.js";
import { type PathName, clusterPaths, defaultPaths, pathNames, postgresPaths } from "./paths.js";
import { renderMachine, renderTables, summarize } from "./report.js";

const startMarker = "<!-- bench:results:start -->";
const endMarker = "<!-- bench:results:end -->";

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 10; i++) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    dir = dirname(dir);
  }
  throw new Error("repository root (pnpm-workspace.yaml) not found");
}

interface CliArgs {
  mode: BenchMode;
  /** `--count`: count instead of time. */
  count: boolean;
  /** `--heap`: a held stream's JS heap, from heap snapshots, instead of time. */
  heap: boolean;
  /** `--alloc`: the bytes allocated per stream and per token, instead of time. */
  alloc: boolean;
  paths: PathName[];
  hold?: number;
  write: boolean;
  profileDir?: string;
}

/** The PostgreSQL database of the stack-postgres path (a throwaway one: the run creates and drops a schema in it). */
const databaseUrl = process.env["BENCH_DATABASE_URL"] || undefined;
/** The Redis of the stack-cluster path (a throwaway one), with BENCH_DATABASE_URL. */
const redisUrl = process.env["BENCH_REDIS_URL"] || undefined;
/** How many API replicas stack-cluster runs behind nginx (default 2): 1 measures what nginx + Redis cost alone. */
const clusterReplicas = Number(process.env["BENCH_CLUSTER_REPLICAS"] || "2");

function checkRedisFor(paths: PathName[]): PathName[] {
  if (!redisUrl && paths.some((p) => clusterPaths.has(p))) throw new Error("stack-cluster needs BENCH_REDIS_URL=redis://… (a throwaway Redis)");
  return paths;
}

/** A count's or an allocation run's paths: the ones named, or every one the services given allow. */
function measured(named: boolean, paths: PathName[]): PathName[] {
  if (!named) return defaultMeasuredPaths(databaseUrl, redisUrl);
  return checkRedisFor(paths);
}

function parseArgs(argv: string[]): CliArgs {
  let mode: BenchMode = "default";
  let profileDir: string | undefined;
  let paths: PathName[] = defaultPaths(databaseUrl, redisUrl);
  let hold: number | undefined;
  let write = true;
  let count = false;
  let heap = false;
  let alloc = false;
  let pathsNamed = false;
  for (const arg of argv) {
    if (arg === "--") continue;
    if (arg === "--count") count = true;
    else if (arg === "--heap") heap = true;
    else if (arg === "--alloc") alloc = true;
    else if (arg === "--quick") mode = "quick";
    else if (arg === "--full") mode = "full";
    else if (arg === "--no-write") write = false;
    else if (arg.startsWith("--cpu-prof=")) profileDir = resolve(arg.slice("--cpu-prof=".length));
    else if (arg.startsWith("--paths=")) {
      const wanted = arg.slice("--paths=".length).split(",");
      const unknown = wanted.filter((p) => !(pathNames as readonly string[]).includes(p));
      if (unknown.length) throw new Error(`unknown path(s) ${unknown.join(", ")}; known: ${pathNames.join(", ")}`);
      paths = wanted as PathName[];
      pathsNamed = true;
    } else if (arg.startsWith("--hold=")) {
      hold = Number(arg.slice("--hold=".length));
      if (!Number.isInteger(hold) || hold < 0) throw new Error("--hold must be a whole number of streams");
    } else if (arg === "--help" || arg === "-h") {
      console.log(`pnpm bench [--quick | --full] [--paths=${pathNames.join(",")}] [--hold=N] [--no-write] [--cpu-prof=DIR]`);
      console.log(`pnpm bench --count [--paths=${[...measuredPaths, ...replicatedPaths].join(",")}]: the promises, timers, … a stream and a token create, counted (prints only)`);
      console.log(`pnpm bench --heap [--paths=${measuredPaths.join(",")}] [--hold=N]: a held stream's JS heap by kind, from heap snapshots (prints only)`);
      console.log(`pnpm bench --alloc [--paths=${[...measuredPaths, ...replicatedPaths].join(",")}]: the bytes a stream and a token allocate in the server (prints only)`);
      console.log("stack-postgres runs when BENCH_DATABASE_URL=postgres://… names a throwaway database (a schema is created and dropped in it).");
      console.log("stack-cluster (2 replicas behind nginx) runs when BENCH_REDIS_URL=redis://… names a throwaway Redis as well; stack-cluster-1 (1 replica) only when --paths names it.");
      console.log("BENCH_CLUSTER_REPLICAS=N sets its replica count (default 2). Both services at once, throwaway: pnpm bench:services [options]");
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (try --help)`);
  }
  if ([count, heap, alloc].filter(Boolean).length > 1) throw new Error("--count, --heap and --alloc are separate runs");
  if (!databaseUrl && paths.some((p) => postgresPaths.has(p))) throw new Error("stack-postgres and stack-cluster need BENCH_DATABASE_URL=postgres://… (a throwaway database)");
  if (count) {
    // A counting server runs slower (count.ts): no timing, profile or hold of it would mean anything.
    if (mode !== "default" || hold !== undefined || profileDir) throw new Error("--count takes --paths only (not --quick, --full, --hold or --cpu-prof)");
    return { mode, count, heap, alloc, paths: measured(pathsNamed, paths), write: false };
  }
  if (alloc) {
    if (mode !== "default" || hold !== undefined || profileDir) throw new Error("--alloc takes --paths only (not --quick, --full, --hold or --cpu-prof)");
    return { mode, count, heap, alloc, paths: measured(pathsNamed, paths), write: false };
  }
  if (heap) {
    // A snapshot stops the server and inflates its RSS (heap.ts): no timing or profile of it would mean anything.
    if (mode !== "default" || profileDir) throw new Error("--heap takes --paths and --hold only (not --quick, --full or --cpu-prof)");
    return { mode, count, heap, alloc, paths: pathsNamed ? paths : defaultMeasuredPaths(databaseUrl), write: false, ...(hold === undefined ? {} : { hold }) };
  }
  checkRedisFor(paths);
  return { mode, count, heap, alloc, paths, write, ...(hold === undefined ? {} : { hold }), ...(profileDir ? { profileDir } : {}) };
}

function updateDocs(path: string, section: string): void {
  const block = `${startMarker}\n${section}\n${endMarker}`;
  const current = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n";
  const start = current.indexOf(startMarker);
  const end = current.indexOf(endMarker);
  const next =
    start !== -1 && end > start ? current.slice(0, start) + block + current.slice(end + endMarker.length) : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, next);
}

/** The services a count or allocation run's paths use (the cluster paths' replica count checked). */
function services(): MeasureServices {
  checkClusterReplicas();
  return { databaseUrl, redisUrl, clusterReplicas };
}

function checkClusterReplicas(): void {
  if (!Number.isInteger(clusterReplicas) || clusterReplicas < 1 || clusterReplicas > 16) throw new Error("BENCH_CLUSTER_REPLICAS must be 1 to 16");
}

const describeCountPlan = (plan: CountPlan) =>
  `${plan.streams} one-token streams after ${plan.warmupStreams}; paced streams of ${plan.paced.shortTokens} and ` +
  `${plan.paced.longTokens} tokens (${plan.paced.streams} each, ${plan.paced.tokensPerSec} tokens/s)`;

async function count(paths: PathName[]): Promise<void> {
  const plan = countPlan("default", paths);
  console.log(`streamchat bench --count — paths ${paths.join(", ")} (counts, not time: a counting server runs slower)`);
  const rows = await runCount({ plan, ...services(), log: (line) => console.log(`  ${line}`) });
  console.log(`\n${describeCountPlan(plan)}\n`);
  console.log(renderCounts(rows));
  if (rows.some((row) => row.errors > 0)) process.exitCode = 1;
}

async function heapOf(paths: PathName[], streams: number | undefined): Promise<void> {
  const plan = heapPlan("default", paths, streams);
  console.log(`streamchat bench --heap — paths ${paths.join(", ")}, ${plan.streams} held streams each (snapshots at half and at all)`);
  const rows = await runHeap({ plan, databaseUrl, log: (line) => console.log(`  ${line}`) });
  console.log(`\n${renderHeap(rows)}`);
  if (rows.some((row) => row.errors > 0)) process.exitCode = 1;
}

async function allocOf(paths: PathName[]): Promise<void> {
  const plan = allocPlan("default", paths);
  console.log(`streamchat bench --alloc — paths ${paths.join(", ")} (bytes allocated, not time)`);
  const rows = await runAlloc({ plan, ...services(), log: (line) => console.log(`  ${line}`) });
  console.log(`\n${describeCountPlan(plan)}\n`);
  console.log(renderAlloc(rows));
  if (rows.some((row) => row.errors > 0)) process.exitCode = 1;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.count) return count(args.paths);
  if (args.alloc) return allocOf(args.paths);
  if (args.heap) return heapOf(args.paths, args.hold);
  checkClusterReplicas();
  const plan = planFor(args.mode, args.paths, args.hold === undefined ? {} : { holdStreams: args.hold });
  console.log(`streamchat bench — mode ${args.mode}, paths ${args.paths.join(", ")}`);
  if (!databaseUrl) console.log("  (stack-postgres skipped: set BENCH_DATABASE_URL=postgres://… to a throwaway database to run it)");
  if (!databaseUrl || !redisUrl) console.log("  (stack-cluster skipped: set BENCH_DATABASE_URL and BENCH_REDIS_URL, or run \`pnpm bench:services\`)");
  const results = await runBench({
    plan,
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(redisUrl ? { redisUrl } : {}),
    clusterReplicas,
    log: (line) => console.log(`  ${line}`),
    ...(args.profileDir ? { cpuProfileDir: args.profileDir } : {}),
  });
  const summary = summarize(results);

  console.log(`\nMachine: ${renderMachine(results)}`);
  console.log(`Run: ${results.mode} mode, ${(results.durationMs / 1000).toFixed(0)} s, ${summary.totalErrors} stream errors\n`);
  console.log(renderTables(results, summary, false));
  if (results.failures.length) console.log(`\nHarness failures:\n  ${results.failures.join("\n  ")}`);

  if (args.write) {
    const root = repoRoot();
    const jsonPath = join(root, "bench", "results", "latest.json");
    mkdirSync(dirname(jsonPath), { recursive: true });
    writeFileSync(jsonPath, `${JSON.stringify({ ...results, summary }, null, 2)}\n`);
    const section = [
      `Last run: ${results.startedAt} — \`pnpm bench${args.mode === "default" ? "" : ` --${args.mode}`}\` (${results.mode} mode), ` +
        `${(results.durationMs / 1000).toFixed(0)} s, ${summary.totalErrors} stream errors.`,
      "",
      `Machine: ${renderMachine(results)}.`,
      "",
      renderTables(results, summary, true),
      ...(results.failures.length ? ["", `Harness failures: ${results.failures.join("; ")}`] : []),
    ].join("\n");
    updateDocs(join(root, "docs", "benchmarks.md"), section);
    console.log(`\nWrote ${jsonPath} and docs/benchmarks.md`);
  }
  if (summary.totalErrors > 0 || results.failures.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
