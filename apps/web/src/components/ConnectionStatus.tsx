import type { ConnectionState } from "../chat/useRunEvents.js";
import { useOnline } from "../lib/useOnline.js";

/** Words only for trouble: a working connection is not news. */
export function connectionMessage(state: ConnectionState, online: boolean): string | null {
  if (!online) return "Offline — retrying";
  switch (state) {
    case "reconnecting":
      return "Reconnecting…";
    case "error":
      return "Offline — retrying";
    case "lost":
      return "Connection lost";
    default:
      return null;
  }
}

/**
 * The header's connection status: silent while all is well, "Reconnecting…" / "Offline — retrying" when not.
 * A status region, so a screen reader hears the change; `data-state` keeps the exact state for tests.
 */
export function ConnectionStatus({ state, error }: { state: ConnectionState; error: string | null }) {
  const online = useOnline();
  const message = connectionMessage(state, online);
  return (
    <span
      className={`connection${message ? " is-visible" : ""}`}
      role="status"
      data-testid="connection"
      data-state={online ? state : "offline"}
      title={message ? (error ?? message) : undefined}
    >
      {message && (
        <>
          <span className="connection__dot" aria-hidden="true" />
          {message}
        </>
      )}
    </span>
  );
}
