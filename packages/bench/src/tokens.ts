import { benchToken } from "@streamchat/ollama-sim";

/** The exact tokens the simulator's `sim-bench` model streams for "tokens:N": "tok1 ", "tok2 ", … */
export function benchTokens(n: number): string[] {
  return Array.from({ length: n }, (_, i) => benchToken(i + 1));
}

/** A bench prompt: the simulator reads "tokens:N"; the tag makes every stream's request unique and findable. */
export function benchPrompt(n: number, tag: string): string {
  return `Benchmark stream ${tag} tokens:${n}`;
}
