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

/** What a JoinedReader turns decoded items into: a provider's answer, which lives as long as it streams. */
export interface JoinedSource<T> {
  /** The model chunks an item (an NDJSON line, an SSE event) says. */
  accept(item: T): Iterable<ModelChunk>;
  /** The answer is complete: the items that follow are drained, not read. */
  complete(): boolean;
}

/**
 * A provider's reading of its body, a chunk at a time and without an async step per item: `read(bytes)` decodes the
 * chunk (undefined: the body ended) and turns each item into model chunks with `source.accept`, joined into `chunks`,
 * until `source.complete()`. It returns the error that stopped the chunk, to be thrown once the chunks before it are
 * handed out.
 */
export class JoinedReader<T> {
  readonly chunks: ModelChunk[] = [];

  constructor(
    private readonly decoder: ChunkDecoder<T>,
    private readonly source: JoinedSource<T>,
  ) {}

  read(bytes: Uint8Array | undefined): unknown {
    const { chunks } = this;
    // A read within a read (a source that reads another answer) gets an array of its own.
    const items = (decodedItems.length === 0 ? decodedItems : []) as T[];
    empty(chunks);
    let failure: unknown;
    try {
      if (bytes === undefined) this.decoder.end(items);
      else this.decoder.push(bytes, items);
    } catch (error) {
      failure = error;
    }
    try {
      const { source } = this;
      for (let i = 0; i < items.length && !source.complete(); i++) for (const chunk of source.accept(items[i]!)) appendJoined(chunks, chunk);
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
 * The items decoded from the body chunk being read, for every reader: a read is synchronous and leaves it empty, and
 * an array of each reader's own kept its 17 slots for as long as its answer streamed.
 */
const decodedItems: unknown[] = [];

/**
 * Empties `list` and keeps its backing store for the next body chunk. `list.length = 0` lets V8 drop the store, and
 * the next push allocates a new one of 17 slots (~150 bytes): twice per token at one token per read.
 */
function empty(list: unknown[]): void {
  while (list.length > 0) list.pop();
}
