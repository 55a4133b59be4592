/**
 * What a request's sampling makes of the demo model's choices between equivalent phrasings (which joke, which opener
 * of a topic or a code answer), read as a model reads it:
 * - temperature 0 is greedy: the prompt's own choice, every time, whatever the seed;
 * - a seed makes the choice repeatable: the same seed and prompt give the same answer, another seed may give another;
 * - a temperature above 0 without a seed chooses anew on every request, so a regenerated answer can differ.
 * A request with neither gets the prompt's own choice too. That is the simulator's fixed default (tests, the benchmark
 * and the screenshots rely on one prompt streaming one answer), not a real model's, whose own temperature is above 0.
 */
import { promptSeed } from "./demo-answers.js";

export interface DemoSampling {
  temperature?: number;
  seed?: number;
}

/**
 * The temperature and seed of a request's `options` (Ollama's; the OpenAI-compatible wire's top-level fields are put
 * there too, as Ollama's `/v1` does). Values that are not numbers are ignored; a negative seed is none (llama.cpp's
 * -1 asks for a random one).
 */
export function requestSampling(options: Record<string, unknown> | undefined): DemoSampling {
  const out: DemoSampling = {};
  const temperature = options?.["temperature"];
  if (typeof temperature === "number" && Number.isFinite(temperature) && temperature >= 0) out.temperature = temperature;
  const seed = options?.["seed"];
  if (typeof seed === "number" && Number.isInteger(seed) && seed >= 0) out.seed = seed;
  return out;
}

/** Whether `sampling` makes a new choice on every request: a temperature above 0 without a seed. */
export function choosesAnew(sampling: DemoSampling): boolean {
  return sampling.temperature !== undefined && sampling.temperature > 0 && sampling.seed === undefined;
}

/** The number the demo picks its phrasings by for `text` (demo-answers.ts' `pick`), under `sampling`. */
export function choiceSeed(text: string, sampling: DemoSampling, random: () => number = Math.random): number {
  if (choosesAnew(sampling)) return Math.floor(random() * 0x1_0000_0000);
  if (sampling.temperature === 0 || sampling.seed === undefined) return promptSeed(text);
  return promptSeed(`${sampling.seed}\u0000${text}`);
}
