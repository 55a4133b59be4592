import { defaultSampling, isDefaultSampling, type Sampling } from "@streamchat/core/browser";
import { useRef } from "react";
import { emptyFields, samplingSummary } from "../chat/samplingFields.js";
import { useChatSettings } from "../chat/useChatSettings.js";
import { useModelSamplingDefaults } from "../chat/useModelSamplingDefaults.js";
import { useSamplingEdit } from "../chat/useSamplingEdit.js";
import { describeError } from "../lib/errors.js";
import { trpc } from "../trpc.js";
import { ChatMarker } from "./ChatMarker.js";
import { SamplingFieldList } from "./SamplingField.js";
import { SettingsDialog, useSourceSave, type SettingsSource } from "./SettingsDialog.js";
import "./versions.css";

/** The marker's button: named by the settings chosen, a quiet way to choose some when all are the model's. */
function SamplingButton({ sampling, onOpen }: { sampling: Sampling; onOpen: (opener: HTMLElement) => void }) {
  const summary = samplingSummary(sampling);
  return (
    <ChatMarker
      setting="chat-sampling"
      name="Model settings"
      detail={summary}
      label={summary || "Model settings"}
      icon="sampling"
      offer="Model settings for this new chat"
      onOpen={onOpen}
    />
  );
}

/**
 * Beside the chat's title when its answers are not sampled as the model would by default: a quiet marker naming the
 * settings chosen, which opens them. Nothing when all are the model's (or not known yet): the conversation's menu sets them.
 */
export function ChatSamplingChip({ conversationId, onOpen }: { conversationId: string; onOpen: (opener: HTMLElement) => void }) {
  const settings = useChatSettings(conversationId);
  const sampling = settings.data?.sampling;
  if (!sampling || isDefaultSampling(sampling)) return null;
  return <SamplingButton sampling={sampling} onOpen={onOpen} />;
}

/**
 * Beside a new chat's Instructions button (no conversation yet, so no menu): the new chat's sampling, chosen before its
 * first message. The marker when some is chosen (`sampling`, the draft kept for it), otherwise an unobtrusive button.
 */
export const NewChatSamplingButton = SamplingButton;

/** Where the dialog's settings live: a conversation's on the server, or a new chat's draft (the model's defaults for none). */
export type ChatSamplingSource = SettingsSource<Sampling>;

/**
 * How a chat's answers are sampled, in a modal dialog (SettingsDialog): temperature, top P and seed, each empty for the
 * user's own default (settings.get, the sidebar's Model settings), else the model's. Checked as typed against core's
 * limits (Save waits for valid values). A conversation's are saved on the server (conversations.setSampling), the
 * settings changed here alone (null for one emptied): one changed meanwhile elsewhere keeps that change unless it was
 * changed here too; every answer started afterwards in it is sent them. A new chat's are kept whole as a draft here
 * (`source`), that its first message takes along. Rendered while open; `onClose` gives the focus back to what opened it.
 */
export function ChatSamplingDialog({
  source,
  model,
  onClose,
}: {
  source: ChatSamplingSource;
  /** The model the chat's next answer asks (null: the server's default): its own settings are shown in empty fields. */
  model: string | null;
  onClose: () => void;
}) {
  const first = useRef<HTMLInputElement>(null);
  const utils = trpc.useUtils();
  const conversationId = source.kind === "conversation" ? source.conversationId : null;
  const settings = useChatSettings(conversationId);
  // The user's own defaults, what an empty field gives: asked again at every opening, as another tab may have set them.
  const yours = trpc.settings.get.useQuery(undefined, { refetchOnMount: "always" });
  const modelDefaults = useModelSamplingDefaults(model);
  const save = trpc.conversations.setSampling.useMutation({
    onSuccess: (saved, input) => {
      utils.conversations.settings.setData({ conversationId: input.conversationId }, saved);
      edit.saved();
    },
  });
  const saving = useSourceSave(
    source,
    {
      save: (conversationId, sampling) => save.mutate({ conversationId, sampling: edit.changes(sampling) }),
      isSuccess: save.isSuccess,
      reset: save.reset,
    },
    () => edit.saved(),
  );
  const stored: Sampling = source.kind === "draft" ? source.value : (settings.data?.sampling ?? defaultSampling);
  const edit = useSamplingEdit(stored, () => saving.edited());
  // Until the user's defaults are known, an empty field cannot say what it gives.
  const loading = (conversationId !== null && settings.isLoading) || yours.isLoading;
  const yourSampling = yours.data?.sampling ?? null;
  // An empty field is the user's default where they have one: "model defaults" would not be what Save then gives.
  const hasYours = yourSampling !== null && !isDefaultSampling(yourSampling);

  const failure = settings.error
    ? `Could not load this chat's model settings. ${describeError(settings.error).title}`
    : save.error
      ? `Could not save this chat's model settings. ${describeError(save.error).title}`
      : yours.error
        ? `Could not load your default model settings. ${describeError(yours.error).title}`
        : null;
  return (
    <SettingsDialog
      title="Model settings"
      hint={
        source.kind === "conversation"
          ? "How the model picks the words of this chat's answers, from the next answer on. An empty field uses your default, else the model's. Branches of this chat keep them."
          : "How the model picks the words of this new chat's answers. An empty field uses your default, else the model's. They are saved with the chat when you send its first message."
      }
      testId="chat-sampling-dialog"
      className="chat-sampling"
      changed={edit.changed}
      canSave={edit.changed && edit.sampling !== null}
      saving={save.isPending}
      saved={saving.saved && !edit.editing}
      failure={failure}
      initialFocus={first}
      ready={!loading}
      onClose={onClose}
      onSave={() => {
        if (edit.sampling) saving.save(edit.sampling);
      }}
      actions={
        <button type="button" className="button" disabled={loading || !edit.anyTyped} onClick={() => edit.clear()}>
          {hasYours ? "Use defaults" : "Use model defaults"}
        </button>
      }
    >
      <SamplingFieldList edit={edit} empty={emptyFields(yourSampling, modelDefaults)} loading={loading} firstRef={first} />
    </SettingsDialog>
  );
}
