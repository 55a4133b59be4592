import type { ModelChunk } from "../model.js";

/**
 * Text a joined chunk grows to before the next piece starts a chunk of its own: an event's size stays bounded (a
 * follower queues up to a thousand of them), as the API's token coalescer bounds what it merges.
 */
export const joinedTextLimit = 16 * 1024;

/**
 * Appends `chunk`, joined to the last one when both are text (or both reasoning). A provider collects what one body
 * chunk from the model server decoded (every line of an NDJSON chunk, every event of an SSE chunk) into one array
 * this way, so that the engine, the log and every subscriber handle the chunk, not each token in it: a server that
 * writes fast puts dozens of lines in one. Order is kept; `pieces` counts what was joined.
 */
export function appendJoined(chunks: ModelChunk[], chunk: ModelChunk): void {
  const last = chunks[chunks.length - 1];
  if (
    last !== undefined &&
    (chunk.type === "text" || chunk.type === "reasoning") &&
    last.type === chunk.type &&
    last.text.length < joinedTextLimit
  ) {
    chunks[chunks.length - 1] = { type: chunk.type, text: last.text + chunk.text, pieces: (last.pieces ?? 1) + (chunk.pieces ?? 1) };
  } else {
    chunks.push(chunk);
  }
}

/** Decodes a body chunk at a time into items (NDJSON lines, SSE events). */
export interface ChunkDecoder<T> {
  push(chunk: Uint8Array, into: T[]): void;
  end(into: T[]): void;
}

/**
 * A provider's reading of its body, a chunk at a time and without an async step per item: `read(bytes)` decodes the
 * chunk (undefined: the body ended) and turns each item into model chunks with `accept`, joined into `chunks`, until
 * `ended()` (the answer is complete; what follows is drained, not read). It returns the error that stopped the chunk,
 * to be thrown once the chunks before it are handed out.
 */
export class JoinedReader<T> {
  readonly chunks: ModelChunk[] = [];
  private readonly items: T[] = [];

  constructor(
    private readonly decoder: ChunkDecoder<T>,
    private readonly accept: (item: T) => Iterable<ModelChunk>,
    private readonly ended: () => boolean,
  ) {}

  read(bytes: Uint8Array | undefined): unknown {
    const { items, chunks } = this;
    empty(items);
    empty(chunks);
    let failure: unknown;
    try {
      if (bytes === undefined) this.decoder.end(items);
      else this.decoder.push(bytes, items);
    } catch (error) {
      failure = error;
    }
    try {
      for (let i = 0; i < items.length && !this.ended(); i++) for (const chunk of this.accept(items[i]!)) appendJoined(chunks, chunk);
    } catch (error) {
      failure = error; // an earlier item than the decoder's failure: it comes first
    } finally {
      // The decoded items (whole NDJSON lines, SSE events) are not kept until the next body chunk, which can be
      // minutes away in a held answer.
      empty(items);
    }
    return failure;
  }
}

/**
 * Empties `list` and keeps its backing store for the next body chunk. `list.length = 0` lets V8 drop the store, and
 * the next push allocates a new one of 17 slots (~150 bytes): twice per token at one token per read.
 */
function empty(list: unknown[]): void {
  while (list.length > 0) list.pop();
}
