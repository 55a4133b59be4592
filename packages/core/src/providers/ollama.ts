import { z } from "zod";
import { ChatError } from "../errors.js";
import { userMessageText } from "../files.js";
import type { KeepAlive } from "../keep-alive.js";
import type { ChatMessage, ChatModel, ModelCapabilities, ModelChunk, ModelInfo, ModelMetrics, ModelRequest, ModelState, StreamOptions } from "../model.js";
import { NdjsonDecoder } from "../ndjson.js";
import type { SamplingDefaults } from "../sampling.js";
import { takesThinkLevels, thinkLevels } from "../think.js";
import { CapabilityCache, modelKey } from "./capability-cache.js";
import { LoadedModels, type LoadedModel } from "./loaded-models.js";
import { modelfileSampling } from "./modelfile-parameters.js";
import { newCallId, parseToolArgs } from "./call-id.js";
import { carriesError, messageField } from "./http-errors.js";
import { JoinedReader, type JoinedSource } from "./joined-chunks.js";
import { answerChunks, answerChunksTo, type ModelAnswer } from "./model-answer.js";
import { send, sendJson, transportFor, type HttpTarget, type UnreachableFailure } from "./request.js";
import type { TransportResponse } from "./transport.js";

export interface OllamaModelOptions {
  /** e.g. http://127.0.0.1:11434 (OLLAMA_HOST) */
  baseUrl: string;
  /** Sends every request through this fetch (a proxy, a mock). Default: node:http(s) with a keep-alive agent. */
  fetch?: typeof fetch;
  headers?: Record<string, string>;
  /** Called with the URL when a request finds no server there; the error users see does not name it. */
  onUnreachable?: (failure: UnreachableFailure) => void;
  /** How long a model's capabilities (/api/show) are reused before being read again. Default 5 minutes. */
  capabilityTtlMs?: number;
  /** Clock for the capability cache (tests). */
  now?: () => number;
  /** `keep_alive` sent with every chat request unless the request sets its own (KEEP_ALIVE). Default: none (Ollama's 5m). */
  keepAlive?: KeepAlive;
  /**
   * The context window Ollama gives a request without `num_ctx` (its OLLAMA_CONTEXT_LENGTH). Default 2048,
   * the smallest any Ollama version uses, so a longer prompt always gets an explicit num_ctx.
   */
  defaultNumCtx?: number;
  /** How long an /api/ps answer (which models are loaded) is reused. Default 2 s. */
  loadedTtlMs?: number;
}

/** What /api/show says about a model. */
export interface ShowInfo {
  /** undefined: the server lists none (Ollama before 0.6.4). */
  capabilities: string[] | undefined;
  /** model_info["<general.architecture>.context_length"]. */
  contextLength: number | undefined;
  /** gpt-oss with the harmony template: takes "low" | "medium" | "high" (see think.ts). */
  thinkLevels: boolean;
  /** Its Modelfile's temperature, top P and seed (`parameters`; modelfile-parameters.ts). */
  samplingDefaults: SamplingDefaults;
}

const unknownCapabilities: ModelCapabilities = { tools: undefined, thinking: undefined };

/**
 * One streamed answer of Ollama's `/api/chat`: its NDJSON lines become model chunks until the done line. A class, not
 * a literal of closures: it lives as long as the answer streams (a held answer kept four closures and their scope).
 */
class OllamaAnswer implements ModelAnswer, JoinedSource<unknown> {
  readonly reader: JoinedReader<unknown>;
  #finished = false;

  constructor(
    readonly response: TransportResponse,
    private readonly model: string,
    private readonly loaded: LoadedModels,
  ) {
    this.reader = new JoinedReader(new NdjsonDecoder(), this);
  }

  accept(line: unknown): ModelChunk[] {
    const chunks = fromOllamaLine(line);
    if (chunks.some((chunk) => chunk.type === "finish")) {
      this.#finished = true;
      this.loaded.answered(this.model);
    }
    return chunks;
  }

  complete(): boolean {
    return this.#finished;
  }

  cut(): never {
    // ollama-js: "Did not receive done or success response in stream."
    throw new ChatError("stream_truncated", "The model server ended the answer without finishing it (no done line).");
  }
}

