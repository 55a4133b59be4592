/**
 * `text` cut to at most `max` UTF-16 units with "…" at the end, on a whole code point: half of a surrogate pair (an
 * emoji) would be written out as U+FFFD.
 */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}
