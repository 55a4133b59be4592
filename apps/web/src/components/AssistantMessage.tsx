import { splitUnopenedReasoning } from "@streamchat/core/browser";
import { useMemo, useState, type ReactNode } from "react";
import type { MessageState, ReasoningStep, ToolCard } from "../chat/reducer.js";
import { copyText } from "../lib/clipboard.js";
import { runErrorText } from "../lib/runError.js";
import { ApprovalCard } from "./ApprovalCard.js";
import { Elapsed } from "./Elapsed.js";
import { Icon } from "./Icon.js";
import { Markdown } from "./Markdown.js";
import { Popover } from "./Popover.js";
import { Reasoning } from "./Reasoning.js";
import { metricsOf, RunMetrics } from "./RunMetrics.js";
import { ToolItem } from "./ToolItem.js";

export interface AssistantMessageProps {
  state: MessageState;
  /** Events may still arrive (the run has not ended). */
  streaming: boolean;
  /** Unfinished, and the page stopped following it: its stream kept ending early (the error bar offers Retry). */
  disconnected?: boolean;
  /** Answer again after a retryable failure; left out when retrying cannot help or is not possible now. */
  onRetry?: () => void;
  /** Answer this question again; left out where regenerating is not offered (see ChatPane). */
  onRegenerate?: () => void;
  /** Write on from this answer (the last one, not answering); offered once it ended short (stopped, length, failed) with text. */
  onContinue?: () => void;
  /**
   * Copy the conversation up to this answer into a new chat (conversations.branch) and open it; resolves false when it
   * failed (the row says so). Left out while the answer runs or is not stored yet.
   */
  onBranch?: () => Promise<boolean>;
  /** ‹ 2 / 3 › when the answer was regenerated (VersionNav). */
  versionNav?: ReactNode;
  /** The element's id (ChatPane scrolls to a message opened from the search by it). */
  id?: string | undefined;
}

const reasonNotes: Partial<Record<string, string>> = {
  length: "The answer hit the model's length limit.",
  "max-steps": "Stopped after the maximum number of tool rounds.",
};

/** What the answer is doing while nothing else shows it: before the first event, between tool rounds. */
function waitingMessage(state: MessageState): string {
  if (state.status && state.status.phase !== "tool") return state.status.message;
  return state.steps.length > 0 ? "Working on the answer…" : "Processing your question…";
}

/**
 * The answer's text as shown, and the reasoning a model server left in it without its opening marker (core's
 * splitUnopenedReasoning: "…\n</think>\n\nanswer", an R1 distill on vLLM without a reasoning parser), folded as the
 * answer's reasoning once its closing marker has come; until then it shows as the answer it streamed as. Only for an
 * answer without reasoning of its own: where the server separated it, a marker in the text is the answer's.
 */
function useAnswerText(state: MessageState): { answer: string; leftOpen: ReasoningStep | undefined } {
  const separated = state.steps.some((step) => step.kind === "reasoning");
  return useMemo(() => {
    const split = separated ? undefined : splitUnopenedReasoning(state.text);
    if (split === undefined) return { answer: state.text, leftOpen: undefined };
    return { answer: split.answer, leftOpen: { kind: "reasoning", text: split.reasoning, startedAt: null, endedAt: null } };
  }, [state.text, separated]);
}

/** A tool call, with its approval card while it waits for the user (and its decision once made). */
function ToolStepView({ runId, tool, live }: { runId: string | null; tool: ToolCard; live: boolean }) {
  const { approval } = tool;
  return (
    <>
      <ToolItem tool={tool} />
      {approval && runId && <ApprovalCard runId={runId} tool={{ ...tool, approval }} live={live} />}
    </>
  );
}

