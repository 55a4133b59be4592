import { defaultSampling, isDefaultSampling, samplingLimits, type Sampling, type SamplingDefaults } from "@streamchat/core/browser";
import { useId, useRef, useState, type Ref } from "react";
import {
  emptySamplingFields,
  changedSettings,
  readSamplingFields,
  sameSampling,
  samplingFields,
  samplingKeys,
  samplingNames,
  samplingProblems,
  samplingSummary,
  type SamplingFields,
  type SamplingKey,
} from "../chat/samplingFields.js";
import { useChatSettings } from "../chat/useChatSettings.js";
import { describeError } from "../lib/errors.js";
import { trpc } from "../trpc.js";
import { ChatMarker } from "./ChatMarker.js";
import { SettingsDialog, useSourceSave, type SettingsSource } from "./SettingsDialog.js";
import "./versions.css";

/** What each field says under it, for someone who has not met the word before. */
const hints: Record<SamplingKey, string> = {
  temperature: "Lower is more focused and repeatable, higher more varied.",
  topP: "Draws only from the likeliest tokens, those that together make up this share.",
  seed: "The same seed gives the same answer again, on servers that support it.",
};

/** The arrows' step: fine enough for the values people use (0.7, 0.95), coarse enough to get there. */
const steps: Record<SamplingKey, number> = { temperature: 0.05, topP: 0.05, seed: 1 };

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
 * model's own default. Checked as typed against core's limits (Save waits for valid values). A conversation's are saved
 * on the server (conversations.setSampling), the settings changed here alone (null for one emptied): one changed
 * meanwhile elsewhere keeps that change unless it was changed here too; every answer started afterwards in it is sent
 * them. A new chat's are kept whole as a draft here (`source`), that its first message takes along.
 * Rendered while open; `onClose` gives the focus back to what opened it.
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
  const modelDefaults = useModelSamplingDefaults(model);
  // The fields as typed, until saved; null: the stored settings are shown.
  const [draft, setDraft] = useState<SamplingFields | null>(null);
  // The stored settings when the draft began: a save sends what the person changed from them.
  const [baseline, setBaseline] = useState<Sampling | null>(null);
  // Fields whose text the browser cannot read as a number ("1e"): their value is "" as if empty, but they are not.
  const [unreadable, setUnreadable] = useState<ReadonlySet<SamplingKey>>(new Set());
  // Bumped by Use model defaults: new fields, as a field's unreadable text is "" to React and would stay on screen.
  const [generation, setGeneration] = useState(0);
  const save = trpc.conversations.setSampling.useMutation({
    onSuccess: (saved, input) => {
      utils.conversations.settings.setData({ conversationId: input.conversationId }, saved);
      setDraft(null);
    },
  });
  const saving = useSourceSave(
    source,
    {
      save: (conversationId, sampling) => save.mutate({ conversationId, sampling: changedSettings(baseline ?? stored, sampling) }),
      isSuccess: save.isSuccess,
      reset: save.reset,
    },
    () => setDraft(null),
  );
  const stored: Sampling = source.kind === "draft" ? source.value : (settings.data?.sampling ?? defaultSampling);
  const fields = draft ?? samplingFields(stored);
  const read = readSamplingFields(fields);
  const problems = { ...read.problems };
  for (const key of unreadable) problems[key] = samplingProblems[key];
  const sampling = unreadable.size === 0 ? read.sampling : null;
  // A field that cannot be saved is a change too: the backdrop must not throw it away.
  const changed = draft !== null && (sampling === null || !sameSampling(sampling, stored));
  const loading = conversationId !== null && settings.isLoading;
  const edit = (next: SamplingFields, nextUnreadable: ReadonlySet<SamplingKey> = new Set()) => {
    if (draft === null) setBaseline(stored);
    setDraft(next);
    setUnreadable(nextUnreadable);
    saving.edited();
  };

  const failure = settings.error
    ? `Could not load this chat's model settings. ${describeError(settings.error).title}`
    : save.error
      ? `Could not save this chat's model settings. ${describeError(save.error).title}`
      : null;
  return (
    <SettingsDialog
      title="Model settings"
      hint={
        source.kind === "conversation"
          ? "How the model picks the words of this chat's answers, from the next answer on. An empty field leaves it to the model. Branches of this chat keep them."
          : "How the model picks the words of this new chat's answers. An empty field leaves it to the model. They are saved with the chat when you send its first message."
      }
      testId="chat-sampling-dialog"
      className="chat-sampling"
      changed={changed}
      canSave={changed && sampling !== null}
      saving={save.isPending}
      saved={saving.saved && draft === null}
      failure={failure}
      initialFocus={first}
      ready={!loading}
      onClose={onClose}
      onSave={() => {
        if (sampling) saving.save(sampling);
      }}
      actions={
        <button
          type="button"
          className="button"
          disabled={loading || (unreadable.size === 0 && samplingKeys.every((key) => fields[key].trim() === ""))}
          onClick={() => {
            edit(emptySamplingFields);
            setGeneration((g) => g + 1);
          }}
        >
          Use model defaults
        </button>
      }
    >
      {samplingKeys.map((key) => (
        <SamplingField
          key={`${key}-${generation}`}
          name={key}
          inputRef={key === "temperature" ? first : undefined}
          value={fields[key]}
          modelDefault={modelDefaults?.[key]}
          problem={problems[key] ?? null}
          loading={loading}
          onChange={(value, readable) => {
            const next = new Set(unreadable);
            if (readable) next.delete(key);
            else next.add(key);
            edit({ ...fields, [key]: value }, next);
          }}
        />
      ))}
    </SettingsDialog>
  );
}

