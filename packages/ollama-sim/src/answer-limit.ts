/**
 * The most tokens an answer may have, as a request asks it: Ollama's `options.num_predict`, an OpenAI client's
 * `max_completion_tokens` or `max_tokens`. Like Ollama, the simulator then ends the answer after that many tokens (one
 * per text or reasoning chunk) with done_reason "length". None, or a value that is not a positive count (Ollama's -1,
 * -2: as long as the model goes): no limit.
 */
import type { SimChunk } from "./types.js";

export function answerLimitOf(body: Record<string, unknown>, wire: "ollama" | "openai"): number | undefined {
  const options = body["options"];
  const asked =
    wire === "ollama"
      ? options && typeof options === "object" ? (options as Record<string, unknown>)["num_predict"] : undefined
      : (body["max_completion_tokens"] ?? body["max_tokens"]);
  return typeof asked === "number" && Number.isInteger(asked) && asked > 0 ? asked : undefined;
}

/** The chunks of an answer up to `limit` tokens, then a done chunk with done_reason "length" if it had more. */
export function* limitedTo(chunks: Iterable<SimChunk>, limit: number): Generator<SimChunk> {
  let tokens = 0;
  for (const chunk of chunks) {
    const counted = (chunk.content ?? "") !== "" || (chunk.thinking ?? "") !== "";
    if (counted && tokens === limit) {
      yield { done: true, doneReason: "length" };
      return;
    }
    if (counted) tokens += 1;
    yield chunk;
  }
}
