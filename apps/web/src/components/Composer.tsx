import { useEffect, useImperativeHandle, useLayoutEffect, useRef, useState, type ClipboardEvent, type DragEvent, type FormEvent, type KeyboardEvent, type Ref } from "react";
import { defaultMaxContextTokens, type ThinkLevel } from "@streamchat/core/browser";
import { AttachButton, DraftTray, type AttachmentsSetting } from "../capabilities/AttachmentDraft.js";
import { pickedFiles } from "../capabilities/attachments.js";
import { contextFitNote, textNearWindow } from "../capabilities/context-fit.js";
import { ThinkControl, type ThinkChoice } from "../capabilities/ThinkControl.js";
import { draftStore } from "../chat/draftStore.js";
import { checkLength, formatCount, maxMessageChars, tooLongMessage } from "../lib/limits.js";
import { focusedByKeyboard } from "../lib/focus.js";
import { isComposing, shortcuts } from "../lib/shortcuts.js";
import { useTouchKeyboard } from "../lib/touchKeyboard.js";
import { Icon } from "./Icon.js";
import { ModelPicker } from "./ModelPicker.js";

/** The "Think" toggle: ask the model to reason before answering (models with the thinking capability). */
export interface ThinkSetting {
  available: boolean;
  on: boolean;
  /** The levels the model takes (a select instead of the toggle), and the one chosen. */
  levels?: readonly ThinkLevel[] | undefined;
  value?: ThinkChoice;
  onChange: (value: ThinkChoice) => void;
}

export interface ModelSetting {
  value: string | null;
  onChange: (model: string) => void;
  /** What the chosen model can do, in one sentence (shown under the composer). */
  note: { text: string; toolsOff: boolean } | null;
  /** The chosen model's context window in tokens (models.list); undefined when the server does not say. */
  contextLength?: number | undefined;
  /** What a new message may take of it in this user's runs (models.room), once the server has said. */
  room?: number | undefined;
}

/** What the pane can do with the draft: a send that failed gives its text back; a retry that went out takes it. */
export interface ComposerHandle {
  focus(): void;
  /** Puts a message that was not sent back in the box (before anything typed meanwhile). */
  restore(text: string): void;
  /** Takes this text out of the box where `restore` put it (it was just sent by Retry); what was typed since stays. */
  clearIf(text: string): void;
}

export interface ComposerProps {
  ref?: Ref<ComposerHandle>;
  /** A reply is streaming: a new message gets queued, and Stop is offered. */
  busy: boolean;
  canStop: boolean;
  onSubmit: (text: string) => void;
  onStop: () => void;
  stopping: boolean;
  think: ThinkSetting;
  model?: ModelSetting;
  /** The longest message the server takes (MAX_MESSAGE_CHARS). */
  maxChars?: number;
  /** The most of a model's window the server fills (MAX_CONTEXT_TOKENS): with the model's window, whether files fit. */
  maxContextTokens?: number;
  /** Images and text files for the message (the paperclip, a paste or a drop). */
  attachments?: AttachmentsSetting | undefined;
  /** Told whether the typed text (without files) comes near the model's window (`textNearWindow`): the pane asks models.room. */
  onNearWindow?: (near: boolean) => void;
  /** The chosen model can see images (default true): otherwise images are refused, and images attached before block sending. */
  vision?: boolean;
  /** Whose draft the box holds (draftStore): it opens with it and keeps it as the user types. */
  draftKey: string;
}

const maxInputHeight = 240;
const unseenImagesMessage = "This model cannot see images. Remove them, or pick a model that can, to send.";

/**
 * The message box: Enter sends, Shift+Enter makes a new line (on a touch keyboard, which has no Shift+Enter, Enter makes the
 * new line and the Send button sends); it stays usable while a reply streams.
 */
