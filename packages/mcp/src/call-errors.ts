import { ChatError } from "@streamchat/core";

/**
 * The server answered a tool call's HTTP request with an error status (or with a body that is no MCP answer). Only
 * that call failed: the session and the server's other calls go on. `status` is the HTTP status (-1: no usable body).
 */
export class McpHttpAnswerError extends ChatError {
  override readonly name = "McpHttpAnswerError";

  constructor(
    readonly server: string,
    readonly httpStatus: number,
    message: string,
    cause: unknown,
  ) {
    super("tool_failed", message, httpStatus >= 100 ? { status: httpStatus, cause } : { cause });
  }
}

/**
 * The connection broke after a tool call was sent and before any answer came: the server may have run the call.
 * It is not sent again, as tools can have side effects (send a mail, write a file); the model or the user decides.
 */
export class McpCallOutcomeUnknownError extends ChatError {
  override readonly name = "McpCallOutcomeUnknownError";

  constructor(
    readonly server: string,
    message: string,
    cause: unknown,
  ) {
    super("tool_failed", message, { cause, retryable: false });
  }
}
