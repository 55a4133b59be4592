import { checkImages, imageMimeTypes, maxImagesPerMessage, sniffImageType, type ImageAttachment } from "@streamchat/core/browser";
import { randomId } from "../lib/ids.js";

/** An image waiting in the composer: what goes to the server, and a URL for its thumbnail. */
export interface DraftImage {
  id: string;
  name: string;
  attachment: ImageAttachment;
  /** A data: URL (not an object URL: nothing to revoke, survives re-renders). */
  url: string;
}

export const acceptedImageTypes = imageMimeTypes.join(",");

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  // In slices: String.fromCharCode(...bytes) overflows the argument list on megabyte images.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/**
 * Reads picked, pasted or dropped files as attachments. The type comes from the bytes (a .png that is a
 * JPEG is sent as a JPEG); files that are no PNG/JPEG/WebP/GIF, or one too many, come back as a message.
 */
export async function readDraftImages(files: readonly File[], already: number, maxBytes?: number): Promise<{ images: DraftImage[]; problem: string | null }> {
  const images: DraftImage[] = [];
  let problem: string | null = null;
  for (const file of files) {
    if (already + images.length >= maxImagesPerMessage) {
      problem = `At most ${maxImagesPerMessage} images per message.`;
      break;
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    const mimeType = sniffImageType(bytes);
    if (!mimeType) {
      problem = `${file.name || "That file"} is not a PNG, JPEG, WebP or GIF image.`;
      continue;
    }
    const attachment: ImageAttachment = { type: "image", mimeType, data: toBase64(bytes) };
    const error = checkImages([attachment], maxBytes === undefined ? {} : { maxBytes });
    if (error) {
      problem = `${file.name || "The image"}: ${error.message.replace(/^The image /, "it ")}`;
      continue;
    }
    images.push(draftImage(attachment, file.name || "pasted image"));
  }
  return { images, problem };
}

/** A tray entry for an image: a new one, or one given back by a message that was not sent. */
export function draftImage(attachment: ImageAttachment, name: string): DraftImage {
  return { id: randomId(), name, attachment, url: `data:${attachment.mimeType};base64,${attachment.data}` };
}
