import {
  checkFiles,
  defaultMaxFileChars,
  fileNameControlCharacter,
  formatFileSize,
  maxFileNameChars,
  maxFilesPerMessage,
  utf8Bytes,
  type FileAttachment,
} from "@streamchat/core/browser";

// Core's count, the one a file's chip shows (its tests are this module's).
export { utf8Bytes };
import { randomId } from "../lib/ids.js";
import { formatCount } from "../lib/limits.js";
import type { RouterOutputs } from "../trpc.js";

/** How many text files a message takes and how long each may be (the server's MAX_FILE_CHARS). */
export interface FileLimits {
  maxChars: number;
  maxCount: number;
}

/**
 * The file limits `health.limits` tells a signed-in caller; core's defaults when it does not say (a server from before
 * those fields, an anonymous answer, no answer yet). A server with lower limits still refuses with its own sentence.
 */
export function fileLimitsOf(health: RouterOutputs["health"] | null | undefined): FileLimits {
  const limits: { maxFileChars?: unknown; maxFilesPerMessage?: unknown } | null | undefined =
    typeof health === "object" && health !== null && "limits" in health ? health.limits : undefined;
  // Typed as always there once signed in, but a proxy or an odd server may still send something else: read with care.
  const positive = (value: unknown, fallback: number) => (typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : fallback);
  return { maxChars: positive(limits?.maxFileChars, defaultMaxFileChars), maxCount: positive(limits?.maxFilesPerMessage, maxFilesPerMessage) };
}

/** A text file waiting in the composer. */
export interface DraftFile {
  id: string;
  attachment: FileAttachment;
}

/** A tray entry for a file: a new one, or one given back by a message that was not sent. */
export function draftFile(attachment: FileAttachment): DraftFile {
  return { id: randomId(), attachment };
}

// What the server refuses in a name (core's checkFiles), every occurrence.
const controlCharacters = new RegExp(fileNameControlCharacter.source, "g");

/**
 * The name a file is sent under: as the user's system showed it, with control characters made spaces and a name over
 * the server's 255 characters cut short before its extension. Fixed, not refused: the name only labels the text.
 */
export function fileNameOf(name: string): string {
  const clean = name.replace(controlCharacters, " ").trim() || "untitled.txt";
  if (clean.length <= maxFileNameChars) return clean;
  const dot = clean.lastIndexOf(".");
  const extension = dot > 0 && clean.length - dot <= 16 ? clean.slice(dot) : "";
  let kept = "";
  // By code points: cutting between a surrogate pair would leave a character the server refuses.
  for (const c of clean) {
    if (kept.length + c.length + 1 + extension.length > maxFileNameChars) break;
    kept += c;
  }
  return `${kept}…${extension}`;
}

/** UTF-8 is at most 3 bytes per UTF-16 code unit (a 4-byte character is 2 units); a byte order mark adds 3 that decode to nothing. */
const mostBytesPerChar = 3;
const byteOrderMark = 3;

export type ReadFile = { file: FileAttachment } | { problem: string; binary?: true };

const fatalUtf8 = () => new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a picked, pasted or dropped file as text, or says in one sentence why it cannot go. The rule is the bytes,
 * not the extension (code files have hundreds): they must decode as UTF-8 and hold no NUL, or the file is binary (a
 * PDF, an archive, a photo). A file whose size alone makes it longer than `maxChars` is refused without being read.
 */
export async function readTextFile(file: Blob & { readonly name: string }, maxChars: number): Promise<ReadFile> {
  const name = fileNameOf(file.name);
  if (file.size > maxChars * mostBytesPerChar + byteOrderMark) {
    return { problem: `${name} is too long (${formatFileSize(file.size)}): a file may have at most ${formatCount(maxChars)} characters.` };
  }
  let text: string;
  try {
    text = fatalUtf8().decode(await file.arrayBuffer());
  } catch (error) {
    // A TypeError is the decoder's: bytes that are no UTF-8. Anything else is the read (a folder dropped, a file gone).
    return error instanceof TypeError ? { problem: notTextMessage(name), binary: true } : { problem: `${name} could not be read.` };
  }
  return checkTextFile(name, text, maxChars);
}

/** A file's text (read now, or kept with a draft) checked as the server will check it, or why it cannot go, in a sentence. */
export function checkTextFile(name: string, text: string, maxChars: number): ReadFile {
  if (text.includes("\0")) return { problem: notTextMessage(name), binary: true };
  if (text.length === 0) return { problem: `${name} is empty.` };
  if (text.length > maxChars) {
    return { problem: `${name} is too long: ${formatCount(text.length)} characters, at most ${formatCount(maxChars)}.` };
  }
  const attachment: FileAttachment = { type: "file", name, text };
  // Whatever else the server would refuse, said before sending (in its words).
  const refused = checkFiles([attachment], { maxChars, maxCount: 1 });
  return refused ? { problem: refused.message } : { file: attachment };
}

export const notTextMessage = (name: string) => `${name} is not a text file.`;
export const tooManyFilesMessage = (most: number) => `At most ${most} ${most === 1 ? "file" : "files"} per message.`;

/**
 * The text files kept with a draft (draftStore), back in the tray after a reload: checked again as a picked file is
 * (storage can hold anything, and the server's limits may have changed since), each one refused saying why.
 */
export function draftFilesBack(kept: readonly { name: string; text: string }[], limits: FileLimits): { files: DraftFile[]; problems: string[] } {
  const files: DraftFile[] = [];
  const problems: string[] = [];
  for (const { name, text } of kept) {
    if (files.length >= limits.maxCount) {
      problems.push(tooManyFilesMessage(limits.maxCount));
      break;
    }
    const checked = checkTextFile(fileNameOf(name), text, limits.maxChars);
    if ("file" in checked) files.push(draftFile(checked.file));
    else problems.push(checked.problem);
  }
  return { files, problems };
}

/** Lines as an editor numbers them: a last line break ends the last line, it starts none. */
export function lineCount(text: string): number {
  let lines = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines++;
  return text.endsWith("\n") ? lines - 1 : lines;
}


/** What a chip says of a file: ["12 lines", "3.2 KB"]; only its length when its text is not at hand. */
export function fileFacts(file: { text?: string | undefined; chars?: number | undefined }): string[] {
  if (file.text === undefined) return [`${formatCount(file.chars ?? 0)} characters`];
  const lines = lineCount(file.text);
  return [`${formatCount(lines)} ${lines === 1 ? "line" : "lines"}`, formatFileSize(utf8Bytes(file.text))];
}

/** A file chip's accessible name: "notes.md, 12 lines, 3.2 KB". */
export function fileLabel(file: { name: string; text?: string | undefined; chars?: number | undefined }): string {
  return [file.name, ...fileFacts(file)].join(", ");
}
