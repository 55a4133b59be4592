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
 * What a feed subscription's state says about the server: a connection attempt that failed (tRPC then reports
 * `connecting` with the error, and tries again). A refusal (`error`: no token) and the first connection are not it.
 */
export function feedUnreachable(subscription: { status: string; error: { message: string } | null }): string | null {
  return subscription.status === "connecting" && subscription.error ? subscription.error.message || "The server cannot be reached" : null;
}

/**
 * The state the header shows: the followed answer's subscription while there is one; otherwise (nothing streams, or
 * the answer is complete) the conversation feed's, which is how an idle page learns the server went away.
 */
export function headerConnection(
  run: { state: ConnectionState; error: string | null },
  feedUnreachable: string | null,
): { state: ConnectionState; error: string | null } {
  return feedUnreachable !== null && (run.state === "idle" || run.state === "caught-up") ? { state: "reconnecting", error: feedUnreachable } : run;
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
