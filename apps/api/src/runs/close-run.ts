import { closingEvents, type ChatEvent, type RunEnding } from "@streamchat/core";
import type { ChatStore, RunRecord, StoredEvent } from "@streamchat/store";
import { keepPreviousAnswer } from "./answer-versions.js";
import type { RunHooks } from "./run-hooks.js";
import { messagesFromEvents } from "./transcript.js";

export interface CloseOptions {
  now: () => number;
  /** The first appended event's seq is at least this (seqs subscribers may have seen are never reused). */
  minSeq?: number;
  /** Seqs skipped past the log's last one (a crash may have lost a tail that subscribers saw). */
  seqGap?: number;
  /**
   * Called with each seq before its append is tried: a failed attempt's seq may still be refused later (the store
   * refuses a seq not above one it was given), so a retry must start above it.
   */
  onSeqTried?: (seq: number) => void;
  /** Receives each closing event once it is committed (live subscribers), and a `done` the log already ended with. */
  publish?: (stored: StoredEvent) => void;
  /**
   * Told of the messages closing stores and of the run's end (also when only its status was stale), like a run that
   * ends normally: the conversation feed tells the user's other tabs.
   */
  hooks?: Pick<RunHooks, "messageAdded" | "runFinished"> | undefined;
  /**
   * False: the run ends with `done` alone, without the ending's `error` event, as the engine ends a cancelled run (a
   * cancel is the user's choice, not a failure). Default true.
   */
  errorEvent?: boolean;
}

/** What closing did: "finished" when the log already ended (only the status was stale), "closed" otherwise. */
export interface CloseOutcome {
  outcome: "finished" | "closed";
  /** The seq of the log's `done`. */
  lastSeq: number;
}

/**
 * Closes a run from its stored log alone: stores the messages its events produced that are not stored
 * yet (tool calls without a result answered as failed), appends error + done (which marks it done; `done` alone
 * with `errorEvent: false`).
 *
 * Idempotent, so it can be retried after it failed half-way (a crash or a store failure during it), by this
 * process or another one:
 * - a log that ends with `done` only gets its status fixed (if an older version left it running);
 * - the run's assistant and tool messages already stored count as the first ones rebuilt from the log
 *   (they are appended in that order, by the run or by an earlier attempt), so only the rest is appended;
 * - an `error` with the ending's code already last in the log (an earlier attempt's) is not repeated;
 * - `done` is appended only once the error is committed, so a log never ends with `done` but without its error.
 *
 * Throws what the store throws; whatever was written before stays and the next attempt continues from it.
 */
export async function closeRunFromLog(store: ChatStore, run: RunRecord, ending: RunEnding, opts: CloseOptions): Promise<CloseOutcome> {
  const events = await store.readEvents(run.id);
  const last = events.at(-1);
  if (last?.event.type === "done") {
    // Only a log written before `done` finished its run in the same commit (an older version) gets here running.
    await store.finishRun(run.id, { reason: last.event.reason, usage: last.event.usage });
    opts.publish?.(last);
    opts.hooks?.runFinished?.(run, last.event);
    return { outcome: "finished", lastSeq: last.seq };
  }

  const rebuilt = messagesFromEvents(events, { code: ending.code, message: ending.message });
  const stored = (await store.listMessages(run.conversationId)).filter(
    (m) => m.runId === run.id && m.message.role !== "user",
  ).length;
  for (const message of rebuilt.slice(stored)) {
    const added = await store.appendMessage({ conversationId: run.conversationId, runId: run.id, message });
    opts.hooks?.messageAdded?.(run.userId, added);
  }
  if (stored === 0 && rebuilt.length === 0) await keepPreviousAnswer(store, run.conversationId);

  // lastSeq also counts this process's queued appends (the log as `events` showed it may be older by now).
  const logEnd = Math.max(last?.seq ?? 0, await store.lastSeq(run.id));
  let seq = Math.max(logEnd + 1 + (opts.seqGap ?? 0), opts.minSeq ?? 0);
  const append = async (event: ChatEvent) => {
    opts.onSeqTried?.(seq);
    // Committed now rather than on the batch timer, which does not keep a process alive (recovery runs before the
    // server listens); a `done` commits at once by itself.
    await Promise.all([store.appendEvent(run.id, seq, event), event.type === "done" ? undefined : store.flush()]);
    opts.publish?.({ seq, event });
    seq += 1;
  };
  // A log already ending with the ending's error (an earlier attempt's) only gets its done.
  const { error, done } = closingEvents(run.id, last?.event, ending, opts.now());
  if (error && opts.errorEvent !== false) await append(error);
  await append(done); // finishes the run too
  opts.hooks?.runFinished?.(run, done);
  return { outcome: "closed", lastSeq: seq - 1 };
}
