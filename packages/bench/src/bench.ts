/**
 * The harness: one simulator and one load generator in this process (one clock for latency), every server
 * under test in its own child process (its CPU and RSS read from /proc), the same workloads on every path
 * in the same run, interleaved by level so the paths see the same machine load.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { type ServerProcess, type ServerSpec, startServer } from "./child.js";
import { type ClusterServerOptions, startClusterServer } from "./cluster-server.js";
import { noPartsCpu, type PartsCpu } from "./parts-cpu.js";
import { startPostgresServer } from "./postgres-server.js";
import { benchAuthTokens, clusterPaths, clusterReplicasOf, type PathName, pathDescriptions, postgresPaths, targetFor, trpcStackPaths } from "./paths.js";
import { maxOpenStreams, openFileLimit } from "./proc-stats.js";
import { waitForQuiet } from "./settle.js";
import { pacedSplit, type PacedSplit, type SplitLengths } from "./further-tokens.js";
import { flood, type FloodResult, hold, type HoldResult, paced, type PacedResult } from "./workloads.js";

export type BenchMode = "smoke" | "quick" | "default" | "full";

export interface PacedLevel {
  concurrency: number;
  streams: number;
  tokensPerStream: number;
  rampMs: number;
  tokensPerSec: number;
  /**
   * Also run the level's streams with short and with long answers, right after it: the difference is what its further
   * tokens cost without their streams' own cost (further-tokens.ts).
   */
  split?: SplitLengths;
}

export interface FloodLevel {
  concurrency: number;
  streams: number;
  tokensPerStream: number;
}

export interface BenchPlan {
  mode: BenchMode;
  paths: PathName[];
  flood: FloodLevel[];
  /** Flood rounds per level; the reported row is the round with the median server CPU per token. */
  rounds: number;
  paced: PacedLevel[];
  prefillMs: number;
  /**
   * One-token streams whose server CPU is the cost of a stream itself (request, run, teardown), measured after
   * `warmupStreams` unmeasured ones. The plan's own `warmupStreams` (before the floods) already compiles the
   * per-stream code, so the quick and default plans measure none here (until stop 51 they ran 500, when the floods
   * before were the only warm-up and 300 streams after them measured 2–2.5× the steady cost on every path).
   * The measured streams run in `blocks`, the paths taking turns block by block: a path's figure is the sum of its
   * blocks, and a stretch of a busier machine falls on every path alike instead of on whichever ran then (the same
   * build's `stack` read 1.00 and 1.41 ms per stream in two quick runs when each path ran its streams in one go).
   */
  perStream: { streams: number; concurrency: number; warmupStreams: number; blocks: number };
  /** Streams held open for the RSS measurement; 0 skips it. */
  holdStreams: number;
  /** Restart each server before the hold, so the baseline is not inflated by the heap the floods grew. */
  freshServerForHold: boolean;
  /** Tokens each server streams (in 500-token answers) before the measured phases: the token path's code compiled. */
  warmupTokens: number;
  /**
   * Short answers each server gives before the measured phases (after `warmupTokens`): the per-stream code compiled
   * too. The token warm-up is ten answers (forty by default); the floods' first few hundred answers then paid for
   * compiling a stream's set-up (after it, rounds of 200 one-token streams cost `stack` 2.5, 1.6, 1.5, then 1.1 ms
   * each), far more on the stack, which has more code per stream, than on the bare relay.
   */
  warmupStreams: number;
  streamTimeoutMs: number;
}

export const model = "sim-bench";

/** Streams of `tokens` tokens, enough of them to reach `budget` tokens at concurrency `c`. */
function floodLevel(c: number, budget: number, maxTokens: number): FloodLevel {
  const tokensPerStream = Math.max(20, Math.min(maxTokens, Math.floor(budget / c)));
  return { concurrency: c, tokensPerStream, streams: Math.max(c, Math.ceil(budget / tokensPerStream)) };
}

/**
 * Paced levels keep the aggregate at ≤ 3,000 tokens/s (30 tokens/s per stream up to C = 100, then less per
 * stream): well below every path's capacity on a small box, so latency measures overhead, not overload.
 */