/** One setting: its number (empty for the model's default), its hint, and what is wrong with it in words. */
function SamplingField({
  name,
  inputRef,
  value,
  modelDefault,
  problem,
  loading,
  onChange,
}: {
  name: SamplingKey;
  inputRef: Ref<HTMLInputElement> | undefined;
  value: string;
  /** The model's own value, where its server says (models.list `samplingDefaults`). */
  modelDefault: number | undefined;
  problem: string | null;
  loading: boolean;
  /** `readable`: false while the browser cannot read the text as a number (its value is "" then). */
  onChange: (value: string, readable: boolean) => void;
}) {
  const id = useId();
  const hintId = useId();
  const problemId = useId();
  const { min, max } = samplingLimits[name];
  const whole = name === "seed";
  return (
    <div className="chat-sampling__field">
      <label htmlFor={id} className="chat-sampling__label">
        {samplingNames[name]}
      </label>
      <div className="chat-sampling__controls">
        <input
          ref={inputRef}
          id={id}
          type="number"
          className="chat-sampling__number"
          inputMode={whole ? "numeric" : "decimal"}
          min={min}
          max={max}
          step={steps[name]}
          value={value}
          disabled={loading}
          placeholder={loading ? "Loading…" : modelDefault === undefined ? "Model default" : `Model default: ${modelDefault}`}
          aria-invalid={problem !== null}
          aria-describedby={problem ? `${hintId} ${problemId}` : hintId}
          onChange={(e) => onChange(e.target.value, !e.target.validity.badInput)}
        />
        {name === "temperature" && (
          // For the pointer: the field beside it is the same value, for the keyboard and screen readers alike. Resting
          // dimmed while the model's default is used (a slider cannot be empty), at that default where the server says
          // it, else in the middle.
          <input
            type="range"
            className={`chat-sampling__slider${value.trim() === "" ? " is-default" : ""}`}
            min={min}
            max={max}
            step={steps[name]}
            value={value.trim() === "" ? (modelDefault ?? (min + max) / 2) : value}
            disabled={loading}
            tabIndex={-1}
            aria-hidden="true"
            onChange={(e) => onChange(e.target.value, true)}
          />
        )}
      </div>
      <p id={hintId} className="chat-sampling__hint">
        {hints[name]}
      </p>
      {problem && (
        <p id={problemId} className="chat-sampling__problem">
          {problem}
        </p>
      )}
    </div>
  );
}

/**
 * The model's own sampling (models.list `samplingDefaults`, the query App keeps): `model`'s, or the server's default
 * model's for null; undefined while the list loads or when the server does not say.
 */
function useModelSamplingDefaults(model: string | null): SamplingDefaults | undefined {
  const models = trpc.models.list.useQuery(undefined, { staleTime: 60_000 });
  const name = model ?? models.data?.defaultModel;
  return models.data?.models.find((m) => m.name === name)?.samplingDefaults;
}
