import { runSnapshotOf, type ChatEvent, type EventOf } from "@streamchat/core";
import type { ChatStore, RunRecord, StoredEvent } from "@streamchat/store";

/**
 * Continuing a run that an earlier process left waiting for a person's approval (a shutdown suspended it, or the
 * process died): which runs qualify, and what is logged before the run goes on.
 */

/** The message of a call that was running when the process stopped: it is answered as failed, never run twice. */
export const interruptedCallMessage = "The server restarted while this tool was running; it was not run again.";

/** Whether a run's log (its own events, in seq order) ends waiting for a person: some call asked and not decided. */
export function waitsForApproval(events: readonly ChatEvent[]): boolean {
  const snapshot = runSnapshotOf(events);
  return !snapshot.finished && !snapshot.answered && snapshot.waitingForApproval.length > 0;
}

/**
 * The run's log when it waits for approval, else undefined. Reads the whole log only for runs that asked for
 * approval at all (most runs left open did not).
 */
export async function waitingLog(store: ChatStore, run: RunRecord): Promise<StoredEvent[] | undefined> {
  if ((await store.readEventsOfTypes(run.id, ["approval-request"])).length === 0) return undefined;
  const log = await store.readEvents(run.id);
  return waitsForApproval(log.map((stored) => stored.event)) ? log : undefined;
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