function pacedLevel(c: number, quick: boolean): PacedLevel {
  if (c === 1) return { concurrency: 1, streams: quick ? 5 : 20, tokensPerStream: quick ? 5 : 10, rampMs: 0, tokensPerSec: 30 };
  // C = 100 runs its streams again with 5- and 105-token answers: a token's cost without a stream's own (further-tokens.ts).
  if (c <= 100) {
    const level = { concurrency: c, streams: c, tokensPerStream: quick ? 30 : 60, rampMs: quick ? 500 : 1_000, tokensPerSec: 30 };
    return c === 100 ? { ...level, split: { shortTokensPerStream: 5, longTokensPerStream: 105 } } : level;
  }
  const tokensPerSec = Math.max(1, Math.floor(3_000 / c));
  return { concurrency: c, streams: c, tokensPerStream: Math.max(3, tokensPerSec * 3), rampMs: 2_000, tokensPerSec };
}

export function planFor(mode: BenchMode, paths: PathName[], overrides: { holdStreams?: number } = {}): BenchPlan {
  const base = { mode, paths, prefillMs: 20, streamTimeoutMs: 120_000 };
  switch (mode) {
    case "smoke":
      return {
        ...base,
        flood: [
          { concurrency: 1, streams: 2, tokensPerStream: 20 },
          { concurrency: 3, streams: 3, tokensPerStream: 20 },
        ],
        rounds: 1,
        paced: [{ concurrency: 3, streams: 3, tokensPerStream: 5, rampMs: 30, tokensPerSec: 100, split: { shortTokensPerStream: 2, longTokensPerStream: 6 } }],
        perStream: { streams: 3, concurrency: 1, warmupStreams: 2, blocks: 2 },
        prefillMs: 5,
        holdStreams: overrides.holdStreams ?? 3,
        freshServerForHold: false,
        warmupTokens: 0,
        warmupStreams: 2,
        streamTimeoutMs: 30_000,
      };
    case "quick":
      return {
        ...base,
        flood: [floodLevel(1, 20_000, 500), floodLevel(100, 20_000, 500)],
        // A round here is 0.2–0.3 s of a server's work: one round's CPU per token moved by up to 40 % between two identical
        // rounds in a row, so a single one decided the cell. The round with the median CPU per token is reported.
        rounds: 3,
        paced: [pacedLevel(1, true), pacedLevel(100, true)],
        // As many as the default run. Chosen when CPU was read in /proc's 10-ms ticks (the bare relay's 1,000 streams spanned
        // ~25, 300 spanned ~7); the microsecond clock (stop 48) reads fewer exactly, but the figure averages the machine's
        // load over the cell (the same build read 1.00 and 1.41 ms per `stack` stream in two runs of stop 51), so not fewer.
        perStream: { streams: 1000, concurrency: 10, warmupStreams: 0, blocks: 4 },
        // As many as the default run: the per-stream figure is the second half's (workloads.ts), and at 500 the bare relay was
        // still growing one-time state over its second 250 (41 KB per stream there, 32 over 500–1,000, ~28 over 1,000–2,000).
        holdStreams: overrides.holdStreams ?? 1_000,
        freshServerForHold: true,
        warmupTokens: 5_000,
        warmupStreams: 1_000,
      };
    case "default":
    case "full": {
      const levels = [1, 100, 1_000];
      return {
        ...base,
        flood: levels.map((c) => floodLevel(c, 100_000, 2_000)),
        rounds: mode === "full" ? 3 : 1,
        paced: levels.map((c) => pacedLevel(c, false)),
        perStream: { streams: 1000, concurrency: 10, warmupStreams: 0, blocks: 4 },
        holdStreams: overrides.holdStreams ?? (mode === "full" ? 10_000 : 1_000),
        freshServerForHold: true,
        warmupTokens: 20_000,
        warmupStreams: 1_000,
      };
    }
  }
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  openFileLimit: number | null;
  loadAvgAtStart: number[];
  loadAvgAtEnd: number[];
  /**
   * The waits for a quiet machine before each measured window (settle.ts): how many, how long in all, and how many
   * gave up after `timeoutMs` (the machine stayed busy: measured anyway). Absent in smoke runs, which do not wait.
   */
  quiet?: { windows: number; waitedMs: number; notQuiet: number; timeoutMs: number };
}

