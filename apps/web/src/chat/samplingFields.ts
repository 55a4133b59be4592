import { samplingLimits, samplingSchema, type Sampling, type SamplingDefaults } from "@streamchat/core/browser";

export type SamplingKey = keyof Sampling;

/** Model settings' fields as typed: "" leaves the setting to what stands behind it (EmptyField). */
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

/**
 * What an empty field leaves the setting to: for a chat, the user's own default where they set one (settings.get, which
 * every chat uses unless it sets its own), else the model's own value, where its server says it (undefined: it does not).
 */
export type EmptyField = { from: "yours"; value: number } | { from: "model"; value: number | undefined };

/**
 * Each field's EmptyField: `yours` is the user's sampling (null: none applies, as in the user's own settings, where an
 * empty field is the model's), `model` the model's own values (models.list `samplingDefaults`).
 */
export function emptyFields(yours: Sampling | null, model: SamplingDefaults | undefined): Record<SamplingKey, EmptyField> {
  const of = (key: SamplingKey): EmptyField => {
    const value = yours?.[key] ?? null;
    return value !== null ? { from: "yours", value } : { from: "model", value: model?.[key] };
  };
  return { temperature: of("temperature"), topP: of("topP"), seed: of("seed") };
}

/** An empty field's placeholder: what the answers get from it ("Your default: 0.3", "Model default: 0.7"). */
export function emptyPlaceholder(empty: EmptyField): string {
  if (empty.from === "yours") return `Your default: ${empty.value}`;
  return empty.value === undefined ? "Model default" : `Model default: ${empty.value}`;
}
