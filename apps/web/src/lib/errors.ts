import { errorCodeMessages, errorCodes, type ErrorCode } from "@streamchat/core";

export interface DescribedError {
  code: ErrorCode | null;
  /** The human message for the code (errorCodeMessages), or a generic one. */
  title: string;
  /** What the server said. */
  detail: string;
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
  if (code) return { code, title: errorCodeMessages[code], detail };
  if (/fetch|network/i.test(detail)) {
    return { code: null, title: "The server is not reachable.", detail };
  }
  return { code: null, title: "Something went wrong.", detail };
}
