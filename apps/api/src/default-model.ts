import { embedsOnly, ollamaModelKey, type ChatModel, type ModelInfo } from "@streamchat/core";

/**
 * The model a request without one goes to when CHAT_MODEL is not set: `preferred` (llama3.2) while no list was read,
 * under the name the server lists it by ("llama3.2:latest"); when the server does not have it, a model it lists that
 * can chat, a loaded one first (a first chat on a machine without llama3.2 answered "not installed"). Kept while the
 * server lists it, so the default does not move as models load and unload.
 */
export class ListedDefaultModel {
  private chosen: string | undefined;

  constructor(private readonly preferred: string) {}

  get name(): string {
    return this.chosen ?? this.preferred;
  }

  /** A model list the server gave. */
  seen(models: readonly ModelInfo[]): void {
    const chat = models.filter((m) => !embedsOnly(m.capabilities));
    if (chat.length === 0) return;
    const current = ollamaModelKey(this.name);
    const preferred = ollamaModelKey(this.preferred);
    const listed = chat.find((m) => ollamaModelKey(m.name) === current) ?? chat.find((m) => ollamaModelKey(m.name) === preferred);
    this.chosen = (listed ?? chat.find((m) => m.loaded) ?? chat[0]!).name;
  }
}

/** The model, its lists also told to `onList` (the provider's default model follows them). */
export function watchingLists(model: ChatModel, onList: (models: ModelInfo[]) => void): ChatModel {
  const listModels = model.listModels;
  if (!listModels) return model;
  return {
    ...model,
    async listModels(options) {
      const models = await listModels.call(model, options);
      onList(models);
      return models;
    },
  };
}
