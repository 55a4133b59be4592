import { useState, type KeyboardEvent } from "react";

export interface UserMessageProps {
  text: string;
  /** Set when the message is stored and may be edited now. */
  onEdit?: (text: string) => void;
  pending?: boolean;
  failed?: boolean;
  queued?: boolean;
  onUnqueue?: () => void;
}

export function UserMessage({ text, onEdit, pending, failed, queued, onUnqueue }: UserMessageProps) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(text);

  const save = () => {
    const next = draft.trim();
    if (!next) return;
    setEditing(false);
    if (next !== text) onEdit?.(next);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      save();
    }
    if (e.key === "Escape") setEditing(false);
  };

  if (editing) {
    return (
      <div className="message message--user is-editing">
        <label className="visually-hidden" htmlFor="edit-message">
          Edit message
        </label>
        <textarea id="edit-message" value={draft} onChange={(e) => setDraft(e.target.value)} onKeyDown={onKeyDown} autoFocus rows={3} />
        <div className="message__edit-actions">
          <button type="button" className="button button--ghost button--small" onClick={() => setEditing(false)}>
            Cancel
          </button>
          <button type="button" className="button button--primary button--small" onClick={save} disabled={!draft.trim()}>
            Save &amp; send
          </button>
        </div>
      </div>
    );
  }

  return (
    <div
      className={`message message--user${queued ? " is-queued" : ""}${failed ? " is-failed" : ""}`}
      data-testid={queued ? "queued-message" : "user-message"}
    >
      <div className="message__bubble">{text}</div>
      <div className="message__meta">
        {queued && (
          <>
            <span className="badge">queued</span>
            <button type="button" className="button button--ghost button--small" onClick={onUnqueue} aria-label="Remove queued message">
              Remove
            </button>
          </>
        )}
        {pending && !failed && <span className="muted small">sending…</span>}
        {failed && <span className="badge badge--error">not sent</span>}
        {onEdit && (
          <button
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
