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
