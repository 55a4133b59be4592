import { errorCodeMessages, isRetryable } from "./errors.js";
import { emptyUsage, type ChatEvent, type DoneReason, type ErrorCode, type EventOf, type Usage } from "./events.js";

/** How a run that cannot finish normally is closed: its error event's code and message, and its done reason. */
export interface RunEnding {
  code: ErrorCode;
  message: string;
  reason: DoneReason;
}

/** A run whose process stopped under it (a crash, a dead replica, an export taken while it answered). */
export const interruptedEnding: RunEnding = { code: "interrupted", message: errorCodeMessages.interrupted, reason: "interrupted" };

/**
 * The events that close a run after `last` (the last event its log or its subscribers have): the ending's error, then
 * `done`. No error when `last` is already that error (an earlier, half-done attempt wrote it), so a subscriber is
 * never told the same failure twice.
 */
export function closingEvents(
  runId: string,
  last: ChatEvent | undefined,
  ending: RunEnding,
  at: number,
  usage: Usage = emptyUsage(),
): { error: EventOf<"error"> | undefined; done: EventOf<"done"> } {
  const done: EventOf<"done"> = { type: "done", runId, at, reason: ending.reason, usage };
  if (last?.type === "error" && last.code === ending.code) return { error: undefined, done };
  const { code, message } = ending;
  return { error: { type: "error", runId, at, code, message, retryable: isRetryable(code) }, done };
}
