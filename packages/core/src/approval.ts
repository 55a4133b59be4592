import { z } from "zod";
import { abortReason } from "./abort.js";
import { isStorableText } from "./storable-text.js";
import { timerDelay } from "./timers.js";
import type { AnyTool, ToolFailure } from "./tools.js";

/** TOOL_APPROVAL_TIMEOUT_MS default (DESIGN §10): ten minutes. */
export const defaultApprovalTimeoutMs = 600_000;
/** Longest reason kept (and sent to the model); longer ones are cut. */
export const maxApprovalReasonChars = 500;

/** A person's decision on one call (the body of `chat.approve` besides runId and callId). */
export const approvalDecisionSchema = z.object({
  approved: z.boolean(),
  reason: z
    .string()
    .max(maxApprovalReasonChars)
    // Kept as a plain text column (approval_decisions), not as JSON: refused at the edge like ids (storable-text.ts).
    .refine(isStorableText, { error: "must not contain NUL or unpaired surrogate characters" })
    .optional(),
});
export type ApprovalDecision = z.infer<typeof approvalDecisionSchema>;

/** What the run asks its `approve` hook about. */
export interface ApprovalRequest {
  callId: string;
  /** The tool's name as offered to the model. */
  name: string;
  /** Validated arguments: what the tool runs with once approved. */
  args: unknown;
  /** "builtin" or the MCP server's name. */
  source: string;
  tool: AnyTool;
  /** When the run stops waiting and denies the call as timed out (ms since the epoch). */
  expiresAt: number;
  /**
   * true when the approval-request event was already emitted by an earlier process (a resumed run):
   * the hook is asked again for the same call, no new event is emitted.
   */
  resumed: boolean;
}

export interface ApprovalHookContext {
  /** Aborted when the run is cancelled, its consumer stops, or the request times out: stop waiting. */
  signal: AbortSignal;
}

/** Resolves with the decision; may ignore the signal (the run stops waiting by itself). */
export type ApproveHook = (request: ApprovalRequest, ctx: ApprovalHookContext) => Promise<ApprovalDecision>;

/** How a wait ended; `timedOut` only for a denial. */
export interface ApprovalOutcome {
  approved: boolean;
  reason?: string;
  timedOut: boolean;
}

export const waitingForApprovalMessage = (name: string) => `Waiting for your approval to use ${name}…`;

/** The tool_denied failure the model (and the tool-result event) gets for a call that did not run. */
export function deniedFailure(name: string, outcome: ApprovalOutcome, timeoutMs: number): ToolFailure {
  if (outcome.timedOut) {
    return { code: "tool_denied", message: `Approval for ${name} timed out after ${Math.round(timeoutMs / 100) / 10} s: the call was not run.` };
  }
  const because = outcome.reason ? ` Reason: ${outcome.reason}` : "";
  return { code: "tool_denied", message: `The user denied the call to ${name}: it was not run.${because}` };
}

/** A tool needing approval in a run without an `approve` hook: refused, never run unasked. */
export function unaskableFailure(name: string): ToolFailure {
  return { code: "tool_denied", message: `Tool ${name} needs a person's approval, and this run has no way to ask for it: the call was not run.` };
}

/** A hook that failed (not a cancel): the call is denied, never run without a decision. */
const failedHookReason = "The approval could not be obtained.";

/**
 * Asks the hook and waits for its decision, at most until `expiresAt` (then a timed-out denial; the
 * hook's signal is aborted). Rejects only when `signal` aborts (the run's cancel), with its reason.
 * A decision that is not `approved: true` denies the call; a hook that throws denies it too.
 */
export function askApproval(
  approve: ApproveHook,
  request: ApprovalRequest,
  opts: { signal: AbortSignal; now: () => number },
): Promise<ApprovalOutcome> {
  if (opts.signal.aborted) return Promise.reject(abortReason(opts.signal));
  const expiry = new AbortController();
  const hookSignal = AbortSignal.any([opts.signal, expiry.signal]);
  return new Promise<ApprovalOutcome>((resolve, reject) => {
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal.removeEventListener("abort", onAbort);
      finish();
    };
    const onAbort = () => settle(() => reject(abortReason(opts.signal)));
    opts.signal.addEventListener("abort", onAbort, { once: true });
    const remaining = Math.max(0, request.expiresAt - opts.now());
    const timer = setTimeout(() => {
      settle(() => resolve({ approved: false, timedOut: true }));
      expiry.abort(new Error("the approval request timed out"));
    }, timerDelay(remaining));
    let pending: Promise<ApprovalDecision>;
    try {
      pending = Promise.resolve(approve(request, { signal: hookSignal }));
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (decision) => settle(() => resolve(outcomeOf(decision))),
      () => settle(() => resolve({ approved: false, reason: failedHookReason, timedOut: false })),
    );
  });
}

// Typed, but checked anyway: only `approved: true` runs a tool; a too-long reason is cut, not refused.
function outcomeOf(decision: unknown): ApprovalOutcome {
  const fields = typeof decision === "object" && decision !== null ? (decision as { approved?: unknown; reason?: unknown }) : {};
  const reason = typeof fields.reason === "string" ? fields.reason.trim().slice(0, maxApprovalReasonChars) : "";
  return { approved: fields.approved === true, ...(reason ? { reason } : {}), timedOut: false };
}

/** Whether a call needs approval: the run's policy when it has one, else the tool's own flag. */
export type ApprovalPolicy = (tool: AnyTool, args: unknown) => boolean;
export const defaultApprovalPolicy: ApprovalPolicy = (tool) => tool.requiresApproval === true;

/** "builtin" for tools without a source (DESIGN §10 `tools.list`). */
export function sourceOf(tool: AnyTool): string {
  return tool.source ?? "builtin";
}
