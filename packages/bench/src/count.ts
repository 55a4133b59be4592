/**
 * `pnpm bench --count`: what a stream and a token make each server create — promises, timers, immediates,
 * `nextTick` callbacks, `AbortController`s, `AbortSignal.any` composites, web streams — counted in the server
 * (servers/async-counter.ts) rather than timed. Counts do not move with the machine's load, so a change to the event
 * path shows in them exactly, where its CPU figure is lost in a shared box's ±15 %. A counting server runs slower
 * (its `async_hooks` hook sees every promise): this run reports no time at all.
 */
import { model } from "./bench.js";
import type { ServerProcess } from "./child.js";
import { onFreshServers } from "./fresh-servers.js";
import { type PathName, targetFor, trpcStackPaths } from "./paths.js";
import type { AsyncCounts } from "./servers/child-ipc.js";
import { sleep } from "./stats.js";
import { flood, paced } from "./workloads.js";

/** The paths a count runs on by default: one server process each, none that needs PostgreSQL or Redis. */
export const countPaths: readonly PathName[] = ["bare-relay", "trpc-floor", "ai-sdk", "stack", "stack-memory", "stack-rest"];

/** …and with a PostgreSQL database (BENCH_DATABASE_URL): the one-process path on it too (fresh-servers.ts). */
export const measuredPaths: readonly PathName[] = [...countPaths, "stack-postgres"];

/**
 * …and, with Redis as well (BENCH_REDIS_URL), for `--count` and `--alloc`: the replicated paths, their replicas' figures
 * summed (cluster-server.ts). Not `--heap`: a heap snapshot is one process's.
 */
export const replicatedPaths: readonly PathName[] = ["stack-cluster", "stack-cluster-1"];

/** What the tables say of a replicated path's figures. */
export const replicatedNote = "A cluster path's figures are its replicas' sum (nginx, Redis and PostgreSQL run no JavaScript and are not in them)";

/**
 * The paths a run measures when none are named: every one it can with the services given. stack-cluster-1 (a reference
 * for stack-cluster) only when named, as in the timed runs.
 */
export const defaultMeasuredPaths = (databaseUrl: string | undefined, redisUrl?: string): PathName[] =>
  databaseUrl === undefined ? [...countPaths] : redisUrl === undefined ? [...measuredPaths] : [...measuredPaths, "stack-cluster"];

/** Refuses the paths a count, heap or allocation run cannot measure (no server of its own; several processes for --heap). */
export function checkMeasuredPaths(run: "--count" | "--heap" | "--alloc", paths: readonly PathName[]): void {
  const allowed = run === "--heap" ? measuredPaths : [...measuredPaths, ...replicatedPaths];
  const unknown = paths.filter((path) => !allowed.includes(path));
  if (unknown.length > 0) {
    const replicated = run === "--heap" ? "" : `, ${replicatedPaths.join(" and ")} (with Redis too)`;
    throw new Error(`${run} runs on ${countPaths.join(", ")}, stack-postgres (with a database)${replicated}; not on ${unknown.join(", ")}`);
  }
}

export interface CountPlan {
  paths: PathName[];
  /** One-token streams before anything is counted: one-time work (caches, pools, lazy set-up) is done by then. */
  warmupStreams: number;
  /** One-token streams counted: what a stream creates (`chat.send` + `chat.events` + teardown on the tRPC paths). */
  streams: number;
  /**
   * Paced streams (one token per read, as a real model sends them), run twice: with `shortTokens` and with
   * `longTokens` tokens each. What a token creates is the difference per further token, free of the streams' own.
   */
  paced: { streams: number; shortTokens: number; longTokens: number; tokensPerSec: number };
  streamTimeoutMs: number;
}

