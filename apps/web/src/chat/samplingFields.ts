import { samplingLimits, samplingSchema, type Sampling } from "@streamchat/core/browser";

export type SamplingKey = keyof Sampling;

/** The model settings dialog's fields as typed: "" is the model's default. */
export type SamplingFields = Record<SamplingKey, string>;

export const samplingKeys: readonly SamplingKey[] = ["temperature", "topP", "seed"];

/** How each setting is named, in the dialog, its messages and the header's marker. */
export const samplingNames: Record<SamplingKey, string> = { temperature: "Temperature", topP: "Top P", seed: "Seed" };

const { temperature, topP, seed } = samplingLimits;

/** What a field that cannot be saved says: the range as core's schema checks it. */
export const samplingProblems: Record<SamplingKey, string> = {
  temperature: `Temperature is a number from ${temperature.min} to ${temperature.max}.`,
  // Above its minimum: a top P of 0 leaves nothing to draw from, and the schema refuses it.
  topP: `Top P is a number above ${topP.min}, up to ${topP.max}.`,
  seed: `Seed is a whole number from ${seed.min} to ${seed.max.toLocaleString("en-US")}.`,
};

/** A stored sampling as the fields show it. */
export function samplingFields(sampling: Sampling): SamplingFields {
  const field = (value: number | null) => (value === null ? "" : String(value));
  return { temperature: field(sampling.temperature), topP: field(sampling.topP), seed: field(sampling.seed) };
}

export const emptySamplingFields: SamplingFields = { temperature: "", topP: "", seed: "" };

/**
 * The fields read as a sampling to save (null for each left empty), or what is wrong with each that cannot be: checked
 * by core's own schema, the one the API checks with, so what passes here is never refused there.
 */
export function readSamplingFields(fields: SamplingFields): { sampling: Sampling | null; problems: Partial<Record<SamplingKey, string>> } {
  const sampling: Sampling = { temperature: null, topP: null, seed: null };
  const problems: Partial<Record<SamplingKey, string>> = {};
  for (const key of samplingKeys) {
    const typed = fields[key].trim();
    // Empty: left to the model (and not Number(""), which is 0).
    if (typed === "") continue;
    const value = Number(typed);
    if (samplingSchema.shape[key].safeParse(value).success) sampling[key] = value;
    else problems[key] = samplingProblems[key];
  }
  return { sampling: Object.keys(problems).length === 0 ? sampling : null, problems };
}

export const sameSampling = (a: Sampling, b: Sampling): boolean => samplingKeys.every((key) => a[key] === b[key]);

/**
 * The settings `to` changes from `from`, alone: what a save sends (conversations.setSampling keeps the others), so a
 * setting changed meanwhile elsewhere (another tab, the CLI) stays unless it was changed here too.
 */
export function changedSettings(from: Sampling, to: Sampling): Partial<Sampling> {
  const change: Partial<Sampling> = {};
  for (const key of samplingKeys) if (from[key] !== to[key]) change[key] = to[key];
  return change;
}

/** The settings chosen, named, for the header's marker ("Temperature 0.2 · Seed 42"); "" when all are the model's. */
export function samplingSummary(sampling: Sampling): string {
  return samplingKeys
    .filter((key) => sampling[key] !== null)
    .map((key) => `${samplingNames[key]} ${sampling[key]}`)
    .join(" · ");
}
