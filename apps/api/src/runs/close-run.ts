import { emptyUsage, isRetryable, type DoneReason, type ErrorCode } from "@streamchat/core";
import type { ChatStore, RunRecord, StoredEvent } from "@streamchat/store";
import { messagesFromEvents } from "./transcript.js";

/** How a run that cannot finish normally is closed: its error event and its done reason. */
export interface RunEnding {
  code: ErrorCode;
  message: string;
  reason: DoneReason;
}

export interface CloseOptions {
  now: () => number;
  /** The first appended event's seq is at least this (seqs subscribers may have seen are never reused). */
  minSeq?: number;
  /** Seqs skipped past the log's last one (a crash may have lost a tail that subscribers saw). */
  seqGap?: number;
  /** Receives each event appended (live subscribers). */
  publish?: (stored: StoredEvent) => void;
}

/**
 * Closes a run from its stored log alone: stores the messages its events produced that are not stored
 * yet (tool calls without a result answered as failed), appends error + done, marks it done.
 *
 * Idempotent, so it can be retried after it failed half-way (a crash or a store failure during it):
 * - a log that ends with `done` only gets its status fixed;
 * - the run's assistant and tool messages already stored count as the first ones rebuilt from the log
 *   (they are appended in that order, by the run or by an earlier attempt), so only the rest is appended;
 * - an `error` with the ending's code already last in the log (an earlier attempt's) is not repeated.
 *
 * Returns "finished" when the log already ended (only the status was stale), "closed" otherwise.
 * Throws what the store throws; whatever was written before stays and the next attempt continues from it.
 */
export function closeRunFromLog(store: ChatStore, run: RunRecord, ending: RunEnding, opts: CloseOptions): "finished" | "closed" {
  const events = store.readEvents(run.id);
  const last = events.at(-1);
  if (last?.event.type === "done") {
    store.finishRun(run.id, { reason: last.event.reason, usage: last.event.usage });
    return "finished";
  }

  const rebuilt = messagesFromEvents(events, { code: ending.code, message: ending.message });
  const stored = store
    .listMessages(run.conversationId)
    .filter((m) => m.runId === run.id && m.message.role !== "user").length;
  for (const message of rebuilt.slice(stored)) {
    store.appendMessage({ conversationId: run.conversationId, runId: run.id, message });
  }

  let minSeq = Math.max((last?.seq ?? 0) + 1 + (opts.seqGap ?? 0), opts.minSeq ?? 0);
  const append = (event: Parameters<ChatStore["appendEvent"]>[1]) => {
    const seq = store.appendEvent(run.id, event, { minSeq });
    minSeq = 0;
    opts.publish?.({ seq, event });
  };
  const errorWritten = last?.event.type === "error" && last.event.code === ending.code;
  if (!errorWritten) {
    append({
      type: "error",
      runId: run.id,
      at: opts.now(),
      code: ending.code,
      message: ending.message,
      retryable: isRetryable(ending.code),
    });
  }
  const usage = emptyUsage();
  append({ type: "done", runId: run.id, at: opts.now(), reason: ending.reason, usage });
  store.finishRun(run.id, { reason: ending.reason, usage });
  return "closed";
}
