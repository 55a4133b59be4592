import { StoreError } from "../errors.js";

/** SQLSTATE of a server error, or the Node error code (ECONNREFUSED …) of a socket error. */
function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function sqlState(error: unknown): string | undefined {
  const code = codeOf(error);
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function constraintOf(error: unknown): string | undefined {
  const constraint = (error as { constraint?: unknown } | null)?.constraint;
  return typeof constraint === "string" ? constraint : undefined;
}

export const uniqueViolation = "23505";
export const foreignKeyViolation = "23503";
/** no_data_found, raised by streamchat_append_message for a conversation or parent that is not there. */
export const noDataFound = "P0002";
/** Raised by streamchat_start_run when streamchat_create_run inserted nothing (not the user's, or the limit). */
export const runNotStarted = "SC001";

const transientStates = new Set([
  "57P01", // admin_shutdown: the server is shutting down
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: starting up or in recovery
  "53300", // too_many_connections
  "40001", // serialization_failure
  "40P01", // deadlock_detected
]);

const socketCodes = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * True when the database could not be reached or dropped the connection: worth retrying later, and what health
 * reports as down. Covers node-postgres's own messages for a connection lost or never made.
 */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof StoreError) return error.code === "unavailable";
  const code = codeOf(error);
  if (code !== undefined) {
    if (socketCodes.has(code) || transientStates.has(code) || code.startsWith("08")) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return false; // any other SQLSTATE: the server answered
  }
  const message = error instanceof Error ? error.message : "";
  return /Connection terminated|timeout exceeded when trying to connect|not queryable|Client was closed|connection timeout/i.test(message);
}

/** Where the store connects, without the password: "host:port/database". */
export function describeTarget(url: string): string {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname || parsed.searchParams.get("host") || "localhost";
    return `${host}:${parsed.port || "5432"}${parsed.pathname || "/"}`;
  } catch {
    return "the configured database";
  }
}

/** A connection failure as the store reports it: StoreError("unavailable") naming the server, never the password. */
export function unavailable(target: string, error: unknown): StoreError {
  // A refused connection to a name with several addresses is an AggregateError with an empty message.
  const detail = (error instanceof Error && error.message) || codeOf(error) || String(error);
  return new StoreError("unavailable", `PostgreSQL at ${target} is unreachable: ${detail}`, { cause: error });
}
