import { chatEventSchema, chatEventTypes, type ChatEvent } from "@streamchat/core";
import { certificateProblem, ChatClientError, isAbortError, toChatClientError } from "./errors.js";
import { iterateSubscription } from "./subscription.js";
import type { TrpcClient } from "./transport.js";

const eventIds = new WeakMap<object, string>();

/** The server's event id (the run log's `seq`) of an event this client yielded; pass it as `lastEventId` to resume. */
export function eventIdOf(event: ChatEvent): string | undefined {
  return eventIds.get(event);
}

export interface FollowOptions {
  /** Resume after this event id (exclusive). */
  lastEventId?: string | null | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Failed reconnects (by the link) and resubscribes (by us) in a row, without a new event or an accepted
   * connection in between, before the stream fails with code `unreachable`. Default 5.
   */
  maxRetries?: number;
}

const knownTypes: ReadonlySet<unknown> = new Set(chatEventTypes);

/**
 * The wire data as the core's ChatEvent (validated: this is where the server's data enters). Events of a type this
 * client does not know yet (a newer server) are skipped rather than failing the whole run.
 */
function parseEvent(data: unknown): ChatEvent | undefined {
  if (!knownTypes.has((data as { type?: unknown } | null)?.type)) return undefined;
  const parsed = chatEventSchema.safeParse(data);
  if (!parsed.success) {
    throw new ChatClientError("internal", "The chat server sent an event this client cannot read.", {
      cause: parsed.error,
      retryable: false,
    });
  }
  return parsed.data;
}

/** true when `id` is at or before `last` (ids are the run log's increasing seq numbers). */
function seen(id: string, last: string | null): boolean {
  if (last === null) return false;
  const a = Number(id);
  const b = Number(last);
  return Number.isFinite(a) && Number.isFinite(b) ? a <= b : id === last;
}

// A server that answered with a typed error meant it (NOT_FOUND, UNAUTHORIZED…); a refused or cut socket or
// a 5xx from something in between is worth another try.
function isConnectionFailure(error: ChatClientError): boolean {
  if (error.trpcCode !== undefined) return error.trpcCode === "INTERNAL_SERVER_ERROR";
  return error.status === undefined || error.status >= 500;
}

const backoffMs = (failures: number) => Math.min(250 * 2 ** failures, 4000);

/** Waits `ms`; an abort of `signal` ends the wait at once (rejecting with its reason) and leaves no timer behind. */
export function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A subscription that failed on the server's certificate: no reconnect meets another one, so it fails at once. */
function untrustedCertificate(error: unknown): ChatClientError | undefined {
  return certificateProblem(error) === undefined ? undefined : toChatClientError(error);
}

/**
 * Whether the run's event `id` is its `done`, asked by replaying from just before it. A subscription after `done`
 * ends at once with nothing, just like one the server cut short, and only the event itself tells them apart.
 */
async function isDone(trpc: TrpcClient, runId: string, id: string, signal: AbortSignal | undefined): Promise<boolean> {
  if (!/^[1-9]\d*$/.test(id)) return false;
  const before = String(Number(id) - 1);
  const replay = iterateSubscription<{ id: string; data: unknown }>(
    (handlers) => trpc.chat.events.subscribe({ runId, lastEventId: before }, handlers),
    { signal, maxReconnects: 0, fatal: untrustedCertificate },
  );
  for await (const event of replay) return event.id === id && (event.data as { type?: unknown } | null)?.type === "done";
  return false;
}

/**
 * Every event of a run after `lastEventId`, until `done`. The subscription link already reconnects with
 * `Last-Event-ID` after a dropped connection; when it gives up instead (a non-200 answer, e.g. a proxy's 502
 * while the server restarts), or the subscription ends without `done`, this opens a new subscription from
 * the last id seen. Ids at or before the last one seen are skipped, so a replay never yields a duplicate.
 * After `maxRetries` failed tries in a row it fails with code `unreachable`: a new event, or a connection the
 * server had accepted being lost, starts a new row; a subscription ending without a new event is a failed try.
 */
export async function* followRun(
  trpc: TrpcClient,
  runId: string,
  opts: FollowOptions = {},
): AsyncGenerator<ChatEvent, void, undefined> {
  const { signal, maxRetries = 5 } = opts;
  let last = opts.lastEventId ?? null;
  let failures = 0;
  // Asked once, and only while resuming from the caller's id: every later id is of an event we yielded, never `done`.
  let askIfDone = last !== null;
  // A server never reached is said so (with the socket's code), not as a connection lost.
  let everConnected = false;
  for (;;) {
    let accepted = false;
    const tracked = iterateSubscription<{ id: string; data: unknown }>(
      (handlers) => trpc.chat.events.subscribe({ runId, lastEventId: last }, handlers),
      {
        signal,
        maxReconnects: maxRetries,
        fatal: untrustedCertificate,
        onConnected: () => (accepted = everConnected = true),
        onGiveUp: (error) => {
          const failure = toChatClientError(error);
          return !everConnected && failure.code === "unreachable"
            ? failure
            : new ChatClientError("unreachable", "Lost the connection to the chat server.", { cause: error });
        },
      },
    );
    try {
      for await (const { id, data } of tracked) {
        if (seen(id, last)) continue;
        last = id;
        const event = parseEvent(data);
        if (!event) continue;
        failures = 0;
        askIfDone = false;
        eventIds.set(event, id);
        yield event;
        if (event.type === "done") return;
      }
      // The subscription ended without `done`: not a finished run but a stream cut short (a proxy closing
      // it, a server restarting, a run the server failed to close yet). Resume from the last id like any
      // dropped connection, with the same bound on tries without progress. Unless the caller resumed after `done`.
      if (askIfDone && last !== null) {
        askIfDone = false;
        if (await isDone(trpc, runId, last, signal)) return;
      }
      if (++failures > maxRetries) {
        throw new ChatClientError("unreachable", "The answer stream kept ending before the answer did.", { retryable: true });
      }
      await delay(backoffMs(failures), signal);
    } catch (error) {
      if (isAbortError(error) || signal?.aborted) throw error;
      // Our own verdicts (gave up, unreadable event) are final; the link's failures may be worth another try.
      if (error instanceof ChatClientError) throw error;
      const clientError = toChatClientError(error);
      if (!isConnectionFailure(clientError)) throw clientError;
      // Refused on a reconnect of the link's after the server had accepted this subscription: a new row of failures.
      if (accepted) failures = 0;
      if (++failures > maxRetries) throw clientError;
      await delay(backoffMs(failures), signal);
    }
  }
}
