/**
 * Why a store call was refused. The API maps these to its typed error codes
 * (`not_found` → bad_request / 404, `conflict` → an idempotent replay or 409).
 */
export type StoreErrorCode = "not_found" | "conflict" | "closed";

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StoreError";
    this.code = code;
  }
}

export function isStoreError(value: unknown, code?: StoreErrorCode): value is StoreError {
  return value instanceof StoreError && (code === undefined || value.code === code);
}
