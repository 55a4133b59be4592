import type { ModelInfo } from "@streamchat/core";
import { authedProcedure, router } from "../trpc.js";

const listTimeoutMs = 3000;

/**
 * The simulator's fault models (sim-error-mid-stream, sim-stall…) exist for tests; offering them in the
 * picker would only let demo users pick a model that fails on purpose. SIM_SHOW_FAULT_MODELS=1 lists them.
 */
export function isFaultModel(name: string): boolean {
  return name.startsWith("sim-");
}

export const modelsRouter = router({
  list: authedProcedure.query(async ({ ctx }) => {
    const { provider } = ctx;
    let models: ModelInfo[] = [];
    try {
      models = (await provider.model.listModels?.({ signal: AbortSignal.timeout(listTimeoutMs) })) ?? [];
    } catch {
      // Unreachable provider: the picker still offers the default model; `health` tells why.
    }
    if (!ctx.config.simShowFaultModels) models = models.filter((m) => !isFaultModel(m.name));
    return { provider: provider.kind, demo: provider.demo, defaultModel: provider.defaultModel, models };
  }),
});
