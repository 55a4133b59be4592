import { isStoreError, type ChatStore } from "@streamchat/store";

/**
 * A run that ends without storing a message leaves the conversation on the answer it had, if any.
 *
 * Only a regenerate needs it: it rewinds the active path to its question before answering, so when it fails before
 * producing anything (an unknown model, the model server down) the path would end at the question and hide the
 * previous answer, which the user never asked to lose. The path then goes back to where it ended before the
 * regenerate (`previousHead`, known to the process that started the run), else down the question's most recent
 * answer (switchBranch's rule: a run closed after a crash). A send or an edit ends at its own new question, which has no answer: nothing moves.
 *
 * Called by the run itself before its `done` is committed, while it still holds the conversation: a client that
 * sees `done` and reloads finds the answer back, and no other run can be moving the path meanwhile.
 */
export async function keepPreviousAnswer(store: ChatStore, conversationId: string, previousHead?: number): Promise<void> {
  const head = (await store.activePath(conversationId)).at(-1);
  if (head?.message.role !== "user") return;
  // The version the user was looking at when they asked (another one than the newest, or another branch): a
  // regenerate that produced nothing leaves the conversation as it was. Gone meanwhile (deleted): the newest.
  if (previousHead !== undefined && previousHead !== head.id) {
    const moved = await store.switchBranch(conversationId, previousHead).then(
      () => true,
      (error: unknown) => {
        if (isStoreError(error, "not_found")) return false;
        throw error;
      },
    );
    if (moved) return;
  }
  await store.switchBranch(conversationId, head.id);
}
