/**
 * `pnpm bench --heap`: what a held stream keeps in the server's JavaScript heap, by kind of object. Each path's server
 * holds streams as the bench's hold does (a fresh process, a few warm-up streams, then N streams opened and kept open
 * with a slow drip); after the full GC at the hold's half and once all are open it writes a heap snapshot, and the
 * objects the second snapshot has that the first had not, divided by the streams opened in between, are what one more
 * held stream costs. Exact where RSS is not (no allocator, no young generation), but a snapshot inflates the process's
 * RSS, so this run reports no RSS and no time, and writes nothing to the docs.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { model } from "./bench.js";
import { checkMeasuredPaths, countPaths } from "./count.js";
import { onFreshServers } from "./fresh-servers.js";
import { heapGrowth, readSnapshot, type HeapGroup } from "./heap-diff.js";
import { type PathName, targetFor, trpcStackPaths } from "./paths.js";
import { flood, hold } from "./workloads.js";

export interface HeapPlan {
  paths: PathName[];
  /** Streams held; the snapshots are taken at half of them and at all. */
  streams: number;
  dripMs: number;
}

export function heapPlan(mode: "smoke" | "default", paths: PathName[] = [...countPaths], streams?: number): HeapPlan {
  checkMeasuredPaths("--heap", paths);
  if (streams !== undefined && streams < 2) throw new Error("--heap needs --hold=2 or more (a snapshot at half of them, one at all)");
  return mode === "smoke" ? { paths, streams: streams ?? 20, dripMs: 200 } : { paths, streams: streams ?? 1_000, dripMs: 15_000 };
}

export interface HeapRow {
  path: PathName;
  /** Streams opened between the two snapshots. */
  streams: number;
  /** JS heap per stream of those, in bytes. */
  bytesPerStream: number;
  /** By kind, per stream, largest first. */
  groups: HeapGroup[];
  /** V8's internal arrays (the "array" kind) by what holds them, per stream, largest first. */
  arraysByHolder: HeapGroup[];
  errors: number;
}

const perStream = (groups: readonly HeapGroup[], streams: number): HeapGroup[] =>
  groups.map((group) => ({ kind: group.kind, count: group.count / streams, bytes: group.bytes / streams }));

/** `databaseUrl`: a throwaway PostgreSQL database for stack-postgres (a schema of its own is made and dropped in it). */
export async function runHeap(opts: { plan: HeapPlan; databaseUrl?: string; log?: (line: string) => void }): Promise<HeapRow[]> {
  const { plan, databaseUrl } = opts;
  const log = opts.log ?? (() => undefined);
  return onFreshServers(plan.paths, { tempPrefix: "streamchat-heap-", databaseUrl }, async (path, server, sim, dir) => {
    const takeSnapshot = server.heapSnapshot;
    if (!takeSnapshot) throw new Error(`${path}: its server cannot write heap snapshots`);
    const target = targetFor(path, { simUrl: sim.url, serverUrl: server.url }, model);
    // Warm, as the hold of `pnpm bench` does: lazily created state is in both snapshots.
    await flood({ target, server, concurrency: 2, streams: 4, tokensPerStream: 20, timeoutMs: 60_000 });
    const files: Partial<Record<"half" | "open", { file: string; open: number }>> = {};
    const held = await hold({
      sim,
      target,
      server,
      separateSubscription: trpcStackPaths.has(path),
      streams: plan.streams,
      openingAtOnce: 200,
      tokensPerStream: 60,
      dripMs: plan.dripMs,
      idleWindowMs: 100,
      timeoutMs: Math.max(120_000, plan.streams * 60),
      onMeasured: async (point, open) => {
        const file = join(dir, `${path}-${point}.heapsnapshot`);
        await takeSnapshot(file);
        files[point] = { file, open };
      },
    });
    const { half, open } = files;
    if (!half || !open) throw new Error(`${path}: the hold ended before both snapshots`);
    const streams = open.open - half.open;
    if (streams <= 0) throw new Error(`${path}: no stream opened between the snapshots`);
    const growth = heapGrowth(readSnapshot(half.file), readSnapshot(open.file));
    rmSync(half.file);
    rmSync(open.file);
    const row: HeapRow = {
      path,
      streams,
      bytesPerStream: growth.bytes / streams,
      groups: perStream(growth.groups, streams),
      arraysByHolder: perStream(growth.arraysByHolder, streams),
      errors: held.errors,
    };
    log(`heap ${path}: ${(row.bytesPerStream / 1024).toFixed(2)} KB of JS heap per held stream (${streams} streams between the snapshots), ${held.errors} errors`);
    return row;
  });
}

/** Markdown: the heap per held stream of each path, then its largest kinds, then its largest arrays by holder. */
export function renderHeap(rows: readonly HeapRow[], top = 15): string {
  const summary = [
    "| path | JS heap per held stream | streams between the snapshots | errors |",
    "|---|---:|---:|---:|",
    ...rows.map((row) => `| ${row.path} | ${(row.bytesPerStream / 1024).toFixed(2)} KB | ${row.streams} | ${row.errors} |`),
  ];
  const tables = rows.flatMap((row) => [
    groupTable(`${row.path}, per held stream (largest ${top} kinds):`, "kind", row.groups.slice(0, top)),
    groupTable(`${row.path}, its arrays by holder (largest ${top}):`, "held as", row.arraysByHolder.slice(0, top)),
  ]);
  return [summary.join("\n"), ...tables].join("\n\n");
}

function groupTable(title: string, column: string, groups: readonly HeapGroup[]): string {
  return [
    title,
    "",
    `| ${column} | count | bytes |`,
    "|---|---:|---:|",
    ...groups.map((group) => `| ${group.kind.replaceAll("|", "\\|")} | ${group.count.toFixed(2)} | ${group.bytes.toFixed(0)} |`),
  ].join("\n");
}