/** A ChatModel over Ollama's native `POST /api/chat` NDJSON stream. */
export function createOllamaModel(opts: OllamaModelOptions): ChatModel {
  const target: HttpTarget = {
    baseUrl: opts.baseUrl,
    transport: transportFor(opts.fetch),
    headers: opts.headers ?? {},
    onUnreachable: opts.onUnreachable,
  };
  const now = opts.now ?? Date.now;
  const cache = new CapabilityCache<ShowInfo>({
    read: (model, signal) => readShow(target, model, signal),
    ttlMs: opts.capabilityTtlMs ?? 5 * 60_000,
    unknownTtlMs: 30_000,
    readTimeoutMs: 5_000,
    maxEntries: 256,
    now,
  });
  const loaded = new LoadedModels({
    read: (signal) => readLoaded(target, signal),
    ttlMs: opts.loadedTtlMs ?? 2_000,
    readTimeoutMs: 2_000,
    now,
  });
  const defaultNumCtx = opts.defaultNumCtx ?? 2048;

  /** What the model takes, from its /api/show (undefined: unknown) and what its requests were refused. */
  const capabilitiesFrom = (model: string, show: ShowInfo | undefined): ModelCapabilities => {
    const refused = cache.refused(model);
    // What the chat endpoint refused wins over what /api/show says (or does not).
    const has = (name: string, listed: string[] | undefined) => (refused.has(name) ? false : listed?.includes(name));
    if (show === undefined) {
      return { ...unknownCapabilities, tools: has("tools", undefined), thinking: has("thinking", undefined), defaultContextTokens: defaultNumCtx };
    }
    const names = show.capabilities;
    return {
      tools: has("tools", names),
      thinking: has("thinking", names),
      vision: names?.includes("vision"),
      thinkLevels: show.thinkLevels,
      contextLength: show.contextLength,
      defaultContextTokens: defaultNumCtx,
    };
  };

  /** Whether the model is loaded, from /api/ps's entry (false: not listed; undefined: /api/ps could not say). */
  const stateFrom = (model: string, entry: LoadedModel | false | undefined): ModelState => {
    if (entry) return { loaded: true, contextTokens: entry.contextTokens };
    // Not in /api/ps: cold only if the model is installed (its /api/show answered), else nothing to say.
    if (entry === false && cache.peek(model) !== undefined) return { loaded: false };
    return { loaded: undefined };
  };

  /** Sends a chat request; its answer, to be read a body chunk at a time (`stream` and `streamTo`). */
  const openAnswer = async (request: ModelRequest, signal: AbortSignal | undefined): Promise<ModelAnswer> => {
    let res: TransportResponse;
    try {
      const body = toOllamaRequest(opts.keepAlive === undefined || request.keepAlive !== undefined ? request : { ...request, keepAlive: opts.keepAlive });
      res = await send(target, "/api/chat", { method: "POST", body, signal });
    } catch (error) {
      if (error instanceof ChatError) {
        // Capabilities unknown (/api/show failed or lists none): the refusal is all there is to know. Remembered, later
        // runs leave the feature out (tools) or stop before asking (thinking) instead of paying a refused request first.
        // Known ones are read again instead (below): the model changed, and /api/show says how.
        if ((error.unsupported === "tools" || error.unsupported === "thinking") && cache.peek(request.model)?.capabilities === undefined) {
          cache.refuse(request.model, error.unsupported);
        }
        // What the cache said may be stale (a model pulled again, removed): read it again next time.
        if (error.code === "model_unsupported" || error.code === "model_not_found") cache.forget(request.model);
      }
      throw error;
    }
    if (!res.body) throw new ChatError("provider_error", "The model server sent an empty response.");
    return new OllamaAnswer(res, request.model, loaded);
  };

  return {
    provider: "ollama",

    stream: (request: ModelRequest, options?: StreamOptions) => answerChunks(() => openAnswer(request, options?.signal), options?.signal),

    streamTo: (request: ModelRequest, options: StreamOptions | undefined, onChunk: (chunk: ModelChunk) => void) =>
      answerChunksTo(() => openAnswer(request, options?.signal), options?.signal, onChunk),

    async listModels(options?: StreamOptions): Promise<ModelInfo[]> {
      const signal = options?.signal;
      // /api/ps is asked alongside (cached briefly): which models are in memory changes all the time.
      const running = loaded.get(signal);
      running.catch(() => undefined);
      const tags = tagsSchema.safeParse(await sendJson(target, "/api/tags", { method: "GET", signal }));
      if (!tags.success) throw new ChatError("provider_error", "The model server sent an unexpected model list.");
      // /api/tags has no capabilities; /api/show has them, one request per model not known by its digest.
      const inMemory = await running;
      const models = await Promise.all(
        tags.data.models.map(async (m): Promise<ModelInfo> => {
          let show = cache.forDigest(m.name, m.digest);
          if (show === undefined) {
            show = await readShow(target, m.name, signal).catch((error: unknown) => {
              if (signal?.aborted) throw error;
              return undefined; // one model's broken /api/show should not hide the others
            });
            cache.set(m.name, show, m.digest);
          }
          const refused = cache.refused(m.name);
          const info: ModelInfo = { name: m.name, capabilities: (show?.capabilities ?? []).filter((c) => !refused.has(c)) };
          if (show?.contextLength !== undefined) info.contextLength = show.contextLength;
          if (show?.thinkLevels) info.thinkLevels = [...thinkLevels];
          if (show && Object.keys(show.samplingDefaults).length > 0) info.samplingDefaults = { ...show.samplingDefaults };
          if (inMemory) info.loaded = inMemory.has(modelKey(m.name));
          if (m.details?.family) info.family = m.details.family;
          if (m.details?.parameter_size) info.parameterSize = m.details.parameter_size;
          if (m.details?.quantization_level) info.quantization = m.details.quantization_level;
          if (m.size !== undefined) info.sizeBytes = m.size;
          return info;
        }),
      );
      cache.retain(models.map((m) => m.name));
      return models;
    },

    async version(options?: StreamOptions): Promise<string> {
      const body = versionSchema.safeParse(await sendJson(target, "/api/version", { method: "GET", signal: options?.signal }));
      if (!body.success) throw new ChatError("provider_error", "The model server sent an unexpected version answer.");
      return body.data.version;
    },

    async capabilities(model: string, options?: StreamOptions): Promise<ModelCapabilities> {
      return capabilitiesFrom(model, await cache.get(model, options?.signal));
    },

    capabilitiesNow(model: string): ModelCapabilities | undefined {
      const fresh = cache.fresh(model);
      return fresh && capabilitiesFrom(model, fresh.names);
    },

    async state(model: string, options?: StreamOptions): Promise<ModelState> {
      return stateFrom(model, await loaded.find(model, options?.signal));
    },

    stateNow(model: string): ModelState | undefined {
      const found = loaded.findNow(model);
      return found && stateFrom(model, found.entry);
    },
  };
}

