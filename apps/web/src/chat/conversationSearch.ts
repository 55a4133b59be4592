import { trpc, type RouterOutputs } from "../trpc.js";

export type ConversationSummary = RouterOutputs["conversations"]["list"][number];

/** Lower case without accents, so "cafe" finds "Café". */
function fold(text: string): string {
  return text.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase();
}

/** Every word of the query occurs in the title, in any order. */
export function titleMatches(title: string, query: string): boolean {
  const words = fold(query).split(/\s+/).filter(Boolean);
  const haystack = fold(title);
  return words.every((w) => haystack.includes(w));
}

export interface ConversationSearch {
  /** null while there is no query: the sidebar shows the whole list. */
  results: ConversationSummary[] | null;
  /** What was searched, for the "no match" text. */
  scope: "titles";
  loading: boolean;
}

/**
 * The sidebar's search, in one place. The API has no search procedure yet (the store's searchMessages is only
 * reachable through the model's search_conversations tool), so this filters the listed conversations by title
 * on the page. When `conversations.search` exists, only this hook changes: ask it with the query, keep the shape.
 */
export function useConversationSearch(query: string): ConversationSearch {
  const list = trpc.conversations.list.useQuery(undefined, { refetchOnWindowFocus: true });
  const q = query.trim();
  if (!q) return { results: null, scope: "titles", loading: false };
  return {
    results: (list.data ?? []).filter((c) => titleMatches(c.title || "Untitled", q)),
    scope: "titles",
    loading: list.isPending,
  };
}
