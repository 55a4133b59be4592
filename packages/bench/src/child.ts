import { type ChildProcess, fork } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { apiNodeFlags, ProcessCpuClock } from "@streamchat/cluster";
import type { AsyncCounts, ChildMessage, ParentMessage } from "./servers/child-ipc.js";
import { readRssKb } from "./proc-stats.js";

const here = dirname(fileURLToPath(import.meta.url));
/** Run from TypeScript source (tests, `tsx`) or from the tsc build (`pnpm bench`): children follow suit. */
export const runningFromSource = fileURLToPath(import.meta.url).endsWith(".ts");
const packageDir = join(here, "..");

/** What a server read of its V8 heap right after a full GC. */
export interface GcReport {
  /** Physical KB of V8's young generation and compiled code: bounded per process, not per stream (child-ipc.ts). */
  vmFixedKb: number;
}

/** A server under test in its own process, so its CPU (to the microsecond: ProcessCpuClock) and RSS can be read from /proc. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  cpuMs(): number;
  rssKb(): number;
  /** Full GC in the child (it runs with --expose-gc), then resolves with what it read after it. */
  gc(): Promise<GcReport>;
  /** Writes a V8 heap snapshot of the child to `file` (it answers nothing meanwhile); a one-process server only. */
  heapSnapshot?: (file: string) => Promise<void>;
  /** What the server counted so far; only a server started with the counter preloaded (`ServerSpec.countAsync`) has it. */
  counts?(): Promise<AsyncCounts>;
  /**
   * The bytes its JS heap (main thread) allocated since the first call, which returns 0 (servers/alloc-meter.ts).
   * Every server of startServer has it (`pnpm bench --alloc`); a cluster path's is its replicas' sum (cluster-server.ts).
   */
  allocatedBytes?(): Promise<number>;
  stop(): Promise<void>;
}

export interface ServerSpec {
  name: string;
  /** Entry module: a bench server ("servers/bare-relay") or an absolute path to a .js/.ts file. */
  entry: string;
  env: Record<string, string>;
  startTimeoutMs?: number;
  /** Write a V8 CPU profile of the child into this directory when it exits (node --cpu-prof). */
  cpuProfileDir?: string;
  /** Preload servers/async-counter (the promises, timers, … it creates): `pnpm bench --count`. Slows the server. */
  countAsync?: boolean;
}

/** Every child ever started, so a crash or Ctrl-C of the bench still kills them all. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const child of live) child.kill("SIGKILL");
  };
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

/** A bench server module ("servers/bare-relay") as a file of this build: the .ts source or tsc's .js. */
const benchModule = (entry: string) => join(here, `${entry}${runningFromSource ? ".ts" : ".js"}`);

export function resolveEntry(entry: string): { file: string; execArgv: string[] } {
  const isSource = entry.startsWith("/") ? entry.endsWith(".ts") : runningFromSource;
  const file = entry.startsWith("/") ? entry : benchModule(entry);
  // Every server under test runs with the API's Node flags (`pnpm start`'s), the baselines too: a ratio then
  // compares code, not V8 settings. Source runs resolve workspace packages to their TypeScript ("source"
  // condition) through tsx, like vitest.
  const execArgv = [...apiNodeFlags(), ...(isSource ? ["--conditions=source", "--import", "tsx"] : []), "--expose-gc"];
  return { file, execArgv };
}

/**
 * Node's flags for a CPU profile of the server named `name`, written into `dir` when it exits. A cluster replica's
 * name has a slash ("stack-cluster/api-1"): it is not a folder.
 */
export function cpuProfileArgs(dir: string, name: string): string[] {
  return ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name.replaceAll("/", "-")}-${Date.now()}.cpuprofile`];
}

export async function startServer(spec: ServerSpec): Promise<ServerProcess> {
  installExitHook();
  const { file, execArgv: baseArgv } = resolveEntry(spec.entry);
  const execArgv = [
    ...baseArgv,
    ...(spec.cpuProfileDir ? cpuProfileArgs(spec.cpuProfileDir, spec.name) : []),
    // After tsx's --import (a source run's), so that the counter's TypeScript loads too.
    ...(spec.countAsync ? ["--import", pathToFileURL(benchModule("servers/async-counter")).href] : []),
  ];
  const child = fork(file, [], {
    cwd: packageDir,
    execArgv,
    // BENCH_SERVER_NAME: what a server names itself in what it prints (servers/stack.ts).
    env: { ...process.env, NODE_ENV: "production", BENCH_SERVER_NAME: spec.name, ...spec.env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  live.add(child);
  child.once("exit", () => live.delete(child));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${spec.name}: could not start ${file}`);

  // The bench's requests to the child (gc, counts, heap snapshots), each answered by a message with its id.
  let requestSeq = 0;
  const waiters = new Map<number, (reply: ChildMessage) => void>();
  child.on("message", (message: ChildMessage) => {
    if (!("id" in message)) return;
    waiters.get(message.id)?.(message);
    waiters.delete(message.id);
  });
  /** Sends `request` (with a new id) and resolves with the child's answer of type `answer`; bounded by `timeoutMs`. */
  const ask = <T extends ChildMessage["type"]>(request: DistributiveOmit<ParentMessage, "id">, answer: T, timeoutMs: number) =>
    new Promise<Extract<ChildMessage, { type: T }>>((resolve, reject) => {
      const id = ++requestSeq;
      const timer = setTimeout(() => {
        waiters.delete(id);
        reject(new Error(`${spec.name}: ${request.type} not answered within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      waiters.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.type === answer) resolve(reply as Extract<ChildMessage, { type: T }>);
        else reject(new Error(`${spec.name}: ${request.type} answered with ${reply.type}`));
      });
      child.send({ ...request, id } as ParentMessage);
    });

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${spec.name}: not ready within ${spec.startTimeoutMs ?? 30_000} ms`)), spec.startTimeoutMs ?? 30_000);
    const onMessage = (message: ChildMessage) => {
      if (message.type === "ready") done(() => resolve(message.url));
      else if (message.type === "failed") fail(new Error(`${spec.name} failed to start: ${message.error}`));
    };
    const onExit = (code: number | null) => fail(new Error(`${spec.name} exited with code ${code} before it was ready`));
    const done = (then: () => void) => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
      then();
    };
    const fail = (err: Error) => done(() => {
      child.kill("SIGKILL");
      reject(err);
    });
    child.on("message", onMessage);
    child.once("exit", onExit);
  });

  const cpu = new ProcessCpuClock(pid);
  return {
    name: spec.name,
    pid,
    url,
    cpuMs: () => cpu.readMs(),
    rssKb: () => readRssKb(pid),
    // A full GC of a multi-GB heap on a starved box can take a while; still bounded.
    gc: () => ask({ type: "gc" }, "gc-done", 60_000).then((reply) => ({ vmFixedKb: reply.vmFixedKb })),
    // A heap of a few hundred MB takes seconds to write; a stuck child must not hang the run.
    heapSnapshot: (file) =>
      ask({ type: "heap-snapshot", file }, "heap-snapshot-done", 120_000).then((reply) => {
        if (reply.error !== undefined) throw new Error(`${spec.name}: heap snapshot failed: ${reply.error}`);
      }),
    allocatedBytes: () => ask({ type: "allocated" }, "allocated-bytes", 10_000).then((reply) => reply.bytes),
    ...(spec.countAsync ? { counts: () => ask({ type: "count" }, "counts", 10_000).then((reply) => reply.counts) } : {}),
    stop: () => stopChild(child),
  };
}

/** Omit over each member of a union (a plain Omit would merge the members). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
