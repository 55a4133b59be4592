import type { ModelChunk } from "../model.js";
import { toChatError } from "./http-errors.js";
import type { JoinedReader } from "./joined-chunks.js";
import type { TransportResponse } from "./transport.js";

/**
 * One streamed answer of a model server, as a provider opened it: its body, how a body chunk becomes model chunks,
 * and how the provider tells a complete answer. `answerChunks` (ChatModel.stream) and `answerChunksTo`
 * (ChatModel.streamTo) read it, fail and end alike; only the way the chunks leave differs.
 */
export interface ModelAnswer {
  response: TransportResponse;
  /** The response's body (not null). */
  body: AsyncIterable<Uint8Array>;
  /** Decodes a body chunk (undefined: the body ended) into `chunks`; the error that stopped it, thrown after them. */
  reader: Pick<JoinedReader<unknown>, "read" | "chunks">;
  /** The answer is complete (Ollama's done line, OpenAI's [DONE]): what follows is drained to the end, not read. */
  complete(): boolean;
  /**
   * The body ended before the answer was complete (and not by an abort): the chunks that end it anyway (a
   * provider's leniency), or throws stream_truncated.
   */
  cut(): Iterable<ModelChunk>;
}

/** The answer's chunks through an iterator. Return it from `stream` as it is: a generator around it is a step per chunk. */
export async function* answerChunks(open: () => Promise<ModelAnswer>, signal: AbortSignal | undefined): AsyncGenerator<ModelChunk> {
  const answer = await open();
  const { reader } = answer;
  try {
    for await (const bytes of answer.body) {
      // Keep reading to the end after the answer is complete, so that a keep-alive connection ends cleanly.
      if (answer.complete()) continue;
      const failure = reader.read(bytes);
      for (const chunk of reader.chunks) yield chunk;
      // What broke after the end of the answer (in the same body chunk) is drained, not read.
      if (failure !== undefined && !answer.complete()) throw failure;
    }
    if (!answer.complete()) {
      const failure = reader.read(undefined);
      for (const chunk of reader.chunks) yield chunk;
      if (failure !== undefined) throw failure;
    }
  } catch (error) {
    // Trouble after the answer is complete (a broken socket or junk while draining) cannot hurt it.
    if (answer.complete() && !signal?.aborted) return;
    throw toChatError({ kind: "body", error }, { signal });
  }
  if (!answer.complete()) yield* ended(answer, signal);
}

/**
 * The answer's chunks handed to `onChunk` as each body chunk arrives, through the transport's `forEach` when it has
 * one (no promise per body chunk); resolves at the end. Reads, fails and ends as `answerChunks`.
 */
export async function answerChunksTo(
  open: () => Promise<ModelAnswer>,
  signal: AbortSignal | undefined,
  onChunk: (chunk: ModelChunk) => void,
): Promise<void> {
  const answer = await open();
  const { reader, response, body } = answer;
  const read = (bytes: Uint8Array | undefined): void => {
    if (answer.complete()) return;
    const failure = reader.read(bytes);
    for (const chunk of reader.chunks) onChunk(chunk);
    if (failure !== undefined && !answer.complete()) throw failure;
  };
  try {
    if (response.forEach) await response.forEach(read);
    else for await (const bytes of body) read(bytes);
    read(undefined);
  } catch (error) {
    if (answer.complete() && !signal?.aborted) return;
    throw toChatError({ kind: "body", error }, { signal });
  }
  if (!answer.complete()) for (const chunk of ended(answer, signal)) onChunk(chunk);
}

function ended(answer: ModelAnswer, signal: AbortSignal | undefined): Iterable<ModelChunk> {
  if (signal?.aborted) throw toChatError({ kind: "body", error: signal.reason }, { signal });
  return answer.cut();
}
