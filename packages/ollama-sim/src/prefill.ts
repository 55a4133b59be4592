/**
 * A request whose last message is the model's own (assistant) text asks it to write on from there (a prefill: Ollama
 * and llama.cpp continue a final assistant message; vLLM when told `continue_final_message`). The simulator answers as a
 * model that would have said the same thing: when its answer to the question starts with that text, it sends the rest
 * of it, at once from where the text ends; otherwise its whole answer follows the text.
 */
import { contentText } from "./messages.js";
import type { SimChatRequest, SimChunk } from "./types.js";

/** The text of a final assistant message without tool calls, if the request ends with one. */
export function prefillOf(req: SimChatRequest): string | undefined {
  const last = req.messages.at(-1);
  if (last?.["role"] !== "assistant") return undefined;
  const calls = last["tool_calls"];
  if (Array.isArray(calls) && calls.length > 0) return undefined;
  const text = contentText(last["content"]);
  return text === "" ? undefined : text;
}

/** The chunks of an answer that continues `prefill`: those after it (the chunk it ends in cut), its reasoning left out. */
export function* continuing(chunks: Iterable<SimChunk>, prefill: string): Generator<SimChunk> {
  const all = [...chunks];
  const answer = all.map((c) => c.content ?? "").join("");
  if (!answer.startsWith(prefill)) {
    yield* all;
    return;
  }
  let seen = 0;
  for (const chunk of all) {
    const content = chunk.content ?? "";
    if (seen >= prefill.length) {
      yield chunk;
      continue;
    }
    const rest = content.slice(prefill.length - seen);
    seen += content.length;
    // What the prefill already holds is not said again, nor waited for; the reasoning before it is done.
    if (rest !== "") yield { ...chunk, content: rest, delayMs: 0, thinking: undefined };
    else if (chunk.done || chunk.error !== undefined || chunk.toolCalls) yield { ...chunk, content: undefined, thinking: undefined };
  }
}
