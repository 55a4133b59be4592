import type { AppRouter } from "@streamchat/api";
import { useQueryClient } from "@tanstack/react-query";
import type { TRPCClientErrorLike } from "@trpc/client";
import { useEffect, useId, useRef, useState, type KeyboardEvent, type MutableRefObject } from "react";
import { useConversationSearch, type ConversationSummary } from "../chat/conversationSearch.js";
import type { OpenAt } from "../chat/openAt.js";
import { patchListedConversations, useConversationPages, type ConversationPages } from "../chat/useConversationPages.js";
import { isPinned, listGroups } from "../lib/dateGroups.js";
import { describeError } from "../lib/errors.js";
import { relativeTime } from "../lib/format.js";
import { isComposing } from "../lib/shortcuts.js";
import { trpc } from "../trpc.js";
import { Highlight } from "./Highlight.js";
import { Icon } from "./Icon.js";

export interface ConversationListProps {
  currentId: string | null;
  /** The search box's text; empty shows every conversation. */
  query: string;
  /** `at`: the conversation was found by a message (its newest hit), which may be on another branch. */
  onOpen: (conversationId: string, at?: OpenAt) => void;
  onDeleted: (conversationId: string) => void;
}

/** The user's conversations, and why the last change to one of them failed (until dismissed). */
export function ConversationList(props: ConversationListProps) {
  // Said above the list, not on the item: a chat deleted in another tab leaves the list, and the reason must not go with it.
  const [failure, setFailure] = useState<string | null>(null);
  return (
    <>
      {failure && (
        <div className="import__error conversation-list__error" role="alert">
          <span>{failure}</span>
          <button type="button" className="icon-button icon-button--small" aria-label="Dismiss conversation error" onClick={() => setFailure(null)}>
            <Icon name="close" size={14} />
          </button>
        </div>
      )}
      <Conversations {...props} onFailure={setFailure} />
    </>
  );
}

/**
 * Pinned first (most recently pinned first), then newest activity first, in Today / Yesterday / Previous 7 days /
 * Previous 30 days / months. The first 100 show; older ones are loaded page by page as the reader scrolls near the end,
 * or with "Show older chats" (useConversationPages).
 */
function Conversations({
  currentId,
  query,
  onOpen,
  onDeleted,
  onFailure,
}: ConversationListProps & { onFailure: (message: string | null) => void }) {
  // Asked again whenever the tab comes back into view: titles renamed elsewhere (or generated) show up.
  const list = trpc.conversations.list.useQuery(undefined, { refetchOnWindowFocus: true, staleTime: 0 });
  // The first page, then the older pages loaded so far (each conversation once).
  const pages = useConversationPages(list.data);
  const search = useConversationSearch(query, pages.conversations);
  // The conversation whose Pin was pressed: its row moves to another section (a new element), whose Pin takes the focus.
  const pinFocus = useRef<string | null>(null);
  // Section headings' ids: a month's name has a space, and aria-labelledby reads a space as a list of ids.
  const groupId = useId();
  if (list.isPending) return <p className="muted small pad">Loading…</p>;
  if (list.error) {
    // In words, with a way to ask again: the list is not asked for again by itself until the tab comes back into view.
    const problem = describeError(list.error);
    // A missing token is said once, by the page's banner and the token setting: a third alert would repeat it.
    return (
      <div className="muted small pad" role={problem.code === "unauthorized" ? undefined : "alert"} data-testid="conversations-error">
        <p>Could not load your conversations. {problem.title}</p>
        {problem.retryable && (
          <button type="button" className="button button--small" disabled={list.isFetching} onClick={() => void list.refetch()}>
            {list.isFetching ? "Retrying…" : "Retry"}
          </button>
        )}
      </div>
    );
  }
  const shown = search.results ?? pages.conversations ?? list.data;
  if (search.results !== null && shown.length === 0) {
    return (
      <p className="muted small pad" role="status">
        {search.loading ? "Searching…" : `No conversation matches “${query.trim()}”.`}
      </p>
    );
  }
  if (shown.length === 0) return <p className="muted small pad">No conversations yet.</p>;
  const now = Date.now();
  return (
    // Busy while the server's searches for this query are still out (only the loaded pages' title matches show until then).
    <div className="conversation-groups" aria-busy={search.loading || undefined}>
      {listGroups(shown, now).map((group, i) => (
        <section key={group.label} className="conversation-group" aria-labelledby={`${groupId}-${i}`}>
          <h2 className="conversation-group__label" id={`${groupId}-${i}`}>
            {group.label}
          </h2>
          <ul className="conversation-list">
            {group.items.map((c) => (
              <ConversationItem
                key={c.id}
                conversation={c}
                query={search.results === null ? "" : query}
                current={c.id === currentId}
                now={now}
                // Found by a message: open where it is. Found by the title only, or no search: open as today.
                onOpen={search.hits.has(c.id) ? (id) => onOpen(id, { messageId: search.hits.get(c.id)! }) : (id) => onOpen(id)}
                onDeleted={onDeleted}
                onFailure={onFailure}
                pinFocus={pinFocus}
              />
            ))}
          </ul>
        </section>
      ))}
      {/* While searching, the list is what the search found (on the server too, beyond the loaded pages): no more pages there. */}
      {search.results === null && <OlderConversations pages={pages} />}
    </div>
  );
}