export function AssistantMessage({
  state,
  streaming,
  disconnected = false,
  onRetry,
  onRegenerate,
  onContinue,
  onBranch,
  versionNav,
  id,
}: AssistantMessageProps) {
  const reason = state.done?.reason;
  const stopped = reason === "cancelled";
  const failed = state.error !== null || reason === "error" || reason === "interrupted";
  const retryable = state.error ? state.error.retryable : true;
  const errorText = runErrorText(state.error, reason);
  // One way on from a failure. Retry and Regenerate both ask the server for a new answer to the question (ChatPane:
  // chat.regenerate), so side by side they are one action offered twice; and a model server that was down is fixed by
  // asking the same again, which is what "Retry" says (and it sits in the box that tells of the failure). Regenerate
  // stays where Retry is not offered: an error retrying cannot fix (another model may), an answer that is not the last.
  const offersRetry = failed && retryable && onRetry !== undefined;
  const tools = new Map<string, ToolCard>(state.tools.map((t) => [t.callId, t]));
  const lastStep = state.steps.at(-1);
  const reasoningLive = streaming && lastStep?.kind === "reasoning" && lastStep.endedAt === null;
  const toolRunning = streaming && state.tools.some((t) => t.state === "running");
  // One progress indicator at a time: the live reasoning or a running tool shows progress itself.
  const showWaiting = streaming && state.text === "" && !reasoningLive && !toolRunning;
  const { answer, leftOpen } = useAnswerText(state);
  // The model did not end it, and there is text to write on from (a last round of tool calls: the server says no).
  const endedShort = stopped || failed || reason === "length";
  const continueButton = onContinue !== undefined && !streaming && endedShort && answer.trim() !== "" && (
    <button type="button" className="button button--small" data-testid="continue-answer" onClick={onContinue}>
      Continue
    </button>
  );

  return (
    <article
      className={`message message--assistant${streaming ? " is-streaming" : ""}`}
      id={id}
      data-testid="assistant-message"
      data-run-id={state.runId ?? undefined}
      data-state={streaming ? "streaming" : disconnected ? "disconnected" : (reason ?? "done")}
      aria-busy={streaming}
      aria-label="Answer"
    >
      {state.steps.length > 0 && (
        <div className="steps">
          {state.steps.map((step, i) =>
            step.kind === "reasoning" ? (
              <Reasoning key={`r${i}`} step={step} live={streaming && step.endedAt === null} />
            ) : tools.has(step.callId) ? (
              <ToolStepView key={step.callId} runId={state.runId} tool={tools.get(step.callId)!} live={streaming} />
            ) : null,
          )}
        </div>
      )}

      {showWaiting && (
        <p className="status-line" data-testid="status-line">
          <span className="typing" aria-hidden="true">
            <span />
            <span />
            <span />
          </span>
          <span>
            {waitingMessage(state)}
            {/* A new wait (another message) counts from its own start. */}
            <Elapsed key={waitingMessage(state)} />
          </span>
        </p>
      )}

      {leftOpen && (
        <div className="steps">
          <Reasoning step={leftOpen} live={false} />
        </div>
      )}

      {answer && (
        // Not read out token by token (the transcript is a live log): the pane reads the whole answer once it ends.
        <div className="message__body" data-testid="answer-text" aria-live={streaming ? "off" : undefined}>
          <Markdown text={answer} streaming={streaming} />
        </div>
      )}

      {/* Not twice: while the status line still says it, the note waits. */}
      {state.notes
        .filter((note) => !(showWaiting && waitingMessage(state) === note))
        .map((note) => (
          <p className="note" data-testid="answer-note" key={note}>
            {note}
          </p>
        ))}
      {disconnected && (
        <p className="note" data-testid="disconnected">
          Not finished: the connection to this answer was lost.
        </p>
      )}
      {stopped && (
        <div className="answer-end">
          <p className="note note--stopped" data-testid="stopped">
            Stopped
          </p>
          {continueButton}
        </div>
      )}
      {reason && reasonNotes[reason] && (
        <div className="answer-end">
          <p className="note">{reasonNotes[reason]}</p>
          {reason === "length" && continueButton}
        </div>
      )}

      {failed && (
        <div className="error-box" role="alert" data-testid="run-error">
          <Icon name="alert" size={18} />
          <div className="error-box__text">
            <strong>{errorText.title}</strong>
            {/* Only what the title does not say already (lib/runError.ts): once is enough. */}
            {errorText.detail && <span className="error-box__detail">{errorText.detail}</span>}
          </div>
          {continueButton}
          {offersRetry && (
            <button type="button" className="button button--small" onClick={onRetry}>
              Retry
            </button>
          )}
        </div>
      )}

      <AnswerActions
        state={state}
        answer={answer}
        hidden={streaming}
        onRegenerate={offersRetry ? undefined : onRegenerate}
        onBranch={streaming ? undefined : onBranch}
        versionNav={versionNav}
      />
    </article>
  );
}

/**
 * Copy, regenerate, branch and the run's numbers under an answer. The row keeps its place while the answer streams
 * (hidden, not absent), so nothing below jumps when it finishes. The answer's versions (‹ 2 / 3 ›) come first.
 */
function AnswerActions({
  state,
  answer,
  hidden,
  onRegenerate,
  onBranch,
  versionNav,
}: {
  state: MessageState;
  /** The answer as shown (useAnswerText): what Copy copies. */
  answer: string;
  hidden: boolean;
  onRegenerate?: () => void;
  onBranch?: () => Promise<boolean>;
  versionNav?: ReactNode;
}) {
  const [copied, setCopied] = useState<"idle" | "copied" | "failed">("idle");
  const [branching, setBranching] = useState<"idle" | "working" | "failed">("idle");
  const metrics = metricsOf(state);
  const copy = async () => {
    setCopied((await copyText(answer)) ? "copied" : "failed");
    setTimeout(() => setCopied("idle"), 1500);
  };
  const branch = async () => {
    // aria-disabled, not disabled, while it works: the focus stays on the button, and a second press does nothing.
    if (!onBranch || branching === "working") return;
    setBranching("working");
    // On success the new chat opens and this row goes with the pane; a failure stays said until the next try.
    setBranching((await onBranch()) ? "idle" : "failed");
  };
  return (
    <div className="answer-actions" data-testid="answer-actions" data-reserved={hidden || undefined}>
      {versionNav}
      {answer && (
        <button type="button" className="icon-button icon-button--small" aria-label="Copy" title="Copy answer" onClick={copy}>
          <Icon name={copied === "copied" ? "check" : "copy"} size={16} />
        </button>
      )}
      {onRegenerate && (
        <button type="button" className="icon-button icon-button--small" aria-label="Regenerate" title="Regenerate" onClick={onRegenerate}>
          <Icon name="regenerate" size={16} />
        </button>
      )}
      {onBranch && (
        <button
          type="button"
          className="icon-button icon-button--small"
          aria-label="Branch in new chat"
          title="Branch in new chat"
          aria-disabled={branching === "working" || undefined}
          onClick={branch}
        >
          <Icon name="branch" size={16} />
        </button>
      )}
      {metrics.length > 0 && (
        <Popover
          label="Answer details"
          title="Model, speed and timing"
          buttonClassName="icon-button icon-button--small"
          buttonContent={<Icon name="info" size={16} />}
        >
          <RunMetrics items={metrics} />
        </Popover>
      )}
      <span className="answer-actions__status" role="status">
        {copied === "copied"
          ? "Copied"
          : copied === "failed"
            ? "Copy failed"
            : branching === "working"
              ? "Making a new chat…"
              : branching === "failed"
                ? "Could not branch — try again."
                : ""}
      </span>
    </div>
  );
}