/** What /api/show says: capabilities, context length, think levels. */
async function readShow(target: HttpTarget, model: string, signal: AbortSignal | undefined): Promise<ShowInfo> {
  const show = showSchema.safeParse(await sendJson(target, "/api/show", { method: "POST", body: { model }, signal }));
  if (!show.success) throw new ChatError("provider_error", "The model server sent an unexpected /api/show answer.");
  const info = show.data.model_info ?? {};
  const architecture = typeof info["general.architecture"] === "string" ? info["general.architecture"] : undefined;
  return {
    capabilities: show.data.capabilities ?? undefined,
    contextLength: contextLengthOf(info, architecture),
    thinkLevels: takesThinkLevels({ family: show.data.details?.family ?? undefined, architecture, template: show.data.template ?? undefined }),
    samplingDefaults: modelfileSampling(show.data.parameters),
  };
}

function contextLengthOf(info: Record<string, unknown>, architecture: string | undefined): number | undefined {
  const positive = (v: unknown) => (typeof v === "number" && Number.isInteger(v) && v > 0 ? v : undefined);
  if (architecture !== undefined) return positive(info[`${architecture}.context_length`]);
  // No architecture named: a single *.context_length key is still unambiguous.
  const keys = Object.keys(info).filter((k) => k.endsWith(".context_length"));
  return keys.length === 1 ? positive(info[keys[0]!]) : undefined;
}