export interface FloodRow extends FloodResult {
  path: PathName;
  round: number;
}
export interface PacedRow extends PacedResult {
  path: PathName;
  /** The level's streams with short and long answers (PacedLevel.split); absent when the level has none. */
  split?: PacedSplit;
}
export interface PerStreamRow {
  path: PathName;
  streams: number;
  concurrency: number;
  /** Unmeasured one-token streams run first, and how many of them failed (counted in `errors` too). */
  warmupStreams: number;
  warmupErrors: number;
  serverCpuMs: number | null;
  serverCpuMsPerStream: number | null;
  errors: number;
  errorSamples: string[];
}
export interface HoldRow extends HoldResult {
  path: PathName;
  requestedStreams: number;
  /** Why fewer streams were held than requested (file descriptor limit). */
  cappedBy: string | null;
}

export interface BenchResults {
  schema: 1;
  mode: BenchMode;
  startedAt: string;
  durationMs: number;
  machine: MachineInfo;
  plan: BenchPlan;
  paths: Array<{ name: PathName; description: string }>;
  flood: FloodRow[];
  paced: PacedRow[];
  perStream: PerStreamRow[];
  hold: HoldRow[];
  /**
   * Where the CPU of each path on PostgreSQL went in its measured windows (warm-up, floods, paced runs, the hold's two
   * idle windows), in ms: a cluster path's replicas, nginx, Redis and PostgreSQL (all four count in its rows);
   * stack-postgres's API process (what its rows count) and PostgreSQL. Absent without those paths.
   */
  cpuByPart?: Partial<Record<PathName, PartsCpu>>;
  /** Failures of the harness itself (a server that did not start...), never hidden. */
  failures: string[];
}

export interface RunOptions {
  plan: BenchPlan;
  /** Write a CPU profile of every server under test into this directory (profiles include warm-up). */
  cpuProfileDir?: string;
  /**
   * A PostgreSQL database for the stack-postgres path (BENCH_DATABASE_URL). The run works in a schema of its own,
   * created at the start and dropped at the end: point it at a throwaway database, never at one that matters.
   */
  databaseUrl?: string;
  /** Redis for the stack-cluster path (BENCH_REDIS_URL): a throwaway one (its keys are the runs' streams). */
  redisUrl?: string;
  /** API replicas behind nginx on the stack-cluster path (BENCH_CLUSTER_REPLICAS; default 2). */
  clusterReplicas?: number;
  log?: (line: string) => void;
}

/** The longest wait for a quiet machine before a measured window (settle.ts); then the window is measured anyway. */
const quietTimeoutMs = 3_000;

const stackPaths: ReadonlySet<PathName> = new Set(["stack", "stack-memory", "stack-postgres", "stack-cluster-1", "stack-cluster", "stack-rest"]);
/** The reference servers other than the bare relay, by path. */
const referenceServers: Partial<Record<PathName, string>> = { "ai-sdk": "servers/ai-sdk-relay", "trpc-floor": "servers/trpc-floor" };

function serverEnv(path: PathName, simUrl: string, dataDir: string, postgresUrl: string | undefined): Record<string, string> {
  const common = { BENCH_SIM_URL: simUrl, BENCH_MODEL: model };
  if (!stackPaths.has(path)) return common;
  return {
    ...common,
    HOST: "127.0.0.1",
    PORT: "0",
    CHAT_PROVIDER: "ollama",
    OLLAMA_HOST: simUrl,
    CHAT_MODEL: model,
    DATABASE_PATH: path === "stack-memory" ? ":memory:" : join(dataDir, `${path}-${Date.now()}.db`),
    ...(postgresPaths.has(path) && postgresUrl ? { DATABASE_URL: postgresUrl } : {}),
    // Several users: MAX_RUNS_PER_USER is capped at 1000, the bench holds more streams than that.
    AUTH_TOKENS: benchAuthTokens(),
    MAX_RUNS_PER_USER: "1000",
    LOG_LEVEL: "warn",
    SHUTDOWN_GRACE_MS: "1000",
    // The relays compared against name nothing: a title request per conversation would be extra load on one side only.
    GENERATE_TITLES: "0",
  };
}

/**
 * The simulator every measured server streams from (`runBench`, `runCount`). Ollama flushes after every NDJSON line
 * (gin's Stream): one HTTP chunk per token, also in a flood.
 */
