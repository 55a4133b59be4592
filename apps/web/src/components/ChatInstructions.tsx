import { maxInstructionsChars } from "@streamchat/core/browser";
import { useId, useRef, useState } from "react";
import { useChatSettings } from "../chat/useChatSettings.js";
import { describeError } from "../lib/errors.js";
import { trpc } from "../trpc.js";
import { ChatMarker } from "./ChatMarker.js";
import { SettingsDialog, useSourceSave, type SettingsSource } from "./SettingsDialog.js";
import "./versions.css";

/** How much of the instructions the header's marker names in its title (the whole text is in the dialog). */
const namedChars = 80;

/** The start of the instructions on one line, for the marker's name. */
export function instructionsExcerpt(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > namedChars ? `${line.slice(0, namedChars).trimEnd()}…` : line;
}

/** The marker's button: named by the instructions when there are some, a quiet way to set them when there are none. */
function InstructionsButton({ text, onOpen }: { text: string; onOpen: (opener: HTMLElement) => void }) {
  return (
    <ChatMarker
      setting="chat-instructions"
      name="Chat instructions"
      detail={instructionsExcerpt(text)}
      label="Instructions"
      icon="instructions"
      offer="Instructions for this new chat"
      onOpen={onOpen}
    />
  );
}

/**
 * Beside the chat's title when the chat has instructions of its own: a quiet marker that says so and opens them.
 * Nothing when there are none (or they are not known yet): the conversation's menu sets them.
 */
export function ChatInstructionsChip({ conversationId, onOpen }: { conversationId: string; onOpen: (opener: HTMLElement) => void }) {
  const settings = useChatSettings(conversationId);
  const text = settings.data?.instructions ?? "";
  if (text === "") return null;
  return <InstructionsButton text={text} onOpen={onOpen} />;
}

/**
 * Beside "New chat" (no conversation yet, so no menu): the new chat's instructions, set before its first message. The
 * marker when some are set (`text`, the draft kept for it), otherwise an unobtrusive button to set them. One button
 * either way, so the focus comes back to it after a save that changed which.
 */
export const NewChatInstructionsButton = InstructionsButton;

/** Where the dialog's text lives: a conversation's on the server, or a new chat's draft ("" for none). */
export type ChatInstructionsSource = SettingsSource<string>;

/**
 * The chat's own instructions in a modal dialog (SettingsDialog): what every new answer in this chat gets after the
 * user's custom instructions. A conversation's are saved on the server (conversations.setInstructions, trimmed there;
 * "" clears them); a new chat's are a draft kept here (`source`), trimmed the same way, that its first message takes
 * along. Rendered while open; `onClose` gives the focus back to what opened it.
 */
export function ChatInstructionsDialog({ source, onClose }: { source: ChatInstructionsSource; onClose: () => void }) {
  const box = useRef<HTMLTextAreaElement>(null);
  const utils = trpc.useUtils();
  const conversationId = source.kind === "conversation" ? source.conversationId : null;
  const settings = useChatSettings(conversationId);
  // The edit, until it is saved; null: the stored text is shown.
  const [draft, setDraft] = useState<string | null>(null);
  const save = trpc.conversations.setInstructions.useMutation({
    // Saved as the server stored it (trimmed): the box shows that, and "Saved" until the next edit.
    onSuccess: (saved, input) => {
      utils.conversations.settings.setData({ conversationId: input.conversationId }, saved);
      // They are part of every request in this chat: the room left for a message changed.
      void utils.models.room.invalidate();
      setDraft(null);
    },
  });
  const saving = useSourceSave(
    source,
    { save: (conversationId, instructions) => save.mutate({ conversationId, instructions }), isSuccess: save.isSuccess, reset: save.reset },
    () => setDraft(null),
  );
  const stored = source.kind === "draft" ? source.value : (settings.data?.instructions ?? "");
  const text = draft ?? stored;
  const changed = draft !== null && draft.trim() !== stored;
  const loading = conversationId !== null && settings.isLoading;
  const countId = useId();
  const boxId = useId();

  const failure = settings.error
    ? `Could not load this chat's instructions. ${describeError(settings.error).title}`
    : save.error
      ? `Could not save this chat's instructions. ${describeError(save.error).title}`
      : null;
  return (
    <SettingsDialog
      title="Chat instructions"
      hint={
        source.kind === "conversation"
          ? "Every new answer in this chat gets these, after your custom instructions. Branches of this chat keep them."
          : "Every answer in this new chat gets these, after your custom instructions. They are saved with the chat when you send its first message."
      }
      testId="chat-instructions-dialog"
      className="chat-instructions"
      changed={changed}
      canSave={changed}
      saving={save.isPending}
      saved={saving.saved && draft === null}
      failure={failure}
      initialFocus={box}
      ready={!loading}
      onClose={onClose}
      // Trimmed, as the server stores a conversation's.
      onSave={() => saving.save(text.trim())}
    >
      <label htmlFor={boxId} className="visually-hidden">
        Instructions for this chat
      </label>
      <textarea
        ref={box}
        id={boxId}
        className="chat-instructions__text"
        rows={7}
        maxLength={maxInstructionsChars}
        value={text}
        disabled={loading}
        placeholder={loading ? "Loading…" : "e.g. We are planning a week in Kyoto in April, on a small budget."}
        aria-describedby={countId}
        onChange={(e) => {
          setDraft(e.target.value);
          saving.edited();
        }}
      />
      <span id={countId} className="chat-instructions__count muted small">
        {text.length} / {maxInstructionsChars}
      </span>
    </SettingsDialog>
  );
}
