import { TRPCClientError } from "@trpc/client";
import type { Unsubscribable } from "@trpc/server/observable";

export interface SubscriptionHandlers<T> {
  onData(value: T): void;
  onError(error: unknown): void;
  onComplete(): void;
  onConnectionStateChange(state: { state: string; error: unknown }): void;
}

export interface IterateOptions {
  signal?: AbortSignal | undefined;
  /**
   * The link reconnects on its own after a dropped connection, forever. Give up after this many
   * failed reconnects in a row (neither an event nor a connection the server accepted in between)
   * so a dead server surfaces as an error.
   */
  maxReconnects?: number;
  /** Error to throw when maxReconnects is exceeded. */
  onGiveUp?: (lastError: unknown) => unknown;
  /** Called each time the server accepts a connection (the first one and every reconnect). */
  onConnected?: () => void;
  /**
   * A failed connection no reconnect can fix (an untrusted certificate): what to throw at once. Undefined lets the
   * link try again.
   */
  fatal?: (error: unknown) => unknown;
}

// An error event the server sent on a connection it had accepted (tRPC's serialized-error), as opposed to a
// connection that was refused or dropped.
function sentByServer(error: unknown): boolean {
  return error instanceof TRPCClientError && error.shape !== undefined;
}

type Item<T> = { kind: "data"; value: T } | { kind: "error"; error: unknown } | { kind: "end" };

/** A tRPC subscription as an async generator; returning from it (or aborting) unsubscribes. */
export async function* iterateSubscription<T>(
  subscribe: (handlers: SubscriptionHandlers<T>) => Unsubscribable,
  opts: IterateOptions = {},
): AsyncGenerator<T, void, undefined> {
  const { signal, maxReconnects = Infinity } = opts;
  signal?.throwIfAborted();
  const queue: Item<T>[] = [];
  let wake: (() => void) | undefined;
  const push = (item: Item<T>) => {
    queue.push(item);
    wake?.();
    wake = undefined;
  };
  let failedReconnects = 0;
  // The link reports "pending" once the server accepted a connection. A run quiet for long (waiting for an approval)
  // may lose many connections, each reconnect succeeding: only failures since the last accepted one count. But one
  // the server accepts only to send an error (its store down) is no success, or it would be retried forever.
  let accepted = false;
  const subscription = subscribe({
    onData: (value) => {
      failedReconnects = 0;
      push({ kind: "data", value });
    },
    onError: (error) => push({ kind: "error", error }),
    onComplete: () => push({ kind: "end" }),
    onConnectionStateChange: ({ state, error }) => {
      if (state === "pending") {
        accepted = true;
        opts.onConnected?.();
        return;
      }
      if (state !== "connecting" || !error) return;
      const fatal = opts.fatal?.(error);
      if (fatal !== undefined) return push({ kind: "error", error: fatal });
      if (accepted && !sentByServer(error)) failedReconnects = 0;
      accepted = false;
      failedReconnects += 1;
      if (failedReconnects > maxReconnects) push({ kind: "error", error: opts.onGiveUp?.(error) ?? error });
    },
  });
  const onAbort = () => push({ kind: "error", error: signal?.reason });
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const item = queue.shift();
      if (!item) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      if (item.kind === "data") yield item.value;
      else if (item.kind === "error") throw item.error;
      else return;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    subscription.unsubscribe();
  }
}
