import { useSetArchived } from "../chat/useSetArchived.js";
import { describeError } from "../lib/errors.js";

/**
 * Above the composer of an archived chat: a quiet line that it is out of the list, with the way back. The chat goes on
 * as any (an answer in it does not bring it back: archiving is where it is listed, not whether it is finished).
 */
export function ArchivedNote({ conversationId }: { conversationId: string }) {
  const unarchive = useSetArchived();
  return (
    <div className="archived-note" role="status" data-testid="archived-note">
      <span>This chat is archived: it is not in the list.</span>
      <button
        type="button"
        className="button button--small"
        aria-disabled={unarchive.isPending || undefined}
        onClick={() => {
          if (!unarchive.isPending) unarchive.mutate({ conversationId, archived: false });
        }}
      >
        Unarchive
      </button>
      {unarchive.error && <span className="archived-note__error">Could not bring it back: {describeError(unarchive.error).title}</span>}
    </div>
  );
}
