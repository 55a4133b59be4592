import { expect } from "vitest";
import { ChatError } from "../errors.js";
import type { ChatModel, ModelChunk, ModelRequest } from "../model.js";
import { appendJoined } from "../providers/joined-chunks.js";

/** Every chunk a model streams for `request`. */
export async function chunks(model: ChatModel, request: ModelRequest, signal?: AbortSignal): Promise<ModelChunk[]> {
  const out: ModelChunk[] = [];
  for await (const chunk of model.stream(request, signal ? { signal } : {})) out.push(chunk);
  return out;
}

/** Every chunk a model hands to `streamTo`'s callback for `request`. */
export async function chunksTo(model: ChatModel, request: ModelRequest, signal?: AbortSignal): Promise<ModelChunk[]> {
  const out: ModelChunk[] = [];
  await model.streamTo!(request, signal ? { signal } : {}, (chunk) => out.push(chunk));
  return out;
}

/**
 * `chunks` with consecutive text (and reasoning) joined and their pieces counted: how a provider cuts text into
 * chunks follows the network reads, which a test does not control; the joined text and the count are the contract.
 */
export function joined(chunks: readonly ModelChunk[]): ModelChunk[] {
  const out: ModelChunk[] = [];
  for (const chunk of chunks) appendJoined(out, chunk.type === "text" || chunk.type === "reasoning" ? { ...chunk, pieces: chunk.pieces ?? 1 } : chunk);
  return out;
}

/** The ChatError a promise rejects with (fails the test when it resolves or rejects with anything else). */
export async function failure(promise: Promise<unknown>): Promise<ChatError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatError);
  return error as ChatError;
}

/** A one-message request to `model`. */
export const ask = (model: string): ModelRequest => ({ model, messages: [{ role: "user", content: "hi" }] });
