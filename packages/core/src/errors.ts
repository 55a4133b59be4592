import type { ErrorCode } from "./events.js";

/** Codes a client may simply try again after (same request, later). */
const retryableCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "provider_unavailable",
  "provider_error",
  "stream_truncated",
  "tool_timeout",
  "interrupted",
  "rate_limited",
  "internal",
]);

export function isRetryable(code: ErrorCode): boolean {
  return retryableCodes.has(code);
}

/** What a model server refused a request for (a model_unsupported failure), where it says so. */
export type UnsupportedFeature = "tools" | "thinking" | "images";

/** A failure with one of the stack's typed codes. The message is safe to show to a user. */
export class ChatError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** HTTP status of the upstream response, when there was one. */
  readonly status: number | undefined;
  /**
   * model_unsupported: the part of the request the server refused, when its answer names it. The run loop
   * goes on without tools when they are refused; it never guesses from the message.
   */
  readonly unsupported: UnsupportedFeature | undefined;
  /**
   * bad_request: the server refused a prompt longer than its context window, whose size in tokens its refusal gave
   * (null: it did not say). The run loop sends the round again with the history cut to it (once; for null, to the
   * window the provider knows after the refusal, if smaller), and the provider remembers it for the model.
   */
  readonly contextWindow: number | null | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { status?: number; cause?: unknown; retryable?: boolean; unsupported?: UnsupportedFeature; contextWindow?: number | null },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ChatError";
    this.code = code;
    this.status = options?.status;
    this.retryable = options?.retryable ?? isRetryable(code);
    this.unsupported = options?.unsupported;
    this.contextWindow = options?.contextWindow;
  }
}

export function isChatError(value: unknown): value is ChatError {
  return value instanceof ChatError;
}

/** Human message for a code, for UIs and CLIs that only have the code. */
export const errorCodeMessages: Record<ErrorCode, string> = {
  provider_unavailable: "The model server is not reachable. Is Ollama running?",
  model_not_found: "That model is not installed on the model server.",
  model_unsupported: "That model does not support what this request needs (tools, thinking or images).",
  provider_error: "The model server reported an error while answering.",
  stream_truncated: "The model server stopped before finishing the answer.",
  tool_failed: "A tool failed.",
  tool_timeout: "A tool took too long and was stopped.",
  invalid_tool_args: "The model called a tool with invalid arguments.",
  tool_denied: "A tool call was denied or not approved in time.",
  cancelled: "The answer was stopped.",
  interrupted: "The server restarted while answering.",
  rate_limited: "Too many requests at once. Wait for a running answer to finish.",
  bad_request: "The request was not valid.",
  unauthorized: "Sign-in is required.",
  internal: "Something went wrong on the server.",
};