export function countPlan(mode: "smoke" | "default", paths: PathName[] = [...countPaths]): CountPlan {
  checkMeasuredPaths("--count", paths);
  // Smoke's 400 further tokens: a cluster replica's own background work (about 50 promises a second between the two,
  // in bursts) lands in the short and the long window unevenly, and a loaded machine merges tokens into fewer events.
  // With 80 further tokens a cluster token's promises (3.6 then, 2.4 since stop 62) read 0.16 in CI, and −0.26 beside six
  // busy loops on 2 cores.
  return mode === "smoke"
    ? { paths, warmupStreams: 10, streams: 20, paced: { streams: 4, shortTokens: 5, longTokens: 105, tokensPerSec: 200 }, streamTimeoutMs: 30_000 }
    : { paths, warmupStreams: 200, streams: 500, paced: { streams: 20, shortTokens: 10, longTokens: 110, tokensPerSec: 100 }, streamTimeoutMs: 60_000 };
}

/** What a one-token stream and a further paced token create. */
export type CountRow = StreamRates<AsyncCounts>;

const fields = ["promises", "timers", "immediates", "ticks", "abortControllers", "abortSignalAny", "webStreams"] as const satisfies ReadonlyArray<
  keyof AsyncCounts
>;

/** (after − before) / per, field by field. */
function rate(after: AsyncCounts, before: AsyncCounts, per: number): AsyncCounts {
  const out = {} as AsyncCounts;
  for (const field of fields) out[field] = (after[field] - before[field]) / per;
  return out;
}

const sameCounts = (a: AsyncCounts, b: AsyncCounts) => fields.every((field) => a[field] === b[field]);

/**
 * A server's counts once it has finished what the last streams left it (their teardown after the reader's end: the
 * run's closing, its timers cleared). Answering a count request has a cost of its own (Node hands an IPC message over
 * in a `nextTick`): a server is idle when two successive reads 100 ms apart grew by the same amount, that cost alone.
 * After two seconds the last read is taken as it is.
 */
async function settledCounts(server: ServerProcess): Promise<AsyncCounts> {
  const read = () => server.counts?.() ?? Promise.reject(new Error(`${server.name} was started without the counter`));
  let previous = await read();
  let last = await read();
  for (let i = 0; i < 20; i++) {
    await sleep(100);
    const next = await read();
    if (sameCounts(rate(next, last, 1), rate(last, previous, 1))) return next;
    previous = last;
    last = next;
  }
  return last;
}

/** A figure a server keeps a running total of, read before and after each measured part (counts, allocated bytes). */
export interface Meter<T> {
  /** The server's total once it is idle after what the last streams left it. */
  settled(server: ServerProcess): Promise<T>;
  /** (after − before) / per. */
  rate(after: T, before: T, per: number): T;
}

export interface StreamRates<T> {
  path: PathName;
  /** Per one-token stream. */
  perStream: T;
  /** Per token beyond a stream's first, at a paced rate. */
  perToken: T;
  /** Streams that failed verification (their work is in the figures all the same). */
  errors: number;
  errorSamples: string[];
}

/**
 * Runs the plan's workloads on a fresh server of each path and reads `meter` around them: one-token streams (after
 * the warm-up's), then paced streams of the short and of the long length, whose difference is what a further token
 * costs, free of the streams' own. `databaseUrl`: a throwaway PostgreSQL database for stack-postgres (a schema of its
 * own is made and dropped in it).
 */
