import type { Sampling, SamplingDefaults } from "../sampling.js";
import { settableSampling } from "./sampling-defaults.js";

/** Ollama's parameter names for the settings a conversation can choose (Modelfile `PARAMETER`s). */
const parameterNames: Record<string, keyof Sampling> = { temperature: "temperature", top_p: "topP", seed: "seed" };

/**
 * The sampling a model's Modelfile sets (Ollama's /api/show `parameters`: one `name value` line per PARAMETER, padded
 * with spaces, e.g. "temperature                    0.6"), for the settings a conversation can choose (settableSampling).
 */
export function modelfileSampling(parameters: string | null | undefined): SamplingDefaults {
  const values: { [K in keyof Sampling]?: number } = {};
  for (const line of (parameters ?? "").split("\n")) {
    const match = /^\s*(\w+)\s+(\S+)\s*$/.exec(line);
    const key = match ? parameterNames[match[1]!] : undefined;
    if (match && key !== undefined) values[key] = Number(match[2]);
  }
  return settableSampling(values);
}
