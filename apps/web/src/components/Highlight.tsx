import type { ReactNode } from "react";
import { matchRanges } from "@streamchat/core/browser";

/**
 * The text with what the search matched in it marked (<mark>: screen readers can announce it), by the search's own
 * folding (case, accents), so the mark shows why a result is there. Plain text without a query.
 */
export function Highlight({ text, query }: { text: string; query: string }): ReactNode {
  const ranges = matchRanges(text, query);
  if (ranges.length === 0) return text;
  const parts: ReactNode[] = [];
  let at = 0;
  for (const { start, end } of ranges) {
    if (start > at) parts.push(text.slice(at, start));
    parts.push(
      <mark key={start} className="search-match">
        {text.slice(start, end)}
      </mark>,
    );
    at = end;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}
