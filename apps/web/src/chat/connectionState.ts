import type { ConnectionState } from "./useRunEvents.js";

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
