import { basename } from "node:path";
import type { FileAttachment } from "@streamchat/core";
import { readAttachmentFile } from "./read-attachment-file.js";

/**
 * A text file as an attachment: `{ type: "file", name, text }`, the name being the path's last part (what the model
 * and the transcript show, never the directories it came from). Throws an Error naming the file when it cannot be
 * read, is empty, or is not text: not valid UTF-8, or holding a NUL byte (a binary format that happens to decode).
 * The server checks the count, the name and the size.
 */
export async function readTextFileAttachment(path: string): Promise<FileAttachment> {
  const bytes = await readAttachmentFile(path);
  const name = basename(path);
  let text: string;
  try {
    // fatal: a replacement character in place of every bad byte would send the model noise it cannot tell from text.
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${name} is not a text file (it is not UTF-8)`);
  }
  // The decoder drops a byte order mark: a file of one holds no text either.
  if (text === "") throw new Error(`${name} is empty`);
  // NUL is valid UTF-8, but no text format uses it, and the server cannot store it.
  if (text.includes("\0")) throw new Error(`${name} is not a text file (it holds NUL bytes)`);
  return { type: "file", name, text };
}
