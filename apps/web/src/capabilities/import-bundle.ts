/** "Imported 12 chats." / "Imported 11 of 12 chats. Line 5: <why>" (the first failure; the others are alike, mostly). */
export function bundleImportSummary(total: number, failures: ReadonlyArray<{ line: number; message: string }>): string {
  const chats = (n: number) => `${n} ${n === 1 ? "chat" : "chats"}`;
  if (failures.length === 0) return `Imported ${chats(total)}.`;
  const first = failures[0]!;
  const more = failures.length > 1 ? ` (and ${failures.length - 1} more ${failures.length === 2 ? "line" : "lines"})` : "";
  return `Imported ${total - failures.length} of ${chats(total)}. Line ${first.line}: ${first.message}${more}`;
}
