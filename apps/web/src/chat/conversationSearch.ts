import { useEffect, useState } from "react";
import { trpc, type RouterOutputs } from "../trpc.js";

export type ConversationSummary = RouterOutputs["conversations"]["list"][number];
export type SearchHit = RouterOutputs["conversations"]["search"][number];

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

const fold = (text: string): string => foldWithOrigins(text).folded;
const queryWords = (query: string): string[] => fold(query).split(/\s+/).filter(Boolean);

/** Every word of the query occurs in the title, in any order. */
export function titleMatches(title: string, query: string): boolean {
  const haystack = fold(title);
  return queryWords(query).every((w) => haystack.includes(w));
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
  for (const word of queryWords(query)) {
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

/**
 * The conversations a search shows: those whose title matches (checked here, at once) and those where the server
 * found the text in a message (conversations.search: every version of every message), in the list's order. A hit in a
 * conversation the sidebar has not loaded (an older page, or one made elsewhere a moment ago) shows after them, newest
 * hit first, as the hit describes it: its title, and its newest hit's time for its activity (the summary's other fields
 * come with the list; pinned conversations are always on the first page).
 */
export function searchResults(list: readonly ConversationSummary[], query: string, hits: readonly SearchHit[]): ConversationSummary[] {
  const found = new Set(hits.map((h) => h.conversationId));
  const shown = list.filter((c) => found.has(c.id) || titleMatches(c.title || "Untitled", query));
  const listed = new Set(list.map((c) => c.id));
  const beyond = new Map<string, ConversationSummary>();
  for (const hit of hits) {
    if (listed.has(hit.conversationId)) continue;
    const known = beyond.get(hit.conversationId);
    if (known && known.updatedAt >= hit.createdAt) continue;
    beyond.set(hit.conversationId, {
      id: hit.conversationId,
      title: hit.title,
      createdAt: hit.createdAt,
      updatedAt: hit.createdAt,
      pinnedAt: null,
      activeRunId: null,
    });
  }
  return [...shown, ...[...beyond.values()].sort((a, b) => b.updatedAt - a.updatedAt)];
}

/**
 * Each conversation's newest message hit (conversationId → messageId). The hit may be on a branch the conversation does
 * not show: opening the conversation from the search switches to it, so the reader sees what they searched for.
 */
export function newestHits(hits: readonly SearchHit[]): Map<string, number> {
  const newest = new Map<string, SearchHit>();
  for (const hit of hits) {
    const known = newest.get(hit.conversationId);
    // Ties keep the earlier hit: the server lists newest first.
    if (!known || hit.createdAt > known.createdAt) newest.set(hit.conversationId, hit);
  }
  return new Map([...newest].map(([id, hit]) => [id, hit.messageId]));
}

export interface ConversationSearch {
  /** null while there is no query: the sidebar shows the whole list. */
  results: ConversationSummary[] | null;
  /** The message to open each conversation found by its messages at (newestHits); empty without a query. */
  hits: ReadonlyMap<string, number>;
  /** What was searched, for the "no match" text. */
  scope: "titles and messages";
  /** The server has not answered for this query yet (title matches already show). */
  loading: boolean;
}

const noHits: ReadonlyMap<string, number> = new Map();

/** Typing pauses this long before the server is asked. */
const debounceMs = 200;

function useDebounced(value: string, ms: number): string {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

/**
 * The sidebar's search, in one place: titles on the page, message text on the server. `listed`: the conversations the
 * sidebar holds (its first page and the older pages it loaded; undefined until the first page came).
 */
export function useConversationSearch(query: string, listed: readonly ConversationSummary[] | undefined): ConversationSearch {
  const q = query.trim();
  const asked = useDebounced(q, debounceMs).slice(0, 200);
  const server = trpc.conversations.search.useQuery(
    { query: asked, limit: 100 },
    { enabled: asked.length > 0, staleTime: 10_000 },
  );
  if (!q) return { results: null, hits: noHits, scope: "titles and messages", loading: false };
  // Only hits for exactly this query: an older query's would show conversations this one does not match. Until they
  // come, the title matches show (the hits only ever add to them).
  const hits = asked === q ? (server.data ?? []) : [];
  return {
    results: searchResults(listed ?? [], q, hits),
    hits: newestHits(hits),
    scope: "titles and messages",
    loading: listed === undefined || asked !== q || server.isFetching,
  };
}
