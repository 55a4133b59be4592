import { errorCodeMessages, errorCodes, isRetryable, type ErrorCode } from "@streamchat/core/browser";

export interface DescribedError {
  code: ErrorCode | null;
  /** The human message for the code (errorCodeMessages), or a generic one. */
  title: string;
  /** What the server said. */
  detail: string;
  /** Asking again may succeed (a network failure, a busy model); a refused request will only be refused again. */
  retryable: boolean;
}

/**
 * A response that is not the API's: a proxy or load balancer in front of it answered with its own page (nginx's HTML
 * "502 Bad Gateway", a plain "Too Many Requests"). Thrown by `checkedFetch` so the user reads what happened, not
 * "Unexpected token '<' … is not valid JSON" from parsing that page.
 */
export class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
    this.name = "HttpStatusError";
  }
}

/** `fetch` for the tRPC links: an error response that is not JSON becomes an HttpStatusError. */
export const checkedFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
  const response = await fetch(input, init);
  if (response.ok || /\bjson\b/i.test(response.headers.get("content-type") ?? "")) return response;
  void response.body?.cancel().catch(() => undefined);
  throw new HttpStatusError(response.status);
};

/** The HttpStatusError behind `error`: itself, or the cause tRPC wrapped it in (TRPCClientError.from keeps it). */
function httpStatusErrorIn(error: unknown): HttpStatusError | null {
  if (error instanceof HttpStatusError) return error;
  return error instanceof Error && error.cause instanceof HttpStatusError ? error.cause : null;
}

/** The HTTP status a failed call got: the API's (tRPC's `data.httpStatus`) or a proxy's own page's; null for none. */
export function httpStatusOf(error: unknown): number | null {
  const status = (error as { data?: { httpStatus?: unknown } } | null)?.data?.httpStatus;
  if (typeof status === "number") return status;
  return httpStatusErrorIn(error)?.status ?? null;
}

/**
 * React Query's retry of a data load: at most twice, and never a 4xx (unauthorized, not found, bad input, a proxy's
 * "too large"), from the API or from a proxy's own page, which asking again will not change.
 */
export function retryQuery(failures: number, error: unknown): boolean {
  const status = httpStatusOf(error);
  return !(status !== null && status >= 400 && status < 500) && failures < 2;
}

/** What a bare HTTP status means to the person, and whether asking again can help. */
function describeStatus(status: number): Pick<DescribedError, "title" | "retryable"> {
  if (status === 429) return { title: "The server is busy: too many requests. Try again in a moment.", retryable: true };
  if (status === 413) return { title: "This is too large for the server to accept.", retryable: false };
  if (status === 401 || status === 403) return { title: "The server refused access.", retryable: false };
  if (status === 502 || status === 503 || status === 504) return { title: "The server is unavailable right now. Try again in a moment.", retryable: true };
  if (status >= 500) return { title: "The server ran into a problem. Try again in a moment.", retryable: true };
  return { title: "The server refused the request.", retryable: false };
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (errorCodes as readonly string[]).includes(value);
}

/** The tRPC code of a failed call (`error.data.code`: "CONFLICT", "NOT_FOUND"…), or null when it has none. */
export function trpcCodeOf(error: unknown): string | null {
  const code = (error as { data?: { code?: unknown } } | null)?.data?.code;
  return typeof code === "string" ? code : null;
}

/** A failed call as the user sees it: our typed code (error.data.appCode) when the server sent one. */
export function describeError(error: unknown): DescribedError {
  const data = typeof error === "object" && error !== null && "data" in error ? (error as { data: unknown }).data : null;
  const appCode = typeof data === "object" && data !== null && "appCode" in data ? (data as { appCode: unknown }).appCode : null;
  const code = isErrorCode(appCode) ? appCode : null;
  const detail = error instanceof Error ? error.message : String(error);
  if (code) return { code, title: errorCodeMessages[code], detail, retryable: isRetryable(code) };
  const cause = httpStatusErrorIn(error);
  if (cause) return { code: null, ...describeStatus(cause.status), detail: cause.message };
  if (/fetch|network/i.test(detail)) {
    return { code: null, title: "The server is not reachable.", detail, retryable: true };
  }
  // Without our code, the HTTP status still tells a refusal (4xx: too large, unauthorized…) from a failure.
  const status = typeof data === "object" && data !== null && "httpStatus" in data ? (data as { httpStatus: unknown }).httpStatus : null;
  const refused = typeof status === "number" && status >= 400 && status < 500;
  return { code: null, title: "Something went wrong.", detail, retryable: !refused };
}
