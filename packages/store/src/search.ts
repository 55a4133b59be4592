/**
 * Text helpers shared by every store so that search behaves identically in memory, SQLite and PostgreSQL.
 *
 * Matching is a case-insensitive substring test on `foldCase`d text (JavaScript's String#toLowerCase — the
 * memory store's `containsFolded` is the reference). SQL's own case folding differs: SQLite's LIKE folds ASCII
 * only, PostgreSQL's lower() depends on the database's locale (ASCII only under C; and no locale folds "K" (Kelvin)
 * or a final "Σ" the way JavaScript does). So the SQL stores match an escaped LIKE pattern of the folded query
 * against text folded in JavaScript (SQLite: a registered SQL function; PostgreSQL: a folded copy stored beside
 * each message): "%" and "_" match themselves, never everything.
 *
 * The stored text is UTF-8, which cannot hold a lone surrogate (it becomes U+FFFD), and NUL ends a string for
 * SQLite's LIKE and is refused in PostgreSQL text (it is stored as U+FFFD). A query free of NUL, U+FFFD and lone
 * surrogates matches such text exactly as JavaScript does; the few other queries (and those too long for SQLite's
 * LIKE) are answered by scanning the user's messages with `containsFolded` (`likeAnswersExactly`).
 */

/** Unicode-aware case folding (String#toLowerCase), the one definition every store uses. */
export function foldCase(text: string): string {
  return text.toLowerCase();
}

/** What the SQL stores match LIKE patterns against: the folded text, NUL as U+FFFD. */
export function searchableText(text: string): string {
  return foldCase(text).replaceAll("\0", "\uFFFD");
}

const inexactInSql = /[\0\uFFFD]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * SQLite refuses a LIKE pattern longer than this many bytes ("LIKE or GLOB pattern too complex",
 * SQLITE_MAX_LIKE_PATTERN_LENGTH) where the other stores answer: a longer query is answered by scanning.
 */
export const maxLikePatternBytes = 50_000;

/**
 * Whether `LIKE containsPattern(query)` over `searchableText` stored as UTF-8 finds exactly what `containsFolded`
 * finds: true unless the folded query holds NUL, U+FFFD or a lone surrogate, or its pattern is too long for SQLite.
 */
export function likeAnswersExactly(query: string): boolean {
  const folded = foldCase(query);
  if (inexactInSql.test(folded)) return false;
  // At most 3 UTF-8 bytes per code unit of the folded query (an escaped wildcard is 2, a surrogate pair 4 for 2).
  return folded.length * 3 + 2 <= maxLikePatternBytes || Buffer.byteLength(containsPattern(query), "utf8") <= maxLikePatternBytes;
}

export const likeEscapeChar = "\\";

/** Escapes LIKE's wildcards (% and _) and the escape character itself, for `LIKE ? ESCAPE '\'`. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => likeEscapeChar + ch);
}

/** The LIKE pattern for "contains `query`", case-folded. */
export function containsPattern(query: string): string {
  return `%${escapeLike(foldCase(query))}%`;
}

/**
 * What a search reads of a message: its text, and for a question the names of the files attached to it (each on a line
 * of its own), so "budget.csv" finds the chat it was sent in. Not the files' text: a search would then find every
 * question that carried a long file, for words the user never wrote.
 */
export function searchedText(message: { content: string; files?: ReadonlyArray<{ name: string }> | undefined }): string {
  const files = message.files;
  if (!files || files.length === 0) return message.content;
  let text = message.content;
  for (const file of files) text += `\n${file.name}`;
  return text;
}

export function containsFolded(text: string, query: string): boolean {
  return foldCase(text).includes(foldCase(query));
}

const snippetBefore = 40;
const snippetAfter = 80;

/**
 * A short excerpt of `text` around the first match of `query`, with "…" where it was cut.
 * Whitespace runs collapse to one space so multi-line answers read as one line (in the query too, so a query
 * spanning a line break is still found in the flattened text).
 */
export function snippet(text: string, query: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const match = matchIn(flat, query.replace(/\s+/g, " ")) ?? { start: 0, end: 0 };
  let start = Math.max(0, match.start - snippetBefore);
  let end = Math.min(flat.length, match.end + snippetAfter);
  // Never cut a character in half: not a surrogate pair, nor an emoji sequence, flag or letter with its accents.
  if (start > 0 || end < flat.length) {
    // The whole text: where a cluster starts can depend on everything before it (pairs of regional indicators). A
    // cluster longer than maxCluster (stacked combining marks) is cut between code points instead: the snippet stays short.
    const graphemes = graphemeSegmenter.segment(flat);
    const cut = (at: number): [number, number] => {
      const cluster = graphemes.containing(at);
      if (cluster && cluster.index < at && cluster.segment.length <= maxCluster) return [cluster.index, cluster.index + cluster.segment.length];
      return isLowSurrogate(flat.charCodeAt(at)) ? [at - 1, at + 1] : [at, at];
    };
    if (start > 0) start = cut(start)[0];
    if (end < flat.length) end = cut(end)[1];
  }
  return `${start > 0 ? "…" : ""}${flat.slice(start, end)}${end < flat.length ? "…" : ""}`;
}

const graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
/** Longest character (grapheme cluster) a snippet keeps whole at its ends, in code units (a family of four is 11). */
const maxCluster = 32;

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * Where the first case-insensitive match of `query` is in `text`, as offsets of `text`. Folding lengthens a few
 * characters (e.g. "İ" becomes two code units), so an offset in the folded text is mapped back character by character.
 */
function matchIn(text: string, query: string): { start: number; end: number } | undefined {
  const folded = foldCase(text);
  const needle = foldCase(query);
  const at = folded.indexOf(needle);
  if (at < 0) return undefined;
  // No character changed length (toLowerCase only ever lengthens one): the offsets are the same.
  if (folded.length === text.length) return { start: at, end: at + needle.length };
  let start = text.length;
  let offset = 0;
  let foldedAt = 0;
  for (const ch of text) {
    const foldedEnd = foldedAt + foldCase(ch).length;
    // The match may begin or end inside a character's folding ("i" of "İ"): the whole character is in it.
    if (start === text.length && foldedEnd > at) start = offset;
    offset += ch.length;
    if (foldedEnd >= at + needle.length) return { start: Math.min(start, offset), end: offset };
    foldedAt = foldedEnd;
  }
  return { start, end: text.length };
}

/** Roles whose text is searchable: what the user wrote and what the assistant answered. */
export const searchableRoles = ["user", "assistant"] as const;
export type SearchableRole = (typeof searchableRoles)[number];

export function isSearchableRole(role: string): role is SearchableRole {
  return (searchableRoles as readonly string[]).includes(role);
}

export const defaultSearchLimit = 20;
export const defaultConversationLimit = 100;
