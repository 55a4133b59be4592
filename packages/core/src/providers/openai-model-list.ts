import { z } from "zod";
import { untilAborted } from "../abort.js";
import { ChatError } from "../errors.js";
import type { ModelInfo } from "../model.js";
import type { SamplingDefaults } from "../sampling.js";

export const positiveInt = z.number().int().positive();

const modelsSchema = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      // Where servers put the window, if anywhere: vLLM max_model_len (what it serves), OpenRouter and others
      // context_length, llama.cpp meta.n_ctx_train (the training context; the server may run a smaller -c, which its
      // /props says: server-model-details.ts).
      max_model_len: positiveInt.nullish().catch(undefined),
      context_length: positiveInt.nullish().catch(undefined),
      meta: z.object({ n_ctx_train: positiveInt.nullish().catch(undefined) }).nullish().catch(undefined),
      // What a model takes, where the list says (OpenRouter and servers that copy its shape): the kinds of input
      // (`architecture.input_modalities`, or the older `architecture.modality`, "text+image->text") and the request
      // fields it honours (`supported_parameters`, "tools" among them).
      architecture: z
        .object({ input_modalities: z.array(z.string()).nullish().catch(undefined), modality: z.string().nullish().catch(undefined) })
        .nullish()
        .catch(undefined),
      supported_parameters: z.array(z.string()).nullish().catch(undefined),
      // Which server this is, for the ones with an API of their own ("llamacpp", LM Studio's "organization_owner").
      owned_by: z.string().nullish().catch(undefined),
      // llama.cpp's router mode (several models, each loaded on first use): "loaded", "unloaded", "loading"…
      status: z.object({ value: z.string() }).nullish().catch(undefined),
    }),
  ),
});

/** A model of the /models list, with what the list (and the server's own API) says of it (undefined: nothing). */
export interface ListedModel {
  id: string;
  contextLength: number | undefined;
  vision: boolean | undefined;
  tools: boolean | undefined;
  /** The list's `owned_by`. */
  owner: string | undefined;
  /** llama.cpp's router mode: the model's status ("loaded", "unloaded"…). */
  routerStatus?: string | undefined;
  /** In memory now (false: loaded on its first request, with a window only known then); undefined where not said. */
  loaded?: boolean | undefined;
  /**
   * Its chat template turns thinking on and off with `enable_thinking` (Qwen3, GLM-4.5…: llama.cpp's /props has the
   * template): `think` goes as `chat_template_kwargs`.
   */
  thinkingSwitch?: boolean;
  /** The temperature, top P and seed a request without its own gets, where the server says (llama.cpp's /props). */
  samplingDefaults?: SamplingDefaults;
  /** An embedding model (LM Studio lists them with the chat models): it cannot chat. */
  embedding?: boolean;
  /** What the picker shows of it, where the server says. */
  details?: Pick<ModelInfo, "family" | "parameterSize" | "quantization" | "sizeBytes">;
}

export function parseModelList(body: unknown): ListedModel[] {
  const parsed = modelsSchema.safeParse(body);
  if (!parsed.success) throw new ChatError("provider_error", "The model server sent an unexpected model list.");
  return parsed.data.data.map((m) => {
    const inputs = m.architecture?.input_modalities ?? m.architecture?.modality?.split("->")[0]?.split("+");
    return {
      id: m.id,
      contextLength: m.max_model_len ?? m.context_length ?? m.meta?.n_ctx_train ?? undefined,
      vision: inputs ? inputs.includes("image") : undefined,
      tools: m.supported_parameters ? m.supported_parameters.includes("tools") : undefined,
      owner: m.owned_by ?? undefined,
      ...(m.status ? { routerStatus: m.status.value, loaded: m.status.value === "loaded" } : {}),
    };
  });
}

/**
 * The /models list for `capabilities`, read at most once per TTL and shared by concurrent callers. A list with a model
 * that is not loaded is read again sooner (`unknownTtlMs`): LM Studio and llama.cpp's router load a model on its first
 * request, and only then say the window it got.
 */
export class ModelListCache {
  private cached: { models: Map<string, ListedModel> | undefined; expiresAt: number } | undefined;
  private reading: Promise<Map<string, ListedModel> | undefined> | undefined;

  constructor(
    private readonly opts: {
      read: (signal: AbortSignal) => Promise<ListedModel[]>;
      ttlMs: number;
      unknownTtlMs: number;
      readTimeoutMs: number;
      now: () => number;
    },
  ) {}

  set(models: ListedModel[]): void {
    const ttl = models.some((m) => m.loaded === false) ? Math.min(this.opts.ttlMs, this.opts.unknownTtlMs) : this.opts.ttlMs;
    this.cached = { models: new Map(models.map((m) => [m.id, m])), expiresAt: this.opts.now() + ttl };
  }

  /**
   * The server took a request for the model (answered it, or refused its prompt as too long): a list that said it was
   * not loaded is read again at the next look (the server loaded it for that request, with a window only said now).
   */
  requested(model: string): void {
    if (this.cached?.models?.get(model)?.loaded === false) this.cached.expiresAt = 0;
  }

  /** What `listed` would resolve to now, without reading; undefined when it must read. */
  listedNow(model: string): { model: ListedModel | undefined } | undefined {
    const current = this.current();
    return current && { model: current.models?.get(model) };
  }

  /** The model as the list has it; undefined when the list does not have it, or the server has no list. */
  async listed(model: string, signal: AbortSignal | undefined): Promise<ListedModel | undefined> {
    if (!this.current()) {
      this.reading ??= this.refresh().finally(() => (this.reading = undefined));
      await (signal ? untilAborted(this.reading, signal) : this.reading);
    }
    return this.cached?.models?.get(model);
  }

  /** The list while it holds; undefined once it expired (or was never read). */
  private current(): { models: Map<string, ListedModel> | undefined } | undefined {
    const cached = this.cached;
    return cached && cached.expiresAt > this.opts.now() ? cached : undefined;
  }

  private async refresh(): Promise<Map<string, ListedModel> | undefined> {
    try {
      this.set(await this.opts.read(AbortSignal.timeout(this.opts.readTimeoutMs)));
    } catch {
      // Not every server has /models; the chat goes on without a context length.
      this.cached = { models: undefined, expiresAt: this.opts.now() + this.opts.unknownTtlMs };
    }
    return this.cached?.models;
  }
}