/**
 * The end of the list while more conversations may be listed after it. The next page loads when the reader scrolls
 * near it (an IntersectionObserver on this element, inside the sidebar's scroll container), or with its button: the
 * way that needs no scrolling (keyboard, screen reader), which then gives the focus to the first chat it brought. While
 * a page loads the button says so, quietly; a failure says why, and the button asks again. Nothing once the end is
 * reached.
 */
function OlderConversations({ pages }: { pages: ConversationPages }) {
  const { more, loading, failure, load, retry } = pages;
  const [end, setEnd] = useState<HTMLDivElement | null>(null);
  const [near, setNear] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  /** Pressed: the chats listed then, and their list; the first chat that was not among them takes the focus. */
  const focusFrom = useRef<{ ids: Set<string>; groups: Element } | null>(null);

  // Observed afresh after each page (not while one loads): a page that leaves the end in view asks for the next one,
  // and the next is never asked for on the strength of the place the end had before the page came.
  useEffect(() => {
    if (!end || loading || typeof IntersectionObserver === "undefined") return;
    const observer = new IntersectionObserver((entries) => setNear(entries.some((e) => e.isIntersecting)), {
      root: end.closest(".sidebar__list"),
      rootMargin: "0px 0px 400px 0px", // near the end: loaded before the reader gets there
    });
    observer.observe(end);
    return () => {
      observer.disconnect();
      setNear(false);
    };
  }, [end, loading]);

  // Not after a failure: that waits for Retry, or it would ask again and again.
  useEffect(() => {
    if (near && more && !loading && !failure) void load();
  }, [near, more, loading, failure, load]);

  useEffect(() => {
    const pressed = focusFrom.current;
    if (loading || !pressed) return;
    focusFrom.current = null;
    if (failure) return; // the button, now Retry, keeps it
    const focus = document.activeElement;
    if (focus !== button.current && focus !== null && focus !== document.body) return; // the user went elsewhere meanwhile
    const rows = [...pressed.groups.querySelectorAll<HTMLElement>("[data-conversation-id]")];
    // The first chat of the page; none new (the end): the last chat, as the button has gone.
    const target = rows.find((row) => !pressed.ids.has(row.dataset.conversationId ?? "")) ?? (button.current ? null : rows.at(-1));
    target?.querySelector<HTMLElement>(".conversation__open")?.focus();
  }, [loading, failure]);

  if (!more && !loading && !failure) return null;
  const press = () => {
    if (loading) return;
    const groups = end?.closest(".conversation-groups");
    if (groups) {
      const ids = [...groups.querySelectorAll<HTMLElement>("[data-conversation-id]")].map((row) => row.dataset.conversationId ?? "");
      focusFrom.current = { ids: new Set(ids), groups };
    }
    void (failure ? retry() : load());
  };
  return (
    <div ref={setEnd} className="conversation-more" data-testid="older-conversations">
      {failure && !loading ? (
        <p className="conversation-more__error" role="alert">
          Could not load older chats. {describeError(failure).title}
        </p>
      ) : null}
      {/* One element in every state, so the focus stays on it while it loads and when it turns into Retry. */}
      <button
        ref={button}
        type="button"
        className="conversation-more__button"
        aria-disabled={loading || undefined}
        onClick={press}
      >
        {loading ? "Loading older chats…" : failure ? "Retry" : "Show older chats"}
      </button>
      <span className="visually-hidden" role="status">
        {loading ? "Loading older chats…" : ""}
      </span>
    </div>
  );
}

