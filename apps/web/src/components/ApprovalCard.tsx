import { useEffect, useState } from "react";
import type { ToolCard } from "../chat/reducer.js";
import { focusedByKeyboard } from "../lib/focus.js";
import { formatValue } from "../lib/format.js";
import { trpc } from "../trpc.js";
import { approvalFailure } from "./approvalFailure.js";
import { Icon } from "./Icon.js";
import "./tools.css";

/** "built-in tool" or the MCP server a tool comes from, as the card names it. */
export function sourceLabel(source: string): string {
  return source === "builtin" ? "built-in tool" : `MCP server “${source}”`;
}

function remaining(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return s >= 120 ? `${Math.ceil(s / 60)} min` : `${s} s`;
}

/**
 * A tool call that waits for the user's approval: the tool, its server, its exact arguments, and Approve / Deny.
 * The decision goes to chat.approve; the card changes once the run logs the decision (approval-result), which
 * every open tab sees, so two tabs never disagree on what happened.
 */
export function ApprovalCard({
  runId,
  tool,
  live,
}: {
  runId: string;
  tool: ToolCard & { approval: NonNullable<ToolCard["approval"]> };
  /** The run can still take the decision (an ended run's undecided call was never run). */
  live: boolean;
}) {
  const approve = trpc.chat.approve.useMutation();
  const [now, setNow] = useState(() => Date.now());
  const { approval } = tool;
  const waiting = approval.decision === "waiting" && live;
  useEffect(() => {
    if (!waiting) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [waiting]);

  const decide = (approved: boolean) => {
    // Both buttons are disabled at once and then gone: from the keyboard, the focus goes on to the message box instead of
    // falling to <body> (the decision is read out as the card's new line in the transcript).
    if (focusedByKeyboard()) document.getElementById("composer-input")?.focus();
    approve.mutate({ runId, callId: tool.callId, approved });
  };
  const failure = approve.error ? approvalFailure(approve.error) : null;
  // A refusal that asking again cannot change (decided already, the chat deleted) leaves nothing to press; the card
  // changes once the run's log says what happened.
  const sent = approve.isPending || approve.isSuccess || (failure !== null && !failure.retry);
  const lastDecision = approve.variables?.approved;

  return (
    <section className="approval" data-testid="approval-card" data-decision={approval.decision} aria-label={`Approve ${tool.name}?`}>
      <header className="approval__head">
        <Icon name="alert" size={16} />
        <span>
          {waiting ? "Allow this tool call?" : "Tool call"} <strong className="approval__tool">{tool.name}</strong>
          <span className="approval__source" data-testid="approval-source">
            {" "}
            · {sourceLabel(approval.source)}
          </span>
        </span>
      </header>
      {approval.description && <p className="approval__description">{approval.description}</p>}
      <pre className="approval__args" data-testid="approval-args">
        {formatValue(tool.args)}
      </pre>
      {waiting ? (
        <div className="approval__actions">
          <button type="button" className="button button--primary" disabled={sent} onClick={() => decide(true)}>
            Approve
          </button>
          <button type="button" className="button" disabled={sent} onClick={() => decide(false)}>
            Deny
          </button>
          {/* Ticks every second: read with the card, not again at every tick by the transcript's live log. */}
          <span className="approval__expires muted small" aria-live="off">
            Denied automatically in {remaining(approval.expiresAt - now)}
          </span>
        </div>
      ) : (
        <p className="approval__decided small" data-testid="approval-decision">
          {approval.decision === "waiting"
            ? "No decision was made: the call was not run."
            : approval.decision === "approved"
            ? "Approved"
            : approval.decision === "timed-out"
              ? "Not approved in time: denied"
              : `Denied${approval.reason ? `: ${approval.reason}` : ""}`}
        </p>
      )}
      {failure && (
        <div className="approval__failure">
          <p className="approval__error" role="alert" data-testid="approval-error">
            {failure.text}
          </p>
          {failure.retry && lastDecision !== undefined && (
            // The same decision again: a retried decision is answered as the first one was, never taken twice.
            <button type="button" className="button button--small" onClick={() => decide(lastDecision)}>
              Try again
            </button>
          )}
        </div>
      )}
    </section>
  );
}
