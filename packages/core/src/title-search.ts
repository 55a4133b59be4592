/**
 * How a conversation's title is searched, in one place for every side that does it: the web app marks what matched in
 * the titles it has loaded, and the API finds the titles of the user's other conversations the same way
 * (`conversations.list` with a query). Every word of the query must occur in the title, in any order, with case and
 * accents ignored ("cafe" finds "Café").
 */

/** One code point lower case without accents, so "cafe" finds "Café"; a final "ς" is any "σ" (no context to tell). */
function foldCodePoint(c: string): string {
  return c.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase().replaceAll("ς", "σ");
}

/**
 * The text folded one code point at a time, and where each folded code unit came from (`start`/`end` in the text):
 * what the search matches is then marked in the original. A code point that folds to nothing (a combining accent)
 * belongs to the one before it, so a mark never leaves an accent behind.
 */
function foldWithOrigins(text: string): { folded: string; start: number[]; end: number[] } {
  let folded = "";
  const start: number[] = [];
  const end: number[] = [];
  let at = 0;
  for (const c of text) {
    const f = foldCodePoint(c);
    folded += f;
    for (let i = 0; i < f.length; i++) {
      start.push(at);
      end.push(at + c.length);
    }
    if (f.length === 0 && end.length > 0) end[end.length - 1] = at + c.length;
    at += c.length;
  }
  return { folded, start, end };
}

/** The text as the search compares it: folded code point by code point (case, accents, a final sigma). */
function foldForSearch(text: string): string {
  let folded = "";
  for (const c of text) folded += foldCodePoint(c);
  return folded;
}

/** The query's words, folded; none for a blank query. */
export function searchWords(query: string): string[] {
  return foldForSearch(query).split(/\s+/).filter(Boolean);
}

/** Every word of the query occurs in the title, in any order (a blank query matches every title). */
export function titleMatches(title: string, query: string): boolean {
  return titleMatcher(query)(title);
}

/** titleMatches for one query over many titles: the query is folded once. */
export function titleMatcher(query: string): (title: string) => boolean {
  const words = searchWords(query);
  return (title) => {
    if (words.length === 0) return true;
    const haystack = foldForSearch(title);
    return words.every((w) => haystack.includes(w));
  };
}

export interface TextRange {
  /** Code unit offsets in the text, end exclusive. */
  start: number;
  end: number;
}

/**
 * Where the query's words occur in a text, by the same folding as titleMatches (case, accents): every occurrence of
 * every word, overlapping ones merged, in order. Empty when the query is.
 */
export function matchRanges(text: string, query: string): TextRange[] {
  const { folded, start, end } = foldWithOrigins(text);
  const found: TextRange[] = [];
  for (const word of searchWords(query)) {
    for (let i = folded.indexOf(word); i >= 0; i = folded.indexOf(word, i + 1)) {
      found.push({ start: start[i]!, end: end[i + word.length - 1]! });
    }
  }
  found.sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: TextRange[] = [];
  for (const range of found) {
    const last = merged.at(-1);
    if (last && range.start <= last.end) last.end = Math.max(last.end, range.end);
    else merged.push({ ...range });
  }
  return merged;
}
