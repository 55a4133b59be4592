import { trpc } from "../trpc.js";

/**
 * conversations.archive, and what it makes stale: both lists (the chat leaves one for the other) and the chat's own
 * detail (its archived note). Other tabs learn it from the feed's archive-changed.
 */
export function useSetArchived() {
  const utils = trpc.useUtils();
  return trpc.conversations.archive.useMutation({
    onSettled: (_data, _error, input) =>
      Promise.all([utils.conversations.list.invalidate(), utils.conversations.get.invalidate({ conversationId: input.conversationId })]),
  });
}
