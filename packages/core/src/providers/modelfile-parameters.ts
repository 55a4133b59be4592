import { samplingSchema, type Sampling, type SamplingDefaults } from "../sampling.js";

/** Ollama's parameter names for the settings a conversation can choose (Modelfile `PARAMETER`s). */
const parameterNames: Record<string, keyof Sampling> = { temperature: "temperature", top_p: "topP", seed: "seed" };

/**
 * The sampling a model's Modelfile sets (Ollama's /api/show `parameters`: one `name value` line per PARAMETER, padded
 * with spaces, e.g. "temperature                    0.6"), for the settings a conversation can choose. A value out of
 * the range a conversation may set, or not a number, is left out: what is shown as the model's own must be one the
 * person could type.
 */
export function modelfileSampling(parameters: string | null | undefined): SamplingDefaults {
  const defaults: SamplingDefaults = {};
  for (const line of (parameters ?? "").split("\n")) {
    const match = /^\s*(\w+)\s+(\S+)\s*$/.exec(line);
    const key = match ? parameterNames[match[1]!] : undefined;
    if (!match || key === undefined) continue;
    const value = Number(match[2]);
    if (samplingSchema.shape[key].safeParse(value).success) defaults[key] = value;
  }
  return defaults;
}
