import { chatGptArchiveImages } from "./chatgpt-images.js";
import type { ForeignImages } from "./read.js";
import { NoConversationsJsonError } from "./zip.js";
import { ZipArchive } from "./zip-archive.js";

/** A data export's ZIP archive (ChatGPT's, Claude's) opened where it lies, for an import. */
export interface ExportArchive {
  /** Its conversations.json, in pieces as it is inflated (never whole in memory). */
  pieces: AsyncGenerator<string, void, undefined>;
  /** How much of conversations.json has been read, from 0 to 1. */
  progress(): number;
  /** The pictures beside it, read one conversation's at a time as the reader asks for them. */
  images: ForeignImages;
}

/**
 * Opens a data export's archive from a Blob (a browser's File, Node's `fs.openAsBlob`): its directory is read, then
 * conversations.json as it is iterated, and each picture only when a conversation points to it. Throws ZipReadError
 * when the archive cannot be read, NoConversationsJsonError when it holds no conversations.json.
 */
export async function openExportArchive(blob: Blob, options: { maxImageBytes?: number } = {}): Promise<ExportArchive> {
  const archive = await ZipArchive.open(blob);
  const entry = archive.find("conversations.json");
  if (!entry) throw new NoConversationsJsonError();
  let read = 0;
  return {
    pieces: archive.textPieces(entry, (bytes) => (read = bytes)),
    progress: () => (entry.compressedSize === 0 ? 1 : Math.min(1, read / entry.compressedSize)),
    images: chatGptArchiveImages(archive, options.maxImageBytes),
  };
}
