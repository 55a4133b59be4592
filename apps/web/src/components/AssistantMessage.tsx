import { errorCodeMessages } from "@streamchat/core";
import type { MessageState } from "../chat/reducer.js";
import { Markdown } from "./Markdown.js";
import { RunMetrics } from "./RunMetrics.js";
import { ToolCard } from "./ToolCard.js";

export interface AssistantMessageProps {
  state: MessageState;
  /** Events may still arrive (the run has not ended). */
  streaming: boolean;
  /** Unfinished, and the page stopped following it: its stream kept ending early (the error bar offers Retry). */
  disconnected?: boolean;
  /** Offer Retry / Regenerate (the last answer, while nothing runs). */
  actionsEnabled: boolean;
  onRetry?: () => void;
  onRegenerate?: () => void;
}

const reasonNotes: Partial<Record<string, string>> = {
  length: "The answer hit the model's length limit.",
  "max-steps": "Stopped after the maximum number of tool rounds.",
};

export function AssistantMessage({ state, streaming, disconnected = false, actionsEnabled, onRetry, onRegenerate }: AssistantMessageProps) {
  const waiting = streaming && state.text === "";
  const reason = state.done?.reason;
  const stopped = reason === "cancelled";
  const failed = state.error !== null || reason === "error" || reason === "interrupted";

  return (
    <article
      className={`message message--assistant${streaming ? " is-streaming" : ""}`}
      data-testid="assistant-message"
      data-run-id={state.runId ?? undefined}
      data-state={streaming ? "streaming" : disconnected ? "disconnected" : (reason ?? "done")}
      aria-busy={streaming}
    >
      {state.reasoning && (
        <details className="reasoning">
          <summary>{streaming && !state.text ? "Thinking…" : "Reasoning"}</summary>
          <div className="reasoning__text">{state.reasoning}</div>
        </details>
      )}

      {state.tools.length > 0 && (
        <div className="tool-list">
          {state.tools.map((tool) => (
            <ToolCard key={tool.callId} tool={tool} />
          ))}
        </div>
      )}

      {streaming && (waiting || state.status) && (
        <p className="status-line" data-testid="status-line">
          <span className="spinner" aria-hidden="true" />
          {state.status?.message ?? "Processing your question…"}
        </p>
      )}

      {state.text && (
        <div className="message__body" data-testid="answer-text">
          <Markdown text={state.text} />
          {streaming && <span className="cursor" aria-hidden="true" />}
        </div>
      )}

      {disconnected && (
        <p className="note" data-testid="disconnected">
          Not finished: the connection to this answer was lost.
        </p>
      )}
      {stopped && (
        <p className="note note--stopped" data-testid="stopped">
          Stopped
        </p>
      )}
      {reason && reasonNotes[reason] && <p className="note">{reasonNotes[reason]}</p>}

      {failed && (
        <div className="error-box" role="alert" data-testid="run-error">
          <strong>
            {state.error
              ? errorCodeMessages[state.error.code]
              : reason === "interrupted"
                ? errorCodeMessages.interrupted
                : "This answer ended with an error."}
          </strong>
          {state.error?.message && <span className="error-box__detail">{state.error.message}</span>}
          {actionsEnabled && onRetry && (
            <button type="button" className="button button--small" onClick={onRetry}>
              Retry
            </button>
          )}
        </div>
      )}

      <footer className="message__footer">
        <RunMetrics state={state} />
        {actionsEnabled && !failed && onRegenerate && (
          <button type="button" className="button button--ghost button--small" onClick={onRegenerate}>
            Regenerate
          </button>
        )}
      </footer>
    </article>
  );
}
