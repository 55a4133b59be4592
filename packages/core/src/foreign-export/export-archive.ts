import { chatGptArchiveFiles, type ArchiveFileLimits } from "./chatgpt-files.js";
import type { ForeignFiles } from "./read.js";
import { NoConversationsJsonError } from "./zip.js";
import { ZipArchive } from "./zip-archive.js";

/** A data export's ZIP archive (ChatGPT's, Claude's) opened where it lies, for an import. */
export interface ExportArchive {
  /** Its conversations.json, in pieces as it is inflated (never whole in memory). */
  pieces: AsyncGenerator<string, void, undefined>;
  /** How much of conversations.json has been read, from 0 to 1. */
  progress(): number;
  /** The pictures and uploads beside it, read one conversation's at a time as the reader asks for them. */
  files: ForeignFiles;
}

/**
 * Opens a data export's archive from a Blob (a browser's File, Node's `fs.openAsBlob`): its directory is read, then
 * conversations.json as it is iterated, and each picture or upload only when a conversation points to it (held to
 * `limits`, the server's MAX_IMAGE_BYTES and MAX_FILE_CHARS). Throws ZipReadError
 * when the archive cannot be read, NoConversationsJsonError when it holds no conversations.json.
 */
export async function openExportArchive(blob: Blob, limits: ArchiveFileLimits = {}): Promise<ExportArchive> {
  const archive = await ZipArchive.open(blob);
  const entry = archive.find("conversations.json");
  if (!entry) throw new NoConversationsJsonError();
  let read = 0;
  return {
    pieces: archive.textPieces(entry, (bytes) => (read = bytes)),
    progress: () => (entry.compressedSize === 0 ? 1 : Math.min(1, read / entry.compressedSize)),
    files: chatGptArchiveFiles(archive, limits),
  };
}
