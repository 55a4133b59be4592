import { checkImages, maxImagesPerMessage, sniffImageType, type ImageAttachment } from "../attachments.js";
import { checkFiles, defaultMaxFileChars, fileNameControlCharacter, maxFileNameChars, maxFilesPerMessage, type FileAttachment } from "../files.js";
import { toStorableText } from "../storable-text.js";
import type { ForeignChatMessage, LeftOut } from "./document.js";

// What the Open WebUI and Claude readers share: a question's attachments held to chat.send's rules.

export type LeftOutAttachment = "image" | "file";

/**
 * The attachments of one question as this app keeps them: the images and text files chat.send would take (at most 4
 * and 8), and what could not be kept, by kind.
 */
export class QuestionAttachments {
  readonly images: ImageAttachment[] = [];
  readonly files: FileAttachment[] = [];
  readonly leftOut: LeftOutAttachment[] = [];

  /** An image given as a `data:` URL; anything else (an http URL, another type, a broken one) is left out. */
  image(url: unknown): void {
    const image = typeof url === "string" ? imageFromDataUrl(url) : undefined;
    if (image && this.images.length < maxImagesPerMessage) this.images.push(image);
    else this.leftOut.push("image");
  }

  /** A text file; one without text, too long, or past the eighth is left out. */
  file(name: unknown, text: unknown, fallbackName: string): void {
    const file = typeof text === "string" && text.trim() !== "" ? textFile(name, text, fallbackName) : undefined;
    if (file && this.files.length < maxFilesPerMessage) this.files.push(file);
    else this.leftOut.push("file");
  }

  leave(kind: LeftOutAttachment): void {
    this.leftOut.push(kind);
  }

  /**
   * The question made of the typed `text` and these attachments, what is left out counted into `leftOut`; undefined
   * when there is nothing at all (no text, no attachment). A question whose attachments were all left out says so in
   * its content ("[image not imported]"): an empty question would read as nothing asked.
   */
  question(text: string, leftOut: LeftOut): Extract<ForeignChatMessage, { role: "user" }> | undefined {
    for (const kind of this.leftOut) leftOut.add(kind);
    let content = text;
    if (content.trim() === "" && this.images.length + this.files.length === 0) {
      if (this.leftOut.length === 0) return undefined;
      content = `[${notImportedWords(this.leftOut)} not imported]`;
    }
    return {
      role: "user",
      content,
      ...(this.images.length > 0 ? { images: this.images } : {}),
      ...(this.files.length > 0 ? { files: this.files } : {}),
    };
  }
}

/** "image", "2 images", "image and 3 files". */
function notImportedWords(kinds: readonly LeftOutAttachment[]): string {
  const words = (["image", "file"] as const).flatMap((kind) => {
    const n = kinds.filter((k) => k === kind).length;
    return n === 0 ? [] : [n === 1 ? kind : `${n} ${kind}s`];
  });
  return words.join(" and ");
}

const dataUrl = /^data:[^;,]*(?:;[^;,]*)*;base64,(.*)$/is;

/**
 * The image of a `data:…;base64,` URL when it is a PNG, JPEG, WebP or GIF chat.send would take. The type is the one
 * its bytes have (apps write a wrong one in the URL at times); whitespace and missing padding, which browsers accept
 * in such URLs, are mended.
 */
export function imageFromDataUrl(url: string): ImageAttachment | undefined {
  const match = dataUrl.exec(url.trim());
  if (!match) return undefined;
  let data = (match[1] ?? "").replace(/\s+/g, "");
  if (data.length % 4 !== 0) data = data.padEnd(data.length + 4 - (data.length % 4), "=");
  let head: Uint8Array;
  try {
    head = Uint8Array.from(atob(data.slice(0, 24)), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
  const mimeType = sniffImageType(head);
  if (mimeType === undefined) return undefined;
  const image: ImageAttachment = { type: "image", mimeType, data };
  return checkImages([image]) === undefined ? image : undefined;
}

/**
 * A text file as chat.send would take it, or undefined (empty, longer than 100,000 characters). Characters a name may
 * not hold become spaces and characters no text column keeps become U+FFFD (text extracted from a PDF has NULs at
 * times): a file is not refused for what the other app let through.
 */
export function textFile(name: unknown, text: string, fallbackName: string): FileAttachment | undefined {
  const cleanName = toStorableText(typeof name === "string" ? name : "")
    .replace(new RegExp(fileNameControlCharacter.source, "g"), " ")
    .trim()
    .slice(0, maxFileNameChars)
    .trim();
  const file: FileAttachment = { type: "file", name: cleanName === "" ? fallbackName : cleanName, text: toStorableText(text) };
  // slice may cut a surrogate pair in two; checkFiles catches that and any other rule this did not foresee.
  return checkFiles([file]) === undefined ? file : undefined;
}
