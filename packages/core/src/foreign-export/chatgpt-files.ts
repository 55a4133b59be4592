import { defaultMaxImageBytes, sniffImageType } from "../attachments.js";
import { defaultMaxFileChars } from "../files.js";
import { textFile } from "./attachments.js";
import type { ForeignFiles, ForeignFile } from "./read.js";
import { ZipReadError } from "./zip.js";
import type { ZipArchive, ZipEntry } from "./zip-archive.js";

/**
 * The attachment id a file of ChatGPT's data export is named after: "file-AbC123-photo.jpg" (an upload, as
 * `file-service://file-AbC123` points to it) or "file_00000000a1b2…-<uuid>.png" (as `sediment://file_00000000a1b2…`
 * does), in any folder of the archive. undefined for the export's other files.
 */
export function attachmentIdOfFileName(path: string): string | undefined {
  return /^(file[-_][A-Za-z0-9]+)(?:[-.]|$)/.exec(path.split("/").pop() ?? "")?.[1];
}

/** Standard padded base64 in Node and browsers alike (btoa over binary strings of bounded length). */
export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (let at = 0; at < bytes.length; at += 0x8000) parts.push(String.fromCharCode(...bytes.subarray(at, at + 0x8000)));
  return btoa(parts.join(""));
}

/** The limits of the server the import goes to (MAX_IMAGE_BYTES, MAX_FILE_CHARS); chat.send's defaults when unknown. */
export interface ArchiveFileLimits {
  maxImageBytes?: number;
  maxFileChars?: number;
}

/** The UTF-8 text of bytes that are text (valid UTF-8, no NUL: a PDF or a Word file is neither), else undefined. */
function textOf(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** What a file of `bytes` weighs in a conversation's JSON at most: base64 for a picture, and the attachment's fields. */
function jsonCost(bytes: number): number {
  return 4 * Math.ceil(bytes / 3) + 256;
}

/**
 * The files of a ChatGPT data export's archive, by the attachment ids its conversations point to: a picture (PNG,
 * JPEG, WebP or GIF, at most `maxImageBytes`) as an image, a text file (code, notes, CSV: valid UTF-8 of at most
 * `maxFileChars` characters) as a file named as in the archive without its id. One that is missing, larger, of
 * another kind (a PDF), beyond the `maxBytes` asked for, or that cannot be read is left out of the result, and so of
 * the import.
 */
export function chatGptArchiveFiles(archive: ZipArchive, limits: ArchiveFileLimits = {}): ForeignFiles {
  const maxImageBytes = limits.maxImageBytes ?? defaultMaxImageBytes;
  const maxFileChars = limits.maxFileChars ?? defaultMaxFileChars;
  const byId = new Map<string, ZipEntry>();
  for (const entry of archive.entries) {
    const id = entry.name.endsWith("/") ? undefined : attachmentIdOfFileName(entry.name);
    if (id !== undefined && !byId.has(id)) byId.set(id, entry);
  }
  return async (ids, options = {}) => {
    const files = new Map<string, ForeignFile>();
    let room = options.maxBytes ?? Infinity;
    for (const id of new Set(ids)) {
      const entry = byId.get(id);
      // Weighed by the directory's size, before anything is read (text escaped as JSON weighs less than base64 but for
      // the rare file of quotes and control characters).
      if (!entry || jsonCost(entry.size) > room) continue;
      let bytes: Uint8Array | undefined;
      try {
        // A character is at most 4 bytes: a longer file cannot be a text file the server takes either.
        bytes = await archive.bytes(entry, Math.max(maxImageBytes, 4 * maxFileChars));
      } catch (error) {
        // One damaged or encrypted file is one file not imported, not a failed import.
        if (error instanceof ZipReadError) continue;
        throw error;
      }
      if (!bytes) continue;
      const mimeType = sniffImageType(bytes);
      let file: ForeignFile | undefined;
      if (mimeType) {
        if (bytes.length <= maxImageBytes) file = { type: "image", mimeType, data: toBase64(bytes) };
      } else {
        const text = textOf(bytes);
        const fileName = (entry.name.split("/").pop() ?? "").slice(id.length).replace(/^-/, "");
        if (text !== undefined && text.length <= maxFileChars) file = textFile(fileName, text, "file.txt");
      }
      if (!file) continue;
      files.set(id, file);
      room -= jsonCost(entry.size);
    }
    return files;
  };
}
