/**
 * Text helpers shared by both stores so that search behaves identically in memory and in SQLite.
 *
 * Matching is a case-insensitive substring test on `foldCase`d text. SQLite's own LIKE folds ASCII only,
 * so the SQLite store registers `foldCase` as a SQL function and compares folded text with an escaped
 * LIKE pattern: a query of "%" or "_" matches those characters literally, never everything.
 */

/** Unicode-aware case folding (String#toLowerCase), the one definition both stores use. */
export function foldCase(text: string): string {
  return text.toLowerCase();
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
