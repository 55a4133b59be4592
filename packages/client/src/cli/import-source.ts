import { afterTaken, conversationsJsonPiecesFromZip, importTextOf, isZip, utf8Pieces, type ImportText } from "@streamchat/core";

/** The bytes of a file or stdin, as Node's streams give them. */
export type ByteChunks = AsyncIterable<Uint8Array | string>;

/**
 * What chat import reads (core's ImportText: a JSON array in pieces, anything else whole), from a file's or stdin's
 * bytes; a ZIP archive (ChatGPT's or Claude's data export as downloaded) is read for its conversations.json, as the
 * archive streams by. Throws what reading throws: a file system error, or ZipReadError (NoConversationsJsonError for
 * an archive without conversations.json).
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
