import { base64DecodedBytes, type FileAttachment, type ImageAttachment } from "@streamchat/core";

/**
 * An attachment of a message as conversations.get returns it: an image with its base64 `data` exactly as it was sent,
 * a text file with its `text` (the default), or, asked with `attachmentData: false`, an image's `bytes` (its decoded
 * size) and a file's `chars` only, each fetched on its own with conversations.attachment (a transcript is not
 * megabytes on every reload). Images first, then files, each in the order sent: an attachment's index is its place
 * in this list.
 */
export type AttachmentView =
  | { type: "image"; mimeType: ImageAttachment["mimeType"]; data: string }
  | { type: "image"; mimeType: ImageAttachment["mimeType"]; bytes: number }
  | { type: "file"; name: string; chars: number; text: string }
  | { type: "file"; name: string; chars: number };

export function attachmentViews(message: { images?: readonly ImageAttachment[]; files?: readonly FileAttachment[] }, withData: boolean): AttachmentView[] | undefined {
  const { images = [], files = [] } = message;
  if (images.length === 0 && files.length === 0) return undefined;
  const views: AttachmentView[] = images.map((image) =>
    withData
      ? { type: "image" as const, mimeType: image.mimeType, data: image.data }
      : { type: "image" as const, mimeType: image.mimeType, bytes: base64DecodedBytes(image.data) ?? 0 },
  );
  for (const file of files) {
    const view = { type: "file" as const, name: file.name, chars: file.text.length };
    views.push(withData ? { ...view, text: file.text } : view);
  }
  return views;
}

/** The attachment at `index` of attachmentViews' list, whole. */
export function attachmentAt(message: { images?: readonly ImageAttachment[]; files?: readonly FileAttachment[] }, index: number): ImageAttachment | FileAttachment | undefined {
  const { images = [], files = [] } = message;
  return index < images.length ? images[index] : files[index - images.length];
}