export const startBenchSimulator = (): Promise<Simulator> => startSimulator({ tokenDelayMs: 0, chunkPerLine: true });

/** The server of a single-process path (every path but `direct` and the cluster paths), its data in `dataDir`. */
export function serverSpecOf(path: PathName, simUrl: string, dataDir: string, postgresUrl: string | undefined): ServerSpec {
  const entry = stackPaths.has(path) ? "servers/stack" : (referenceServers[path] ?? "servers/bare-relay");
  return { name: path, entry, env: serverEnv(path, simUrl, dataDir, postgresUrl), startTimeoutMs: 60_000 };
}

/**
 * The replicas behind nginx of a cluster path (stack-cluster, stack-cluster-1): its API environment on `schemaUrl` (a
 * schema of its own), the services' admin database URL and Redis, `replicas` for stack-cluster (default 2).
 */
export function clusterSpecOf(
  path: PathName,
  simUrl: string,
  dataDir: string,
  services: { schemaUrl: string; databaseUrl: string; redisUrl: string; replicas: number | undefined },
): ClusterServerOptions {
  return {
    name: path,
    env: serverEnv(path, simUrl, dataDir, services.schemaUrl),
    adminDatabaseUrl: services.databaseUrl,
    redisUrl: services.redisUrl,
    replicas: clusterReplicasOf(path, services.replicas ?? 2),
  };
}

