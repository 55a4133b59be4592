import { untilAborted } from "./abort.js";
import { ChatError } from "./errors.js";
import type { ChatMessage, ChatModel, ModelCapabilities, ModelState } from "./model.js";
import type { ThinkSetting } from "./think.js";

export const unknownCapabilities: ModelCapabilities = { tools: undefined, thinking: undefined };
const unknownState: ModelState = { loaded: undefined };

/** The model's capabilities as its provider knows them; unknowns when it cannot say. Rejects only on abort. */
export async function capabilitiesOf(model: ChatModel, name: string, signal: AbortSignal): Promise<ModelCapabilities> {
  if (!model.capabilities) return unknownCapabilities;
  try {
    return await untilAborted(model.capabilities(name, { signal }), signal);
  } catch (error) {
    if (signal.aborted) throw error;
    return unknownCapabilities; // a provider bug must not stop the chat: send as asked
  }
}

/**
 * What `capabilitiesOf` would resolve to, when the provider knows it without waiting (`ChatModel.capabilitiesNow`);
 * undefined when only `capabilitiesOf` can say.
 */
export function capabilitiesNow(model: ChatModel, name: string): ModelCapabilities | undefined {
  if (!model.capabilities) return unknownCapabilities;
  try {
    return model.capabilitiesNow?.(name);
  } catch {
    return undefined; // a provider bug: the asynchronous way decides
  }
}

/** What `stateOf` would resolve to, when the provider knows it without waiting; undefined when only `stateOf` can say. */
export function stateNow(model: ChatModel, name: string): ModelState | undefined {
  if (!model.state) return unknownState;
  try {
    return model.stateNow?.(name);
  } catch {
    return undefined;
  }
}

/** Whether the model is loaded, as its provider knows; unknown when it cannot say. Rejects only on abort. */
export async function stateOf(model: ChatModel, name: string, signal: AbortSignal): Promise<ModelState> {
  if (!model.state) return unknownState;
  try {
    return await untilAborted(model.state(name, { signal }), signal);
  } catch (error) {
    if (signal.aborted) throw error;
    return unknownState;
  }
}

/**
 * The `think` value to send, given what the model takes; throws model_unsupported when thinking was asked
 * (true or a level) of a model known to lack it. `false` for such a model, or nothing asked, sends nothing.
 * A level for a model known to take only on/off becomes `true`; with unknown capabilities it goes as asked.
 */
export function thinkToSend(asked: ThinkSetting | undefined, caps: ModelCapabilities, modelName: string): ThinkSetting | undefined {
  if (asked === undefined) return undefined;
  if (caps.thinking === false) {
    if (asked === false) return undefined;
    throw new ChatError("model_unsupported", `"${modelName}" does not support thinking.`);
  }
  if (typeof asked === "string" && caps.thinkLevels === false) return true;
  return asked;
}

/** Images on the message being answered (the last user message). */
export function imagesOnLastUserMessage(messages: readonly ChatMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i]!;
    if (message.role === "user") return message.images?.length ?? 0;
  }
  return 0;
}

export function imagesUnsupported(modelName: string): ChatError {
  return new ChatError("model_unsupported", `"${modelName}" does not support images. Pick a vision model to send images.`);
}

/**
 * For the API, before it starts a run: the model_unsupported error a request would fail with, or undefined.
 * `images`: how many images the new message carries; `think`: as asked. Unknown capabilities pass (the
 * server's own answer decides, and runChat checks again). Rejects only when `signal` aborts.
 *
 *   const problem = await checkModelSupport(provider.model, modelName, { images: attachments.length, think });
 *   if (problem) throw new AppError(problem.code, problem.message);
 */
export async function checkModelSupport(
  model: ChatModel,
  modelName: string,
  request: { images?: number; think?: ThinkSetting | undefined },
  options: { signal?: AbortSignal } = {},
): Promise<ChatError | undefined> {
  const caps = await capabilitiesOf(model, modelName, options.signal ?? new AbortController().signal);
  if ((request.images ?? 0) > 0 && caps.vision === false) return imagesUnsupported(modelName);
  try {
    thinkToSend(request.think, caps, modelName);
  } catch (error) {
    if (error instanceof ChatError) return error;
    throw error;
  }
  return undefined;
}
