import type { SamplingDefaults } from "@streamchat/core/browser";
import { trpc } from "../trpc.js";

/**
 * The model's own sampling (models.list `samplingDefaults`, the query App keeps): `model`'s, or the server's default
 * model's for null; undefined while the list loads or when the server does not say. What an empty Model settings field
 * leaves to the model, in a chat's dialog and in the user's own settings alike. `enabled`: false asks nothing (a folded
 * panel), and gives what is cached.
 */
export function useModelSamplingDefaults(model: string | null, enabled = true): SamplingDefaults | undefined {
  const models = trpc.models.list.useQuery(undefined, { staleTime: 60_000, enabled });
  const name = model ?? models.data?.defaultModel;
  return models.data?.models.find((m) => m.name === name)?.samplingDefaults;
}
