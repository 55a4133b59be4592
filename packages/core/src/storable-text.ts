/**
 * NUL and unpaired surrogates: the characters a text column cannot keep as given. PostgreSQL refuses NUL in text
 * (SQLite cuts strings at it in places), and both databases store a lone surrogate (not valid UTF-8) as U+FFFD, so
 * what is read back differs from what was written. Ids, titles, model names and approval reasons are plain columns,
 * checked at the edge with `isStorableText`; message text is kept as JSON, which escapes both.
 */
const unstorable = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(value: string): boolean {
  return !unstorable.test(value);
}

/** `value` with each NUL and unpaired surrogate replaced by U+FFFD (what a database would have made of it). */
export function toStorableText(value: string): string {
  return value.replace(new RegExp(unstorable.source, "g"), "\uFFFD");
}
