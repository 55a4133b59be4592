import { sniffImageType, type Attachment, type ImageAttachment } from "@streamchat/core/browser";
import { readDraftImages, type DraftImage } from "./images.js";
import { draftFile, fileNameOf, readTextFile, tooManyFilesMessage, type DraftFile, type FileLimits } from "./text-files.js";

/** What a message may carry: images (vision models) and text files (every model), as chat.send takes them. */
export type MessageAttachment = Attachment;

/** An attachment as a message shows it: what conversations.get returns for a stored one (with its data). */
export type SentAttachmentView =
  | { type: "image"; mimeType: ImageAttachment["mimeType"]; data: string }
  | { type: "file"; name: string; chars: number; text: string };

/** A message's attachments as the transcript shows them before the server has it (queued, on its way): images first, as stored. */
export function attachmentViews(attachments: readonly MessageAttachment[]): SentAttachmentView[] {
  const images = attachments.flatMap((a) => (a.type === "image" ? [a] : []));
  const files = attachments.flatMap((a): SentAttachmentView[] => (a.type === "file" ? [{ type: "file", name: a.name, chars: a.text.length, text: a.text }] : []));
  return [...images, ...files];
}

/** The files of a paste or a drop (images and anything else: what each is, its bytes say). */
export function pickedFiles(data: DataTransfer | null): File[] {
  return data ? Array.from(data.files) : [];
}

export interface ReadAttachments {
  images: DraftImage[];
  files: DraftFile[];
  /** Why some were not taken, one sentence each (in the order met). */
  problems: string[];
}

/** Enough bytes for every image signature sniffImageType knows. */
const signatureBytes = 16;

/**
 * Sorts picked, pasted or dropped files into images and text files, by their bytes: a PNG, JPEG, WebP or GIF is an
 * image (for a vision model; refused otherwise), anything else is read as text (readTextFile refuses what is binary).
 * `images` and `files` are how many the message has already; the limits are per message.
 */
export async function readAttachments(
  picked: readonly File[],
  opts: { vision: boolean; images: number; files: number; fileLimits: FileLimits },
): Promise<ReadAttachments> {
  const read: ReadAttachments = { images: [], files: [], problems: [] };
  const problem = (sentence: string) => {
    if (!read.problems.includes(sentence)) read.problems.push(sentence);
  };
  for (const file of picked) {
    const name = fileNameOf(file.name);
    let head: Uint8Array;
    try {
      head = new Uint8Array(await file.slice(0, signatureBytes).arrayBuffer());
    } catch {
      problem(`${name} could not be read.`);
      continue;
    }
    if (sniffImageType(head)) {
      if (!opts.vision) {
        problem(`${name} is an image, and this model cannot see images.`);
        continue;
      }
      const image = await readDraftImages([file], opts.images + read.images.length);
      read.images.push(...image.images);
      if (image.problem) problem(image.problem);
      continue;
    }
    if (opts.files + read.files.length >= opts.fileLimits.maxCount) {
      problem(tooManyFilesMessage(opts.fileLimits.maxCount));
      continue;
    }
    const text = await readTextFile(file, opts.fileLimits.maxChars);
    if ("file" in text) read.files.push(draftFile(text.file));
    // A photo the vision model could not take (HEIC, TIFF…) is better called what it is not than "not a text file".
    else if (text.binary && opts.vision && file.type.startsWith("image/")) problem(`${name} is not a PNG, JPEG, WebP or GIF image.`);
    else problem(text.problem);
  }
  return read;
}
