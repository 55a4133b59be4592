import type { AppRouter } from "@streamchat/api";
import { TRPCClientError, type TRPCClientErrorLike } from "@trpc/client";
import { errorCodeMessages, errorCodeSchema, isRetryable, type ErrorCode } from "@streamchat/core";

/** Our typed codes, plus `unreachable` for when no HTTP answer came back at all. */
export type ClientErrorCode = ErrorCode | "unreachable";

/**
 * What became of a tool call `approve()` refused to decide (the API's `error.data.conflict`): decided already
 * (`approved`, `denied`, or `timed_out`: denied by the time limit), its run `ended`, or the run `answered` it without
 * a decision. Inferred from the API's error shape, not copied: a reason the API adds fails this package's type check
 * until the client knows it.
 */
export type ApprovalConflict = NonNullable<NonNullable<TRPCClientErrorLike<AppRouter>["data"]>["conflict"]>;

/**
 * Each conflict in plain words (what the CLI says after a decision that lost), and the one list of the values this
 * client knows: what a server sends is checked against its keys. A reason the API adds fails the type check here until
 * it has words (a newer server's unknown reason is then left out, as an older server's missing one is).
 */
export const approvalConflictWords: Readonly<Record<ApprovalConflict, string>> = {
  approved: "already approved elsewhere",
  denied: "already denied elsewhere",
  timed_out: "the time to decide ran out: denied",
  ended: "the answer has ended",
  answered: "the run answered it without a decision",
};

function approvalConflictOf(value: unknown): ApprovalConflict | undefined {
  return typeof value === "string" && Object.hasOwn(approvalConflictWords, value) ? (value as ApprovalConflict) : undefined;
}

/** A failed call. `message` is safe to show to a user; `code` is what programs switch on. */
export class ChatClientError extends Error {
  readonly code: ClientErrorCode;
  /**
   * The tRPC code (`NOT_FOUND`, `TOO_MANY_REQUESTS`, …) when the server answered with one; for a REST endpoint's error
   * in the API's own body (`exportAll`), the code of its HTTP status. Absent when what answered is not the API.
   */
  readonly trpcCode: string | undefined;
  /** HTTP status of the failed response, when there was one. */
  readonly status: number | undefined;
  readonly retryable: boolean;
  // `declare`: no own property unless set, so `"conflict" in error` says whether the server told.
  /**
   * approve()'s CONFLICT only: which decision won, or why none is waited for. Absent on every other error, and when
   * the server did not send a value this client knows (a server older than the field, or a newer reason).
   */
  declare readonly conflict?: ApprovalConflict;

  constructor(
    code: ClientErrorCode,
    message: string,
    options?: { trpcCode?: string; status?: number; cause?: unknown; retryable?: boolean; conflict?: ApprovalConflict },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ChatClientError";
    this.code = code;
    this.trpcCode = options?.trpcCode;
    this.status = options?.status;
    this.retryable = options?.retryable ?? (code === "unreachable" || isRetryable(code));
    if (options?.conflict !== undefined) this.conflict = options.conflict;
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

// Node's TLS verification failures: the server answered, but with a certificate this process does not trust.
const certificateErrorCodes = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REVOKED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** What a certificate failure says, here and through an EventSource, which keeps only an error's message. */
export function untrustedCertificateMessage(code: string): string {
  return `The chat server's TLS certificate is not trusted (${code}).`;
}
const carriedCertificate = /The chat server's TLS certificate is not trusted \(([A-Z_]+)\)/;

/**
 * The code of a TLS certificate failure behind `error`, when it is one: an error's code, or the code a subscription's
 * failure carries in its message (the transport's EventSource fetch words it with untrustedCertificateMessage).
 */
export function certificateProblem(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && certificateErrorCodes.has(code)) return code;
    const carried = carriedCertificate.exec(e.message)?.[1];
    if (carried !== undefined && certificateErrorCodes.has(carried)) return carried;
  }
  return undefined;
}

// A connection never made: the request never left this process, so the server did nothing with it.
const notConnectedCodes = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * Whether a failed request may have reached the API and been acted on, with its answer lost: a proxy's error page (the
 * proxy may have forwarded it), a connection cut after the request went out, an answer this client could not read. An
 * answer of the API's own (a tRPC error), a connection never made, a certificate refused, or a page that says the URL
 * is wrong (a 4xx without a tRPC error) say it did not.
 */
export function mayHaveBeenActedOn(error: unknown): boolean {
  if (!(error instanceof ChatClientError) || error.trpcCode !== undefined) return false;
  if (certificateProblem(error) !== undefined) return false;
  if (error.code === "unreachable") {
    for (let e: unknown = error, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === "string" && notConnectedCodes.has(code)) return false;
    }
    return true;
  }
  return error.status === undefined || error.status >= 500;
}

// tRPC's subscription link keeps only the message of the EventSource's failure ("TypeError: fetch failed: connect
// ECONNREFUSED 127.0.0.1:3000"): the socket's code is read from there.
const codeInMessage = /\b(E[A-Z]+|UND_ERR_[A-Z_]+)\b/g;

