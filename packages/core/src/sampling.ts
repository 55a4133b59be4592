import { z } from "zod";

/**
 * How a conversation's answers are sampled, where the person chose to (LM Studio's and Open WebUI's per-chat
 * temperature, top P and seed); null leaves the model's own default, which is what most chats want.
 */
export interface Sampling {
  /** 0 is (nearly) deterministic, 2 is as loose as any server allows; models default to 0.6–1. */
  temperature: number | null;
  /** Nucleus sampling: only the likeliest tokens whose probabilities add up to this are drawn from. */
  topP: number | null;
  /** The same seed, prompt and settings give the same answer on servers that honour it (Ollama, llama.cpp, vLLM). */
  seed: number | null;
}

/** The settings a model has of its own, where its server says (ModelInfo.samplingDefaults): one missing is not known. */
export type SamplingDefaults = { [K in keyof Sampling]?: number };

/** Every setting left to the model. */
export const defaultSampling: Sampling = Object.freeze({ temperature: null, topP: null, seed: null });

/** The ranges every server takes: OpenAI's temperature stops at 2 and top P at 1; a seed fits Ollama's 32-bit int. */
export const samplingLimits = {
  temperature: { min: 0, max: 2 },
  topP: { min: 0, max: 1 },
  seed: { min: 0, max: 2_147_483_647 },
} as const;

const { temperature, topP, seed } = samplingLimits;

/** One setting of each, null for the model's default: the API's input, the export format's and the web app's check. */
export const samplingSchema = z
  .object({
    temperature: z.number().min(temperature.min).max(temperature.max).nullable(),
    // top P 0 would leave nothing to draw from (servers refuse or treat it as 1): more than 0.
    topP: z.number().gt(topP.min).max(topP.max).nullable(),
    seed: z.number().int().min(seed.min).max(seed.max).nullable(),
  })
  .strict();

/** Whether a sampling leaves everything to the model. */
export const isDefaultSampling = (s: Sampling): boolean => s.temperature === null && s.topP === null && s.seed === null;

/** The settings chosen, as a model request's options (ModelRequest.options): the ones left to the model are not sent. */
export function samplingOptions(s: Sampling): { temperature?: number; topP?: number; seed?: number } {
  const out: { temperature?: number; topP?: number; seed?: number } = {};
  if (s.temperature !== null) out.temperature = s.temperature;
  if (s.topP !== null) out.topP = s.topP;
  if (s.seed !== null) out.seed = s.seed;
  return out;
}
