import { basename } from "node:path";
import { formatBytes, sniffImageType } from "@streamchat/core";
import type { Attachments } from "./client.js";
import { readAttachmentFile } from "./read-attachment-file.js";

/**
 * An image file as an attachment: the type from its bytes (PNG, JPEG, WebP, GIF), not its name. Throws an
 * Error naming the file when it cannot be read or is no such image; the server checks size and count.
 */
export async function readImageAttachment(path: string): Promise<Attachments[number]> {
  const bytes = await readAttachmentFile(path);
  const mimeType = sniffImageType(bytes);
  if (mimeType === undefined) throw new Error(`${basename(path)} is not a PNG, JPEG, WebP or GIF image (${formatBytes(bytes.length)})`);
  return { type: "image", mimeType, data: bytes.toString("base64") };
}
