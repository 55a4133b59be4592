import { z } from "zod";
import { ChatError } from "./errors.js";
import { fileAttachmentSchema, type FileAttachment } from "./files.js";

/** The image types every vision model server we speak to takes (Ollama, llama.cpp, vLLM, OpenAI). */
export const imageMimeTypes = ["image/png", "image/jpeg", "image/webp", "image/gif"] as const;
export const imageMimeTypeSchema = z.enum(imageMimeTypes);
export type ImageMimeType = z.infer<typeof imageMimeTypeSchema>;

/**
 * An image on a user message, exactly as the client sent it (DESIGN §9 `attachments`). `data` is standard
 * padded base64 without a `data:` prefix: Ollama receives it byte for byte as the message's `images`, and
 * OpenAI-compatible servers as a `data:<mimeType>;base64,<data>` URL. The schema checks the shape only;
 * `checkImages` checks count, size and content.
 */
export const imageAttachmentSchema = z.object({
  type: z.literal("image"),
  mimeType: imageMimeTypeSchema,
  data: z.string(),
});
export type ImageAttachment = z.infer<typeof imageAttachmentSchema>;

/** Most images on one message. */
export const maxImagesPerMessage = 4;
/** Default largest decoded image (MAX_IMAGE_BYTES in the API): 5 MiB. */
export const defaultMaxImageBytes = 5 * 1024 * 1024;

export interface ImageLimits {
  /** Largest decoded size of one image in bytes; default 5 MiB. */
  maxBytes?: number;
  /** Most images; default 4. */
  maxCount?: number;
}

const mimeLabel: Record<ImageMimeType, string> = {
  "image/png": "PNG",
  "image/jpeg": "JPEG",
  "image/webp": "WebP",
  "image/gif": "GIF",
};

/**
 * The image type the bytes are, by their signature (magic bytes), whatever anyone declared:
 * PNG `89 50 4E 47 0D 0A 1A 0A`, JPEG `FF D8 FF`, GIF `GIF87a`/`GIF89a`, WebP `RIFF....WEBP`.
 */
export function sniffImageType(bytes: Uint8Array): ImageMimeType | undefined {
  const starts = (sig: readonly number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (starts([0xff, 0xd8, 0xff])) return "image/jpeg";
  if (starts([0x47, 0x49, 0x46, 0x38]) && (bytes[4] === 0x37 || bytes[4] === 0x39) && bytes[5] === 0x61) return "image/gif";
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return "image/webp";
  return undefined;
}

/**
 * Standard alphabet with at most two `=` at the end, the length a multiple of 4: what Go's
 * base64.StdEncoding in Ollama decodes. Searched as "any character outside the alphabet" (a grouped
 * pattern overflows the regular expression stack on multi-megabyte strings; this one is the fastest).
 */
const outsideBase64 = /[^A-Za-z0-9+/]/;

/** Decoded size of standard padded base64 without decoding it; undefined when `data` is not such base64. */
export function base64DecodedBytes(data: string): number | undefined {
  if (data.length % 4 !== 0) return undefined;
  const padding = data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0;
  if (outsideBase64.test(padding === 0 ? data : data.slice(0, -padding))) return undefined;
  return (data.length / 4) * 3 - padding;
}

/** The first 18 bytes of valid base64 (enough for every signature); atob works in Node and browsers alike. */
function decodeBase64Head(data: string): Uint8Array {
  const binary = atob(data.slice(0, 24));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** "5 MiB", "6.2 MiB", "512 KiB", "100 bytes". */
export function formatBytes(bytes: number): string {
  const trim = (n: number) => n.toFixed(1).replace(/\.0$/, "");
  if (bytes >= 1024 * 1024) return `${trim(bytes / (1024 * 1024))} MiB`;
  if (bytes >= 1024) return `${trim(bytes / 1024)} KiB`;
  return `${bytes} bytes`;
}

/**
 * Checks the images of one message: at most `maxCount`, each valid base64 (no `data:` prefix), non-empty, at
 * most `maxBytes` decoded, and really a PNG, JPEG, WebP or GIF of the declared type (magic bytes). Returns
 * the first problem as a `bad_request` ChatError whose message names the limit, or undefined when all is
 * well. Only the first bytes are decoded, so a 5 MiB image costs a regular expression pass, not a copy.
 */
export function checkImages(images: readonly ImageAttachment[], limits: ImageLimits = {}): ChatError | undefined {
  const maxCount = limits.maxCount ?? maxImagesPerMessage;
  const maxBytes = limits.maxBytes ?? defaultMaxImageBytes;
  if (images.length > maxCount) {
    return new ChatError("bad_request", `Too many images: at most ${maxCount} per message, got ${images.length}.`);
  }
  for (const [index, image] of images.entries()) {
    const name = images.length === 1 ? "The image" : `Image ${index + 1}`;
    if (image.data.startsWith("data:")) {
      return new ChatError("bad_request", `${name} must be plain base64, without the "data:…;base64," prefix.`);
    }
    const size = base64DecodedBytes(image.data);
    if (size === undefined) return new ChatError("bad_request", `${name} is not valid base64.`);
    if (size === 0) return new ChatError("bad_request", `${name} is empty.`);
    if (size > maxBytes) {
      return new ChatError("bad_request", `${name} is ${formatBytes(size)} (${size} bytes); each image may be at most ${formatBytes(maxBytes)} (${maxBytes} bytes).`);
    }
    const actual = sniffImageType(decodeBase64Head(image.data));
    if (actual === undefined) return new ChatError("bad_request", `${name} is not a PNG, JPEG, WebP or GIF image.`);
    if (actual !== image.mimeType) {
      return new ChatError("bad_request", `${name} is declared ${image.mimeType} but its content is a ${mimeLabel[actual]} image (${actual}).`);
    }
  }
  return undefined;
}

/** What `attachments` of a message may hold: images, and text files (files.ts). */
export const attachmentSchema = z.discriminatedUnion("type", [imageAttachmentSchema, fileAttachmentSchema]);
export type Attachment = ImageAttachment | FileAttachment;

/** A message's attachments as the engine's user message keeps them: images and files apart, in the order sent. */
export function splitAttachments(attachments: readonly Attachment[]): { images: ImageAttachment[]; files: FileAttachment[] } {
  const images: ImageAttachment[] = [];
  const files: FileAttachment[] = [];
  for (const attachment of attachments) {
    if (attachment.type === "image") images.push(attachment);
    else files.push(attachment);
  }
  return { images, files };
}
