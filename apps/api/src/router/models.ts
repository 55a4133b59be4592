import type { ModelInfo } from "@streamchat/core";
import { authedProcedure, router } from "../trpc.js";

const listTimeoutMs = 3000;

export const modelsRouter = router({
  list: authedProcedure.query(async ({ ctx }) => {
    const { provider } = ctx;
    let models: ModelInfo[] = [];
    try {
      models = (await provider.model.listModels?.({ signal: AbortSignal.timeout(listTimeoutMs) })) ?? [];
    } catch {
      // Unreachable provider: the picker still offers the default model; `health` tells why.
    }
    return { provider: provider.kind, demo: provider.demo, defaultModel: provider.defaultModel, models };
  }),
});
