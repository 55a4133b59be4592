import { useState, type KeyboardEvent } from "react";
import { trpc, type RouterOutputs } from "../trpc.js";
import { relativeTime } from "../lib/format.js";
import { Icon } from "./Icon.js";

type ConversationSummary = RouterOutputs["conversations"]["list"][number];

export interface ConversationListProps {
  currentId: string | null;
  onOpen: (conversationId: string) => void;
  onDeleted: (conversationId: string) => void;
}

/** The user's conversations, newest activity first: open, rename inline, delete after a confirm. */
export function ConversationList({ currentId, onOpen, onDeleted }: ConversationListProps) {
  const list = trpc.conversations.list.useQuery(undefined, { refetchOnWindowFocus: true });
  if (list.isPending) return <p className="muted small pad">Loading…</p>;
  if (list.error) return <p className="muted small pad">Could not load conversations: {list.error.message}</p>;
  const conversations = [...list.data].sort((a, b) => b.updatedAt - a.updatedAt);
  if (conversations.length === 0) return <p className="muted small pad">No conversations yet.</p>;
  const now = Date.now();
  return (
    <ul className="conversation-list" aria-label="Conversations">
      {conversations.map((c) => (
        <ConversationItem key={c.id} conversation={c} current={c.id === currentId} now={now} onOpen={onOpen} onDeleted={onDeleted} />
      ))}
    </ul>
  );
}

function ConversationItem({
  conversation,
  current,
  now,
  onOpen,
  onDeleted,
}: {
  conversation: ConversationSummary;
  current: boolean;
  now: number;
  onOpen: (id: string) => void;
  onDeleted: (id: string) => void;
}) {
  const utils = trpc.useUtils();
  const [mode, setMode] = useState<"view" | "rename" | "confirm-delete">("view");
  const [title, setTitle] = useState(conversation.title);
  const rename = trpc.conversations.rename.useMutation({
    onSuccess: () => utils.conversations.invalidate(),
  });
  const remove = trpc.conversations.delete.useMutation({
    onSuccess: async () => {
      onDeleted(conversation.id);
      await utils.conversations.list.invalidate();
    },
  });

  const saveTitle = () => {
    const next = title.trim();
    setMode("view");
    if (next && next !== conversation.title) rename.mutate({ conversationId: conversation.id, title: next });
    else setTitle(conversation.title);
  };
  const onTitleKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Enter") saveTitle();
    if (e.key === "Escape") {
      setTitle(conversation.title);
      setMode("view");
    }
  };

  const label = conversation.title || "Untitled";
  return (
    <li className={`conversation${current ? " is-current" : ""}`} data-testid="conversation-item">
      {mode === "rename" ? (
        <input
          className="conversation__rename"
          aria-label="Conversation title"
          value={title}
          autoFocus
          onChange={(e) => setTitle(e.target.value)}
          onKeyDown={onTitleKey}
          onBlur={saveTitle}
          maxLength={200}
        />
      ) : (
        <button
          type="button"
          className="conversation__open"
          onClick={() => onOpen(conversation.id)}
          aria-current={current ? "page" : undefined}
        >
          <span className="conversation__title">
            {conversation.activeRunId && <span className="live-dot" title="Answering now" aria-label="answering" />}
            {label}
          </span>
          <span className="conversation__time">{relativeTime(conversation.updatedAt, now)}</span>
        </button>
      )}
      {mode === "confirm-delete" ? (
        <div className="conversation__confirm" role="group" aria-label={`Delete ${label}?`}>
          <span className="small">Delete?</span>
          <button
            type="button"
            className="button button--danger button--small"
            onClick={() => remove.mutate({ conversationId: conversation.id })}
            disabled={remove.isPending}
            autoFocus
          >
            Delete
          </button>
          <button type="button" className="button button--ghost button--small" onClick={() => setMode("view")}>
            Cancel
          </button>
        </div>
      ) : (
        mode === "view" && (
          <div className="conversation__tools">
            <button
              type="button"
              className="icon-button"
              aria-label={`Rename ${label}`}
              title="Rename"
              onClick={() => {
                setTitle(conversation.title);
                setMode("rename");
              }}
            >
              <Icon name="pencil" size={16} />
            </button>
            <button
              type="button"
              className="icon-button"
              aria-label={`Delete ${label}`}
              title="Delete"
              onClick={() => setMode("confirm-delete")}
            >
              <Icon name="trash" size={16} />
            </button>
          </div>
        )
      )}
    </li>
  );
}
