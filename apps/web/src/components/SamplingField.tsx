import { samplingLimits } from "@streamchat/core/browser";
import { useId, type Ref } from "react";
import { emptyPlaceholder, samplingKeys, samplingNames, type EmptyField, type SamplingKey } from "../chat/samplingFields.js";
import type { SamplingEdit } from "../chat/useSamplingEdit.js";
import "./versions.css";

/** What each field says under it, for someone who has not met the word before. */
const hints: Record<SamplingKey, string> = {
  temperature: "Lower is more focused and repeatable, higher more varied.",
  topP: "Draws only from the likeliest tokens, those that together make up this share.",
  seed: "The same seed gives the same answer again, on servers that support it.",
};

/** The arrows' step: fine enough for the values people use (0.7, 0.95), coarse enough to get there. */
const steps: Record<SamplingKey, number> = { temperature: 0.05, topP: 0.05, seed: 1 };

/**
 * The three settings being edited (useSamplingEdit), in the dialog's order: a chat's Model settings and the user's
 * own in the sidebar. `empty` says what each empty field leaves it to; `firstRef` is the first field's.
 */
export function SamplingFieldList({
  edit,
  empty,
  loading,
  firstRef,
}: {
  edit: SamplingEdit;
  empty: Record<SamplingKey, EmptyField>;
  loading: boolean;
  firstRef?: Ref<HTMLInputElement>;
}) {
  return samplingKeys.map((key) => (
    <SamplingField
      key={`${key}-${edit.generation}`}
      name={key}
      inputRef={key === "temperature" ? firstRef : undefined}
      value={edit.fields[key]}
      empty={empty[key]}
      problem={edit.problems[key] ?? null}
      loading={loading}
      onChange={(value, readable) => edit.type(key, value, readable)}
    />
  ));
}

/** One setting: its number (empty: what `empty` says), its hint, and what is wrong with it in words. */
function SamplingField({
  name,
  inputRef,
  value,
  empty,
  problem,
  loading,
  onChange,
}: {
  name: SamplingKey;
  inputRef: Ref<HTMLInputElement> | undefined;
  value: string;
  /** What the setting is left to while the field is empty: its placeholder says so, with the value where known. */
  empty: EmptyField;
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
          placeholder={loading ? "Loading…" : emptyPlaceholder(empty)}
          aria-invalid={problem !== null}
          aria-describedby={problem ? `${hintId} ${problemId}` : hintId}
          onChange={(e) => onChange(e.target.value, !e.target.validity.badInput)}
        />
        {name === "temperature" && (
          // For the pointer: the field beside it is the same value, for the keyboard and screen readers alike. Resting
          // dimmed while the field is empty (a slider cannot be), at the value it leaves it to where that is known (the
          // user's default, the model's), else in the middle.
          <input
            type="range"
            className={`chat-sampling__slider${value.trim() === "" ? " is-default" : ""}`}
            min={min}
            max={max}
            step={steps[name]}
            value={value.trim() === "" ? (empty.value ?? (min + max) / 2) : value}
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
