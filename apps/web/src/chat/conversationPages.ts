import type { ConversationSummary } from "./conversationSearch.js";

/**
 * How many conversations the sidebar asks for at a time: conversations.list's default limit, so the first page (the
 * page's own `conversations.list` query, asked with no input) and each older page are the same size.
 */
export const pageSize = 100;

/** One page of conversations.list as the sidebar keeps it. */
export interface ConversationPage {
  conversations: ConversationSummary[];
  /** The server listed nothing after it when it was fetched (a page shorter than asked for; an empty one). */
  end: boolean;
}

/** A page as the server sent it for `limit`. */
export function pageOf(conversations: ConversationSummary[], limit = pageSize): ConversationPage {
  return { conversations, end: conversations.length < limit };
}

/**
 * The `after` of the page that follows these: the last conversation they still hold (one deleted meanwhile has been
 * taken out, so the server is never asked after a conversation it no longer has), or undefined once the end was reached.
 */
export function nextAfter(pages: readonly ConversationPage[]): string | undefined {
  if (pages.length === 0 || pages.at(-1)!.end) return undefined;
  for (let i = pages.length - 1; i >= 0; i--) {
    const last = pages[i]!.conversations.at(-1);
    if (last) return last.id;
  }
  return undefined;
}

/**
 * The sidebar's whole list: the first page as the page's own query has it (patched at once by a pin, a rename, a
 * deletion), then the conversations of the older pages it does not hold. Each conversation once, the first copy
 * winning: the first page's, then the pages' in order. So a conversation that moved up onto the first page (new
 * activity, a pin) leaves the older pages as soon as the first page is fetched again, and one pushed down off the first
 * page still shows (from the older pages' own copy of the first page) until they are fetched again too.
 */
export function mergeConversationPages(first: readonly ConversationSummary[] | undefined, pages: readonly ConversationPage[]): ConversationSummary[] {
  const seen = new Set<string>();
  const merged: ConversationSummary[] = [];
  const add = (c: ConversationSummary) => {
    if (seen.has(c.id)) return;
    seen.add(c.id);
    merged.push(c);
  };
  first?.forEach(add);
  for (const page of pages) page.conversations.forEach(add);
  return merged;
}

/** A change to the listed conversations: the conversation as it is now, or null when it is gone. */
export type ConversationPatch = (conversation: ConversationSummary) => ConversationSummary | null;

/** The list with the patch applied (the same array when nothing changed, so React Query keeps it). */
export function patchConversations(list: ConversationSummary[], patch: ConversationPatch): ConversationSummary[] {
  let changed = false;
  const next: ConversationSummary[] = [];
  for (const c of list) {
    const patched = patch(c);
    if (patched !== c) changed = true;
    if (patched) next.push(patched);
  }
  return changed ? next : list;
}

/** Each page with the patch applied; a page keeps its `end` (what the server said then). */
export function patchPages(pages: ConversationPage[], patch: ConversationPatch): ConversationPage[] {
  let changed = false;
  const next = pages.map((page) => {
    const conversations = patchConversations(page.conversations, patch);
    if (conversations === page.conversations) return page;
    changed = true;
    return { ...page, conversations };
  });
  return changed ? next : pages;
}
