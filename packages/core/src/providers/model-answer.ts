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
  /** Its body is not null (the provider checked). Read through `response.body` only without `response.forEach`. */
  response: TransportResponse;
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

/** What a response without a body reads as (the providers refuse one before they make a ModelAnswer). */
const noBody: readonly Uint8Array[] = [];

/** The answer's chunks through an iterator. Return it from `stream` as it is: a generator around it is a step per chunk. */
export async function* answerChunks(open: () => Promise<ModelAnswer>, signal: AbortSignal | undefined): AsyncGenerator<ModelChunk> {
  const answer = await open();
  const { reader } = answer;
  const grace = new CompleteGrace(answer.response);
  try {
    for await (const bytes of answer.response.body ?? noBody) {
      // Keep reading to the end after the answer is complete, so that a keep-alive connection ends cleanly.
      if (answer.complete()) continue;
      const failure = reader.read(bytes);
      grace.check(answer);
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
    // Trouble after the answer is complete (a broken socket, junk, the grace's cancel) cannot hurt it.
    if (answer.complete() && !signal?.aborted) return;
    throw toChatError({ kind: "body", error }, { signal });
  } finally {
    grace.stop();
  }
  if (!answer.complete()) yield* ended(answer, signal);
}

/**
 * The answer's chunks handed to `onChunk` as each body chunk arrives, through the transport's `forEach` when it has
 * one (no promise per body chunk); resolves at the end. Reads, fails and ends as `answerChunks`.
 */
export function answerChunksTo(
  open: () => Promise<ModelAnswer>,
  signal: AbortSignal | undefined,
  onChunk: (chunk: ModelChunk) => void,
): Promise<void> {
  return open().then((answer) => new ChunksTo(answer, signal, onChunk).read());
}

/**
 * answerChunksTo's reading of one answer: an object whose callbacks the body's end settles, not an async function
 * waiting for it. A held answer kept that function's suspended frame (its registers, its generator object and the
 * two closures of its `await`) for as long as it streamed.
 */
class ChunksTo {
  private readonly grace: CompleteGrace;

  constructor(
    private readonly answer: ModelAnswer,
    private readonly signal: AbortSignal | undefined,
    private readonly onChunk: (chunk: ModelChunk) => void,
  ) {
    this.grace = new CompleteGrace(answer.response);
  }

  read(): Promise<void> {
    const { response } = this.answer;
    const reading = response.forEach ? response.forEach(this.take) : eachChunk(response.body ?? noBody, this.take);
    return reading.then(this.finish, this.fail);
  }

  /** One body chunk (undefined: the body ended). */
  private readonly take = (bytes: Uint8Array | undefined): void => {
    const { answer } = this;
    if (answer.complete()) return;
    const failure = answer.reader.read(bytes);
    this.grace.check(answer);
    for (const chunk of answer.reader.chunks) this.onChunk(chunk);
    if (failure !== undefined && !answer.complete()) throw failure;
  };

  /** The body ended: what the reader still holds, then the answer's end (or its cut). */
  private readonly finish = (): void => {
    try {
      this.take(undefined);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.grace.stop();
    const { answer } = this;
    if (!answer.complete()) for (const chunk of ended(answer, this.signal)) this.onChunk(chunk);
  };

  private readonly fail = (error: unknown): void => {
    this.grace.stop();
    // Trouble after the answer is complete (a broken socket, junk, the grace's cancel) cannot hurt it.
    if (this.answer.complete() && !this.signal?.aborted) return;
    throw toChatError({ kind: "body", error }, { signal: this.signal });
  };
}

/** A body without `forEach` (a transport of web streams), read chunk by chunk. */
async function eachChunk(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, take: (bytes: Uint8Array) => void): Promise<void> {
  for await (const bytes of body) take(bytes);
}

function ended(answer: ModelAnswer, signal: AbortSignal | undefined): Iterable<ModelChunk> {
  if (signal?.aborted) throw toChatError({ kind: "body", error: signal.reason }, { signal });
  return answer.cut();
}

/**
 * How long the body of a complete answer may stay open before its connection is closed. A complete answer is read to
 * the body's end, so that a keep-alive connection ends cleanly (Ollama and the OpenAI-compatible servers end it right
 * after the last line); a server or a proxy that holds it open instead must not hold the run until its idle timeout,
 * which would fail an answer that is whole.
 */
export const completeAnswerGraceMs = 1_000;

/** Closes the connection of a complete answer whose body has not ended `completeAnswerGraceMs` later. */
class CompleteGrace {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly response: TransportResponse) {}

  /** After each read: arms once the answer is complete. */
  check(answer: ModelAnswer): void {
    if (this.timer !== undefined || !answer.complete()) return;
    const { response } = this;
    this.timer = setTimeout(() => response.cancel(), completeAnswerGraceMs);
    // A drained connection is no reason to keep the process up.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}
