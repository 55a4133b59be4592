// What another app's assistant wrote beside its answer (Claude's artifacts, ChatGPT's canvas documents), as Markdown in
// the imported answer: its title in bold, then its text fenced, so the answer reads as it did with the document's card.

/** A document as far as its conversation has built it; `content` undefined when the export holds only changes to it. */
export interface WrittenDocument {
  title: string;
  /** The fence's language ("python", "html", "markdown"), "" for none. */
  language: string;
  content: string | undefined;
}

/** A run of backticks longer than any in `content`, at least three: the fence it cannot close early. */
function fenceFor(content: string): string {
  const longest = Math.max(0, ...(content.match(/`+/g) ?? []).map((run) => run.length));
  return "`".repeat(Math.max(3, longest + 1));
}

/** `content` as a fenced code block of `language` (its first word; "" for none), whatever backticks it holds. */
export function fencedBlock(content: string, language: string): string {
  const fence = fenceFor(content);
  const info = language.trim().split(/\s+/)[0] ?? "";
  return `${fence}${info}\n${content.replace(/\n$/, "")}\n${fence}`;
}

/** The document as Markdown: its title in bold, then its text fenced (or a word that the export lacks it). */
export function writtenDocumentMarkdown(document: WrittenDocument): string {
  const title = `**${document.title.replace(/([\\`*_[\]<>])/g, "\\$1")}**`;
  if (document.content === undefined) return `${title}\n\n*(changed here; the export does not hold its whole text)*`;
  return `${title}\n\n${fencedBlock(document.content, document.language)}`;
}
