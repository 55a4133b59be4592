import { useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { MessageFiles, type MessageFile } from "../capabilities/MessageFiles.js";
import { MessageImages, type MessageImage } from "../capabilities/MessageImages.js";
import { checkLength, tooLongMessage } from "../lib/limits.js";
import { isComposing } from "../lib/shortcuts.js";
import { useTouchKeyboard } from "../lib/touchKeyboard.js";

export interface UserMessageProps {
  text: string;
  /** Set when the message is stored and may be edited now. */
  onEdit?: (text: string) => void;
  pending?: boolean;
  failed?: boolean;
  queued?: boolean;
  onUnqueue?: () => void;
  /** ‹ 2 / 3 › when the message was edited (VersionNav). */
  versionNav?: ReactNode;
  /** Images and text files on the message: thumbnails that open full size, file chips that open the text. */
  attachments?: readonly (MessageImage | MessageFile)[] | undefined;
  /** The element's id (ChatPane scrolls to a message opened from the search by it). */
  id?: string | undefined;
  /** An edit of this message failed: the editor opens again with this text, then `onReopened` is called. */
  reopenWith?: string | undefined;
  onReopened?: () => void;
}

/**
 * Whether the bubble, folded by CSS to a few lines, hides text. Measured (not guessed from the length), so a
 * long message on a wide screen that fits is never folded; again when the width changes.
 */
function useFolds(text: string) {
  const ref = useRef<HTMLDivElement>(null);
  const [folds, setFolds] = useState(false);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      if (el.dataset.expanded !== "true") setFolds(el.scrollHeight > el.clientHeight + 1);
    };
    measure();
    if (typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [text]);
  return { ref, folds };
}

export function UserMessage(props: UserMessageProps) {
  const { text, onEdit, pending, failed, queued, onUnqueue, versionNav, attachments = [], id, reopenWith, onReopened } = props;
  const images = attachments.filter((a): a is MessageImage => a.type === "image");
  const files = attachments.filter((a): a is MessageFile => a.type === "file");
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(text);
  useEffect(() => {
    if (reopenWith === undefined) return;
    setDraft(reopenWith);
    setEditing(true);
    onReopened?.();
  }, [reopenWith, onReopened]);
  const [expanded, setExpanded] = useState(false);
  const { ref, folds } = useFolds(text);
  const bubbleId = useId();
  const length = checkLength(draft);
  const touchKeyboard = useTouchKeyboard();
  const editButton = useRef<HTMLButtonElement>(null);
  /** The editor closed without sending: focus goes back to Edit, or it falls to <body> and a keyboard user loses their place. */
  const refocus = useRef(false);
  useEffect(() => {
    if (editing || !refocus.current) return;
    refocus.current = false;
    editButton.current?.focus();
  }, [editing]);
  const close = () => {
    refocus.current = true;
    setEditing(false);
  };

  const save = () => {
    const next = draft.trim();
    if (!next || length.over) return;
    // A sent edit leaves focus to `onEdit` (the pane moves it to the composer); Edit is gone while the answer runs.
    if (next === text) close();
    else {
      setEditing(false);
      onEdit?.(next);
    }
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // Enter and Escape of an IME composition are the IME's: they neither save nor cancel the edit.
    if (isComposing(e.nativeEvent)) return;
    // A touch keyboard's Enter makes a new line (it has no Shift+Enter): Save & send saves there, as Send does in the composer.
    if (e.key === "Enter" && !e.shiftKey && (!touchKeyboard || e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      save();
    }
    if (e.key === "Escape") {
      e.preventDefault(); // this Escape cancels the edit; it must not also stop the answer
      close();
    }
  };

  if (editing) {
    return (
      <div className="message message--user is-editing" id={id}>
        {/* The edit keeps them (chat.edit without attachments): in view, so the user knows they go with it. */}
        <MessageImages images={images} />
        <MessageFiles files={files} />
        <label className="visually-hidden" htmlFor="edit-message">
          Edit message
        </label>
        <textarea
          id="edit-message"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKeyDown}
          autoFocus
          rows={Math.min(10, Math.max(3, draft.split("\n").length))}
          aria-invalid={length.over || undefined}
          aria-describedby={length.over ? "edit-message-limit" : undefined}
        />
        {length.over && (
          <p className="limit-note" id="edit-message-limit" role="alert">
            {tooLongMessage(length)}
          </p>
        )}
        <div className="message__edit-actions">
          <button type="button" className="button button--ghost button--small" onClick={close}>
            Cancel
          </button>
          <button type="button" className="button button--primary button--small" onClick={save} disabled={!draft.trim() || length.over}>
            Save &amp; send
          </button>
        </div>
      </div>
    );
  }

  return (
    <div
      className={`message message--user${queued ? " is-queued" : ""}${failed ? " is-failed" : ""}`}
      id={id}
      data-testid={queued ? "queued-message" : "user-message"}
    >
      <div className="message__column">
        <MessageImages images={images} />
        <MessageFiles files={files} />
        <div className="message__bubble" ref={ref} id={bubbleId} data-expanded={expanded || undefined} data-folded={folds && !expanded ? "true" : undefined}>
          {text}
        </div>
        {(folds || expanded) && (
          <button
            type="button"
            className="button button--ghost button--small message__more"
            aria-expanded={expanded}
            aria-controls={bubbleId}
            onClick={() => setExpanded((e) => !e)}
          >
            {expanded ? "Show less" : "Show more"}
          </button>
        )}
      </div>
      <div className="message__meta">
        {queued && (
          <>
            <span className="badge">queued</span>
            <button type="button" className="button button--ghost button--small" onClick={onUnqueue} aria-label="Remove queued message">
              Remove
            </button>
          </>
        )}
        {pending && !failed && <span className="muted small message__sending">sending…</span>}
        {failed && <span className="badge badge--error">not sent</span>}
        {versionNav}
        {onEdit && (
          <button
            ref={editButton}
            type="button"
            className="button button--ghost button--small message__edit"
            onClick={() => {
              setDraft(text);
              setEditing(true);
            }}
          >
            Edit
          </button>
        )}
      </div>
    </div>
  );
}
