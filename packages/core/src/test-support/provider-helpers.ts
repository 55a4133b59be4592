import { expect } from "vitest";
import { ChatError } from "../errors.js";
import type { ChatModel, ModelChunk, ModelRequest } from "../model.js";

/** Every chunk a model streams for `request`. */
export async function chunks(model: ChatModel, request: ModelRequest, signal?: AbortSignal): Promise<ModelChunk[]> {
  const out: ModelChunk[] = [];
  for await (const chunk of model.stream(request, signal ? { signal } : {})) out.push(chunk);
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
