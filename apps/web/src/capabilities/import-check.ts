import { notAnExportMessage, tooLargeToImportMessage } from "@streamchat/core/browser";
import type { RouterOutputs } from "../trpc.js";

/**
 * The largest file the server imports (MAX_IMPORT_BYTES), as `health.limits` tells a signed-in caller. Undefined when
 * it does not say: a server from before that field, an anonymous answer, or no answer yet. The file is then sent and
 * the server judges it, as it always did.
 */
export function importLimitOf(health: RouterOutputs["health"] | null | undefined): number | undefined {
  if (typeof health !== "object" || health === null || !("limits" in health)) return undefined;
  // Typed as always there once signed in, but a proxy or an odd server may still send something else: read with care.
  const limits: { maxImportBytes?: unknown } | null | undefined = health.limits;
  const max = limits?.maxImportBytes;
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
 * app's export of many conversations (ChatGPT's conversations.json) is one, each of them imported on its own.
 */
export async function checkImportFile(file: Blob, maxBytes: number | undefined): Promise<string | null> {
  // The server ignores a byte order mark (Notepad saves one); a cut multi-byte character at the end does not matter.
  const head = (await file.slice(0, headBytes).text()).replace(/^\uFEFF/, "").trimStart();
  if (head.startsWith("[")) return null;
  if (maxBytes !== undefined && file.size > maxBytes) return tooLargeToImportMessage(file.size, maxBytes);
  if (head.startsWith("{")) return null;
  if (head === "") return file.size > headBytes ? null : notAnExportMessage("it is empty"); // or blanks before the rest
  // "42" or "true" may well be JSON: only what cannot start JSON is called "not JSON".
  return otherJsonStart.test(head) ? notAnExportMessage() : notAnExportMessage("it is not JSON");
}