function ConversationItem({
  conversation,
  query,
  current,
  now,
  onOpen,
  onDeleted,
  onFailure,
  pinFocus,
}: {
  conversation: ConversationSummary;
  /** The search, marked in the title (empty: no search). */
  query: string;
  current: boolean;
  now: number;
  onOpen: (id: string) => void;
  onDeleted: (id: string) => void;
  /** Says why a change to this chat failed (null: a new attempt, the old reason is stale). */
  onFailure: (message: string | null) => void;
  /** The id of the chat whose Pin button should take the focus once its row shows in its new place. */
  pinFocus: MutableRefObject<string | null>;
}) {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  const pinned = isPinned(conversation);
  const pinButton = useRef<HTMLButtonElement>(null);
  // Pinning moves the row to another section: React makes a new row there, and the pressed button's focus would fall
  // to <body>. The row in its new place hands it to its own Pin button (also when the row stayed, e.g. a failure).
  useEffect(() => {
    if (pinFocus.current !== conversation.id) return;
    pinFocus.current = null;
    pinButton.current?.focus();
  }, [pinFocus, conversation.id, conversation.pinnedAt]);
  const pin = trpc.conversations.pin.useMutation({
    // Moved at once: the list is reordered before the server answers (and put back from the server's list if it fails).
    onMutate: ({ pinned: next }) => {
      onFailure(null);
      const pinnedAt = next ? Date.now() : null;
      patchListedConversations(utils, queryClient, (c) => (c.id === conversation.id ? { ...c, pinnedAt: next ? (c.pinnedAt ?? pinnedAt) : null } : c));
    },
    onError: (error, { pinned: next }) => onFailure(pinFailure(conversation.title || "Untitled", next, error)),
    onSettled: () => utils.conversations.list.invalidate(),
  });
  const [mode, setMode] = useState<"view" | "rename" | "confirm-delete">("view");
  const [title, setTitle] = useState(conversation.title);
  const rename = trpc.conversations.rename.useMutation({
    onMutate: () => onFailure(null),
    onError: (error) => onFailure(renameFailure(conversation.title || "Untitled", error)),
    // Also after a failure: the list then shows what the server has (the old title, or no chat at all if it was deleted).
    onSettled: () => utils.conversations.invalidate(),
  });
  const deleted = async () => {
    onDeleted(conversation.id);
    await utils.conversations.list.invalidate();
  };
  const row = useRef<HTMLLIElement>(null);
  /**
   * The row and its dialog go once the chat is deleted (by the list's refetch, or the feed first): the focus they held
   * would fall to <body>, and a keyboard user would start again at the top of the page. The chat listed after it (or
   * before it) takes it. Picked when Delete is pressed: the row may be gone before the mutation answers. (Deleting the
   * open chat opens a new one, whose message box takes the focus.)
   */
  const focusAfterDelete = useRef<HTMLElement | null>(null);
  useEffect(
    () => () => {
      const next = focusAfterDelete.current;
      if (next?.isConnected && (document.activeElement === null || document.activeElement === document.body)) next.focus();
    },
    [],
  );
  const remove = trpc.conversations.delete.useMutation({
    onSuccess: deleted,
    // Deleted meanwhile (another tab, another device): what the user asked for is done.
    onError: (error) => (isNotFound(error) ? deleted() : undefined),
  });

  const renameButton = useRef<HTMLButtonElement>(null);
  const deleteButton = useRef<HTMLButtonElement>(null);
  /**
   * A rename ended from the keyboard, or the delete question was cancelled: focus goes back to the button that started
   * it, or it falls to <body> and the user loses their place (the dialog is unmounted, not closed, so the browser's own
   * return of focus never happens).
   */
  const refocus = useRef<"rename" | "delete" | null>(null);
  useEffect(() => {
    if (mode !== "view" || !refocus.current) return;
    (refocus.current === "rename" ? renameButton : deleteButton).current?.focus();
    refocus.current = null;
  }, [mode]);

  const saveTitle = () => {
    const next = title.trim();
    setMode("view");
    if (next && next !== conversation.title) rename.mutate({ conversationId: conversation.id, title: next });
    else setTitle(conversation.title);
  };
  const onTitleKey = (e: KeyboardEvent<HTMLInputElement>) => {
    // Enter and Escape of an IME composition are the IME's: the title is still being typed.
    if (isComposing(e.nativeEvent)) return;
    // Not on blur: focus moved on by itself then, and stays where the user put it.
    if (e.key === "Enter" || e.key === "Escape") refocus.current = "rename";
    if (e.key === "Enter") {
      // Focus goes back to Rename before the key's keypress: without this, that keypress presses Rename again.
      e.preventDefault();
      saveTitle();
    }
    if (e.key === "Escape") {
      e.preventDefault(); // cancels the rename only (not the drawer, not the answer)
      e.stopPropagation();
      setTitle(conversation.title);
      setMode("view");
    }
  };

  // The new title while it is being saved; the stored one again if saving it failed (and the error says so).
  const label = (rename.isPending ? rename.variables.title : conversation.title) || "Untitled";
  return (
    <li ref={row} className={`conversation${current ? " is-current" : ""}`} data-testid="conversation-item" data-conversation-id={conversation.id}>
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
          title={`${label} · ${relativeTime(conversation.updatedAt, now)}`}
        >
          {conversation.activeRunId && <span className="live-dot" title="Answering now" aria-label="answering" role="img" />}
          <span className="conversation__title" data-testid="conversation-title">
            <Highlight text={label} query={query} />
          </span>
          {/* Only a search lists archived chats (found by their messages): said quietly, as the open chat says it. A
              server from before archiving sends no archivedAt. */}
          {typeof conversation.archivedAt === "number" && <span className="conversation__archived">Archived</span>}
        </button>
      )}
      {mode !== "rename" && (
        <div className="conversation__tools">
          <button
            ref={pinButton}
            type="button"
            className="icon-button icon-button--small"
            aria-label={`${pinned ? "Unpin" : "Pin"} ${label}`}
            title={pinned ? "Unpin" : "Pin"}
            data-pinned={pinned || undefined}
            onClick={() => {
              pinFocus.current = conversation.id;
              pin.mutate({ conversationId: conversation.id, pinned: !pinned });
            }}
          >
            <Icon name={pinned ? "pinOff" : "pin"} size={15} />
          </button>
          <button
            ref={renameButton}
            type="button"
            className="icon-button icon-button--small"
            aria-label={`Rename ${label}`}
            title="Rename"
            onClick={() => {
              setTitle(conversation.title);
              setMode("rename");
            }}
          >
            <Icon name="pencil" size={15} />
          </button>
          <button
            ref={deleteButton}
            type="button"
            className="icon-button icon-button--small"
            aria-label={`Delete ${label}`}
            title="Delete"
            onClick={() => setMode("confirm-delete")}
          >
            <Icon name="trash" size={15} />
          </button>
        </div>
      )}
      {mode === "confirm-delete" && (
        <ConfirmDelete
          title={label}
          pending={remove.isPending}
          error={remove.error && !isNotFound(remove.error) ? `Not deleted. ${describeError(remove.error).title}` : null}
          onConfirm={() => {
            focusAfterDelete.current = current ? null : neighbourOf(row.current);
            remove.mutate({ conversationId: conversation.id });
          }}
          onCancel={() => {
            remove.reset(); // the next Delete asks afresh, without the last attempt's error
            focusAfterDelete.current = null; // kept: a later unmount (a search) must not move the focus
            refocus.current = "delete";
            setMode("view");
          }}
        />
      )}
    </li>
  );
}

