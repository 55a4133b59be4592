import { createReadStream, openAsBlob } from "node:fs";
import { open } from "node:fs/promises";
import {
  afterTaken,
  conversationsJsonPiecesFromZip,
  importTextOf,
  isZip,
  openExportArchive,
  utf8Pieces,
  type ArchiveFileLimits,
  type ForeignFiles,
  type ImportText,
} from "@streamchat/core";

/** The bytes of a file or stdin, as Node's streams give them. */
export type ByteChunks = AsyncIterable<Uint8Array | string>;

/** What chat import reads: core's ImportText, and for a data export's archive read from a file, its pictures and uploads. */
export type ImportSource = { kind: "array"; pieces: AsyncIterable<string>; files?: ForeignFiles } | Extract<ImportText, { kind: "text" }>;

/**
 * What chat import reads from a file (or "-": stdin). A data export's ZIP archive (ChatGPT's or Claude's, as
 * downloaded) in a file is read where it lies: its conversations.json as it is inflated, and the pictures and uploads
 * a conversation points to when it is read (held to `limits()`, the server's, asked for only then). From stdin or a
 * pipe, which cannot be read out of order, the archive is read as it streams by, for its conversations.json alone. Throws
 * what reading throws: a file system error, or ZipReadError (NoConversationsJsonError for an archive without
 * conversations.json).
 */
export async function openImportFile(file: string, stdin: ByteChunks, limits: () => Promise<ArchiveFileLimits>): Promise<ImportSource> {
  if (file === "-") return openImportSource(stdin);
  const handle = await open(file);
  let regular: boolean;
  try {
    regular = (await handle.stat()).isFile();
  } catch (error) {
    await handle.close();
    throw error;
  }
  // A pipe (chat import <(curl …)) cannot be read out of order, nor opened again: it streams from this opening, as
  // stdin does (the stream closes it).
  if (!regular) return openImportSource(handle.createReadStream());
  const head = new Uint8Array(4);
  try {
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  if (!isZip(head)) return openImportSource(createReadStream(file));
  const archive = await openExportArchive(await openAsBlob(file), await limits());
  const text = await importTextOf(archive.pieces);
  return text.kind === "array" ? { ...text, files: archive.files } : text;
}

/**
 * What chat import reads (core's ImportText: a JSON array in pieces, anything else whole), from a stream's bytes; a
 * ZIP archive (ChatGPT's or Claude's data export as downloaded) is read for its conversations.json, as the archive
 * streams by. Throws as openImportFile.
 */
export async function openImportSource(chunks: ByteChunks): Promise<ImportText> {
  const bytes = bytesOf(chunks)[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  while (head.reduce((n, chunk) => n + chunk.length, 0) < 4) {
    const next = await bytes.next();
    if (next.done === true) break;
    head.push(next.value);
  }
  const zip = isZip(concatenated(head, 4));
  const rest = afterTaken(head, bytes);
  return importTextOf(zip ? conversationsJsonPiecesFromZip(rest) : utf8Pieces(rest));
}

async function* bytesOf(chunks: ByteChunks): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) yield typeof chunk === "string" ? Buffer.from(chunk) : chunk;
}

function concatenated(chunks: Uint8Array[], length: number): Uint8Array {
  const bytes = new Uint8Array(Math.min(length, chunks.reduce((n, chunk) => n + chunk.length, 0)));
  let at = 0;
  for (const chunk of chunks) {
    if (at >= bytes.length) break;
    const part = chunk.subarray(0, bytes.length - at);
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}
