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

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (errorCodes as readonly string[]).includes(value);
}

/** A failed call as the user sees it: our typed code (error.data.appCode) when the server sent one. */
export function describeError(error: unknown): DescribedError {
  const data = typeof error === "object" && error !== null && "data" in error ? (error as { data: unknown }).data : null;
  const appCode = typeof data === "object" && data !== null && "appCode" in data ? (data as { appCode: unknown }).appCode : null;
  const code = isErrorCode(appCode) ? appCode : null;
  const detail = error instanceof Error ? error.message : String(error);
  if (code) return { code, title: errorCodeMessages[code], detail, retryable: isRetryable(code) };
  if (/fetch|network/i.test(detail)) {
    return { code: null, title: "The server is not reachable.", detail, retryable: true };
  }
  // Without our code, the HTTP status still tells a refusal (4xx: too large, unauthorized…) from a failure.
  const status = typeof data === "object" && data !== null && "httpStatus" in data ? (data as { httpStatus: unknown }).httpStatus : null;
  const refused = typeof status === "number" && status >= 400 && status < 500;
  return { code: null, title: "Something went wrong.", detail, retryable: !refused };
}
