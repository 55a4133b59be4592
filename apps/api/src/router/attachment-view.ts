import { base64DecodedBytes, type ImageAttachment } from "@streamchat/core";

/**
 * An image of a message as conversations.get returns it: with its base64 `data` exactly as it was sent (the
 * default), or, asked with `attachmentData: false`, `bytes` (its decoded size) in place of the data, to be fetched
 * one at a time with conversations.attachment (a transcript is not megabytes on every reload).
 */
export type AttachmentView =
  | { type: "image"; mimeType: ImageAttachment["mimeType"]; data: string }
  | { type: "image"; mimeType: ImageAttachment["mimeType"]; bytes: number };

export function attachmentViews(images: readonly ImageAttachment[] | undefined, withData: boolean): AttachmentView[] | undefined {
  if (!images?.length) return undefined;
  return images.map((image) =>
    withData
      ? { type: "image" as const, mimeType: image.mimeType, data: image.data }
      : { type: "image" as const, mimeType: image.mimeType, bytes: base64DecodedBytes(image.data) ?? 0 },
  );
}
