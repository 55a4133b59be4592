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