export async function measureRates<T>(opts: {
  plan: CountPlan;
  meter: Meter<T>;
  countAsync: boolean;
  tempPrefix: string;
  databaseUrl?: string | undefined;
  /** A throwaway Redis for the cluster paths, and their replica count (default 2). */
  redisUrl?: string | undefined;
  clusterReplicas?: number | undefined;
  /** Each path's rates, as soon as they are measured. */
  onRow?: (row: StreamRates<T>) => void;
}): Promise<StreamRates<T>[]> {
  const { plan, meter, databaseUrl, redisUrl, clusterReplicas } = opts;
  const fresh = { tempPrefix: opts.tempPrefix, countAsync: opts.countAsync, databaseUrl, redisUrl, clusterReplicas };
  return onFreshServers(plan.paths, fresh, async (path, server, sim) => {
    const target = targetFor(path, { simUrl: sim.url, serverUrl: server.url }, model);
    const oneToken = (streams: number) => flood({ target, server, concurrency: 10, streams, tokensPerStream: 1, timeoutMs: plan.streamTimeoutMs });
    const pacedStreams = (tokensPerStream: number) =>
      paced({
        sim,
        target,
        server,
        separateSubscription: trpcStackPaths.has(path),
        concurrency: plan.paced.streams,
        streams: plan.paced.streams,
        tokensPerStream,
        tokensPerSec: plan.paced.tokensPerSec,
        rampMs: 100,
        prefillMs: 5,
        timeoutMs: plan.streamTimeoutMs,
      });

    const warm = [await oneToken(plan.warmupStreams), await pacedStreams(plan.paced.shortTokens)];
    const start = await meter.settled(server);
    const counted = await oneToken(plan.streams);
    const afterStreams = await meter.settled(server);
    const short = await pacedStreams(plan.paced.shortTokens);
    const afterShort = await meter.settled(server);
    const long = await pacedStreams(plan.paced.longTokens);
    const afterLong = await meter.settled(server);

    // The long streams less the short ones: their set-up cancels out, their further tokens remain.
    const longStreams = meter.rate(afterLong, afterShort, 1);
    const shortStreams = meter.rate(afterShort, afterStreams, 1);
    const all = [...warm, counted, short, long];
    const row: StreamRates<T> = {
      path,
      perStream: meter.rate(afterStreams, start, plan.streams),
      perToken: meter.rate(longStreams, shortStreams, plan.paced.streams * (plan.paced.longTokens - plan.paced.shortTokens)),
      errors: all.reduce((sum, part) => sum + part.errors, 0),
      errorSamples: [...new Set(all.flatMap((part) => part.errorSamples))].slice(0, 5),
    };
    opts.onRow?.(row);
    return row;
  });
}

/** What a count or allocation run is given: the services of the paths that need them (throwaway ones). */
export interface MeasureServices {
  /** PostgreSQL, for stack-postgres and the cluster paths (a schema of its own is made and dropped in it for each). */
  databaseUrl?: string | undefined;
  /** Redis, for the cluster paths. */
  redisUrl?: string | undefined;
  /** A cluster path's replicas (stack-cluster; default 2). */
  clusterReplicas?: number | undefined;
}

export async function runCount(opts: MeasureServices & { plan: CountPlan; log?: (line: string) => void }): Promise<CountRow[]> {
  const log = opts.log ?? (() => undefined);
  return measureRates({
    plan: opts.plan,
    meter: { settled: settledCounts, rate },
    countAsync: true,
    tempPrefix: "streamchat-count-",
    databaseUrl: opts.databaseUrl,
    redisUrl: opts.redisUrl,
    clusterReplicas: opts.clusterReplicas,
    onRow: (row) =>
      log(`counted ${row.path}: ${format(row.perStream.promises)} promises per stream, ${format(row.perToken.promises)} per token, ${row.errors} errors`),
  });
}

/** A line per path whose streams failed verification, for the rendered tables. */
export const failedStreams = (rows: readonly StreamRates<unknown>[]): string[] =>
  rows.filter((row) => row.errors > 0).map((row) => `${row.path}: ${row.errors} streams failed verification (${row.errorSamples.join("; ")})`);

const format = (value: number) => (Math.abs(value) < 0.05 ? "0" : value.toFixed(1));

/** Markdown: what each path creates per one-token stream, then per further paced token. */
export function renderCounts(rows: readonly CountRow[]): string {
  const header = `| path | ${fields.join(" | ")} |\n|---|${fields.map(() => "---:").join("|")}|`;
  const table = (title: string, of: (row: CountRow) => AsyncCounts) =>
    [title, "", header, ...rows.map((row) => `| ${row.path} | ${fields.map((field) => format(of(row)[field])).join(" | ")} |`)].join("\n");
  const failed = failedStreams(rows);
  return [
    table("Created per one-token stream (the server's whole work for it: requests, run, teardown):", (row) => row.perStream),
    table("Created per further token of a paced stream (one token per read):", (row) => row.perToken),
    ...(rows.some((row) => replicatedPaths.includes(row.path)) ? [`${replicatedNote}.`] : []),
    ...failed,
  ].join("\n\n");
}