export async function runBench(opts: RunOptions): Promise<BenchResults> {
  const { plan } = opts;
  const log = opts.log ?? (() => undefined);
  const startedAt = Date.now();
  const fileLimit = openFileLimit();
  const results: BenchResults = {
    schema: 1,
    mode: plan.mode,
    startedAt: new Date(startedAt).toISOString(),
    durationMs: 0,
    machine: {
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
      node: process.version,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      openFileLimit: Number.isFinite(fileLimit) ? fileLimit : null,
      loadAvgAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
      loadAvgAtEnd: [],
    },
    plan,
    paths: plan.paths.map((name) => ({ name, description: pathDescriptions[name] })),
    flood: [],
    paced: [],
    perStream: [],
    hold: [],
    failures: [],
  };
  const quiet = plan.mode === "smoke" ? undefined : (results.machine.quiet = { windows: 0, waitedMs: 0, notQuiet: 0, timeoutMs: quietTimeoutMs });
  /** Before each measured window: wait (up to quietTimeoutMs) until the previous window's tail is over. */
  const settle = async (): Promise<void> => {
    if (!quiet) return;
    const wait = await waitForQuiet({ sampleMs: 300, busyShare: 0.1, timeoutMs: quiet.timeoutMs });
    quiet.windows++;
    quiet.waitedMs += Math.round(wait.waitedMs);
    if (!wait.quiet) {
      quiet.notQuiet++;
      log(`machine still busy after ${fmt(wait.waitedMs / 1000, 1)} s (${fmt(wait.busyShare * 100, 0)} % of a core): measuring anyway`);
    }
  };

  const dataDir = mkdtempSync(join(os.tmpdir(), "streamchat-bench-"));
  let sim: Simulator | undefined;
  let schema: BenchSchema | undefined;
  /** Each cluster path's own schema: its replicas and the other paths' processes never see each other's runs. */
  const clusterSchemas = new Map<PathName, BenchSchema>();
  const servers = new Map<PathName, ServerProcess>();
  const cpuByPart: Partial<Record<PathName, PartsCpu>> = {};
  const addParts = (path: PathName) => (cpu: PartsCpu) => {
    const sum = (cpuByPart[path] ??= noPartsCpu());
    for (const key of Object.keys(sum) as Array<keyof PartsCpu>) sum[key] += cpu[key];
  };
  const start = async (path: PathName): Promise<ServerProcess | null> => {
    if (path === "direct" || !sim) return null;
    if (clusterPaths.has(path)) {
      const own = clusterSchemas.get(path);
      if (!own || !opts.databaseUrl || !opts.redisUrl) throw new Error(`${path} needs BENCH_DATABASE_URL and BENCH_REDIS_URL`);
      return startClusterServer({
        ...clusterSpecOf(path, sim.url, dataDir, { schemaUrl: own.url, databaseUrl: opts.databaseUrl, redisUrl: opts.redisUrl, replicas: opts.clusterReplicas }),
        onStop: addParts(path),
        ...(opts.cpuProfileDir ? { cpuProfileDir: opts.cpuProfileDir } : {}),
      });
    }
    const spec = {
      ...serverSpecOf(path, sim.url, dataDir, schema?.url),
      ...(opts.cpuProfileDir ? { cpuProfileDir: opts.cpuProfileDir } : {}),
    };
    if (path === "stack-postgres" && opts.databaseUrl) return startPostgresServer({ ...spec, adminDatabaseUrl: opts.databaseUrl, onStop: addParts(path) });
    return startServer(spec);
  };
  const urls = (path: PathName) => ({ simUrl: sim?.url ?? "", serverUrl: servers.get(path)?.url ?? null });
  /** Streams of one shape on a path's current server (warm-ups, flood levels, one-token streams). */
  const floodOn = (path: PathName, shape: { concurrency: number; streams: number; tokensPerStream: number }) =>
    flood({ target: targetFor(path, urls(path), model), server: servers.get(path) ?? null, timeoutMs: plan.streamTimeoutMs, ...shape });

  try {
    if (plan.paths.some((path) => postgresPaths.has(path))) {
      if (!opts.databaseUrl) throw new Error("stack-postgres and stack-cluster need a PostgreSQL URL (BENCH_DATABASE_URL)");
      schema = await createBenchSchema(opts.databaseUrl);
      log(`stack-postgres/stack-cluster in schema ${schema.name} of ${describeDatabase(opts.databaseUrl)} (dropped at the end)`);
    }
    for (const path of plan.paths.filter((p) => clusterPaths.has(p))) {
      if (!opts.redisUrl || !opts.databaseUrl) throw new Error(`${path} needs a Redis URL (BENCH_REDIS_URL)`);
      clusterSchemas.set(path, await createBenchSchema(opts.databaseUrl));
    }
    sim = await startBenchSimulator();
    const active: PathName[] = [];
    const started = await Promise.allSettled(plan.paths.map((path) => start(path)));
    started.forEach((outcome, i) => {
      const path = plan.paths[i] as PathName;
      if (outcome.status === "rejected") {
        const message = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
        results.failures.push(`${path}: ${message}`);
        log(`FAILED to start ${path}: ${message}`);
        return;
      }
      if (outcome.value) servers.set(path, outcome.value);
      active.push(path);
      log(`started ${path}${outcome.value ? ` (pid ${outcome.value.pid}, ${outcome.value.url})` : ""}`);
    });

    for (const path of active) {
      const warm = (streams: number, tokensPerStream: number) => floodOn(path, { concurrency: 10, streams, tokensPerStream });
      // A warm-up's failed streams are the server's failures too: the report lists them.
      const failed = (w: FloodResult, what: string) => {
        if (w.errors > 0) results.failures.push(`${path}: ${w.errors} of ${w.streams} warm-up ${what} failed (${w.errorSamples.join("; ")})`);
      };
      if (plan.warmupTokens > 0) {
        const w = await warm(Math.max(1, Math.round(plan.warmupTokens / 500)), 500);
        failed(w, "answers");
        log(`warmed up ${path}: ${w.tokens} tokens, ${w.errors} errors`);
      }
      if (plan.warmupStreams > 0) {
        const w = await warm(plan.warmupStreams, 1);
        failed(w, "one-token answers");
        log(`warmed up ${path}: ${w.streams} one-token answers, ${w.errors} errors`);
      }
    }

    const fits = (c: number, what: string) => {
      if (c <= maxOpenStreams(fileLimit)) return true;
      results.failures.push(`${what} C=${c} skipped: ulimit -n ${fileLimit} allows about ${maxOpenStreams(fileLimit)} open streams`);
      return false;
    };

    for (const level of plan.flood) {
      if (!fits(level.concurrency, "flood")) continue;
      for (let round = 1; round <= plan.rounds; round++) {
        for (const path of active) {
          await settle();
          const row = await floodOn(path, level);
          results.flood.push({ path, round, ...row });
          log(
            `flood  C=${level.concurrency} ${path.padEnd(12)} ${fmt(row.tokensPerSec, 0)} tok/s, ` +
              `server ${fmt(row.serverCpuMsPer1kTokens, 2)} ms CPU/1k tokens, ${row.errors} errors`,
          );
        }
      }
    }

    for (const level of plan.paced) {
      if (!fits(level.concurrency, "paced")) continue;
      for (const path of active) {
        await settle();
        const simulator = sim;
        const pacedRun = (tokensPerStream: number) =>
          paced({
            sim: simulator,
            target: targetFor(path, urls(path), model),
            server: servers.get(path) ?? null,
            separateSubscription: trpcStackPaths.has(path),
            concurrency: level.concurrency,
            streams: level.streams,
            tokensPerStream,
            tokensPerSec: level.tokensPerSec,
            rampMs: level.rampMs,
            prefillMs: plan.prefillMs,
            timeoutMs: plan.streamTimeoutMs,
          });
        const row: PacedRow = { path, ...(await pacedRun(level.tokensPerStream)) };
        if (level.split) {
          const runs: PacedResult[] = [];
          for (const tokens of [level.split.shortTokensPerStream, level.split.longTokensPerStream]) {
            await settle();
            runs.push(await pacedRun(tokens));
          }
          const [shortRun, longRun] = runs as [PacedResult, PacedResult];
          const asSplitRun = (r: PacedResult) => ({ tokensPerStream: r.tokensPerStream, serverCpuMs: r.serverCpuMs, errors: r.errors });
          row.split = pacedSplit(level.streams, asSplitRun(shortRun), asSplitRun(longRun));
          // Their errors count with the level's (the totals and the exit code see them); their latencies are not the level's.
          for (const r of runs) {
            row.errors += r.errors;
            row.errorSamples = [...row.errorSamples, ...r.errorSamples];
          }
        }
        results.paced.push(row);
        log(
          `paced  C=${level.concurrency} ${path.padEnd(12)} TTFT p50 ${fmt(row.ttftP50Ms, 2)} ms, p99 ${fmt(row.ttftP99Ms, 2)} ms, ` +
            `server ${fmt(row.serverCpuMsPer1kTokens, 1)} ms CPU/1k tokens, ${row.errors} errors`,
        );
      }
    }

    if (plan.perStream.streams > 0) {
      const { streams, concurrency, warmupStreams } = plan.perStream;
      const oneToken = (path: PathName, count: number) => floodOn(path, { concurrency, streams: count, tokensPerStream: 1 });
      const rows = new Map<PathName, PerStreamRow>();
      for (const path of active) {
        const warmup = warmupStreams > 0 ? await oneToken(path, warmupStreams) : undefined;
        rows.set(path, {
          path,
          streams: 0,
          concurrency,
          warmupStreams,
          warmupErrors: warmup?.errors ?? 0,
          serverCpuMs: servers.has(path) ? 0 : null,
          serverCpuMsPerStream: null,
          errors: warmup?.errors ?? 0,
          errorSamples: warmup?.errorSamples.slice(0, 5) ?? [],
        });
      }
      const blocks = Math.max(1, Math.min(plan.perStream.blocks, streams));
      for (let block = 0; block < blocks; block++) {
        // The streams split as evenly as they go: the first blocks take one more when they do not divide.
        const count = Math.floor(streams / blocks) + (block < streams % blocks ? 1 : 0);
        for (const path of active) {
          await settle();
          const part = await oneToken(path, count);
          const row = rows.get(path)!;
          row.streams += count;
          if (row.serverCpuMs !== null) row.serverCpuMs = part.serverCpuMs === null ? null : row.serverCpuMs + part.serverCpuMs;
          row.errors += part.errors;
          row.errorSamples = [...row.errorSamples, ...part.errorSamples].slice(0, 5);
          log(`stream block ${block + 1}/${blocks} ${path.padEnd(12)} ${count} × 1 token, ${part.errors} errors`);
        }
      }
      for (const row of rows.values()) {
        row.serverCpuMsPerStream = row.serverCpuMs === null ? null : row.serverCpuMs / row.streams;
        results.perStream.push(row);
        log(`stream ${row.streams} × 1 token  ${row.path.padEnd(12)} server ${fmt(row.serverCpuMsPerStream, 2)} ms CPU per stream, ${row.errors} errors`);
      }
    }

    if (plan.holdStreams > 0) {
      const cap = maxOpenStreams(fileLimit);
      const streams = Math.min(plan.holdStreams, cap);
      const cappedBy = streams < plan.holdStreams ? `ulimit -n ${fileLimit} allows about ${cap} streams per process` : null;
      if (cappedBy) log(`hold: ${cappedBy}; holding ${streams} instead of ${plan.holdStreams}`);
      for (const path of active) {
        if (path === "direct") continue;
        if (plan.freshServerForHold) {
          // A fresh process, so the baseline is not inflated by the heap the floods grew.
          await servers.get(path)?.stop();
          servers.delete(path);
          try {
            const fresh = await start(path);
            if (fresh) servers.set(path, fresh);
          } catch (error) {
            results.failures.push(`${path} (restart for hold): ${(error as Error).message}`);
            continue;
          }
        }
        const server = servers.get(path);
        if (!server) continue;
        // Warm it with a few streams so lazily created state is in the baseline.
        await floodOn(path, { concurrency: 2, streams: 4, tokensPerStream: 20 });
        await settle();
        let row: HoldResult;
        try {
          row = await hold({
            sim,
            target: targetFor(path, urls(path), model),
            server,
            separateSubscription: trpcStackPaths.has(path),
            streams,
            openingAtOnce: 200,
            tokensPerStream: 60,
            dripMs: plan.mode === "smoke" ? 200 : 15_000,
            idleWindowMs: plan.mode === "smoke" ? 100 : 5_000,
            timeoutMs: Math.max(120_000, streams * 60),
          });
        } catch (error) {
          // One path failing its hold (e.g. a server too busy to answer) must not lose the whole run.
          results.failures.push(`${path} hold: ${(error as Error).message}`);
          log(`hold   ${path} FAILED: ${(error as Error).message}`);
          await server.stop();
          servers.delete(path);
          continue;
        }
        results.hold.push({ path, requestedStreams: plan.holdStreams, cappedBy, ...row });
        log(
          `hold   ${streams} streams ${path.padEnd(12)} opened in ${fmt(row.openMs / 1000, 1)} s, ` +
            `${fmt(row.rssPerStreamKb, 1)} KB RSS per stream (${fmt(row.rssPerStreamMarginalKb, 1)} per stream of the second half, net), ` +
            `idle ${fmt(row.idleCpuMsPerSecPer1kStreams, 1)} ms CPU/s per 1k streams (${fmt(row.idleCpuMsPerSec, 1)} ms/s open, ${fmt(row.idleFloorCpuMsPerSec, 1)} with none), ` +
            `${row.errors} errors`,
        );
        await server.stop();
        servers.delete(path);
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()));
    await sim?.close();
    if (plan.paths.some((path) => postgresPaths.has(path))) results.cpuByPart = cpuByPart;
    await schema?.drop().catch((error: unknown) => results.failures.push(`dropping schema ${schema?.name}: ${(error as Error).message}`));
    for (const own of clusterSchemas.values()) {
      await own.drop().catch((error: unknown) => results.failures.push(`dropping schema ${own.name}: ${(error as Error).message}`));
    }
    rmSync(dataDir, { recursive: true, force: true });
    results.durationMs = Date.now() - startedAt;
    results.machine.loadAvgAtEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);
  }
  return results;
}

export interface BenchSchema {
  name: string;
  /** The database URL with this schema first on the search_path (every connection of the API uses it). */
  url: string;
  drop(): Promise<void>;
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A schema of its own in the given database, so runs never mix and nothing is left behind. */
export async function createBenchSchema(databaseUrl: string): Promise<BenchSchema> {
  const name = `streamchat_bench_${process.pid}_${randomBytes(3).toString("hex")}`;
  await adminQuery(databaseUrl, `CREATE SCHEMA ${name}`);
  const url = new URL(databaseUrl);
  url.searchParams.set("options", `-c search_path=${name}`);
  return { name, url: url.toString(), drop: () => adminQuery(databaseUrl, `DROP SCHEMA ${name} CASCADE`) };
}

/** host:port/database, never the password. */
export function describeDatabase(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`;
  } catch {
    return "the given database";
  }
}

export function fmt(value: number | null, digits: number): string {
  if (value === null || !Number.isFinite(value)) return "n/a";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
