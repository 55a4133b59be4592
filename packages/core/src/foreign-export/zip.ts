import { Unzip, UnzipInflate } from "fflate";

/** Whether a file's first bytes are a ZIP archive's (a local file header, "PK\x03\x04"). */
export function isZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

/** The file other apps' data exports put their conversations in (ChatGPT's zip and Claude's). */
const conversationsFile = "conversations.json";

/** The archive cannot be read as a ZIP: damaged, cut short, or compressed in a way this reader does not know. */
export class ZipReadError extends Error {
  override name = "ZipReadError";
}

/**
 * The archive is whole but holds no `conversations.json`: not a ChatGPT or Claude data export. A ZipReadError, so that
 * a caller that only says why an archive cannot be read needs no case of its own.
 */
export class NoConversationsJsonError extends ZipReadError {
  override name = "NoConversationsJsonError";

  constructor() {
    super(`This ZIP file holds no ${conversationsFile} (ChatGPT's and Claude's data exports do).`);
  }
}

/**
 * The text of the `conversations.json` in a data export's ZIP archive (at its top, or in a folder of it), in pieces as
 * the archive's bytes go by and that entry is inflated and decoded (UTF-8; a character split between two chunks is
 * given whole, in the later piece). Only that entry is inflated, and the archive stops being read once it is whole (or
 * the iteration is left), so an export with gigabytes of pictures, or a conversations.json larger than a string can
 * hold, costs about one chunk's inflated size in memory. Throws ZipReadError for an archive it cannot read (damaged,
 * cut short, before or inside that entry), and its subclass NoConversationsJsonError when the archive, read to its
 * end, holds no such file.
 */
export async function* conversationsJsonPiecesFromZip(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<string, void, undefined> {
  const decoder = new TextDecoder();
  // The pieces inflated from the last chunk pushed, not yet given.
  let ready: string[] = [];
  let started = false;
  let complete = false;
  let failure: unknown;
  const unzip = new Unzip((entry) => {
    if (started || entry.name.split("/").pop() !== conversationsFile) return;
    started = true;
    entry.ondata = (error, data, final) => {
      if (error) {
        failure = error;
        return;
      }
      const text = decoder.decode(data, { stream: !final });
      if (text !== "") ready.push(text);
      if (final) complete = true;
    };
    entry.start();
  });
  unzip.register(UnzipInflate);
  const damaged = (cause: unknown) => new ZipReadError("This ZIP file could not be read: it is damaged or cut short.", { cause });
  for await (const chunk of chunks) {
    try {
      unzip.push(chunk);
    } catch (error) {
      failure ??= error;
    }
    if (failure !== undefined) throw damaged(failure);
    const given = ready;
    ready = [];
    yield* given;
    // The rest of the archive (pictures, audio) is not needed.
    if (complete) return;
  }
  try {
    unzip.push(new Uint8Array(0), true);
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw damaged(failure);
  yield* ready.splice(0);
  if (complete) return;
  if (started) throw new ZipReadError(`This ZIP file is cut short: its ${conversationsFile} is not whole.`);
  throw new NoConversationsJsonError();
}
