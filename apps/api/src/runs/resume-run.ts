import { runSnapshotOf, type ChatEvent, type EventOf } from "@streamchat/core";
import type { ChatStore, RunRecord, StoredEvent } from "@streamchat/store";

/**
 * Continuing a run that an earlier process left waiting for a person's approval (a shutdown suspended it, or the
 * process died): which runs qualify, and what is logged before the run goes on.
 */

/** What a run continued by recovery says first, when its log has no waiting status to repeat. */
const waitingMessage = "Waiting for approval";

/** The message of a call that was running when the process stopped: it is answered as failed, never run twice. */
export const interruptedCallMessage = "The server restarted while this tool was running; it was not run again.";

/** Whether a run's log (its own events, in seq order) ends waiting for a person: some call asked and not decided. */
export function waitsForApproval(events: readonly ChatEvent[]): boolean {
  const snapshot = runSnapshotOf(events);
  return !snapshot.finished && !snapshot.answered && snapshot.waitingForApproval.length > 0;
}

/**
 * The run's log when it waits for approval and may be continued, else undefined (the run is closed instead). Reads
 * the whole log only for runs that asked for approval at all (most runs left open did not).
 *
 * A run with answer messages stored is never continued, whatever its log says. A run stores its answer only with
 * its `done`, in one commit; the one writer that stores messages before the log ends is a close (closeRunFromLog:
 * a cancel's, a store failure's, recovery's), which appends them one by one and then its closing events. A process
 * that died in between leaves a log without an end that may still wait for approval; continuing it would store the
 * whole answer again at its `done` (the close's messages being part of it) and run calls the close answered as
 * cancelled or failed. Closing it instead completes the close that began: the stored messages count as the first
 * ones rebuilt from the log, and the conversation keeps what was streamed, once.
 */
export async function waitingLog(store: ChatStore, run: RunRecord): Promise<StoredEvent[] | undefined> {
  if ((await store.readEventsOfTypes(run.id, ["approval-request"])).length === 0) return undefined;
  const log = await store.readEvents(run.id);
  if (!waitsForApproval(log.map((stored) => stored.event))) return undefined;
  return (await closeBegan(store, run)) ? undefined : log;
}

/** Whether a close began storing the run's answer: some message of the run other than its question is stored. */
async function closeBegan(store: ChatStore, run: RunRecord): Promise<boolean> {
  const messages = await store.listMessages(run.conversationId);
  return messages.some((stored) => stored.runId === run.id && stored.message.role !== "user");
}

/**
 * The event recovery commits before it continues a run, at the seq below the continued run's first: the run, taken
 * over, waits for approval (the log's last waiting status, told again).
 *
 * Why it is committed first: the continued run hands its events to subscribers before their batch commits, and
 * numbers them from the log's end plus the recovery gap. A process that died before that first commit left the log
 * as it found it, so the next one would number from the same base and hand out ids subscribers saw from the dead
 * one, naming other events. With this event durable, the next recovery counts its gap from above the dead process's
 * base, as it does from the log's end after any other crash (only Redis, `lastSeenSeq`, would otherwise know).
 */
export function takeoverStatus(log: readonly StoredEvent[], runId: string, at: number): EventOf<"status"> {
  let message = waitingMessage;
  for (const { event } of log) if (event.type === "status" && event.phase === "waiting") message = event.message;
  return { type: "status", runId, at, phase: "waiting", message };
}

/**
 * Results to log before resuming: the pending calls that had started when the process stopped (those that needed
 * no approval, and approved ones: the run starts a call as soon as it logs its approval) are answered `interrupted`.
 * The run loop would run them again otherwise, and a tool with side effects must run at most once; the model reads
 * the failure and can ask again.
 */
export function interruptedResults(events: readonly ChatEvent[], runId: string, at: number): Array<EventOf<"tool-result">> {
  const snapshot = runSnapshotOf(events);
  return snapshot.pendingCalls
    .filter((call) => !snapshot.requested.has(call.id) || snapshot.decided.get(call.id)?.approved === true)
    .map((call) => ({
      type: "tool-result",
      runId,
      at,
      callId: call.id,
      name: call.name,
      ok: false,
      error: { code: "interrupted", message: interruptedCallMessage },
      durationMs: 0,
    }));
}
