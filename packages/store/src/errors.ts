/**
 * Why a store call was refused. The API maps these to its typed error codes
 * (`not_found` → bad_request / 404, `conflict` → an idempotent replay or 409, `limit` → rate_limited,
 * `unavailable` → health down / a run ended with an error).
 *
 * - `not_found`: the conversation or run does not exist (for that user).
 * - `conflict`: a uniqueness invariant refused the write; `reason` says which one.
 * - `limit`: `maxRunningPerUser` running runs already (counted in the database).
 * - `unavailable`: the database did not answer (connection refused or lost, or a batch of events stayed
 *   uncommitted for `retryForMs` while it was unreachable). Retrying later may succeed.
 * - `closed`: the store was closed.
 */
export type StoreErrorCode = "not_found" | "conflict" | "limit" | "unavailable" | "closed";

/**
 * Which invariant a `conflict` broke:
 * - `id`: the conversation or run id is taken;
 * - `origin`: the user already has a conversation imported from this origin (insertConversation; schema v9);
 * - `client_request_id`: the user already started a run with this clientRequestId (return that run);
 * - `conversation_busy`: another run of the conversation is running (on any process);
 * - `seq`: the event's seq is already used in the run's log, or is not above the last one this process queued.
 */
export type ConflictReason = "id" | "origin" | "client_request_id" | "conversation_busy" | "seq";

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** Set on `conflict` errors. */
  readonly reason: ConflictReason | undefined;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown; reason?: ConflictReason }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StoreError";
    this.code = code;
    this.reason = options?.reason;
  }
}

export function isStoreError(value: unknown, code?: StoreErrorCode): value is StoreError {
  return value instanceof StoreError && (code === undefined || value.code === code);
}

export function conflict(reason: ConflictReason, message: string, cause?: unknown): StoreError {
  return new StoreError("conflict", message, { reason, cause });
}

export function closedError(): StoreError {
  return new StoreError("closed", "The store is closed.");
}
