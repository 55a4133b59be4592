import { z } from "zod";
import { ChatError } from "./errors.js";
import { isStorableText } from "./storable-text.js";

/**
 * A text file on a user message (DESIGN §9 `attachments`): its name as the user's system showed it and its text,
 * decoded by the client (UTF-8). The model reads it as part of the message (`userMessageText`); the message keeps
 * it apart from what the user typed, so a transcript shows a file as a file and an edit keeps it. The schema
 * checks the shape only; `checkFiles` checks count, name and size.
 */
export const fileAttachmentSchema = z.object({
  type: z.literal("file"),
  name: z.string(),
  text: z.string(),
});
export type FileAttachment = z.infer<typeof fileAttachmentSchema>;

/** Most files on one message. */
export const maxFilesPerMessage = 8;
/**
 * Default most characters (UTF-16 code units, what `String.length` counts) of one file (MAX_FILE_CHARS in the API):
 * ~25,000 tokens of English or code, more than the context window most local models are run with.
 */
export const defaultMaxFileChars = 100_000;
/** Longest file name kept (a path's last part on every common file system is at most 255 bytes). */
export const maxFileNameChars = 255;

export interface FileLimits {
  /** Most characters of one file's text; default 100,000. */
  maxChars?: number;
  /** Most files; default 8. */
  maxCount?: number;
}

/**
 * A character a file's name may not hold: a control character (tab excepted) would break the line the name is written
 * on for the model. Clients that fix names rather than refuse them read the same rule. (NUL and lone surrogates are
 * refused in names and text alike by isStorableText.)
 */
export const fileNameControlCharacter = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * Checks the files of one message: at most `maxCount`; each with a name of 1–255 characters without control
 * characters, and text that is not empty, at most `maxChars` long and holds no NUL or unpaired surrogate (a
 * binary file decoded as text has them; the client should have refused it). Returns the first problem as a
 * `bad_request` ChatError whose message names the file and the limit, or undefined when all is well.
 */
export function checkFiles(files: readonly FileAttachment[], limits: FileLimits = {}): ChatError | undefined {
  const maxCount = limits.maxCount ?? maxFilesPerMessage;
  const maxChars = limits.maxChars ?? defaultMaxFileChars;
  if (files.length > maxCount) {
    return new ChatError("bad_request", `Too many files: at most ${maxCount} per message, got ${files.length}.`);
  }
  for (const [index, file] of files.entries()) {
    const label = files.length === 1 ? "The file" : `File ${index + 1}`;
    if (file.name.trim() === "") return new ChatError("bad_request", `${label} has no name.`);
    if (file.name.length > maxFileNameChars) {
      return new ChatError("bad_request", `${label}'s name is ${file.name.length} characters long; at most ${maxFileNameChars}.`);
    }
    if (fileNameControlCharacter.test(file.name) || !isStorableText(file.name)) return new ChatError("bad_request", `${label}'s name holds a control character.`);
    const named = `${label} (${file.name})`;
    if (file.text.length === 0) return new ChatError("bad_request", `${named} is empty.`);
    if (file.text.length > maxChars) {
      return new ChatError(
        "bad_request",
        `${named} is ${file.text.length.toLocaleString("en-US")} characters long; each file may be at most ${maxChars.toLocaleString("en-US")}.`,
      );
    }
    if (!isStorableText(file.text)) return new ChatError("bad_request", `${named} is not a text file (it holds binary data).`);
  }
  return undefined;
}

/** `name` as an attribute value: the characters that would end or confuse it written as XML entities. */
function attributeValue(name: string): string {
  return name.replace(/[&"<>]/g, (c) => (c === "&" ? "&amp;" : c === '"' ? "&quot;" : c === "<" ? "&lt;" : "&gt;"));
}

/**
 * What a model reads of a user message: each file as a `<file name="…">` block (the form the Claude, Qwen and
 * Llama prompting guides use for documents; a Markdown fence would end at the first ``` inside a Markdown or code
 * file), then what the user typed. Without files, the content itself (no copy).
 */
export function userMessageText(message: { content: string; files?: readonly FileAttachment[] | undefined }): string {
  const files = message.files;
  if (!files || files.length === 0) return message.content;
  let text = "";
  for (const file of files) {
    text += `<file name="${attributeValue(file.name)}">\n${file.text}${file.text.endsWith("\n") ? "" : "\n"}</file>\n\n`;
  }
  return text + message.content;
}
