/**
 * The child side of a server under test: tells the bench its URL over the IPC channel, answers GC requests
 * (so RSS is read after a full collection, the same way in every server), and exits when the bench goes away.
 */

import { getHeapSpaceStatistics, writeHeapSnapshot } from "node:v8";
import { AllocationMeter } from "./alloc-meter.js";

export type ParentMessage =
  | { type: "gc"; id: number }
  | { type: "count"; id: number }
  | { type: "allocated"; id: number }
  | { type: "heap-snapshot"; id: number; file: string };
export type ChildMessage =
  | { type: "ready"; url: string }
  | { type: "gc-done"; id: number; vmFixedKb: number }
  | { type: "heap-snapshot-done"; id: number; error?: string }
  | { type: "counts"; id: number; counts: AsyncCounts }
  /** The bytes the server's main thread allocated since the bench first asked (servers/alloc-meter.ts). */
  | { type: "allocated-bytes"; id: number; bytes: number }
  | { type: "failed"; error: string };

/** What a server counted since it started (servers/async-counter.ts, preloaded by `pnpm bench --count`). */
export interface AsyncCounts {
  promises: number;
  /** `setTimeout` / `setInterval` timers, Node's own (socket timeouts) included. */
  timers: number;
  immediates: number;
  /** `process.nextTick` callbacks, Node's streams' included. */
  ticks: number;
  abortControllers: number;
  abortSignalAny: number;
  /** `ReadableStream`, `WritableStream` and `TransformStream`s made through the global constructors. */
  webStreams: number;
}

/**
 * The spaces of V8's heap whose size does not grow with open streams: the young generation (at most three
 * semi-spaces of `--max-semi-space-size`, which every server here runs with) and compiled code (bytecode and machine
 * code, at most the program's). Both grow while a process warms up; RSS per open stream is read net of them.
 */
const fixedSpaces = new Set(["new_space", "code_space", "code_large_object_space", "trusted_space", "trusted_large_object_space"]);

function vmFixedKb(): number {
  let bytes = 0;
  for (const space of getHeapSpaceStatistics()) if (fixedSpaces.has(space.space_name)) bytes += space.physical_space_size;
  return bytes / 1024;
}

function sendToParent(message: ChildMessage): void {
  process.send?.(message);
}

export function announceReady(url: string, onExit?: () => Promise<void> | void): void {
  const allocation = new AllocationMeter();
  process.on("message", (message: ParentMessage) => {
    if (message?.type === "allocated") {
      sendToParent({ type: "allocated-bytes", id: message.id, bytes: allocation.allocatedBytes() });
    } else if (message?.type === "gc") {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      sendToParent({ type: "gc-done", id: message.id, vmFixedKb: vmFixedKb() });
    } else if (message?.type === "heap-snapshot") {
      // Synchronous: the server answers nothing while V8 writes it (`pnpm bench --heap` times nothing).
      try {
        writeHeapSnapshot(message.file);
        sendToParent({ type: "heap-snapshot-done", id: message.id });
      } catch (error) {
        sendToParent({ type: "heap-snapshot-done", id: message.id, error: error instanceof Error ? error.message : String(error) });
      }
    }
  });
  const exit = () => {
    void Promise.resolve(onExit?.()).finally(() => process.exit(0));
    // a server that cannot close in time still goes
    setTimeout(() => process.exit(0), 3_000).unref();
  };
  process.once("disconnect", exit);
  process.once("SIGTERM", exit);
  sendToParent({ type: "ready", url });
}

export function announceFailure(error: unknown): never {
  sendToParent({ type: "failed", error: error instanceof Error ? error.stack ?? error.message : String(error) });
  process.exit(1);
}

/** Simulator URL and model from the environment the bench sets for every server under test. */
export function upstreamFromEnv(): { simUrl: string; model: string } {
  const simUrl = process.env.BENCH_SIM_URL;
  if (!simUrl) throw new Error("BENCH_SIM_URL is not set (the bench passes its simulator URL)");
  return { simUrl, model: process.env.BENCH_MODEL ?? "sim-bench" };
}
