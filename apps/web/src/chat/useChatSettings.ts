import { trpc } from "../trpc.js";

/**
 * A conversation's own settings (conversations.settings: its instructions and its sampling): one query, and one cache
 * entry, for the header's markers and both dialogs, so a chat's settings are fetched once whichever shows them.
 */
export function useChatSettings(conversationId: string | null) {
  // A new chat has none until it is saved: nothing to ask.
  return trpc.conversations.settings.useQuery({ conversationId: conversationId ?? "" }, { enabled: conversationId !== null });
}
