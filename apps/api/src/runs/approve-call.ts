import { TRPCError } from "@trpc/server";
import type { ApprovalDecision, EventOf } from "@streamchat/core";
import { isStoreError, type ChatStore, type StoredEvent } from "@streamchat/store";
import { ApprovalConflictError, notFound, type ApprovalConflict } from "../errors.js";
import type { DecisionSignal } from "./approvals.js";

export interface ApproveCallInput extends ApprovalDecision {
  runId: string;
  callId: string;
}

export interface ApproveCallResult {
  runId: string;
  callId: string;
  approved: boolean;
}

export interface ApproveCallDeps {
  store: ChatStore;
  signal: DecisionSignal;
  now: () => number;
  /**
   * The run's events after a seq, to its `done` (RunStreams.follow): chat.approve answers with what the run did with
   * the decision. Without it (a tool deciding for a run no process runs) the stored decision is the answer.
   */
  follow?: (runId: string, afterSeq: number, signal: AbortSignal) => AsyncIterable<StoredEvent>;
  /** Longest wait for the run to act on the decision (default 30 s); then TIMEOUT, and asking again tells. */
  actWaitMs?: number;
  /** The caller's (the request's): once it aborts (the client left), the run is no longer followed for an answer. */
  callerSignal?: AbortSignal | undefined;
}

/** How long chat.approve waits for the run to act on a decision by default. */
export const defaultActWaitMs = 30_000;

/** The CONFLICT for each way a call stops waiting for a decision; its reason goes to clients as `error.data.conflict`. */
const conflictMessages: Record<ApprovalConflict, string> = {
  approved: "This call was already approved.",
  denied: "This call was already denied.",
  timed_out: "This call's approval timed out: it was denied.",
  ended: "The run has ended: the call no longer waits for approval.",
  answered: "This call no longer waits for approval: the run answered it without a decision.",
};

const conflict = (reason: ApprovalConflict) => new ApprovalConflictError(reason, conflictMessages[reason]);

function decided(result: EventOf<"approval-result">): ApprovalConflict {
  if (result.approved) return "approved";
  return result.timedOut ? "timed_out" : "denied";
}

/**
 * chat.approve: decides a call of the user's run that waits for approval. The run's log says which calls wait (an
 * approval-request without an approval-result); the decision is stored first (the first one wins, from any client
 * or process, and it outlives a restart of the process running the run), then the process running the run is
 * told (DecisionSignal). Deciding again the same way is answered as the first time (a retried request); the other
 * way is refused.
 *
 * The answer is what the run did, read from its approval-result (which reaches followers only once it is in the log):
 * a stored decision is not enough, because the run stops waiting at `expiresAt` by itself, and a decision stored just
 * before that may reach it too late (the signal crossing replicas, the store read). The run then timed the call out,
 * and so does this answer (CONFLICT, as for a decision after the deadline). A run that does not act on the decision
 * within `actWaitMs` (its process died and no other took it over yet) gets TIMEOUT: the decision is kept, and asking
 * again answers with what the run did by then.
 */
export async function approveCall(deps: ApproveCallDeps, userId: string, input: ApproveCallInput): Promise<ApproveCallResult> {
  const { store } = deps;
  const run = await store.getRun(input.runId);
  if (!run || run.userId !== userId) throw notFound("Run");
  const events = await store.readEventsOfTypes(run.id, ["approval-request", "approval-result", "tool-result"]);
  const request = events.find((e): e is { seq: number; event: EventOf<"approval-request"> } => e.event.type === "approval-request" && e.event.callId === input.callId);
  if (!request) throw new TRPCError({ code: "NOT_FOUND", message: "This run has no approval request with that callId." });
  const result = events.find((e): e is { seq: number; event: EventOf<"approval-result"> } => e.event.type === "approval-result" && e.event.callId === input.callId);
  const answer = { runId: run.id, callId: input.callId };
  if (result) {
    if (result.event.approved === input.approved && !result.event.timedOut) return { ...answer, approved: result.event.approved };
    throw conflict(decided(result.event));
  }
  if (run.status !== "running") throw conflict("ended");
  // Answered without a decision: a continued run whose tool is gone (an MCP server that did not come back), or that
  // ran it because it no longer needs approval. The run never logs an approval-result for it, so following the run
  // would only end in TIMEOUT after actWaitMs, on every retry, while the run goes on.
  if (events.some((e) => e.event.type === "tool-result" && e.event.callId === input.callId)) throw conflict("answered");
  if (deps.now() >= request.event.expiresAt) throw conflict("timed_out");

  const reason = input.reason?.trim();
  const { decision, recorded } = await store
    .recordApprovalDecision({ runId: run.id, callId: input.callId, approved: input.approved, reason: reason || null })
    .catch((error: unknown) => {
      // Deleted since it was read (its conversation, from another tab): what a request for it answers now, not a 500.
      if (isStoreError(error, "not_found")) throw notFound("Run");
      throw error;
    });
  if (!recorded && decision.approved !== input.approved) {
    throw conflict(decision.approved ? "approved" : "denied");
  }
  await deps.signal.publish({ runId: run.id, callId: input.callId, owner: run.owner });
  if (!deps.follow) return { ...answer, approved: decision.approved };
  const acted = await whatTheRunDid(deps.follow, run.id, request.seq, input.callId, deps.actWaitMs ?? defaultActWaitMs, deps.callerSignal);
  if (acted === "ended") throw conflict("ended");
  if (acted === "answered") throw conflict("answered");
  if (acted === "pending") {
    throw new TRPCError({
      code: "TIMEOUT",
      message: "The decision is recorded, but the run has not acted on it yet (its server may be restarting); ask again to see what it did.",
    });
  }
  // The stored decision, unless the run timed the call out before it read it.
  if (acted.timedOut) throw conflict("timed_out");
  return { ...answer, approved: acted.approved };
}

/**
 * The call's approval-result; "answered" when its tool-result came first (answered without a decision, see above),
 * "ended" when the run's done came without either, "pending" after `waitMs`.
 */
async function whatTheRunDid(
  follow: NonNullable<ApproveCallDeps["follow"]>,
  runId: string,
  requestSeq: number,
  callId: string,
  waitMs: number,
  callerSignal: AbortSignal | undefined,
): Promise<EventOf<"approval-result"> | "answered" | "ended" | "pending"> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), waitMs);
  // A client that left gets no answer: its follower would otherwise stay for up to waitMs.
  const callerLeft = () => stop.abort();
  if (callerSignal?.aborted) stop.abort();
  else callerSignal?.addEventListener("abort", callerLeft);
  try {
    for await (const { event } of follow(runId, requestSeq, stop.signal)) {
      if (event.type === "approval-result" && event.callId === callId) return event;
      if (event.type === "tool-result" && event.callId === callId) return "answered";
      if (event.type === "done") return "ended";
    }
    return "pending";
  } catch (error) {
    if (stop.signal.aborted) return "pending";
    throw error;
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener("abort", callerLeft);
    stop.abort();
  }
}
