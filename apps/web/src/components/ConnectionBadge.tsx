import type { ConnectionState } from "../chat/useRunEvents.js";

const labels: Record<ConnectionState, string> = {
  idle: "idle",
  connecting: "connecting",
  live: "live",
  reconnecting: "reconnecting",
  "caught-up": "caught up",
  error: "disconnected",
};

export function ConnectionBadge({ state, error }: { state: ConnectionState; error: string | null }) {
  return (
    <span
      className={`connection connection--${state}`}
      data-testid="connection"
      data-state={state}
      title={error ?? `Stream: ${labels[state]}`}
    >
      <span className="connection__dot" aria-hidden="true" />
      <span>{labels[state]}</span>
    </span>
  );
}
