/**
 * Why an import was refused. The message is safe and meant for the user (it names what is wrong, never a stack);
 * `code` is always the stack's `bad_request`; the API answers `already_imported` with the HTTP/tRPC status CONFLICT
 * (the file is fine, the chat is there already), every other reason with BAD_REQUEST.
 *
 * - `too_large`: the content is over the size limit (`maxBytes`);
 * - `not_json`: the content does not parse as JSON;
 * - `wrong_format`: JSON, but not a conversation export (`format` is not "streamchat.conversation");
 * - `unsupported_version`: an export of a version this code does not read (only 1);
 * - `invalid`: the right format and version, but fields are missing, mistyped or do not link up;
 * - `already_imported`: the file's `conversation.origin` names a chat the user imported before and still has (the
 *   store's conflict "origin"); deleting that copy frees it.
 */
export type ImportErrorReason = "too_large" | "not_json" | "wrong_format" | "unsupported_version" | "invalid" | "already_imported";

/** The user's message for `already_imported`. */
export const alreadyImportedMessage = "This chat was imported before; delete that copy to import it again.";

export class ImportError extends Error {
  readonly code = "bad_request" as const;
  readonly reason: ImportErrorReason;

  constructor(reason: ImportErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ImportError";
    this.reason = reason;
  }
}

export function isImportError(value: unknown): value is ImportError {
  return value instanceof ImportError;
}
