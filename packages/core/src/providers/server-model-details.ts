import { z } from "zod";
import { ChatError } from "../errors.js";
import { positiveInt, type ListedModel } from "./openai-model-list.js";
import { sendJson, type HttpTarget } from "./request.js";
import { settableSampling } from "./sampling-defaults.js";

/**
 * What two local servers say of their models through their own API, which their OpenAI-compatible /v1/models leaves
 * out. Both are named by the list's `owned_by`, so other servers are never asked:
 *
 * - llama.cpp's `llama-server` ("llamacpp"): GET /props has the window each request gets
 *   (`default_generation_settings.n_ctx`: the `-c` it runs with, per slot, where /v1/models only has the training
 *   context), in newer builds whether it sees images (`modalities.vision`: started with a projector), and the chat
 *   template, whose `enable_thinking` (Qwen3, GLM-4.5…) makes thinking a switch a request can set, and the temperature,
 *   top P and seed a request without its own gets (`default_generation_settings.params`; at the top level of
 *   `default_generation_settings` in older builds). In router
 *   mode (models listed with a `status`) only loaded models are asked, as `/props?model=…&autoload=false`: asking of
 *   another would load it.
 * - LM Studio ("organization_owner"): GET /api/v1/models (0.4+) has each model's type (embedding models are listed with
 *   the chat models), whether it sees images, whether it is loaded and the window it was loaded with, which can be far
 *   below the model's maximum (its documentation's example: 4,096 of 32,768); /api/v0/models (0.3.6+), asked when v1 is not
 *   there, has the type ("vlm" sees images) and the loaded state, not the loaded window.
 *
 * The server's own API is found beside /v1 (a base URL that does not end in /v1 asks nothing). A failure there leaves
 * the list as /v1/models has it.
 */
export async function withServerDetails(target: HttpTarget, models: ListedModel[], signal: AbortSignal | undefined): Promise<ListedModel[]> {
  const root = /^(.*)\/v1\/?$/.exec(target.baseUrl)?.[1];
  if (root === undefined || models.length === 0) return models;
  // Not the server's log's "unreachable" either: /v1/models just answered, and these requests are optional.
  const at: HttpTarget = { ...target, baseUrl: root, onUnreachable: undefined };
  try {
    if (models.some((m) => m.owner === "llamacpp")) return await withLlamaCppProps(at, models, signal);
    if (models.every((m) => m.owner === "organization_owner")) return await withLmStudioModels(at, models, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
  }
  return models;
}

/** llama.cpp's sampling fields, as /props has them (a build's own settings, or the command line's `--temp` …). */
const llamaCppSampling = z.object({
  temperature: z.unknown().optional(),
  top_p: z.unknown().optional(),
  seed: z.unknown().optional(),
});

const propsSchema = z.object({
  default_generation_settings: llamaCppSampling
    .extend({ n_ctx: positiveInt.nullish().catch(undefined), params: llamaCppSampling.nullish().catch(undefined) })
    .nullish()
    .catch(undefined),
  modalities: z.object({ vision: z.boolean().nullish().catch(undefined) }).nullish().catch(undefined),
  chat_template: z.string().nullish().catch(undefined),
});

async function withLlamaCppProps(at: HttpTarget, models: ListedModel[], signal: AbortSignal | undefined): Promise<ListedModel[]> {
  const read = async (path: string) => {
    const props = propsSchema.safeParse(await sendJson(at, path, { method: "GET", signal }));
    if (!props.success) throw new ChatError("provider_error", "The model server sent unexpected /props.");
    return props.data;
  };
  const apply = (m: ListedModel, props: z.infer<typeof propsSchema>): ListedModel => {
    const settings = props.default_generation_settings;
    const sampling = settings ? llamaCppDefaults(settings.params ?? settings) : {};
    return {
      ...m,
      contextLength: settings?.n_ctx ?? m.contextLength,
      vision: props.modalities?.vision ?? m.vision,
      ...(props.chat_template?.includes("enable_thinking") ? { thinkingSwitch: true } : {}),
      ...(Object.keys(sampling).length > 0 ? { samplingDefaults: sampling } : {}),
    };
  };
  const router = models.some((m) => m.routerStatus !== undefined);
  if (!router) {
    const props = await read("/props");
    return models.map((m) => ({ ...apply(m, props), loaded: true }));
  }
  return Promise.all(
    models.map(async (m) => {
      if (!m.loaded) return m;
      try {
        return apply(m, await read(`/props?model=${encodeURIComponent(m.id)}&autoload=false`));
      } catch (error) {
        if (signal?.aborted) throw error;
        return m; // unloaded since the list was read, or an older router: one model's props are not the others'
      }
    }),
  );
}

/**
 * llama.cpp keeps its settings as 32-bit floats and prints them as doubles (0.800000011920929): six significant digits
 * give back the value it was set to.
 */
function llamaCppDefaults(settings: z.infer<typeof llamaCppSampling>) {
  const asSet = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? Number(value.toPrecision(6)) : value);
  return settableSampling({ temperature: asSet(settings.temperature), topP: asSet(settings.top_p), seed: settings.seed });
}

