import { useInfiniteQuery, useQueryClient, type InfiniteData, type QueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { trpc } from "../trpc.js";
import type { ConversationSummary } from "./conversationSearch.js";
import { mergeConversationPages, nextAfter, pageOf, pageSize, patchConversations, patchPages, type ConversationPage, type ConversationPatch } from "./conversationPages.js";

/*
 * The sidebar's list past its first page, and why it is kept this way.
 *
 * The first page stays the page's own `conversations.list` query (no input): other code patches it
 * (`utils.conversations.list.setData(undefined, …)`) and invalidates it. The pages after it are a React Query infinite
 * query whose key starts with the same procedure path, so every `utils.conversations.list.invalidate()` (the feed, a
 * send, an import, a rename, a pin, a delete) and `utils.conversations.invalidate()` refetches them as well.
 *
 * An infinite query is refetched from its first page, each next page asked after the last conversation of the page just
 * fetched (not after the ids it used before): the pages come back as one chain of what the server lists now. A
 * conversation that moved up (new activity, a pin) or left (deleted) is then neither missed nor shown twice, and no
 * `after` names a deleted conversation. That is why the infinite query holds its own copy of the first page (one more
 * request per refetch, and only once the user went past the first 100): chained on the first page's query instead, its
 * refetch would race that query's. In between, the two are merged with the first page winning (mergeConversationPages),
 * and the feed's changes are patched into both at once (patchListedConversations). Kept in component state, the pages
 * would need all that refetching written again.
 */

/** The older pages' cache entry: under `conversations.list`, so invalidating the list reaches it. */
export const olderPagesKey = [["conversations", "list"], { type: "sidebar-pages" }] as const;

type Pages = InfiniteData<ConversationPage, string | null>;

const isNotFound = (error: unknown): boolean =>
  typeof error === "object" && error !== null && (error as { data?: { code?: unknown } | null }).data?.code === "NOT_FOUND";

export interface ConversationPages {
  /** The first page, then the older pages loaded so far, each conversation once; undefined until the first page came. */
  conversations: ConversationSummary[] | undefined;
  /** More conversations may be listed after these. */
  more: boolean;
  /** The next page is being fetched (after a press, or the reader scrolling near the end). */
  loading: boolean;
  /** Why the last page could not be loaded (until the next attempt); null when all is well. */
  failure: unknown;
  /** Loads the next page (nothing while one is on its way). */
  load: () => Promise<void>;
  /** Asks again for what failed. */
  retry: () => Promise<void>;
}

/** The sidebar's list, page after page: `first` is the page's own `conversations.list` query's data. */
export function useConversationPages(first: ConversationSummary[] | undefined): ConversationPages {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  // Nothing is asked for until the user goes past the first page; from then on the pages follow the list.
  const started = queryClient.getQueryData(olderPagesKey) !== undefined;
  const older = useInfiniteQuery({
    queryKey: olderPagesKey,
    queryFn: async ({ pageParam, signal }) =>
      pageOf(await utils.client.conversations.list.query(pageParam === null ? { limit: pageSize } : { limit: pageSize, after: pageParam }, { signal })),
    initialPageParam: null as string | null,
    getNextPageParam: (_last: ConversationPage, pages: ConversationPage[]) => nextAfter(pages),
    enabled: started,
    // Fetched again when the list is invalidated or the tab comes back into view; not merely because it is old when
    // it is enabled (the first page has just been put into it then).
    staleTime: Infinity,
    refetchOnWindowFocus: "always",
  });
  const { fetchNextPage, refetch } = older;

  const [loading, setLoading] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const busy = useRef(false);
  const firstRef = useRef(first);
  firstRef.current = first;

  const load = useCallback(async () => {
    const listed = firstRef.current;
    if (busy.current || !listed) return;
    busy.current = true;
    setLoading(true);
    setFailure(null);
    const pageCount = () => queryClient.getQueryData<Pages>(olderPagesKey)?.pages.length ?? 0;
    try {
      // Goes on from the first page as the list shows it now; its copy is fetched again with the others later.
      if (pageCount() === 0) queryClient.setQueryData<Pages>(olderPagesKey, { pages: [pageOf(listed)], pageParams: [null] });
      let restarted = false;
      for (let attempt = 0; attempt < 3; attempt++) {
        const before = pageCount();
        // A refetch under way (a feed event) is not cancelled: it is the newer chain, and the next page goes on from it.
        const result = await fetchNextPage({ cancelRefetch: false });
        if (result.isError) {
          if (isNotFound(result.error) && !restarted) {
            // The conversation the page was asked after is gone (deleted meanwhile): start again from a fresh first
            // page, with as many pages as were shown, then go on.
            restarted = true;
            const again = await refetch();
            if (again.isError) {
              setFailure(again.error);
              return;
            }
            continue;
          }
          setFailure(result.error);
          return;
        }
        // What answered was a refetch under way: ask for the next page now.
        if (pageCount() > before || !result.hasNextPage) return;
      }
    } finally {
      busy.current = false;
      setLoading(false);
    }
  }, [queryClient, fetchNextPage, refetch]);

  // A refetch that failed: its page was asked after a conversation deleted between two of its requests. Once more,
  // from a fresh first page (a second NOT_FOUND in a row is shown, with Retry).
  const restartedAt = useRef<number | null>(null);
  const refetchFailed = older.isRefetchError && !loading;
  useEffect(() => {
    if (!refetchFailed || !isNotFound(older.error) || restartedAt.current === older.dataUpdatedAt) return;
    restartedAt.current = older.dataUpdatedAt;
    void refetch();
  }, [refetchFailed, older.error, older.dataUpdatedAt, refetch]);

  const pages = older.data?.pages;
  const conversations = useMemo(() => (first ? mergeConversationPages(first, pages ?? []) : undefined), [first, pages]);
  const more = pages ? older.hasNextPage : (first?.length ?? 0) >= pageSize;
  const shownFailure = failure ?? (refetchFailed && !older.isFetching ? older.error : null);
  const retry = useCallback(async () => {
    if (failure) return load();
    // A refetch that failed: the pages again, from the first (saying so while it runs, as a page load does).
    if (busy.current) return;
    busy.current = true;
    setLoading(true);
    try {
      await refetch();
    } finally {
      busy.current = false;
      setLoading(false);
    }
  }, [failure, load, refetch]);
  return { conversations, more, loading, failure: shownFailure, load, retry };
}

/**
 * A change to listed conversations (a title, a pin, a deletion), made at once wherever the sidebar holds them: the
 * first page and the older pages. A refetch follows it (the list is invalidated): this is only the first sight.
 */
export function patchListedConversations(utils: ReturnType<typeof trpc.useUtils>, queryClient: QueryClient, patch: ConversationPatch): void {
  utils.conversations.list.setData(undefined, (list) => list && patchConversations(list, patch));
  queryClient.setQueryData<Pages>(olderPagesKey, (data) => {
    if (!data) return data;
    const pages = patchPages(data.pages, patch);
    return pages === data.pages ? data : { ...data, pages };
  });
}
