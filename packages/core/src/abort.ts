import { ChatError, errorCodeMessages } from "./errors.js";

export function abortReason(signal: AbortSignal): ChatError {
  return signal.reason instanceof ChatError ? signal.reason : new ChatError("cancelled", errorCodeMessages.cancelled);
}

/**
 * Resolves or rejects with `promise`, or rejects as soon as `signal` aborts: with the abort reason when it
 * is a ChatError (a stall), else with ChatError("cancelled").
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  const reason = () => abortReason(signal);
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(reason());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * A controller whose signal also aborts when `parent` aborts, with the parent's reason: `AbortSignal.any` for a
 * child that never outlives its parent's interest in it. `any` registers its composite with every source through
 * weak references and a finalization registry (kept until GC); this adds one listener, which `unlink` removes.
 * A run makes one (its own controller: a model round's stall aborts that one too, run.ts's IdleTimer).
 */
export function linkedController(parent: AbortSignal | undefined): { controller: AbortController; unlink: () => void } {
  const controller = new AbortController();
  if (parent === undefined) return { controller, unlink: noop };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { controller, unlink: noop };
  }
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener("abort", onAbort, { once: true });
  return { controller, unlink: () => parent.removeEventListener("abort", onAbort) };
}

function noop(): void {}
