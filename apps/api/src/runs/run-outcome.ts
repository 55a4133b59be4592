import type { ChatEvent, ErrorCode } from "@streamchat/core";
import type { StoredEvent } from "@streamchat/store";

/** How one tool call of a run ended, as its `tool-result` event said. */
export interface ToolResultView {
  callId: string;
  name: string;
  ok: boolean;
  durationMs: number;
  error: { code: ErrorCode; message: string } | null;
}

/** What a finished run's stored messages cannot say: why it failed, how long its tools took, whether it continued an answer. */
export interface RunOutcome {
  error: { code: ErrorCode; message: string } | null;
  toolResults: ToolResultView[];
  /** It wrote on from an earlier answer (chat.continue; its run-start's `continues`): one that failed is continued again, not retried. */
  continued: boolean;
}

/** The only events runOutcomeFromEvents looks at: read just these from the log (ChatStore.readEventsOfTypes). */
export const outcomeEventTypes = ["run-start", "error", "tool-result"] as const satisfies ReadonlyArray<ChatEvent["type"]>;

export function emptyOutcome(): RunOutcome {
  return { error: null, toolResults: [], continued: false };
}

/**
 * Folds a run's event log into its outcome. Derived from the log rather than stored in new columns: the
 * log already holds exactly these facts, and it is the same source a client replaying the run would use.
 */
export function runOutcomeFromEvents(events: Iterable<StoredEvent>): RunOutcome {
  const outcome = emptyOutcome();
  for (const { event } of events) {
    if (event.type === "run-start") outcome.continued = event.continues === true;
    else if (event.type === "error") outcome.error = { code: event.code, message: event.message };
    else if (event.type === "tool-result") {
      outcome.toolResults.push({
        callId: event.callId,
        name: event.name,
        ok: event.ok,
        durationMs: event.durationMs,
        error: event.error ? { code: event.error.code, message: event.error.message } : null,
      });
    }
  }
  return outcome;
}
