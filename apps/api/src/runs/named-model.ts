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
  const { listModels, version } = model;
  return {
    ...named,
    ...(listModels ? { listModels: (options) => listModels.call(model, options) } : {}),
    ...(version ? { version: (options) => version.call(model, options) } : {}),
  };
}