/** The button opening the chat listed after this row (across date groups), or else the one before it. */
function neighbourOf(row: HTMLLIElement | null): HTMLElement | null {
  const own = row?.querySelector<HTMLElement>(".conversation__open");
  const all = [...(row?.closest(".conversation-groups")?.querySelectorAll<HTMLElement>(".conversation__open") ?? [])];
  const index = own ? all.indexOf(own) : -1;
  if (index < 0) return null;
  return all[index + 1] ?? all[index - 1] ?? null;
}

type MutationError = TRPCClientErrorLike<AppRouter>;

const isNotFound = (error: MutationError) => error.data?.code === "NOT_FOUND";

/** Why a rename failed, in words for the person: a chat deleted elsewhere is no "something went wrong". */
function renameFailure(title: string, error: MutationError): string {
  if (isNotFound(error)) return `“${title}” was not renamed: this chat no longer exists. It may have been deleted in another tab.`;
  const described = describeError(error);
  // The server's own sentence says what is wrong with the title (too long, empty).
  const why = described.code === "bad_request" && described.detail ? described.detail : described.title;
  return `“${title}” was not renamed. ${why}`;
}

/** Why a pin or an unpin failed, in words: a chat deleted elsewhere is no "something went wrong". */
function pinFailure(title: string, pinning: boolean, error: MutationError): string {
  const what = pinning ? "pinned" : "unpinned";
  if (isNotFound(error)) return `“${title}” was not ${what}: this chat no longer exists. It may have been deleted in another tab.`;
  return `“${title}” was not ${what}. ${describeError(error).title}`;
}

