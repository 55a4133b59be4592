import { useEffect, useId, useRef, useState, type ReactNode, type RefObject } from "react";
import "./versions.css";

/**
 * The shell of a chat's settings dialogs (its instructions, its model settings): a native modal <dialog> (focus kept
 * inside, Escape closes), a heading and a hint that name it, the fields, the failure in words, and Cancel / Close beside
 * Save / Saving… / Saved. Rendered while open; `onClose` runs once it closed, however (Escape, Cancel, the backdrop).
 */
export function SettingsDialog({
  title,
  hint,
  testId,
  className,
  changed,
  canSave,
  saving,
  saved,
  failure,
  onSave,
  onClose,
  initialFocus,
  ready,
  actions,
  children,
}: {
  title: string;
  hint: ReactNode;
  testId: string;
  /** Its own class beside `dialog` (its width, its fields). */
  className: string;
  /** An edit not saved: the backdrop keeps it (Cancel and Escape are asked for), and the other button says Cancel. */
  changed: boolean;
  /** Whether Save may be pressed (something changed, and it is valid). */
  canSave: boolean;
  saving: boolean;
  /** Saved, and not edited since. */
  saved: boolean;
  /** What went wrong (loading or saving), as a sentence; null when nothing did. */
  failure: string | null;
  onSave: () => void;
  onClose: () => void;
  /** Takes the focus once `ready` (a disabled field cannot while the stored values load); a text's caret at its end. */
  initialFocus: RefObject<HTMLInputElement | HTMLTextAreaElement | null>;
  ready: boolean;
  /** Buttons apart from Cancel and Save, at the row's start (e.g. one that resets the fields; it saves nothing). */
  actions?: ReactNode;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const headingId = useId();
  const hintId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  const focused = useRef(false);
  useEffect(() => {
    const el = initialFocus.current;
    if (focused.current || !ready || !el) return;
    focused.current = true;
    el.focus();
    // A number field has no caret to place (and throws if asked to).
    if (el instanceof HTMLTextAreaElement) el.setSelectionRange(el.value.length, el.value.length);
  }, [ready, initialFocus]);

  const close = () => ref.current?.close();
  return (
    <dialog
      ref={ref}
      className={`dialog ${className}`}
      aria-labelledby={headingId}
      aria-describedby={hintId}
      data-testid={testId}
      onClose={onClose}
      onKeyDown={(e) => {
        // Escape is this dialog's (it closes it natively): not the answer's Stop, not the drawer's.
        if (e.key === "Escape") e.stopPropagation();
      }}
      onClick={(e) => {
        // A click on the backdrop closes it, unless it would throw away an edit not saved (Cancel and Escape are asked for).
        if (e.target === e.currentTarget && !changed) close();
      }}
    >
      {/* The fields check themselves, in words: not the browser's bubbles (a number between two steps is fine here). */}
      <form
        className="dialog__body"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (canSave && !saving) onSave();
        }}
      >
        <h2 id={headingId}>{title}</h2>
        <p id={hintId} className="settings-dialog__hint">
          {hint}
        </p>
        {children}
        {failure && (
          <p className="dialog__error" role="alert">
            {failure}
          </p>
        )}
        <div className="dialog__buttons settings-dialog__buttons">
          {actions && <div className="settings-dialog__actions">{actions}</div>}
          <button type="button" className="button" onClick={close}>
            {changed ? "Cancel" : "Close"}
          </button>
          <button type="submit" className="button button--primary" disabled={!canSave || saving}>
            {saving ? "Saving…" : saved ? "Saved" : "Save"}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/**
 * Which element opened one of the chat header's dialogs, while it is open (null: closed). Closing gives it the focus
 * back, or `fallback()` when it left the page meanwhile (a marker whose setting was cleared). Another chat closes it.
 */
export function useDialogOpener(fallback: () => HTMLElement | null | undefined, chatKey: unknown) {
  const [opener, setOpener] = useState<HTMLElement | null>(null);
  useEffect(() => setOpener(null), [chatKey]);
  const close = () => {
    const back = opener?.isConnected ? opener : fallback();
    setOpener(null);
    back?.focus();
  };
  return { opener, open: setOpener, close };
}

/**
 * Where a settings dialog's values live: the server's, for a conversation (conversations.settings and its setter), or
 * a draft kept on this device for a new chat, sent with its first message (`value`, and `onSave` keeps an edit).
 */
export type SettingsSource<T> = { kind: "conversation"; conversationId: string } | { kind: "draft"; value: T; onSave: (value: T) => void };

/**
 * Saving a settings dialog's values where its `source` keeps them: a conversation's through `server` (its mutation,
 * whose state says Saving… / Saved), a new chat's draft at once, which is Saved until the next edit (`edited`).
 */
export function useSourceSave<T>(
  source: SettingsSource<T>,
  server: { save: (conversationId: string, value: T) => void; isSuccess: boolean; reset: () => void },
  onKept: () => void,
) {
  const [kept, setKept] = useState(false);
  return {
    saved: server.isSuccess || kept,
    save(value: T) {
      if (source.kind === "conversation") {
        server.save(source.conversationId, value);
        return;
      }
      source.onSave(value);
      setKept(true);
      onKept();
    },
    edited() {
      setKept(false);
      server.reset();
    },
  };
}
