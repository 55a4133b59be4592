import { useState } from "react";
import { useSetArchived } from "../chat/useSetArchived.js";
import { describeError } from "../lib/errors.js";
import { trpc } from "../trpc.js";

/** How many archived chats the panel lists (the newest first); the rest are found by search or `chat list --archived`. */
const shownArchived = 100;

/**
 * "Archived chats", in the Your chats panel: the chats archived from their ⋯ menu, out of the list but whole, each to
 * open or bring back. Read only while the panel is open.
 */
export function ArchivedChats({ open, onOpen }: { open: boolean; onOpen: (conversationId: string) => void }) {
  const archived = trpc.conversations.list.useQuery({ archived: true, limit: shownArchived }, { enabled: open });
  const [failure, setFailure] = useState<string | null>(null);
  const unarchive = useSetArchived();
  const chats = archived.data ?? [];
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
      {failure && (
        <p className="small data-panel__error" role="alert">
          {failure}
        </p>
      )}
    </section>
  );
}
