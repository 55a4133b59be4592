import { useId, useState } from "react";
import type { ToolCard } from "../chat/reducer.js";
import { formatMs, formatValue } from "../lib/format.js";
import { Icon } from "./Icon.js";

/**
 * The arguments in a few words for the one-line summary: the values of a small object ("Asia/Tokyo", "6*7"),
 * else compact JSON (cut by CSS). The full, pretty-printed JSON is one click away.
 */
export function argumentSummary(args: unknown): string {
  if (args === undefined || args === null) return "";
  if (typeof args !== "object") return String(args);
  const values = Object.values(args as Record<string, unknown>);
  if (values.length === 0) return "";
  if (values.every((v) => typeof v === "string" || typeof v === "number" || typeof v === "boolean")) return values.join(", ");
  return JSON.stringify(args);
}

const verb = { running: "Using", ok: "Used", error: "Failed:" } as const;

/**
 * One tool call as a compact line — "Used current_time · Asia/Tokyo · 3 ms" — with a spinner while it runs
 * and a clear failure state; expanding it shows the arguments and the result as formatted JSON.
 */
export function ToolItem({ tool }: { tool: ToolCard }) {
  const [open, setOpen] = useState(false);
  const bodyId = useId();
  const summary = argumentSummary(tool.args);
  const args = formatValue(tool.args);
  return (
    <div className="tool" data-testid="tool-card" data-tool={tool.name} data-state={tool.state}>
      <button type="button" className="tool__toggle" aria-expanded={open} aria-controls={bodyId} onClick={() => setOpen((o) => !o)}>
        <span className="tool__icon" aria-hidden="true">
          {tool.state === "running" ? <span className="spinner" /> : tool.state === "ok" ? <Icon name="tool" size={14} /> : <Icon name="alert" size={14} />}
        </span>
        <span className="tool__label">
          {verb[tool.state]} <span className="tool__name">{tool.name}</span>
        </span>
        {/* Real spaces between the parts: the line reads as one sentence to copy and to screen readers. */}
        {summary && <> <span className="tool__summary">{summary}</span></>}
        {tool.state === "error" && tool.error && (
          <>
            {" — "}
            <span className="tool__failure">{tool.error.message}</span>
          </>
        )}
        {tool.durationMs !== undefined && (
          <>
            {" · "}
            <span className="tool__duration">{formatMs(tool.durationMs)}</span>
          </>
        )}
        <span className="tool__chevron" aria-hidden="true">
          <Icon name="chevronDown" size={14} />
        </span>
      </button>
      {open && (
        <div className="tool__body" id={bodyId}>
          <section>
            <h4>Arguments</h4>
            <pre>{args && args !== "{}" ? args : "none"}</pre>
          </section>
          {tool.state === "ok" && tool.result !== undefined && (
            <section>
              <h4>Result</h4>
              <pre data-testid="tool-result">{formatValue(tool.result)}</pre>
            </section>
          )}
          {tool.state === "error" && (
            <section>
              <h4>Error</h4>
              <p className="tool__error">{tool.error?.message ?? "The call ended before it returned a result."}</p>
            </section>
          )}
          {tool.state === "running" && <p className="muted small">Waiting for the result…</p>}
        </div>
      )}
    </div>
  );
}
