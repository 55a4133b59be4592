import { TRPCClientError } from "@trpc/client";
import { errorCodeMessages, errorCodeSchema, isRetryable, type ErrorCode } from "@streamchat/core";

/** Our typed codes, plus `unreachable` for when no HTTP answer came back at all. */
export type ClientErrorCode = ErrorCode | "unreachable";

/** A failed call. `message` is safe to show to a user; `code` is what programs switch on. */
export class ChatClientError extends Error {
  readonly code: ClientErrorCode;
  /** The tRPC code (`NOT_FOUND`, `TOO_MANY_REQUESTS`, …) when the server answered with one. */
  readonly trpcCode: string | undefined;
  /** HTTP status of the failed response, when there was one. */
  readonly status: number | undefined;
  readonly retryable: boolean;

  constructor(
    code: ClientErrorCode,
    message: string,
    options?: { trpcCode?: string; status?: number; cause?: unknown; retryable?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ChatClientError";
    this.code = code;
    this.trpcCode = options?.trpcCode;
    this.status = options?.status;
    this.retryable = options?.retryable ?? (code === "unreachable" || isRetryable(code));
  }
}

export function isChatClientError(value: unknown): value is ChatClientError {
  return value instanceof ChatClientError;
}

// Used only when the server's error shape carries no `appCode` (an older server, or a proxy in between).
const codeByTrpcCode: Record<string, ErrorCode> = {
  UNAUTHORIZED: "unauthorized",
  FORBIDDEN: "unauthorized",
  TOO_MANY_REQUESTS: "rate_limited",
  BAD_REQUEST: "bad_request",
  PARSE_ERROR: "bad_request",
  NOT_FOUND: "bad_request",
  PAYLOAD_TOO_LARGE: "bad_request",
  UNPROCESSABLE_CONTENT: "bad_request",
  METHOD_NOT_SUPPORTED: "bad_request",
};

// Node's fetch (undici) and the eventsource package report a refused / reset socket with these codes.
const networkErrorCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

function networkCause(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && networkErrorCodes.has(code)) return code;
    // Browsers say "Failed to fetch", undici "fetch failed", with no code to go by.
    if (e.name === "TypeError" && /fetch/i.test(e.message)) return e.message;
  }
  return undefined;
}

function httpStatusOf(error: unknown): number | undefined {
  const cause = error instanceof TRPCClientError ? error.cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === "number" && code >= 100 && code < 600 ? code : undefined;
}

function codeByStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 429) return "rate_limited";
  return "bad_request";
}

interface ErrorShapeData {
  code?: unknown;
  httpStatus?: unknown;
  appCode?: unknown;
}

/** Turns whatever a tRPC call threw into a ChatClientError (abort errors pass through unchanged). */
export function toChatClientError(error: unknown): ChatClientError {
  if (error instanceof ChatClientError) return error;
  if (error instanceof TRPCClientError) {
    const data = (error.data ?? undefined) as ErrorShapeData | undefined;
    if (data && typeof data.code === "string") {
      const parsed = errorCodeSchema.safeParse(data.appCode);
      const code: ErrorCode = parsed.success ? parsed.data : (codeByTrpcCode[data.code] ?? "internal");
      // The server's messages are written for users except for internal failures, which may say too much.
      const message = code === "internal" || !error.message ? errorCodeMessages[code] : error.message;
      const status = typeof data.httpStatus === "number" ? data.httpStatus : undefined;
      return new ChatClientError(code, message, { trpcCode: data.code, status, cause: error });
    }
  }
  // The eventsource package fails a connection on a non-200 answer with an ErrorEvent carrying the status.
  const status = httpStatusOf(error);
  if (status !== undefined && status < 500) {
    const code = codeByStatus(status);
    return new ChatClientError(code, errorCodeMessages[code], { status, cause: error });
  }
  const network = networkCause(error);
  if (network !== undefined) {
    return new ChatClientError("unreachable", `Cannot reach the chat server (${network}).`, { cause: error });
  }
  return new ChatClientError("internal", "Unexpected response from the chat server.", {
    status,
    cause: error,
    retryable: true,
  });
}

/**
 * The abort behind `error`: itself, or what a tRPC call wrapped (an aborted request's TRPCClientError carries the
 * signal's reason as its cause). undefined when `error` is no abort.
 */
export function abortErrorIn(error: unknown): Error | undefined {
  let e = error;
  for (let depth = 0; e instanceof TRPCClientError && depth < 5; depth++) e = e.cause;
  return e instanceof Error && (e.name === "AbortError" || e.name === "TimeoutError") ? e : undefined;
}

export function isAbortError(error: unknown): boolean {
  return abortErrorIn(error) !== undefined;
}
