import { TRPCError } from "@trpc/server";
import type { ApprovalDecision, EventOf } from "@streamchat/core";
import type { ChatStore } from "@streamchat/store";
import { AppError, notFound } from "../errors.js";
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
}

const conflict = (message: string) => new AppError("bad_request", message, "CONFLICT");

function decidedMessage(result: EventOf<"approval-result">): string {
  if (result.approved) return "This call was already approved.";
  return result.timedOut ? "This call's approval timed out: it was denied." : "This call was already denied.";
}

/**
 * chat.approve: decides a call of the user's run that waits for approval. The run's log says which calls wait (an
 * approval-request without an approval-result); the decision is stored first (the first one wins, from any client
 * or process, and it outlives a restart of the process running the run), then the process running the run is
 * told (DecisionSignal). Deciding again the same way is answered as the first time (a retried request); the other
 * way is refused.
 */
export async function approveCall(deps: ApproveCallDeps, userId: string, input: ApproveCallInput): Promise<ApproveCallResult> {
  const { store } = deps;
  const run = await store.getRun(input.runId);
  if (!run || run.userId !== userId) throw notFound("Run");
  const events = await store.readEventsOfTypes(run.id, ["approval-request", "approval-result"]);
  const request = events.find((e): e is { seq: number; event: EventOf<"approval-request"> } => e.event.type === "approval-request" && e.event.callId === input.callId);
  if (!request) throw new TRPCError({ code: "NOT_FOUND", message: "This run has no approval request with that callId." });
  const result = events.find((e): e is { seq: number; event: EventOf<"approval-result"> } => e.event.type === "approval-result" && e.event.callId === input.callId);
  const answer = { runId: run.id, callId: input.callId };
  if (result) {
    if (result.event.approved === input.approved && !result.event.timedOut) return { ...answer, approved: result.event.approved };
    throw conflict(decidedMessage(result.event));
  }
  if (run.status !== "running") throw conflict("The run has ended: the call no longer waits for approval.");
  if (deps.now() >= request.event.expiresAt) throw conflict("This call's approval timed out: it was denied.");

  const reason = input.reason?.trim();
  const { decision, recorded } = await store.recordApprovalDecision({ runId: run.id, callId: input.callId, approved: input.approved, reason: reason || null });
  if (!recorded && decision.approved !== input.approved) {
    throw conflict(decision.approved ? "This call was already approved." : "This call was already denied.");
  }
  await deps.signal.publish({ runId: run.id, callId: input.callId, owner: run.owner });
  return { ...answer, approved: decision.approved };
}
