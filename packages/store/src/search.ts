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
 * surrogates matches such text exactly as JavaScript does; the few other queries are answered by scanning the
 * user's messages with `containsFolded` (`likeAnswersExactly`).
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
 * Whether `LIKE containsPattern(query)` over `searchableText` stored as UTF-8 finds exactly what `containsFolded`
 * finds: true unless the folded query holds NUL, U+FFFD or a lone surrogate.
 */
export function likeAnswersExactly(query: string): boolean {
  return !inexactInSql.test(foldCase(query));
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

export function containsFolded(text: string, query: string): boolean {
  return foldCase(text).includes(foldCase(query));
}

const snippetBefore = 40;
const snippetAfter = 80;

/**
 * A short excerpt of `text` around the first match of `query`, with "…" where it was cut.
 * Whitespace runs collapse to one space so multi-line answers read as one line.
 */
export function snippet(text: string, query: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  // Folding can change the length of a few characters (e.g. "İ"); clamp rather than trust the index blindly.
  const at = Math.max(0, Math.min(foldCase(flat).indexOf(foldCase(query)), flat.length));
  let start = Math.max(0, at - snippetBefore);
  let end = Math.min(flat.length, at + query.length + snippetAfter);
  // Never cut a surrogate pair in half.
  if (start > 0 && isLowSurrogate(flat.charCodeAt(start))) start -= 1;
  if (end < flat.length && isLowSurrogate(flat.charCodeAt(end))) end += 1;
  return `${start > 0 ? "…" : ""}${flat.slice(start, end)}${end < flat.length ? "…" : ""}`;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Roles whose text is searchable: what the user wrote and what the assistant answered. */
export const searchableRoles = ["user", "assistant"] as const;
export type SearchableRole = (typeof searchableRoles)[number];

export function isSearchableRole(role: string): role is SearchableRole {
  return (searchableRoles as readonly string[]).includes(role);
}

export const defaultSearchLimit = 20;
export const defaultConversationLimit = 100;