/** The models /api/ps lists, by name and by model (Ollama lists both, usually equal). */
async function readLoaded(target: HttpTarget, signal: AbortSignal): Promise<Map<string, LoadedModel>> {
  const ps = psSchema.safeParse(await sendJson(target, "/api/ps", { method: "GET", signal }));
  if (!ps.success) throw new ChatError("provider_error", "The model server sent an unexpected /api/ps answer.");
  const out = new Map<string, LoadedModel>();
  for (const m of ps.data.models ?? []) {
    const entry: LoadedModel = { contextTokens: m.context_length ?? undefined };
    out.set(m.name, entry);
    if (m.model) out.set(m.model, entry);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Request mapping

interface OllamaToolCall {
  id?: string;
  function: { name: string; arguments: unknown };
}
type OllamaMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string; images?: string[] }
  | { role: "assistant"; content: string; thinking?: string; tool_calls?: OllamaToolCall[] }
  | { role: "tool"; content: string; tool_name: string; tool_call_id: string };

export function toOllamaRequest(request: ModelRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: request.model,
    messages: request.messages.map(toOllamaMessage),
    stream: true,
  };
  if (request.tools && request.tools.length > 0) {
    body["tools"] = request.tools.map((t) => ({
      type: "function",
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
  }
  // Levels ("low" | "medium" | "high") go as they are: Ollama reads them for gpt-oss.
  if (request.think !== undefined) body["think"] = request.think;
  if (request.keepAlive !== undefined) body["keep_alive"] = request.keepAlive;
  const options: Record<string, number> = {};
  const o = request.options;
  if (o?.numPredict !== undefined) options["num_predict"] = o.numPredict;
  if (o?.numCtx !== undefined) options["num_ctx"] = o.numCtx;
  if (o?.temperature !== undefined) options["temperature"] = o.temperature;
  if (o?.topP !== undefined) options["top_p"] = o.topP;
  if (o?.seed !== undefined) options["seed"] = o.seed;
  if (Object.keys(options).length > 0) body["options"] = options;
  return body;
}

function toOllamaMessage(message: ChatMessage): OllamaMessage {
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content };
    case "user":
      // Exactly the base64 the client sent: no decoding, no re-encoding.
      if (message.images && message.images.length > 0) return { role: "user", content: userMessageText(message), images: message.images.map((i) => i.data) };
      return { role: "user", content: userMessageText(message) };
    case "assistant": {
      const out: OllamaMessage = { role: "assistant", content: message.content };
      if (message.thinking) out.thinking = message.thinking;
      if (message.toolCalls && message.toolCalls.length > 0) {
        // Ollama wants arguments back as an object, exactly as it sent them.
        out.tool_calls = message.toolCalls.map((c) => ({
          id: c.id,
          function: { name: c.name, arguments: c.argsError === undefined ? c.args : {} },
        }));
      }
      return out;
    }
    case "tool":
      // tool_name since Ollama v0.9.6, tool_call_id since v0.12.10; older servers ignore unknown fields.
      return { role: "tool", content: message.content, tool_name: message.toolName, tool_call_id: message.toolCallId };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Response mapping

const nsToMs = (ns: number | undefined): number | undefined => (ns === undefined ? undefined : ns / 1e6);

const chunkSchema = z.object({
  message: z
    .object({
      content: z.string().nullish(),
      thinking: z.string().nullish(),
      tool_calls: z
        .array(
          z.object({
            id: z.string().nullish(),
            function: z.object({ name: z.string(), arguments: z.unknown() }),
          }),
        )
        .nullish(),
    })
    .nullish(),
  done: z.boolean().nullish(),
  done_reason: z.string().nullish(),
  total_duration: z.number().nullish(),
  load_duration: z.number().nullish(),
  prompt_eval_count: z.number().nullish(),
  eval_count: z.number().nullish(),
  eval_duration: z.number().nullish(),
});

/** One NDJSON line → zero or more chunks (thinking, text, tool calls, then finish when done:true). */
export function fromOllamaLine(line: unknown): ModelChunk[] {
  // Mid-stream failures keep HTTP 200 and arrive as a last {"error":"..."} line.
  if (carriesError(line)) {
    throw new ChatError("provider_error", `The model server failed mid-answer: ${messageField(line) ?? "unknown error"}`);
  }
  const plain = plainContentLine(line);
  if (plain) return plain;
  const parsed = chunkSchema.safeParse(line);
  if (!parsed.success) {
    throw new ChatError("provider_error", "The model server sent a line that is not an Ollama chat chunk.");
  }
  const chunk = parsed.data;
  const out: ModelChunk[] = [];
  const message = chunk.message;
  if (message?.thinking) out.push({ type: "reasoning", text: message.thinking });
  if (message?.content) out.push({ type: "text", text: message.content });
  // Tool calls arrive whole, on any chunk including done:true (Ollama's own streaming test expects them
  // there), and several calls may come in separate chunks: the caller appends.
  for (const call of message?.tool_calls ?? []) {
    const { args, argsError } = parseToolArgs(call.function.arguments);
    out.push({
      type: "tool-call",
      call: { id: call.id || newCallId(), name: call.function.name, args, ...(argsError ? { argsError } : {}) },
    });
  }
  if (chunk.done) {
    const metrics: ModelMetrics = {};
    if (chunk.prompt_eval_count != null) metrics.promptTokens = chunk.prompt_eval_count;
    if (chunk.eval_count != null) metrics.completionTokens = chunk.eval_count;
    const loadMs = nsToMs(chunk.load_duration ?? undefined);
    const evalMs = nsToMs(chunk.eval_duration ?? undefined);
    const totalMs = nsToMs(chunk.total_duration ?? undefined);
    if (loadMs !== undefined) metrics.loadMs = loadMs;
    if (evalMs !== undefined) metrics.evalMs = evalMs;
    if (totalMs !== undefined) metrics.totalMs = totalMs;
    out.push({ type: "finish", reason: chunk.done_reason === "length" ? "length" : "stop", metrics });
  }
  return out;
}

/**
 * The hot path: nearly every line of an answer is `{model, created_at, message:{role, content[, thinking]},
 * done:false}`. Those are mapped without zod (a schema pass per token is a visible share of the server's
 * CPU); anything else (done lines, tool calls, metrics, wrong types) returns undefined and goes through the
 * schema, so what is accepted and rejected stays exactly the same.
 */
function plainContentLine(line: unknown): ModelChunk[] | undefined {
  if (typeof line !== "object" || line === null) return undefined;
  const l = line as Record<string, unknown>;
  if (l["done"] !== false) return undefined;
  if (
    l["done_reason"] !== undefined ||
    l["total_duration"] !== undefined ||
    l["load_duration"] !== undefined ||
    l["prompt_eval_count"] !== undefined ||
    l["eval_count"] !== undefined ||
    l["eval_duration"] !== undefined
  ) {
    return undefined;
  }
  const message = l["message"];
  if (typeof message !== "object" || message === null) return undefined;
  const m = message as Record<string, unknown>;
  const content = m["content"];
  const thinking = m["thinking"];
  if (typeof content !== "string" || (m["tool_calls"] !== undefined && m["tool_calls"] !== null)) return undefined;
  if (thinking !== undefined && thinking !== null && typeof thinking !== "string") return undefined;
  // Literals of their size: an empty array's first push allocates room for 17.
  if (!thinking) return content ? [{ type: "text", text: content }] : [];
  return content ? [{ type: "reasoning", text: thinking }, { type: "text", text: content }] : [{ type: "reasoning", text: thinking }];
}

const tagsSchema = z.object({
  models: z.array(
    z.object({
      name: z.string(),
      digest: z.string().optional(),
      size: z.number().optional(),
      details: z
        .object({
          family: z.string().nullish(),
          parameter_size: z.string().nullish(),
          quantization_level: z.string().nullish(),
        })
        .nullish(),
    }),
  ),
});
const showSchema = z.object({
  capabilities: z.array(z.string()).nullish(),
  details: z.object({ family: z.string().nullish() }).nullish(),
  model_info: z.record(z.string(), z.unknown()).nullish(),
  parameters: z.string().nullish(),
  template: z.string().nullish(),
});
const psSchema = z.object({
  models: z
    .array(z.object({ name: z.string(), model: z.string().nullish(), context_length: z.number().int().positive().nullish() }))
    .nullish(),
});
const versionSchema = z.object({ version: z.string() });

