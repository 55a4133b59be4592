import type { StoredMessageView } from "./history.js";
import { itemKeyOf } from "./openAt.js";

/**
 * The chat item after which a branch's "Branched from …" line goes: the turn of the last message on the path that the
 * branch copied from its original (ids are given in order, so the copied ones are those up to the branch's copy of
 * the answer, `atMessageId`). An edited copy of an earlier question (a newer id) is the branch's own, so the line
 * moves up above it. null when the path shows nothing copied (the first question was edited): the line then leads.
 */
export function branchPointItem(messages: readonly Pick<StoredMessageView, "id" | "role">[], atMessageId: number): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.id <= atMessageId) return itemKeyOf(messages, message.id);
  }
  return null;
}
