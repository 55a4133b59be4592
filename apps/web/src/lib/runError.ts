import { errorCodeMessages, type ErrorCode } from "@streamchat/core/browser";

/**
 * What the error box under a failed answer says: a short title from the code, in the box's own calm words (core's
 * errorCodeMessages add a question or advice for UIs that have nothing else), and the server's message under it
 * only when it tells the reader something the title does not.
 */
export const runErrorTitles: Readonly<Record<ErrorCode, string>> = {
  ...errorCodeMessages,
  // Core's words for these add a question or advice; in the box, under a failed answer, the fact alone.
  provider_unavailable: "The model server is not reachable.",
  model_unsupported: "That model cannot do what this request needs.",
  rate_limited: "Too many requests at once.",
};

/**
 * Codes whose message core words from the code itself (packages/core providers/http-errors.ts: "Cannot reach the model
 * server (ECONNREFUSED). Is it running?", "The connection to the model server broke mid-answer (terminated).", a
 * restart's own words): under the title it is the same thing said twice. The network code in it is for the operator,
 * and the server logs it. Every other code's message carries what the model server or the tool said (its own words).
 */
const restatedCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["provider_unavailable", "stream_truncated", "interrupted", "cancelled"]);

export interface RunErrorText {
  title: string;
  /** The server's words, when they add something to the title; else null. */
  detail: string | null;
}

/** The words of the error box for a run's `error` event (null when the run ended with an error but sent none). */
export function runErrorText(error: { code: ErrorCode; message: string } | null, reason: string | undefined): RunErrorText {
  if (!error) {
    return { title: reason === "interrupted" ? runErrorTitles.interrupted : "This answer ended with an error.", detail: null };
  }
  const title = runErrorTitles[error.code];
  const message = error.message.trim();
  const said = message === "" || restatedCodes.has(error.code) || message === title || message === errorCodeMessages[error.code];
  return { title, detail: said ? null : message };
}