function networkCause(error: unknown): string | undefined {
  let fetchFailure: string | undefined;
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && networkErrorCodes.has(code)) return code;
    const carried = [...e.message.matchAll(codeInMessage)].map((match) => match[1]!).find((name) => networkErrorCodes.has(name));
    if (carried !== undefined) return carried;
    // Browsers say "Failed to fetch", undici "fetch failed": the words only when no cause below has a code (undici's
    // TypeError wraps the socket's ECONNREFUSED, which says more).
    if (e.name === "TypeError" && /fetch/i.test(e.message)) fetchFailure ??= e.message;
  }
  return fetchFailure;
}

/**
 * An HTTP answer that is not the API's: not JSON (an HTML error page, a web server's index.html), so no tRPC error to
 * read. The transport throws it from its fetch; toChatClientError finds it as a cause.
 */
export class NotTheApiError extends Error {
  constructor(
    readonly status: number,
    readonly contentType: string,
  ) {
    super(`The server answered ${status} with ${contentType || "no content type"}, not JSON.`);
    this.name = "NotTheApiError";
  }
}

// The eventsource package fails a connection refused with a non-200 status with this message; tRPC passes the message
// on but not the ErrorEvent that carried the status as `code`.
const sseRefusal = /^Non-200 status code \((\d{3})\)$/;

/** The HTTP status of an answer that came back without a tRPC error in it, when there was one. */
function answerStatusOf(error: unknown): number | undefined {
  for (let e: unknown = error, depth = 0; typeof e === "object" && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof NotTheApiError) return e.status;
    // tRPC keeps the Response of a JSON answer it could not read as its own (another server's JSON 404).
    const status = e instanceof TRPCClientError ? (e.meta as { response?: { status?: unknown } } | undefined)?.response?.status : undefined;
    if (typeof status === "number") return status;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "number" && code >= 100 && code < 600) return code;
    const refused = e instanceof Error ? sseRefusal.exec(e.message) : null;
    if (refused?.[1]) return Number(refused[1]);
  }
  return undefined;
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
  conflict?: unknown;
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
      const conflict = approvalConflictOf(data.conflict);
      return new ChatClientError(code, message, { trpcCode: data.code, status, cause: error, ...(conflict === undefined ? {} : { conflict }) });
    }
  }
  // Something answered, but not as the API does: a wrong URL or port, another service, a proxy's error page.
  const status = answerStatusOf(error);
  if (status === 401 || status === 403 || status === 429) {
    const code = codeByStatus(status);
    return new ChatClientError(code, errorCodeMessages[code], { status, cause: error });
  }
  if (status !== undefined && status < 500) {
    return new ChatClientError("bad_request", `The server answered ${status}, which is not the streamchat API: is the URL right?`, {
      status,
      cause: error,
    });
  }
  if (status !== undefined) {
    // A proxy's 502 or 503 while the API restarts: worth another try.
    return new ChatClientError("internal", `The server answered ${status} instead of the streamchat API (is it restarting?).`, {
      status,
      cause: error,
      retryable: true,
    });
  }
  const certificate = certificateProblem(error);
  if (certificate !== undefined) {
    // No use trying again: the next connection meets the same certificate.
    return new ChatClientError("unreachable", untrustedCertificateMessage(certificate), {
      cause: error,
      retryable: false,
    });
  }
  const network = networkCause(error);
  if (network !== undefined) {
    return new ChatClientError("unreachable", `Cannot reach the chat server (${network}).`, { cause: error });
  }
  return new ChatClientError("internal", "Unexpected response from the chat server.", {
    cause: error,
    retryable: true,
  });
}

// The tRPC code of each HTTP status the API's REST errors use (tRPC's own mapping), so that a REST endpoint's error
// (GET /api/export) carries the same `trpcCode` as a procedure's error with that status: the API's own answer.
const trpcCodeByStatus: Readonly<Record<number, string>> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "TOO_MANY_REQUESTS",
  500: "INTERNAL_SERVER_ERROR",
  503: "SERVICE_UNAVAILABLE",
};

/**
 * A REST endpoint's answer other than its success, as the ChatClientError a tRPC call gets for that status. The API's
 * REST error body (`{ "error", "code" }`, JSON) gives its code and message, with the `trpcCode` of the status (it is
 * the API's own answer); anything else is what answered instead of the API, mapped as toChatClientError maps such an
 * answer (401/403 unauthorized, 429 rate_limited, another 4xx or a 2xx "not the API", a 5xx internal and retryable).
 * `body`: the answer's text, when it was read.
 */
export function restAnswerError(status: number, contentType: string, body: string | undefined): ChatClientError {
  const apiError = /\bjson\b/i.test(contentType) && body !== undefined ? restErrorBodyOf(body) : undefined;
  if (apiError !== undefined && status >= 400) {
    const parsed = errorCodeSchema.safeParse(apiError.code);
    if (parsed.success) {
      const code = parsed.data;
      const message = code === "internal" || !apiError.error ? errorCodeMessages[code] : apiError.error;
      return new ChatClientError(code, message, {
        status,
        trpcCode: trpcCodeByStatus[status] ?? (status >= 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST"),
      });
    }
  }
  return toChatClientError(new NotTheApiError(status, contentType.split(";")[0]!.trim()));
}

/** The API's REST error body, `{ "error": string, "code": string }`, when `text` is one. */
export function restErrorBodyOf(text: string): { error: string; code: string } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { error, code } = value as { error?: unknown; code?: unknown };
  return typeof error === "string" && typeof code === "string" ? { error, code } : undefined;
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
