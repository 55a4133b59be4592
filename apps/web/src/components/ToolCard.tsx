import type { ToolCard as ToolCardState } from "../chat/reducer.js";
import { formatMs, formatValue } from "../lib/format.js";

const stateLabel = { running: "running", ok: "done", error: "failed" } as const;

/** One tool call: name, arguments, then its result or error and how long it took. */
export function ToolCard({ tool }: { tool: ToolCardState }) {
  const args = formatValue(tool.args);
  return (
    <div className={`tool-card tool-card--${tool.state}`} data-testid="tool-card" data-tool={tool.name}>
      <div className="tool-card__head">
        <span className="tool-card__icon" aria-hidden="true">
          {tool.state === "running" ? <span className="spinner" /> : tool.state === "ok" ? "✓" : "!"}
        </span>
        <code className="tool-card__name">{tool.name}</code>
        <span className="tool-card__state">{stateLabel[tool.state]}</span>
        {tool.durationMs !== undefined && <span className="tool-card__duration">{formatMs(tool.durationMs)}</span>}
      </div>
      <dl className="tool-card__body">
        {args && args !== "{}" && (
          <>
            <dt>Arguments</dt>
            <dd>
              <pre>{args}</pre>
            </dd>
          </>
        )}
        {tool.state === "ok" && tool.result !== undefined && (
          <>
            <dt>Result</dt>
            <dd>
              <pre data-testid="tool-result">{formatValue(tool.result)}</pre>
            </dd>
          </>
        )}
        {tool.error && (
          <>
            <dt>Error</dt>
            <dd className="tool-card__error">{tool.error.message}</dd>
          </>
        )}
      </dl>
    </div>
  );
}