export function Composer(props: ComposerProps) {
  const { ref, busy, canStop, onSubmit, onStop, stopping, think, model, maxChars = maxMessageChars, maxContextTokens = defaultMaxContextTokens, attachments, vision = true, draftKey, onNearWindow } = props;
  const [text, setText] = useState(() => draftStore.get(draftKey));
  const input = useRef<HTMLTextAreaElement>(null);
  const textRef = useRef(text);
  textRef.current = text;
  /** Every change of the text here: known at once, not at the next render, to what runs before it (below). */
  const change = (next: string) => {
    textRef.current = next;
    setText(next);
  };
  const length = checkLength(text, maxChars);
  // Images attached for a vision model, which another model was then picked: sending refuses until they are removed or a
  // vision model is picked again. Sending without them would answer another question than the one asked, and dropping
  // them would lose what the user chose; so the choice stays theirs, and no image ever goes later with another message.
  const unseen = !vision && (attachments?.images.length ?? 0) > 0;
  // Files still being read go with this message, not the next one: sending waits for them (a moment).
  const reading = attachments?.reading ?? false;
  const touchKeyboard = useTouchKeyboard();
  // Files, or a pasted text, longer than the model reads at once are cut by the model server without a word: said here,
  // before sending. Only said, never blocking: the start of a long file may be all the question needs. A text over the
  // length limit has that note (and cannot be sent) instead.
  const attached = attachments?.files.map((d) => d.attachment) ?? [];
  const fitNote =
    length.over && attached.length === 0
      ? null
      : contextFitNote({ text, files: attached, contextLength: model?.contextLength, maxContextTokens, room: model?.room });
  const nearWindow = attached.length === 0 && textNearWindow(text.length, model?.contextLength, maxContextTokens);
  useEffect(() => onNearWindow?.(nearWindow), [nearWindow, onNearWindow]);

  useImperativeHandle(ref, () => ({
    focus: () => input.current?.focus(),
    restore: (sent) => {
      const current = textRef.current.trim();
      if (current === "" || current === sent.trim()) change(sent);
      // Typed on meanwhile: keep both, the unsent message first.
      else change(`${sent}\n\n${textRef.current}`);
    },
    clearIf: (sent) => {
      const current = textRef.current;
      if (current.trim() === sent.trim()) change("");
      // Restored before what was typed meanwhile: only the message sent again leaves, or the next Enter sends it twice.
      else if (current.startsWith(`${sent}\n\n`)) change(current.slice(sent.length + 2));
    },
  }));

  // Every change is kept as the draft; a new chat's pane that became its conversation's takes its draft along.
  const keptAs = useRef(draftKey);
  /** The text last read from or written to the draft: the box differs from it only until a change here is written. */
  const synced = useRef(text);
  useEffect(() => {
    const moved = keptAs.current !== draftKey;
    if (moved) draftStore.set(keptAs.current, "");
    keptAs.current = draftKey;
    // Text taken from another tab is not written back: that tab may have typed on since, and would take it back.
    if (moved || text !== synced.current) draftStore.set(draftKey, text);
    synced.current = text;
  }, [draftKey, text]);
  // The same conversation open in another tab: what is typed (or sent) there shows here (one person types in one tab at
  // a time, so the last write wins), unless a change here is not yet written (a returned message, say).
  useEffect(
    () =>
      draftStore.watch(draftKey, (typed) => {
        if (textRef.current !== synced.current) return;
        // Several writes can arrive before this renders: each one is the box's text from now on.
        synced.current = typed;
        change(typed);
      }),
    [draftKey],
  );

  // Grows with its content up to a limit, then scrolls: measured, so wrapped long lines count too.
  useLayoutEffect(() => {
    const el = input.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, maxInputHeight)}px`;
  }, [text]);

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const message = text.trim();
    if (!message || length.over || unseen || reading) return;
    onSubmit(message);
    change("");
    input.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // Enter that confirms an IME composition (Japanese, Chinese…) must not send.
    if (event.key !== "Enter" || event.shiftKey || isComposing(event.nativeEvent)) return;
    // A touch keyboard's Enter is its only way to a new line; Ctrl/⌘+Enter (a keyboard plugged into the tablet) still sends.
    if (touchKeyboard && !event.ctrlKey && !event.metaKey) return;
    event.preventDefault();
    submit();
  };

  // Pasted or dropped files go to the tray (images for vision models, text files for any); pasted text is left to the browser.
  const onPaste = (e: ClipboardEvent) => {
    const files = attachments ? pickedFiles(e.clipboardData) : [];
    if (files.length === 0) return;
    // Cells copied from a spreadsheet or a word processor come with a picture of them: for a model that cannot see it,
    // the text is what the user pasted (as before files could be attached).
    if (!vision && e.clipboardData.getData("text/plain") !== "" && files.every((f) => f.type.startsWith("image/"))) return;
    e.preventDefault();
    attachments?.add(files);
  };
  const onDrop = (e: DragEvent) => {
    const files = attachments ? pickedFiles(e.dataTransfer) : [];
    if (files.length === 0) return;
    e.preventDefault();
    attachments?.add(files);
  };
  const onDragOver = (e: DragEvent) => {
    if (attachments && Array.from(e.dataTransfer.types).includes("Files")) e.preventDefault();
  };

  const noteId = "composer-note";
  const fitNoteId = "composer-fit-note";
  const showNote = length.over || unseen || model?.note;
  return (
    <div className="composer-area">
      <form className="composer" onSubmit={submit} data-over-limit={length.over || undefined} onPaste={onPaste} onDrop={onDrop} onDragOver={onDragOver}>
        {attachments && <DraftTray attachments={attachments} />}
        {/* Always there (empty when the files fit), so screen readers hear the note when it comes, and not as an alert. */}
        <p className="composer__fit-note" id={fitNoteId} role="status" data-testid="context-fit-note">
          {fitNote ?? ""}
        </p>
        <label htmlFor="composer-input" className="visually-hidden">
          Message
        </label>
        <textarea
          id="composer-input"
          ref={input}
          className="composer__input"
          value={text}
          onChange={(e) => change(e.target.value)}
          onKeyDown={onKeyDown}
          placeholder={busy ? "Next message (sent when this answer ends)" : "Message streamchat"}
          aria-describedby={`composer-hint${showNote ? ` ${noteId}` : ""}${fitNote ? ` ${fitNoteId}` : ""}`}
          aria-invalid={length.over || undefined}
          aria-keyshortcuts={shortcuts.focusComposer.aria}
          rows={1}
          enterKeyHint={touchKeyboard ? "enter" : "send"}
          autoFocus
        />
        <span id="composer-hint" className="visually-hidden">
          {touchKeyboard ? "Enter starts a new line; the Send button sends." : "Enter sends, Shift+Enter starts a new line."}
          {busy ? " Messages sent now are queued until the answer ends." : ""}
        </span>
        <div className="composer__bar">
          <div className="composer__tools">
            {model && <ModelPicker value={model.value} onChange={model.onChange} describedBy={model.note ? noteId : undefined} />}
            {attachments && <AttachButton attachments={attachments} vision={vision} />}
            {/* Only for models that list the thinking capability: for others there is nothing to turn on. */}
            {think.available && <ThinkControl levels={think.levels} value={think.on ? (think.value ?? true) : false} onChange={think.onChange} />}
          </div>
          <div className="composer__end">
            {length.near && (
              <span className="composer__count" data-testid="char-count" data-over={length.over || undefined} aria-hidden="true">
                {formatCount(length.count)} / {formatCount(length.limit)}
              </span>
            )}
            {busy && (
              <button
                type="button"
                className="round-button round-button--stop"
                onClick={() => {
                  // Stop is disabled at once and then gone: the keyboard's focus would fall to <body>. The box is where to go on.
                  if (focusedByKeyboard()) input.current?.focus();
                  onStop();
                }}
                disabled={stopping || !canStop}
                aria-label={stopping ? "Stopping…" : "Stop"}
                aria-keyshortcuts={shortcuts.stop.aria}
                title={`Stop (${shortcuts.stop.label})`}
              >
                <Icon name="stop" size={16} />
              </button>
            )}
            {(!busy || text.trim()) && (
              <button
                type="submit"
                className="round-button round-button--send"
                disabled={!text.trim() || length.over || unseen || reading}
                aria-label={busy ? "Queue" : "Send"}
                title={busy ? "Queue: sent when this answer ends" : "Send (Enter)"}
              >
                <Icon name="send" size={18} />
              </button>
            )}
          </div>
        </div>
      </form>
      <p
        className={`composer__note${length.over || unseen ? " is-error" : ""}${model?.note?.toolsOff ? " is-important" : ""}`}
        id={noteId}
        data-testid={length.over ? "limit-note" : unseen ? "vision-note" : model?.note?.toolsOff ? "tools-off-note" : "model-note"}
        role={length.over || unseen ? "alert" : undefined}
      >
        {length.over ? tooLongMessage(length) : unseen ? unseenImagesMessage : (model?.note?.text ?? "")}
      </p>
    </div>
  );
}
