/**
 * A file of several exports: JSON Lines, one conversation's JSON export a line, as `GET /api/export` ("Export all
 * chats") and `chat export --all` write it. A single export is one JSON value (often pretty-printed over many lines),
 * so a file is a bundle only when it is not one JSON value and every line that is not blank is a JSON object.
 * Returns the lines (each one conversation's export) with their line numbers, or null for anything else (the import
 * then treats the file as one export, and the server says what is wrong with it).
 */
export function exportBundleLines(text: string): Array<{ line: number; content: string }> | null {
  const body = text.replace(/^\uFEFF/, "");
  try {
    JSON.parse(body);
    return null;
  } catch {
    // Not one JSON value: perhaps one a line.
  }
  const lines: Array<{ line: number; content: string }> = [];
  for (const [i, raw] of body.split(/\r?\n/).entries()) {
    if (raw.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return null;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
    lines.push({ line: i + 1, content: raw });
  }
  return lines.length > 0 ? lines : null;
}

/** "Imported 12 chats." / "Imported 11 of 12 chats. Line 5: <why>" (the first failure; the others are alike, mostly). */
export function bundleImportSummary(total: number, failures: ReadonlyArray<{ line: number; message: string }>): string {
  const chats = (n: number) => `${n} ${n === 1 ? "chat" : "chats"}`;
  if (failures.length === 0) return `Imported ${chats(total)}.`;
  const first = failures[0]!;
  const more = failures.length > 1 ? ` (and ${failures.length - 1} more ${failures.length === 2 ? "line" : "lines"})` : "";
  return `Imported ${total - failures.length} of ${chats(total)}. Line ${first.line}: ${first.message}${more}`;
}
