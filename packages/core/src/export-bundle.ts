/** One conversation of a file of several exports: its line number in the file (from 1) and its text. */
export interface ExportBundleLine {
  line: number;
  text: string;
}

/**
 * The conversations of a file of several exports: JSON Lines, one conversation's JSON export a line, as `GET
 * /api/export`, `chat export --all` and the web app's "Export all chats" write it. After an optional byte order mark,
 * two or more non-blank lines, each a JSON object (CRLF line ends too). undefined for anything else: one JSON value (an
 * export, pretty-printed or on one line) or a file that is neither, which an import reads whole (and the server refuses
 * in its own words). Two JSON objects in a row are never one JSON value, so a file with two such lines is never a
 * single export. One definition for the CLI's and the web app's import.
 */
export function exportBundleLines(content: string): ExportBundleLine[] | undefined {
  const lines: ExportBundleLine[] = [];
  for (const [i, raw] of content.replace(/^\uFEFF/, "").split("\n").entries()) {
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text.trim() === "") continue;
    if (!isJsonObject(text)) return undefined;
    lines.push({ line: i + 1, text });
  }
  return lines.length >= 2 ? lines : undefined;
}

function isJsonObject(text: string): boolean {
  // Not parsed when it cannot be one: another app's export is one line of JSON array, often tens of megabytes.
  if (!text.trimStart().startsWith("{")) return false;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
