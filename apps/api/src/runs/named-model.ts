import type { ChatModel } from "@streamchat/core";

/**
 * The model as seen under the API's provider name. The engine announces `run-start.provider` from
 * `model.provider`, which is the wire protocol ("ollama" for the built-in simulator too); clients compare
 * it with `health`/`models.list`, which say what the API runs ("sim"). Same requests, one name.
 */
export function withProviderName(model: ChatModel, provider: string): ChatModel {
  if (model.provider === provider) return model;
  const named: ChatModel = {
    provider,
    stream: (request, options) => model.stream(request, options),
  };
  // Everything else the engine asks of the model goes through: without `capabilities` and `state` a run would not
  // know what the model takes (images, think levels), its context window, or that it is loading; without `streamTo`
  // and the synchronous peeks it would take the slower ways (a generator step per chunk, a dozen promises per answer).
  const { streamTo, listModels, version, capabilities, capabilitiesNow, state, stateNow } = model;
  return {
    ...named,
    ...(streamTo ? { streamTo: (request, options, onChunk) => streamTo.call(model, request, options, onChunk) } : {}),
    ...(listModels ? { listModels: (options) => listModels.call(model, options) } : {}),
    ...(version ? { version: (options) => version.call(model, options) } : {}),
    ...(capabilities ? { capabilities: (name, options) => capabilities.call(model, name, options) } : {}),
    ...(capabilitiesNow ? { capabilitiesNow: (name) => capabilitiesNow.call(model, name) } : {}),
    ...(state ? { state: (name, options) => state.call(model, name, options) } : {}),
    ...(stateNow ? { stateNow: (name) => stateNow.call(model, name) } : {}),
  };
}
