/**
 * What a request's sampling makes of the demo model's choices between equivalent phrasings (which joke, which opener
 * of a topic or a code answer), read as a model reads it:
 * - temperature 0 is greedy: the prompt's own choice, every time, whatever the seed;
 * - a seed makes the choice repeatable: the same seed and prompt give the same answer, another seed may give another;
 * - otherwise the model samples at a temperature above 0 (the request's, else its own: every simulated model's
 *   Modelfile has one), and asked the same thing again, as a regenerated answer is, it can say it differently.
 * No randomness: the first request for a conversation gets the prompt's own choice, and each identical request after it
 * (`repeat`, counted by the server) the next one, so tests and the screenshots see the same answers in the same order.
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

/** Whether `sampling` can choose differently when asked again: a temperature above 0 (given or the model's), no seed. */
export function choosesAnew(sampling: DemoSampling): boolean {
  return sampling.temperature !== 0 && sampling.seed === undefined;
}

/**
 * The number the demo picks its phrasings by for `text` (demo-answers.ts' `pick`), under `sampling`, for the request
 * that `repeat` identical requests came before.
 */
export function choiceSeed(text: string, sampling: DemoSampling, repeat: number): number {
  if (choosesAnew(sampling)) return (promptSeed(text) + repeat) >>> 0;
  if (sampling.seed === undefined || sampling.temperature === 0) return promptSeed(text);
  return promptSeed(`${sampling.seed}\u0000${text}`);
}
