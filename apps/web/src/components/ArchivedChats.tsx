import { useState } from "react";
import { useSetArchived } from "../chat/useSetArchived.js";
import { describeError } from "../lib/errors.js";
import { trpc } from "../trpc.js";

/** How many archived chats the panel lists at first (the newest first), and how many more each "Show more" adds. */
export const archivedPage = 100;
/** The most it lists (conversations.list's largest page); the rest are found by search or `chat list --archived`. */
export const mostArchivedShown = 500;

/**
 * "Archived chats", in the Your chats panel: the chats archived from their ⋯ menu, out of the list but whole, each to
 * open or bring back. Read only while the panel is open. "Show more" asks for a longer first page rather than the next
 * one: one query, which the feed's archive-changed refreshes whole, so a chat unarchived elsewhere leaves every page.
 */
export function ArchivedChats({ open, onOpen }: { open: boolean; onOpen: (conversationId: string) => void }) {
  const [limit, setLimit] = useState(archivedPage);
  // The list shown so far stays while a longer one loads (no flash of an empty panel).
  const archived = trpc.conversations.list.useQuery({ archived: true, limit }, { enabled: open, placeholderData: (previous) => previous });
  const [failure, setFailure] = useState<string | null>(null);
  const unarchive = useSetArchived();
  const chats = archived.data ?? [];
  const loadingMore = archived.isPlaceholderData;
  // A full page may have more after it; a shorter one is all of them. The button stays while more load (the focus on it).
  const full = archived.isSuccess && (loadingMore || chats.length >= limit);
  return (
    <section className="archived-chats" aria-label="Archived chats" data-testid="archived-chats">
      <h3 className="archived-chats__heading">Archived chats</h3>
      {archived.isSuccess && chats.length === 0 && <p className="muted small">None. A chat's ⋯ menu archives it: out of the list, kept whole.</p>}
      {archived.error && <p className="small data-panel__error">{describeError(archived.error).title}</p>}
      {chats.length > 0 && (
        <ul className="archived-chats__list">
          {chats.map((chat) => (
            <li key={chat.id} className="archived-chats__item">
              <button type="button" className="archived-chats__open" onClick={() => onOpen(chat.id)} title={chat.title}>
                {chat.title}
              </button>
              <button
                type="button"
                className="button button--small"
                aria-label={`Unarchive ${chat.title}`}
                aria-disabled={(unarchive.isPending && unarchive.variables?.conversationId === chat.id) || undefined}
                onClick={() => {
                  if (unarchive.isPending) return;
                  setFailure(null);
                  unarchive.mutate({ conversationId: chat.id, archived: false }, { onError: (error) => setFailure(`Could not bring it back: ${describeError(error).title}`) });
                }}
              >
                Unarchive
              </button>
            </li>
          ))}
        </ul>
      )}
      {full && (loadingMore || limit < mostArchivedShown) && (
        <button
          type="button"
          className="button button--small archived-chats__more"
          aria-disabled={loadingMore || undefined}
          onClick={() => {
            if (!loadingMore) setLimit((shown) => Math.min(mostArchivedShown, shown + archivedPage));
          }}
        >
          {loadingMore ? "Loading…" : "Show more"}
        </button>
      )}
      {full && !loadingMore && limit >= mostArchivedShown && (
        <p className="muted small">The newest {mostArchivedShown} are listed; search finds the others by their messages.</p>
      )}
      {failure && (
        <p className="small data-panel__error" role="alert">
          {failure}
        </p>
      )}
    </section>
  );
}
