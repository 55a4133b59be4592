import type { StoredMessageView } from "./history.js";

/**
 * Where opening a conversation lands: a message found by the sidebar search, possibly on a branch the conversation
 * does not show (an older version of an edited question or a regenerated answer). A new object per open, so opening
 * the same message again scrolls to it again.
 */
export interface OpenAt {
  messageId: number;
}

/** The path shows the message: no branch switch is needed. */
export function onPath(messages: readonly Pick<StoredMessageView, "id">[], messageId: number): boolean {
  return messages.some((m) => m.id === messageId);
}

/**
 * The key of the chat item (items.ts) that shows `messageId` on this path: its question's `u<id>`, or for an answer,
 * tool call or tool result the `a<question id>` of the turn it belongs to. null when the path does not show it.
 */
export function itemKeyOf(messages: readonly Pick<StoredMessageView, "id" | "role">[], messageId: number): string | null {
  const index = messages.findIndex((m) => m.id === messageId);
  const message = messages[index];
  if (!message || message.role === "system") return null;
  if (message.role === "user") return `u${message.id}`;
  for (let i = index - 1; i >= 0; i--) {
    const before = messages[i]!;
    if (before.role === "user") return `a${before.id}`;
  }
  return null; // an answer without a question is not shown (buildTurns)
}

/** The DOM id ChatPane gives the element of a chat item, for scrolling to it. */
export const itemElementId = (key: string) => `chat-item-${key}`;
