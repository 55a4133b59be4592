import { samplingSchema, type Sampling, type SamplingDefaults } from "../sampling.js";

/**
 * The settings a model server says a model samples with, for the settings a conversation can choose. A value out of the
 * range a conversation may set, or not a number, is left out: what is shown as the model's own must be one the person
 * could type (llama.cpp's seed 4294967295 means "random", not a seed).
 */
export function settableSampling(values: { [K in keyof Sampling]?: unknown }): SamplingDefaults {
  const defaults: SamplingDefaults = {};
  for (const key of Object.keys(samplingSchema.shape) as (keyof Sampling)[]) {
    const value = values[key];
    if (typeof value === "number" && samplingSchema.shape[key].safeParse(value).success) defaults[key] = value;
  }
  return defaults;
}
