import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { errorCodeMessages, type ErrorCode } from "@streamchat/core";
import { isStoreError } from "@streamchat/store";

type TRPCCode = TRPCError["code"];

const trpcCodeFor: Record<ErrorCode, TRPCCode> = {
  bad_request: "BAD_REQUEST",
  model_unsupported: "BAD_REQUEST",
  invalid_tool_args: "BAD_REQUEST",
  unauthorized: "UNAUTHORIZED",
  rate_limited: "TOO_MANY_REQUESTS",
  model_not_found: "NOT_FOUND",
  provider_unavailable: "SERVICE_UNAVAILABLE",
  interrupted: "SERVICE_UNAVAILABLE",
  provider_error: "BAD_GATEWAY",
  stream_truncated: "BAD_GATEWAY",
  tool_timeout: "TIMEOUT",
  tool_failed: "INTERNAL_SERVER_ERROR",
  tool_denied: "FORBIDDEN",
  cancelled: "CLIENT_CLOSED_REQUEST",
  internal: "INTERNAL_SERVER_ERROR",
};

/** A TRPCError that carries our typed code; the errorFormatter puts it in `error.data.appCode`. */
export class AppError extends TRPCError {
  readonly appCode: ErrorCode;
  constructor(
    appCode: ErrorCode,
    message: string = errorCodeMessages[appCode],
    code: TRPCCode = trpcCodeFor[appCode],
    options?: { cause?: unknown },
  ) {
    super({ code, message, ...(options?.cause === undefined ? {} : { cause: options.cause }) });
    this.name = "AppError";
    this.appCode = appCode;
  }
}

/**
 * What became of a tool call chat.approve refused to decide (CONFLICT): decided already (approved, or denied by a person
 * or by the time limit), its run ended, or its run answered it without a decision. Sent as `error.data.conflict`, so a
 * client can say which decision won without parsing the message.
 */
export const approvalConflicts = ["approved", "denied", "timed_out", "ended", "answered"] as const;
export type ApprovalConflict = (typeof approvalConflicts)[number];

/** chat.approve's CONFLICT, with what became of the call; the errorFormatter puts it in `error.data.conflict`. */
export class ApprovalConflictError extends AppError {
  readonly conflict: ApprovalConflict;
  constructor(conflict: ApprovalConflict, message: string) {
    super("bad_request", message, "CONFLICT");
    this.name = "ApprovalConflictError";
    this.conflict = conflict;
  }
}

/** The `error.data.conflict` of an error: chat.approve's CONFLICT only, null (no field) otherwise. */
export function conflictOf(error: TRPCError): ApprovalConflict | null {
  return error instanceof ApprovalConflictError ? error.conflict : null;
}

export const storeUnavailableMessage = "The database is unreachable; try again in a moment.";

/**
 * A store failure as clients see it, or undefined for anything else: the database unreachable (503, retry later) or
 * the store closed by a shutdown (503, interrupted). Its details (host, SQL) stay in the server's log.
 */
export function storeFailure(error: unknown): AppError | undefined {
  if (isStoreError(error, "unavailable")) return new AppError("internal", storeUnavailableMessage, "SERVICE_UNAVAILABLE", { cause: error });
  if (isStoreError(error, "closed")) {
    return new AppError("interrupted", "The server is shutting down; try again in a moment.", undefined, { cause: error });
  }
  return undefined;
}

export const notFound = (what: string) => new TRPCError({ code: "NOT_FOUND", message: `${what} not found` });

/** Our code for any TRPCError: the explicit one, else derived from the tRPC code (null when none fits). */
export function appCodeOf(error: TRPCError): ErrorCode | null {
  if (error instanceof AppError) return error.appCode;
  switch (error.code) {
    case "BAD_REQUEST":
    case "PARSE_ERROR":
    case "PAYLOAD_TOO_LARGE":
    case "UNPROCESSABLE_CONTENT":
    case "UNSUPPORTED_MEDIA_TYPE":
    case "METHOD_NOT_SUPPORTED":
      return "bad_request";
    case "UNAUTHORIZED":
    case "FORBIDDEN":
      return "unauthorized";
    case "TOO_MANY_REQUESTS":
      return "rate_limited";
    case "INTERNAL_SERVER_ERROR":
      return "internal";
    default:
      return null;
  }
}

interface IssueLike {
  message: string;
  path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>;
}

function hasIssues(value: unknown): value is { issues: IssueLike[] } {
  return typeof value === "object" && value !== null && Array.isArray((value as { issues?: unknown }).issues);
}

/**
 * The message a client may see. Unexpected errors become a generic line (their messages can hold
 * internal paths or SQL); validation errors become "field: problem" instead of a JSON dump.
 */
export function publicMessage(error: TRPCError): string {
  if (error instanceof AppError) return error.message;
  if (hasIssues(error.cause)) {
    return error.cause.issues
      .map((issue) => {
        const path = (issue.path ?? []).map((p) => String(typeof p === "object" ? p.key : p)).join(".");
        return path ? `${path}: ${issue.message}` : issue.message;
      })
      .join("; ");
  }
  if (error.code === "INTERNAL_SERVER_ERROR") return errorCodeMessages.internal;
  return error.message;
}

export function httpStatusOf(error: TRPCError): number {
  return getHTTPStatusCodeFromError(error);
}

/** The body every error outside tRPC answers with (REST, the edges of /trpc before tRPC runs, the HTTP parser's refusals). */
export interface ApiErrorBody {
  error: string;
  code: ErrorCode | "not_found";
}

/** The llhttp reason of a parse error: a fixed phrase of the parser (never request bytes), kept short and printable. */
function parserReason(error: { reason?: unknown }): string | undefined {
  const reason = typeof error.reason === "string" ? error.reason.replace(/[^\x20-\x7e]/g, "").slice(0, 120).trim() : "";
  return reason || undefined;
}

/**
 * The answer to a request Node's HTTP parser refused before any route saw it (Fastify's clientErrorHandler): the
 * status, and the API's error body with a message saying what to change. Without it Fastify answered
 * `{"error":"Bad Request","message":"Client Error","statusCode":400}`, a shape no client of this API reads.
 */
export function clientErrorAnswer(error: { code?: unknown; reason?: unknown }, maxHeaderBytes: number): { status: number; body: ApiErrorBody } {
  if (error.code === "HPE_HEADER_OVERFLOW") {
    const message = `Request headers are too large (at most ${maxHeaderBytes} bytes in all): send fewer or smaller headers (large cookies are the usual cause).`;
    return { status: 431, body: { error: message, code: "bad_request" } };
  }
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    return { status: 408, body: { error: "The request took too long to arrive: send it again.", code: "bad_request" } };
  }
  const reason = parserReason(error);
  const message = `Malformed HTTP request${reason ? ` (${reason})` : ""}: check the request line and headers.`;
  return { status: 400, body: { error: message, code: "bad_request" } };
}

/** A JSON body with a `__proto__` key (Fastify refuses it, onProtoPoisoning) as the client sees it. */
export const protoKeyMessage = 'The request body has a "__proto__" key, which is not accepted: remove it.';
