import { importTextOf, isZip, notAnExportMessage, tooLargeToImportMessage, utf8Pieces, type ArchiveFileLimits, type ForeignFiles } from "@streamchat/core/browser";
import type { RouterOutputs } from "../trpc.js";

/**
 * The largest file the server imports (MAX_IMPORT_BYTES), as `health.limits` tells a signed-in caller. Undefined when
 * it does not say: a server from before that field, an anonymous answer, or no answer yet. The file is then sent and
 * the server judges it, as it always did.
 */
export function importLimitOf(health: RouterOutputs["health"] | null | undefined): number | undefined {
  return limitOf(health, "maxImportBytes");
}

/**
 * The largest picture the server takes on a question (MAX_IMAGE_BYTES), as `health.limits` tells it; undefined as for
 * importLimitOf (an import then holds pictures to the default, 5 MB).
 */
export function imageLimitOf(health: RouterOutputs["health"] | null | undefined): number | undefined {
  return limitOf(health, "maxImageBytes");
}

function limitOf(health: RouterOutputs["health"] | null | undefined, name: "maxImportBytes" | "maxImageBytes"): number | undefined {
  if (typeof health !== "object" || health === null || !("limits" in health)) return undefined;
  // Typed as always there once signed in, but a proxy or an odd server may still send something else: read with care.
  const limits: Partial<Record<typeof name, unknown>> | null | undefined = health.limits;
  const max = limits?.[name];
  return typeof max === "number" && Number.isFinite(max) && max > 0 ? max : undefined;
}


/** How many bytes of a file are read to tell whether it can be an export. */
const headBytes = 64;

/** Characters JSON other than an object or an array may start with: such a file may be JSON, but is no export either. */
const otherJsonStart = /^(?:[\-"0-9]|true\b|false\b|null\b)/;

/**
 * What is wrong with a file that the page can tell without sending it, in the server's words; null when the server
 * must judge it. Only the file's first bytes are read: an export is a JSON object, so anything else (a PDF, a Markdown
 * export, an image, an empty file) is refused here instead of being read whole and uploaded to be refused. An object
 * over the server's limit (when it is known) is refused too. A JSON array is let through whatever its size: another
 * app's export of many conversations (ChatGPT's conversations.json) is one, each of them imported on its own; so is a
 * ZIP archive (that export as downloaded).
 */
export async function checkImportFile(file: Blob, maxBytes: number | undefined): Promise<string | null> {
  const bytes = new Uint8Array(await file.slice(0, headBytes).arrayBuffer());
  // ChatGPT's or Claude's data export as downloaded: its conversations.json is read out of it (openImportFile).
  if (isZip(bytes)) return null;
  // The server ignores a byte order mark (Notepad saves one); a cut multi-byte character at the end does not matter.
  const head = new TextDecoder().decode(bytes).replace(/^\uFEFF/, "").trimStart();
  if (head.startsWith("[")) return null;
  if (maxBytes !== undefined && file.size > maxBytes) return tooLargeToImportMessage(file.size, maxBytes);
  if (head.startsWith("{")) return null;
  if (head === "") return file.size > headBytes ? null : notAnExportMessage("it is empty"); // or blanks before the rest
  // "42" or "true" may well be JSON: only what cannot start JSON is called "not JSON".
  return otherJsonStart.test(head) ? notAnExportMessage() : notAnExportMessage("it is not JSON");
}

/**
 * What an import reads from a file: for a JSON array (another app's export of many conversations, which runs to
 * hundreds of megabytes), its text in pieces as the file is read, to be read and imported one conversation at a time,
 * and how much of the file has been read (0 to 1); for anything else (this app's export, a file of several chats, one
 * conversation), the whole text, which the server's import limit bounds. A ZIP archive (ChatGPT's or Claude's data
 * export as downloaded) is read where it lies: its conversations.json inflated as it is read, and `files`, the
 * pictures and uploads beside it, each read when a conversation points to it (held to `limits`, the server's
 * MAX_IMAGE_BYTES and MAX_FILE_CHARS). `refusal`, in words, when the archive cannot be read or holds no such file.
 */
export type ImportFile =
  | { kind: "array"; pieces: AsyncIterable<string>; progress(): number; files?: ForeignFiles }
  | { kind: "text"; text: string }
  | { refusal: string };

export async function openImportFile(file: Blob, limits: ArchiveFileLimits = {}): Promise<ImportFile> {
  if (!isZip(new Uint8Array(await file.slice(0, 4).arrayBuffer()))) {
    let read = 0;
    const text = await importTextOf(utf8Pieces(counted(chunksOf(file.stream()), (n) => (read += n))));
    return text.kind === "array" ? { ...text, progress: () => (file.size === 0 ? 1 : Math.min(1, read / file.size)) } : text;
  }
  const { openExportArchive, ZipReadError } = await import("./other-apps.js");
  try {
    const archive = await openExportArchive(file, limits);
    const text = await importTextOf(archive.pieces);
    return text.kind === "array" ? { ...text, progress: archive.progress, files: archive.files } : text;
  } catch (error) {
    if (error instanceof ZipReadError) return { refusal: error.message };
    throw error;
  }
}

async function* counted(chunks: AsyncIterable<Uint8Array>, add: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    add(chunk.length);
    yield chunk;
  }
}

/** A stream's chunks one by one (not every browser iterates a ReadableStream itself yet); cancelled when left early. */
async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) yield next.value;
  } finally {
    await reader.cancel().catch(() => {});
  }
}
