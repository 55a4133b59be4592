import { readFile } from "node:fs/promises";

/** A file's bytes for an attachment, or an Error that names the path and why it could not be read (ENOENT, EISDIR…). */
export async function readAttachmentFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new Error(`cannot read ${path}${typeof code === "string" ? ` (${code})` : ""}`);
  }
}
