import { useEffect, useState } from "react";
import { titleMatcher } from "@streamchat/core/browser";
import { trpc, type RouterOutputs } from "../trpc.js";

export type ConversationSummary = RouterOutputs["conversations"]["list"][number];
export type SearchHit = RouterOutputs["conversations"]["search"][number];

/**
 * The conversations a search shows, in this order: the loaded ones whose title matches (checked here, at once) or
 * where the server found the text in a message (conversations.search: every version of every message), in the list's
 * order; then those the sidebar has not loaded (older pages) whose title the server matched (conversations.list with
 * the query: the same words rule, over every conversation), in the list's order; then the archived ones whose title
 * it matched (`archivedTitled`: the same list of the archived), in their order; then those the server found by a
 * message only, newest hit first, as the hit describes it: its title, and its newest hit's time for its activity (the
 * summary's other fields come with the list; pinned conversations are always on the first page). Each once.
 */
export function searchResults(
  list: readonly ConversationSummary[],
  query: string,
  hits: readonly SearchHit[],
  titled: readonly ConversationSummary[] = [],
  archivedTitled: readonly ConversationSummary[] = [],
): ConversationSummary[] {
  const found = new Set(hits.map((h) => h.conversationId));
  const matches = titleMatcher(query);
  const shown = list.filter((c) => found.has(c.id) || matches(c.title || "Untitled"));
  const listed = new Set(list.map((c) => c.id));
  const titledBeyond = [...titled, ...archivedTitled].filter((c) => !listed.has(c.id));
  for (const c of titledBeyond) listed.add(c.id);
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
      // A chat found by its messages only may be archived (the list and its title search leave those out).
      archivedAt: hit.archivedAt,
      activeRunId: null,
    });
  }
  return [...shown, ...titledBeyond, ...[...beyond.values()].sort((a, b) => b.updatedAt - a.updatedAt)];
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

/** The most title matches asked for at once: more than a sidebar shows before the reader narrows the search. */
const titleMatchLimit = 50;

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
 * The sidebar's search, in one place: titles on the page at once, then the server's answers (message text on every
 * branch, and titles of every conversation, the pages not loaded too). `listed`: the conversations the sidebar holds (its
 * first page and the older pages it loaded; undefined until the first page came).
 */
export function useConversationSearch(query: string, listed: readonly ConversationSummary[] | undefined): ConversationSearch {
  const q = query.trim();
  const asked = useDebounced(q, debounceMs).slice(0, 200);
  const server = trpc.conversations.search.useQuery(
    { query: asked, limit: 100 },
    { enabled: asked.length > 0, staleTime: 10_000 },
  );
  // Titles beyond the pages loaded: the server matches them by the same rule (titleMatcher). The archived chats' too:
  // out of the list, not out of reach (marked Archived in the results).
  const titles = trpc.conversations.list.useQuery(
    { query: asked, limit: titleMatchLimit },
    { enabled: asked.length > 0, staleTime: 10_000 },
  );
  const archivedTitles = trpc.conversations.list.useQuery(
    { query: asked, limit: titleMatchLimit, archived: true },
    { enabled: asked.length > 0, staleTime: 10_000 },
  );
  if (!q) return { results: null, hits: noHits, scope: "titles and messages", loading: false };
  // Only answers for exactly this query: an older query's would show conversations this one does not match. Until they
  // come, the title matches among the loaded pages show (the answers only ever add to them).
  const current = asked === q;
  const hits = current ? (server.data ?? []) : [];
  return {
    results: searchResults(listed ?? [], q, hits, current ? (titles.data ?? []) : [], current ? (archivedTitles.data ?? []) : []),
    hits: newestHits(hits),
    scope: "titles and messages",
    loading: listed === undefined || !current || server.isFetching || titles.isFetching || archivedTitles.isFetching,
  };
}
