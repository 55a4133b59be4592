import { useQueryClient } from "@tanstack/react-query";
import { useRef } from "react";
import { trpc } from "../trpc.js";
import { feedUnreachable } from "./connectionState.js";
import { continuingRuns } from "./continuingRuns.js";
import { feedUpdateFor } from "./feedUpdates.js";
import { patchListedConversations } from "./useConversationPages.js";

/**
 * Keeps this tab current with what the user's other tabs and devices do (conversations.feed, one subscription per
 * tab): the sidebar list, the open conversation (a message sent elsewhere appears, and its answer is followed as
 * it streams), titles, deletions. tRPC's link resumes after the last id on a reconnect; when the server cannot
 * say what was missed it sends `resync` and everything is refetched.
 */
export interface ConversationFeed {
  /** Starts a refused subscription again (a new token). */
  restart: () => void;
  /**
   * The server cannot be reached and the feed is trying again: the one connection a tab always holds, so the page can
   * say so while no answer streams (an answer's own subscription says it then). Null while all is well.
   */
  unreachable: string | null;
}

export function useConversationFeed(opts: { onDeleted: (conversationId: string) => void }): ConversationFeed {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  const onDeletedRef = useRef(opts.onDeleted);
  onDeletedRef.current = opts.onDeleted;
  const subscription = trpc.conversations.feed.useSubscription(
    {},
    {
      // Also after a reconnect that could not resume: whatever changed before the feed was there is fetched.
      onStarted: () => void utils.conversations.list.invalidate(),
      onData: ({ data }) => {
        const update = feedUpdateFor(data);
        // Before the refetch below makes the open conversation follow it.
        if (update.continues) continuingRuns.add(update.continues);
        if (update.userSettings) void utils.settings.get.invalidate();
        if (update.everything) {
          void utils.conversations.invalidate();
          return;
        }
        // Patched into the first page and the older pages the sidebar loaded alike (the refetch below confirms it).
        if (update.retitle) {
          const { conversationId, title } = update.retitle;
          patchListedConversations(utils, queryClient, (c) => (c.id === conversationId ? { ...c, title } : c));
        }
        if (update.repin) {
          const { conversationId, pinnedAt } = update.repin;
          patchListedConversations(utils, queryClient, (c) => (c.id === conversationId ? { ...c, pinnedAt } : c));
        }
        if (update.removed) {
          const removed = update.removed;
          patchListedConversations(utils, queryClient, (c) => (c.id === removed ? null : c));
          onDeletedRef.current(removed);
        }
        if (update.conversationId) void utils.conversations.get.invalidate({ conversationId: update.conversationId });
        if (update.list) void utils.conversations.list.invalidate();
        if (update.settings) void utils.conversations.settings.invalidate({ conversationId: update.settings });
        if (update.room) void utils.models.room.invalidate();
      },
    },
  );
  // A subscription refused (no token yet) is started again when asked (a new token).
  return { restart: subscription.reset, unreachable: feedUnreachable(subscription) };
}
