/**
 * `pnpm bench --alloc`: the bytes a one-token stream and a further paced token make each server's JS heap allocate,
 * read from V8's collections (servers/alloc-meter.ts) rather than timed. Allocation is what the young generation's
 * collections and V8's helper threads work through (docs/benchmarks-log.md, stop 57: a paced token of the stack did
 * twice the bare relay's `mmap`s and `futex`es), and like `--count`'s figures it does not move with the machine's
 * load. No async_hooks here: a counting hook adds its own allocations to every promise.
 */
import type { ServerProcess } from "./child.js";
import {
  checkMeasuredPaths,
  type CountPlan,
  countPlan,
  failedStreams,
  type MeasureServices,
  measureRates,
  replicatedNote,
  replicatedPaths,
  type StreamRates,
} from "./count.js";
import type { PathName } from "./paths.js";
import { sleep } from "./stats.js";

export type AllocRow = StreamRates<number>;

/** The count's plan (count.ts `countPlan`): the same streams, tokens and warm-up. */
export function allocPlan(mode: "smoke" | "default", paths: PathName[]): CountPlan {
  checkMeasuredPaths("--alloc", paths);
  return countPlan(mode, paths);
}

/**
 * A server's total once it has finished what the last streams left it: two readings 100 ms apart that differ by less
 * than an idle server allocates meanwhile (its timers, the reading's own IPC message). After two seconds the last
 * reading is taken as it is.
 */
const idleBytesPer100Ms = 64 * 1024;

async function settledBytes(server: ServerProcess): Promise<number> {
  const read = () => server.allocatedBytes?.() ?? Promise.reject(new Error(`${server.name} has no allocation meter`));
  let last = await read();
  for (let i = 0; i < 20; i++) {
    await sleep(100);
    const next = await read();
    if (next - last < idleBytesPer100Ms) return next;
    last = next;
  }
  return last;
}

export async function runAlloc(opts: MeasureServices & { plan: CountPlan; log?: (line: string) => void }): Promise<AllocRow[]> {
  const log = opts.log ?? (() => undefined);
  return measureRates({
    plan: opts.plan,
    meter: { settled: settledBytes, rate: (after, before, per) => (after - before) / per },
    countAsync: false,
    tempPrefix: "streamchat-alloc-",
    databaseUrl: opts.databaseUrl,
    redisUrl: opts.redisUrl,
    clusterReplicas: opts.clusterReplicas,
    onRow: (row) => log(`measured ${row.path}: ${kb(row.perStream)} KB per stream, ${bytes(row.perToken)} B per token, ${row.errors} errors`),
  });
}

const kb = (value: number) => (value / 1024).toFixed(1);
const bytes = (value: number) => value.toFixed(0);

/** Markdown: bytes allocated per one-token stream and per further paced token, each also as a ratio to the bare relay's. */
export function renderAlloc(rows: readonly AllocRow[]): string {
  const bare = rows.find((row) => row.path === "bare-relay");
  const ratio = (value: number, of: number | undefined) => (of === undefined || of <= 0 ? "—" : `${(value / of).toFixed(2)}×`);
  const lines = [
    "| path | KB per one-token stream | vs bare relay | B per further paced token | vs bare relay |",
    "|---|---:|---:|---:|---:|",
    ...rows.map(
      (row) =>
        `| ${row.path} | ${kb(row.perStream)} | ${ratio(row.perStream, bare?.perStream)} | ${bytes(row.perToken)} | ${ratio(row.perToken, bare?.perToken)} |`,
    ),
  ];
  const failed = failedStreams(rows);
  return [
    "Bytes the server's JS heap (main thread) allocated, from V8's collections; a Buffer's bytes and worker threads are not in it" +
      (rows.some((row) => replicatedPaths.includes(row.path)) ? `. ${replicatedNote}:` : ":"),
    "",
    ...lines,
    ...(failed.length ? ["", ...failed] : []),
  ].join("\n");
}
