import type { AppRouter } from "@streamchat/api";
import type { TRPCClientErrorLike } from "@trpc/client";
import { describeError, httpStatusOf, trpcCodeOf } from "../lib/errors.js";

/** Why a decision on a tool call did not go through, in words the user can act on. */
export interface ApprovalFailure {
  text: string;
  /** Sending the same decision again may work (the server was out of reach or busy); otherwise there is nothing to retry. */
  retry: boolean;
}

/** What became of a call chat.approve refused to decide (`error.data.conflict`), as the API's error shape types it. */
type ApprovalConflict = NonNullable<NonNullable<TRPCClientErrorLike<AppRouter>["data"]>["conflict"]>;

/** Which decision won, or why none is waited for; a new reason of the API's fails the type check here until it has words. */
const conflictTexts: Record<ApprovalConflict, string> = {
  approved: "Already approved elsewhere (another tab, device or the CLI).",
  denied: "Already denied elsewhere (another tab, device or the CLI).",
  timed_out: "The time to decide ran out: the call was denied.",
  ended: "The answer has ended: nothing waits for a decision.",
  answered: "The answer went on without this call's decision: nothing waits for one.",
};

/** CONFLICT without a reason this client knows (an older server, a newer reason) keeps the general words. */
const decidedElsewhere = "Already decided elsewhere, or the answer no longer waits for a decision.";

function conflictOf(error: unknown): ApprovalConflict | null {
  const conflict = (error as { data?: { conflict?: unknown } } | null)?.data?.conflict;
  return typeof conflict === "string" && Object.hasOwn(conflictTexts, conflict) ? (conflict as ApprovalConflict) : null;
}

/**
 * A failed chat.approve as the approval card says it. The server's own sentences are written for API clients ("This
 * run has no approval request with that callId."); the card says what happened to this call and whether to try again.
 * The codes are those of apps/api's approve-call.ts: CONFLICT (decided already, in another tab or by the time limit, or
 * the run ended; `data.conflict` says which), NOT_FOUND (the run or its chat deleted), TIMEOUT (the decision is kept,
 * the run has not acted on it).
 */
export function approvalFailure(error: unknown): ApprovalFailure {
  switch (trpcCodeOf(error)) {
    case "CONFLICT": {
      const conflict = conflictOf(error);
      return { text: conflict ? conflictTexts[conflict] : decidedElsewhere, retry: false };
    }
    case "NOT_FOUND":
      return { text: "This answer no longer exists: the chat may have been deleted in another tab.", retry: false };
    case "TIMEOUT":
      return { text: "Your decision is saved, but the answer has not gone on yet. Try again to see what happened.", retry: true };
    case "UNAUTHORIZED":
    case "FORBIDDEN":
      return { text: "The server refused access: enter the server's API token in Settings.", retry: false };
    case "TOO_MANY_REQUESTS":
      return { text: "The server is busy — try again in a moment.", retry: true };
    case "BAD_REQUEST":
    case "PAYLOAD_TOO_LARGE":
    case "UNPROCESSABLE_CONTENT":
      return { text: "The server did not accept this decision.", retry: false };
    case null:
      break;
    default: {
      // INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE (the database, a shutdown), BAD_GATEWAY: the server's trouble, not the call's.
      const status = httpStatusOf(error);
      if (status === null || status >= 500) return { text: "The server could not take the decision right now — try again in a moment.", retry: true };
      return { text: "The server did not accept this decision.", retry: false };
    }
  }
  // No answer of the API: the network (offline, the server down) or a proxy's own error page.
  const status = httpStatusOf(error);
  if (status === null) return { text: "Could not reach the server — try again.", retry: true };
  const described = describeError(error);
  return { text: described.title, retry: described.retryable };
}
