/** One conversation of a file of several that was not imported: how the summary names it ("Line 5"), and why. */
export interface ImportFailure {
  label: string;
  message: string;
}

export interface ImportSummaryOptions {
  /** The app whose export the file is ("ChatGPT"); absent for this app's own file of several chats. */
  source?: string;
  /** What its conversations held that was not imported ("2 images"), totalled over those read (the file, unless stopped). */
  leftOut?: readonly string[];
  /** How many the server had imported before (unchanged since), and skipped. */
  skipped?: number;
  /** How many of those imported took the place of an earlier copy here (the chat went on in that app since). */
  updated?: number;
  /** Stopped before this one (its index), by the user or a fault in the file: the ones from there on were not sent. */
  stoppedAt?: number;
  /** Why the file stopped being read there, in a sentence, when it was broken (cut short, not valid JSON). */
  broken?: string;
}

/**
 * "Imported 12 chats." / "Imported 11 of 12 chats. Line 5: <why>" (the first failure; the others are alike, mostly); for
 * another app's export "Imported 3 chats from ChatGPT. Not imported: 2 images, 1 tool call." `total` is undefined when
 * the import stopped before the end of a file whose conversations are counted as it is read: "Stopped: imported 40
 * chats from ChatGPT."
 */
export function bundleImportSummary(total: number | undefined, failures: readonly ImportFailure[], options: ImportSummaryOptions = {}): string {
  const chats = (n: number) => `${n} ${n === 1 ? "chat" : "chats"}`;
  const from = options.source === undefined ? "" : ` from ${options.source}`;
  const leftOut = options.leftOut && options.leftOut.length > 0 ? ` Not imported: ${options.leftOut.join(", ")}.` : "";
  const skipped = options.skipped ?? 0;
  const updated = (options.updated ?? 0) > 0 ? ` Updated ${chats(options.updated!)} continued there since the last import.` : "";
  if (options.stoppedAt !== undefined || total === undefined) {
    const imported = (options.stoppedAt ?? 0) - failures.length - skipped;
    const why = options.broken === undefined ? "" : ` ${options.broken}`;
    const before = skipped > 0 ? ` Skipped ${skipped} imported before.` : "";
    const failed = failures.length > 0 ? ` ${failures.length} could not be imported (${failures[0]!.label}: ${failures[0]!.message})` : "";
    return `Stopped: imported ${total === undefined ? chats(imported) : `${imported} of ${chats(total)}`}${from}.${updated}${why}${before}${failed}${leftOut}`;
  }
  if (skipped === total && total > 0) {
    return `${total === 1 ? `The chat${from} was` : `All ${chats(total)}${from} were`} imported before: nothing new.`;
  }
  const imported = total - failures.length - skipped;
  const head = `Imported ${imported === total ? chats(total) : `${imported} of ${chats(total)}`}${from}.`;
  const before = skipped > 0 ? ` Skipped ${skipped} imported before.` : "";
  if (failures.length === 0) return `${head}${updated}${before}${leftOut}`;
  const first = failures[0]!;
  const others = failures.length - 1;
  const noun = options.source === undefined ? (others === 1 ? "line" : "lines") : others === 1 ? "chat" : "chats";
  const more = others > 0 ? ` (and ${others} more ${noun})` : "";
  return `${head}${updated} ${first.label}: ${first.message}${more}${before}${leftOut}`;
}
