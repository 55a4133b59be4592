import type { Sampling } from "@streamchat/core/browser";
import { useState } from "react";
import {
  changedSettings,
  emptySamplingFields,
  readSamplingFields,
  sameSampling,
  samplingFields,
  samplingKeys,
  samplingProblems,
  type SamplingFields,
  type SamplingKey,
} from "./samplingFields.js";

/**
 * Model settings being edited over `stored` (a chat's own, or the user's for all their chats): the fields as typed until
 * saved, each checked as typed, and what a save sends. The chat's dialog and the sidebar's panel are the same here.
 * `onEdit` hears of every edit (a "Saved" gives way to it).
 */
export function useSamplingEdit(stored: Sampling, onEdit: () => void) {
  // The fields as typed, until saved; null: the stored settings are shown.
  const [draft, setDraft] = useState<SamplingFields | null>(null);
  // The stored settings when the draft began: a save sends what the person changed from them.
  const [baseline, setBaseline] = useState<Sampling | null>(null);
  // Fields whose text the browser cannot read as a number ("1e"): their value is "" as if empty, but they are not.
  const [unreadable, setUnreadable] = useState<ReadonlySet<SamplingKey>>(new Set());
  // Bumped when all are emptied: new fields, as a field's unreadable text is "" to React and would stay on screen.
  const [generation, setGeneration] = useState(0);
  const fields = draft ?? samplingFields(stored);
  const read = readSamplingFields(fields);
  const problems = { ...read.problems };
  for (const key of unreadable) problems[key] = samplingProblems[key];
  const sampling = unreadable.size === 0 ? read.sampling : null;
  const edit = (next: SamplingFields, nextUnreadable: ReadonlySet<SamplingKey> = new Set()) => {
    if (draft === null) setBaseline(stored);
    setDraft(next);
    setUnreadable(nextUnreadable);
    onEdit();
  };
  return {
    fields,
    problems,
    /** The fields read as a sampling to save; null while one of them cannot be. */
    sampling,
    /** An edit not saved. A field that cannot be saved is a change too: a click beside it must not throw it away. */
    changed: draft !== null && (sampling === null || !sameSampling(sampling, stored)),
    /** Whether the fields show an edit rather than the stored settings. */
    editing: draft !== null,
    /** Whether any field holds something (emptying them all would change it). */
    anyTyped: unreadable.size > 0 || samplingKeys.some((key) => fields[key].trim() !== ""),
    /** Keys the fields by, so emptying them all gives new ones. */
    generation,
    /** One field typed into; `readable`: false while the browser cannot read its text as a number. */
    type(key: SamplingKey, value: string, readable: boolean) {
      const next = new Set(unreadable);
      if (readable) next.delete(key);
      else next.add(key);
      edit({ ...fields, [key]: value }, next);
    },
    /** Every field emptied: each setting left to what stands behind it. */
    clear() {
      edit(emptySamplingFields);
      setGeneration((g) => g + 1);
    },
    /** What a save of `to` sends: the settings changed from those shown when the edit began, alone (changedSettings). */
    changes: (to: Sampling) => changedSettings(baseline ?? stored, to),
    /** Saved (or kept): the fields show the stored settings again. */
    saved: () => setDraft(null),
  };
}

export type SamplingEdit = ReturnType<typeof useSamplingEdit>;
