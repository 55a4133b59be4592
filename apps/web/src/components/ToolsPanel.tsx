import { useState } from "react";
import { describeError } from "../lib/errors.js";
import { trpc } from "../trpc.js";
import { sourceLabel } from "./ApprovalCard.js";
import "./tools.css";

const stateLabels: Record<string, string> = {
  connected: "connected",
  starting: "starting…",
  failed: "failed",
  disabled: "disabled in the server's config",
};

/**
 * The tools the model may use in this user's chats: built-ins and each MCP server's, with the server's state and
 * the user's switch for it (stored on the server: it applies to every device, to runs started afterwards).
 */
export function ToolsPanel() {
  const [open, setOpen] = useState(false);
  const utils = trpc.useUtils();
  // Polled while open: servers connect, fail and restart on their own.
  const list = trpc.tools.list.useQuery(undefined, { enabled: open, refetchInterval: open ? 3000 : false });
  // Tools' schemas are part of every request: the room left for a message changes with them.
  const setEnabled = trpc.tools.setServerEnabled.useMutation({ onSettled: () => Promise.all([utils.tools.list.invalidate(), utils.models.room.invalidate()]) });
  const failure = list.error ?? setEnabled.error;

  return (
    <details className="sidebar__details tools-panel" data-testid="tools-panel" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Tools</summary>
      {failure && (
        <p className="tools-panel__error" role="alert">
          {/* In words, as everywhere else in the app: the server's own message is for logs, not for the person. */}
          {list.error ? "Could not load the tools." : "Could not switch the MCP server."} {describeError(failure).title}
        </p>
      )}
      {list.isLoading && <p className="muted small">Loading…</p>}
      {list.data && list.data.servers.length > 0 && (
        <ul className="tools-panel__servers" aria-label="MCP servers">
          {list.data.servers.map((server) => (
            <li key={server.name} data-testid="tools-server" data-server={server.name} data-state={server.state}>
              <label className="tools-panel__switch">
                <input
                  type="checkbox"
                  role="switch"
                  checked={server.enabled}
                  disabled={server.state === "disabled" || setEnabled.isPending}
                  onChange={(e) => setEnabled.mutate({ server: server.name, enabled: e.target.checked })}
                />
                <span className="tools-panel__server-name">{server.name}</span>
              </label>
              <span className={`tools-panel__state tools-panel__state--${server.state}`}>
                {server.transport} · {stateLabels[server.state] ?? server.state}
              </span>
              {server.error && <span className="tools-panel__server-error small">{server.error}</span>}
            </li>
          ))}
        </ul>
      )}
      {list.data && (
        <ul className="tools-panel__tools" aria-label="Tools">
          {list.data.tools.map((tool) => (
            <li key={tool.name} data-testid="tools-tool" data-tool={tool.name} data-offered={tool.offered}>
              <div className="tools-panel__tool-head">
                <code className={tool.offered ? "" : "tools-panel__off"}>{tool.name}</code>
                {tool.requiresApproval && <span className="tools-panel__badge">asks first</span>}
              </div>
              <div className="tools-panel__meta small muted">
                {sourceLabel(tool.source)}
                {tool.unavailable && ` · not offered: ${tool.unavailable}`}
              </div>
              {tool.description && <p className="tools-panel__description small">{tool.description}</p>}
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}