const lmStudioV1Schema = z.object({
  models: z.array(
    z.object({
      key: z.string(),
      type: z.string().nullish().catch(undefined),
      architecture: z.string().nullish().catch(undefined),
      quantization: z.object({ name: z.string().nullish().catch(undefined) }).nullish().catch(undefined),
      size_bytes: z.number().nonnegative().nullish().catch(undefined),
      params_string: z.string().nullish().catch(undefined),
      loaded_instances: z
        .array(z.object({ id: z.string(), config: z.object({ context_length: positiveInt.nullish().catch(undefined) }).nullish().catch(undefined) }))
        .nullish()
        .catch(undefined),
      capabilities: z.object({ vision: z.boolean().nullish().catch(undefined) }).nullish().catch(undefined),
    }),
  ),
});

const lmStudioV0Schema = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      type: z.string().nullish().catch(undefined),
      arch: z.string().nullish().catch(undefined),
      quantization: z.string().nullish().catch(undefined),
      state: z.string().nullish().catch(undefined),
    }),
  ),
});

async function withLmStudioModels(at: HttpTarget, models: ListedModel[], signal: AbortSignal | undefined): Promise<ListedModel[]> {
  let body: unknown;
  try {
    body = await sendJson(at, "/api/v1/models", { method: "GET", signal });
  } catch (error) {
    if (!(error instanceof ChatError) || error.status !== 404) throw error;
    return withLmStudioV0(at, models, signal);
  }
  const parsed = lmStudioV1Schema.safeParse(body);
  if (!parsed.success) return models;
  const byId = new Map<string, { model: (typeof parsed.data.models)[number]; instance: number }>();
  for (const model of parsed.data.models) {
    byId.set(model.key, { model, instance: 0 });
    model.loaded_instances?.forEach((instance, i) => byId.set(instance.id, { model, instance: i }));
  }
  return models.map((m) => {
    const found = byId.get(m.id);
    if (!found) return m;
    const { model, instance } = found;
    const loaded = model.loaded_instances?.[instance];
    const details: NonNullable<ListedModel["details"]> = {};
    if (model.architecture) details.family = model.architecture;
    if (model.params_string) details.parameterSize = model.params_string;
    if (model.quantization?.name) details.quantization = model.quantization.name;
    if (typeof model.size_bytes === "number") details.sizeBytes = model.size_bytes;
    return {
      ...m,
      // The window it was loaded with; not loaded, the window it gets is only known once it is.
      contextLength: loaded?.config?.context_length ?? m.contextLength,
      vision: model.capabilities?.vision ?? m.vision,
      loaded: loaded !== undefined,
      embedding: model.type === "embedding",
      details,
    };
  });
}

async function withLmStudioV0(at: HttpTarget, models: ListedModel[], signal: AbortSignal | undefined): Promise<ListedModel[]> {
  const parsed = lmStudioV0Schema.safeParse(await sendJson(at, "/api/v0/models", { method: "GET", signal }));
  if (!parsed.success) return models;
  const byId = new Map(parsed.data.data.map((model) => [model.id, model]));
  return models.map((m) => {
    const model = byId.get(m.id);
    if (!model) return m;
    const details: NonNullable<ListedModel["details"]> = {};
    if (model.arch) details.family = model.arch;
    if (model.quantization) details.quantization = model.quantization;
    return {
      ...m,
      vision: model.type === "vlm" ? true : model.type === "llm" ? false : m.vision,
      loaded: model.state === "loaded",
      embedding: model.type === "embeddings",
      details,
    };
  });
}