/** A modal question with room for the whole title (a native <dialog>: focus kept inside, Escape cancels). */
function ConfirmDelete({
  title,
  pending,
  error,
  onConfirm,
  onCancel,
}: {
  title: string;
  pending: boolean;
  error: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby="delete-title"
      aria-describedby="delete-detail"
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
      onKeyDown={(e) => {
        // Escape is this dialog's: not the drawer's, not the answer's.
        if (e.key === "Escape") e.stopPropagation();
      }}
      onClick={(e) => {
        if (e.target === e.currentTarget) onCancel(); // a click on the backdrop
      }}
    >
      <div className="dialog__body">
      <h2 id="delete-title">Delete this chat?</h2>
      <p id="delete-detail">
        <strong className="dialog__subject">{title}</strong> and all its messages will be deleted. This cannot be undone.
      </p>
      {error && (
        <p className="dialog__error" role="alert">
          {error}
        </p>
      )}
      <div className="dialog__buttons">
        {/* Focus starts on the harmless choice: Enter right away must not delete. */}
        <button type="button" className="button" onClick={onCancel} autoFocus>
          Cancel
        </button>
        <button type="button" className="button button--danger-solid" onClick={onConfirm} disabled={pending}>
          {pending ? "Deleting…" : "Delete"}
        </button>
      </div>
      </div>
    </dialog>
  );
}
