import { v7 } from "uuid";

/**
 * A new `clientRequestId`: a UUID whose first 48 bits are the time in ms (RFC 9562 version 7), increasing within a
 * process. The API keeps it in a unique index of (user, client request id) for as long as the run: a random (version 4)
 * id landed every answer on a random leaf page of that index, one more page written per answer (and read back cold in
 * a large database), where time-ordered ids go to the index's right edge with the run's other keys (the store's own
 * ids are version 7 for the same reason). uuid draws the random bits from crypto.getRandomValues, which browsers
 * give outside secure contexts too (randomUUID they do not).
 */
export function requestId(): string {
  return v7();
}
