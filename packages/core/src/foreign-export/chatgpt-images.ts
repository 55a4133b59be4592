import { defaultMaxImageBytes, sniffImageType, type ImageAttachment } from "../attachments.js";
import type { ForeignImages } from "./read.js";
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

/**
 * The pictures of a ChatGPT data export's archive, by the attachment ids its conversations point to: those that are a
 * PNG, JPEG, WebP or GIF of at most `maxImageBytes` (chat.send's rule on the server the import goes to). One that is
 * missing, larger, of another type, or that cannot be read is left out of the result, and so of the import.
 */
export function chatGptArchiveImages(archive: ZipArchive, maxImageBytes = defaultMaxImageBytes): ForeignImages {
  const byId = new Map<string, ZipEntry>();
  for (const entry of archive.entries) {
    const id = entry.name.endsWith("/") ? undefined : attachmentIdOfFileName(entry.name);
    if (id !== undefined && !byId.has(id)) byId.set(id, entry);
  }
  return async (ids) => {
    const images = new Map<string, ImageAttachment>();
    for (const id of new Set(ids)) {
      const entry = byId.get(id);
      if (!entry) continue;
      let bytes: Uint8Array | undefined;
      try {
        bytes = await archive.bytes(entry, maxImageBytes);
      } catch (error) {
        // One damaged or encrypted picture is one picture not imported, not a failed import.
        if (error instanceof ZipReadError) continue;
        throw error;
      }
      const mimeType = bytes && sniffImageType(bytes);
      if (bytes && mimeType) images.set(id, { type: "image", mimeType, data: toBase64(bytes) });
    }
    return images;
  };
}
