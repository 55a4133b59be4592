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
 * The text of the `conversations.json` in a data export's ZIP archive (at its top, or in a folder of it), read as the
 * archive's bytes go by: only that entry is inflated, and reading stops once it is whole, so an export with gigabytes
 * of pictures costs about its JSON's size in memory. undefined when the archive holds no such file. Throws
 * ZipReadError for an archive it cannot read.
 */
export async function conversationsJsonFromZip(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<string | undefined> {
  const decoder = new TextDecoder();
  const parts: string[] = [];
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
      parts.push(decoder.decode(data, { stream: !final }));
      if (final) complete = true;
    };
    entry.start();
  });
  unzip.register(UnzipInflate);
  try {
    for await (const chunk of chunks) {
      unzip.push(chunk);
      if (failure !== undefined) break;
      // The rest of the archive (pictures, audio) is not needed.
      if (complete) return parts.join("");
    }
    if (failure === undefined) unzip.push(new Uint8Array(0), true);
  } catch (error) {
    failure = error;
  }
  if (failure !== undefined) throw new ZipReadError("This ZIP file could not be read: it is damaged or cut short.", { cause: failure });
  if (started && !complete) throw new ZipReadError(`This ZIP file is cut short: its ${conversationsFile} is not whole.`);
  return complete ? parts.join("") : undefined;
}
