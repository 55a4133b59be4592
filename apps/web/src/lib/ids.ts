import { v7 } from "uuid";

/** A random id for what the page keys by itself (an attachment, a new chat's queue; randomUUID needs a secure context). */
export function randomId(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function" && globalThis.isSecureContext === true) {
    return crypto.randomUUID();
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A message's `clientRequestId`: time-ordered (UUID v7), as the typed client's are: the API keeps it in a unique index
 * of (user, client request id), where a random id put every message on a random page of the index. uuid draws the
 * random bits from crypto.getRandomValues, which plain-http LAN pages have too.
 */
export function requestId(): string {
  return v7();
}
