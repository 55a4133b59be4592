import { useRef, useState, type FormEvent, type KeyboardEvent } from "react";

/** The "Think" toggle: ask the model to reason before answering (models with the thinking capability). */
export interface ThinkSetting {
  available: boolean;
  on: boolean;
  onChange: (on: boolean) => void;
}

export interface ComposerProps {
  /** A reply is streaming: a new message gets queued, and Stop is offered. */
  busy: boolean;
  canStop: boolean;
  onSubmit: (text: string) => void;
  onStop: () => void;
  stopping: boolean;
  think: ThinkSetting;
}

/** The message box: Enter sends, Shift+Enter makes a new line; it stays usable while a reply streams. */
export function Composer({ busy, canStop, onSubmit, onStop, stopping, think }: ComposerProps) {
  const [text, setText] = useState("");
  const ref = useRef<HTMLTextAreaElement>(null);

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const message = text.trim();
    if (!message) return;
    onSubmit(message);
    setText("");
    ref.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // isComposing: Enter that confirms an IME composition (Japanese, Chinese…) must not send.
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  return (
    <>
      <form className="composer" onSubmit={submit}>
        <label htmlFor="composer-input" className="visually-hidden">
          Message
        </label>
        <textarea
          id="composer-input"
          ref={ref}
          className="composer__input"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          placeholder={busy ? "Next message (sent when this answer ends)" : "Send a message"}
          aria-describedby="composer-hint"
          rows={Math.min(8, Math.max(1, text.split("\n").length))}
          autoFocus
        />
        <div className="composer__actions">
          {/* Only for models that list the thinking capability: for others there is nothing to turn on. */}
          {think.available && (
            <button
              type="button"
              className={`button button--ghost think-toggle${think.on ? " is-on" : ""}`}
              aria-pressed={think.on}
              onClick={() => think.onChange(!think.on)}
              title="Let the model reason before it answers"
              data-testid="think-toggle"
            >
              Think
            </button>
          )}
          {busy && (
            <button type="button" className="button button--danger" onClick={onStop} disabled={stopping || !canStop}>
              {stopping ? "Stopping…" : "Stop"}
            </button>
          )}
          <button type="submit" className="button button--primary" disabled={!text.trim()}>
            {busy ? "Queue" : "Send"}
          </button>
        </div>
      </form>
      <p className="composer__hint" id="composer-hint">
        Enter to send · Shift+Enter for a new line{busy ? " · messages sent now are queued" : ""}
      </p>
    </>
  );
}
