/**
 * Preloaded (`--import`) into a server under test by `pnpm bench --count`: counts what the process creates — the
 * promises, timers, immediates and `process.nextTick` callbacks Node reports through `async_hooks`, and the
 * `AbortController`s, `AbortSignal.any` composites and web streams made through their global constructors — and
 * answers the bench's `count` requests over the IPC channel. Counts, not time: an enabled `async_hooks` hook slows
 * every promise, so a counting run's CPU figures mean nothing and the bench reports none.
 */

import { createHook } from "node:async_hooks";
import type { AsyncCounts, ChildMessage, ParentMessage } from "./child-ipc.js";

const counts: AsyncCounts = { promises: 0, timers: 0, immediates: 0, ticks: 0, abortControllers: 0, abortSignalAny: 0, webStreams: 0 };

/** The `async_hooks` resource types counted, by the field they add to. */
const byType: Record<string, keyof AsyncCounts> = { PROMISE: "promises", Timeout: "timers", Immediate: "immediates", TickObject: "ticks" };

createHook({
  init(_id, type) {
    const field = byType[type];
    if (field !== undefined) counts[field]++;
  },
}).enable();

/**
 * A global constructor that counts its constructions. A Proxy, not a subclass: `instanceof`, `extends` and the
 * constructor's statics behave as before. What Node's internals construct through their own references (undici's
 * streams inside `fetch`, say) is not seen: these count what the program and its libraries make.
 */
function countConstructions(name: "AbortController" | "ReadableStream" | "WritableStream" | "TransformStream", field: keyof AsyncCounts): void {
  const original = globalThis[name] as unknown as new (...args: unknown[]) => object;
  const counted = new Proxy(original, {
    construct(target, args, newTarget) {
      counts[field]++;
      return Reflect.construct(target, args, newTarget) as object;
    },
  });
  Object.defineProperty(globalThis, name, { value: counted, writable: true, configurable: true, enumerable: false });
}

countConstructions("AbortController", "abortControllers");
for (const name of ["ReadableStream", "WritableStream", "TransformStream"] as const) countConstructions(name, "webStreams");

const any = AbortSignal.any.bind(AbortSignal);
AbortSignal.any = (signals: AbortSignal[]) => {
  counts.abortSignalAny++;
  return any(signals);
};

process.on("message", (message: ParentMessage) => {
  if (message?.type !== "count") return;
  process.send?.({ type: "counts", id: message.id, counts: { ...counts } } satisfies ChildMessage);
});
