import { createParser, type EventSourceMessage } from "eventsource-parser";
import { z } from "zod";
import { ChatError } from "../errors.js";
import { userMessageText } from "../files.js";
import { carriesImages } from "../tokens.js";
import type {
  ChatMessage,
  ChatModel,
  ModelCapabilities,
  ModelChunk,
  ModelInfo,
  ModelMetrics,
  ModelRequest,
  ModelState,
  StreamOptions,
  ToolCall,
} from "../model.js";
import { newCallId, parseToolArgs } from "./call-id.js";
import { carriesError, contextOverflowError, errorTextOf, messageField } from "./http-errors.js";
import { JoinedReader } from "./joined-chunks.js";
import { answerChunks, answerChunksTo, type ModelAnswer } from "./model-answer.js";
import { ModelListCache, parseModelList, type ListedModel } from "./openai-model-list.js";
import { send, sendJson, transportFor, type HttpTarget, type UnreachableFailure } from "./request.js";
import { withServerDetails } from "./server-model-details.js";
import type { TransportResponse } from "./transport.js";

export interface OpenAIModelOptions {
  /** Includes /v1, as in the OpenAI SDK: http://127.0.0.1:8080/v1 */
  baseUrl: string;
  apiKey?: string;
  /** Sends every request through this fetch (a proxy, a mock). Default: node:http(s) with a keep-alive agent. */
  fetch?: typeof fetch;
  /** Called with the URL when a request finds no server there; the error users see does not name it. */
  onUnreachable?: (failure: UnreachableFailure) => void;
  /** How long the /models list (context lengths) is reused by `capabilities`. Default 5 minutes. */
  modelListTtlMs?: number;
  /**
   * How long a model that refused tools or images is sent none. Default an hour: a server may load the same name again
   * with what it lacked (llama.cpp with a vision projector, a newer build in LM Studio), and asking again then costs one
   * refused request and one status line.
   */
  refusalTtlMs?: number;
  /** Clock for those caches (tests). */
  now?: () => number;
}

/** Models remembered as refusing tools, at most (model names come from users). */
const maxRememberedModels = 256;
const defaultRefusalTtlMs = 60 * 60_000;

/**
 * A ChatModel over an OpenAI-compatible `POST /chat/completions` SSE stream (llama.cpp, vLLM, LM Studio,
 * Ollama's /v1). A think level goes as `reasoning_effort`; `think: true` is not sent (a reasoning model
 * reasons by default, at "medium" on OpenAI's own API, and servers reject the field for other models) and
 * neither is `false` (no portable way to turn reasoning off), except to a model whose chat template turns thinking on
 * and off (`enable_thinking`, as llama.cpp's /props shows it): `chat_template_kwargs: { enable_thinking }`. Reasoning
 * is read from `delta.reasoning` / `delta.reasoning_content` when the server streams it. Images go as `image_url`
 * data-URL content parts.
 *
 * These servers do not say which models take tools. Tools are sent until the server refuses them for a
 * model (HTTP 400 naming tools or function calling as unsupported); that request then fails with
 * `model_unsupported` (`unsupported: "tools"`), as on Ollama, and later requests for the model leave the tools out.
 * `runChat` sends the refused round again without tools and says so in a status.
 *
 * llama.cpp's and LM Studio's own APIs say what their /v1/models leaves out: the window a model runs with, images,
 * loaded state (server-model-details.ts).
 *
 * Tool-call arguments arrive as string fragments per index; they are joined and JSON.parsed when the
 * choice finishes. Arguments that don't parse become a tool call with `argsError` (raw text in `args`):
 * the run loop answers it with an invalid_tool_args tool result so the model can try again, instead of
 * failing the whole run.
 */
export function createOpenAIModel(opts: OpenAIModelOptions): ChatModel {
  const target: HttpTarget = {
    baseUrl: opts.baseUrl,
    transport: transportFor(opts.fetch),
    headers: opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {},
    onUnreachable: opts.onUnreachable,
  };
  const readList = async (signal: AbortSignal | undefined): Promise<ListedModel[]> =>
    withServerDetails(target, parseModelList(await sendJson(target, "/models", { method: "GET", signal })), signal);
  const modelList = new ModelListCache({
    read: readList,
    ttlMs: opts.modelListTtlMs ?? 5 * 60_000,
    unknownTtlMs: 30_000,
    readTimeoutMs: 5_000,
    now: opts.now ?? Date.now,
  });
  const withoutTools = new RememberedModels(maxRememberedModels, opts.refusalTtlMs ?? defaultRefusalTtlMs, opts.now ?? Date.now);
  const withoutImages = new RememberedModels(maxRememberedModels, opts.refusalTtlMs ?? defaultRefusalTtlMs, opts.now ?? Date.now);
  // Windows the server's refusals gave (a prompt too long for it), for as long as a list is kept: a model loaded
  // again with another window says so in the next list, or in the next refusal.
  const refusedWindows = new RememberedModels<number>(maxRememberedModels, opts.modelListTtlMs ?? 5 * 60_000, opts.now ?? Date.now);

  const learnWindow = (model: string, refusal: ChatError): void => {
    if (typeof refusal.contextWindow === "number") refusedWindows.set(model, refusal.contextWindow);
    // Refused without its size: a model loaded for this request (LM Studio) says its window in the next list.
    else if (refusal.contextWindow === null) modelList.requested(model);
  };

  /**
   * Thinking is not listed by these servers (llama.cpp's template shows a switch), tools and images only by some
   * (OpenRouter's list, llama.cpp's /props, LM Studio's own list): what they do not say is unknown, sent as asked, and
   * known to be missing once the server refused it for the model.
   */
  const capabilitiesWith = (model: string, listed: ListedModel | undefined): ModelCapabilities => {
    const caps: ModelCapabilities = {
      tools: withoutTools.has(model) ? false : listed?.tools,
      thinking: listed?.thinkingSwitch ? true : undefined,
      vision: withoutImages.has(model) ? false : listed?.vision,
    };
    // On or off, no levels: a level asks for it on.
    if (listed?.thinkingSwitch) caps.thinkLevels = false;
    const contextLength = refusedWindows.get(model) ?? listed?.contextLength;
    if (contextLength !== undefined) caps.contextLength = contextLength;
    return caps;
  };

  /**
   * Tools are on until refused where the list does not say; images are unknown (the picker offers them, the server
   * decides) until the list says or the server refused them for the model. An embedding model does neither.
   */
  const modelInfo = (m: ListedModel): ModelInfo => {
    const caps = capabilitiesWith(m.id, m);
    const info: ModelInfo = {
      name: m.id,
      capabilities: m.embedding
        ? ["embedding"]
        : [...(caps.tools === false ? [] : ["tools"]), ...(caps.thinking ? ["thinking"] : []), ...(caps.vision ? ["vision"] : [])],
      ...m.details,
    };
    if (caps.vision === undefined && !m.embedding) info.unknownCapabilities = ["vision"];
    if (caps.contextLength !== undefined) info.contextLength = caps.contextLength;
    if (m.loaded !== undefined) info.loaded = m.loaded;
    if (m.samplingDefaults) info.samplingDefaults = { ...m.samplingDefaults };
    return info;
  };

  /** The server refused `stream_options` once: its answers are asked for without it (and come without usage). */
  let withoutStreamOptions = false;
  /** Models that refused `max_tokens` for `max_completion_tokens` (OpenAI's reasoning models): their cap goes as that. */
  const completionTokens = new RememberedModels(maxRememberedModels, opts.refusalTtlMs ?? defaultRefusalTtlMs, opts.now ?? Date.now);
  /**
   * The sampling fields each model refused (OpenAI's reasoning models take their own temperature and top P only): a
   * chat's setting is not sent to it, as the server would answer it the same way with no setting at all.
   */
  const refusedSampling = new RememberedModels<ReadonlySet<SamplingField>>(maxRememberedModels, opts.refusalTtlMs ?? defaultRefusalTtlMs, opts.now ?? Date.now);

  /**
   * One chat request. A server that refuses `stream_options` (older servers and proxies) is asked again without it, and
   * a model that wants its answer's cap as `max_completion_tokens` is asked again with it, and one that refuses a
   * sampling field (temperature, top P, seed) again without it; each is remembered.
   */
  async function post(request: ModelRequest, signal: AbortSignal | undefined): Promise<TransportResponse> {
    const listed = modelList.listedNow(request.model)?.model;
    const thinkingSwitch = listed?.thinkingSwitch === true;
    const continueFinal = request.continueFinal === true ? continuationBy(listed?.owner) : undefined;
    const capped = request.options?.numPredict !== undefined;
    for (;;) {
      const body = toOpenAIRequest(request, {
        streamOptions: !withoutStreamOptions,
        thinkingSwitch,
        continueFinal,
        completionTokens: capped && completionTokens.has(request.model),
        withoutSampling: refusedSampling.get(request.model),
      });
      try {
        return await send(target, "/chat/completions", { method: "POST", body, signal });
      } catch (error) {
        // Each at most once: a refusal the change did not cure is the caller's.
        const sampling = refusedSamplingField(error);
        if (!withoutStreamOptions && refusesStreamOptions(error)) withoutStreamOptions = true;
        else if (capped && !completionTokens.has(request.model) && wantsMaxCompletionTokens(error)) completionTokens.set(request.model, true);
        else if (sampling && body[sampling] !== undefined) refusedSampling.set(request.model, new Set([...(refusedSampling.get(request.model) ?? []), sampling]));
        else throw error;
      }
    }
  }

  async function open(request: ModelRequest, signal: AbortSignal | undefined): Promise<TransportResponse> {
    try {
      return await openWithTools(request, signal);
    } catch (error) {
      if (error instanceof ChatError) learnWindow(request.model, error);
      const refusal = typeof request.think === "string" ? thinkLevelRefusal(error, request.model) : undefined;
      if (refusal) throw refusal;
      if (carriesImages(request.messages)) {
        // Ollama's /v1 answers with its runner's message, already read as a refusal of images (http-errors.ts).
        const images = error instanceof ChatError && error.unsupported === "images" ? error : refusesImages(error) ? imagesRefusal(error as ChatError, request.model) : undefined;
        if (images) {
          withoutImages.set(request.model, true);
          throw images;
        }
      }
      throw error;
    }
  }

  async function openWithTools(request: ModelRequest, signal: AbortSignal | undefined): Promise<TransportResponse> {
    const hasTools = (request.tools?.length ?? 0) > 0;
    if (!hasTools || withoutTools.has(request.model)) return post({ ...request, tools: [] }, signal);
    try {
      return await post(request, signal);
    } catch (error) {
      if (!refusesTools(error)) throw error;
      withoutTools.set(request.model, true);
      // Not sent again from here: the run loop does that (as for Ollama's refusal) and says so in a status, which a
      // retry inside the provider kept from the user.
      throw toolsRefusal(error as ChatError, request.model);
    }
  }

  /** Sends a chat request; its answer, to be read a body chunk at a time (`stream` and `streamTo`). */
  async function openAnswer(request: ModelRequest, signal: AbortSignal | undefined): Promise<ModelAnswer> {
    const res = await open(request, signal);
    modelList.requested(request.model);
    if (!res.body) throw new ChatError("provider_error", "The model server sent an empty response.");
    const state = new StreamState((refusal) => learnWindow(request.model, refusal));
    return {
      response: res,
      reader: new JoinedReader(new SseDecoder(), { accept: (event: EventSourceMessage) => state.accept(event), complete: () => state.ended }),
      complete: () => state.ended,
      cut: () => {
        // Lenient on a missing [DONE] when the choice did finish (only the usage chunk can be lost then).
        if (state.finishReason === undefined) {
          throw new ChatError("stream_truncated", "The model server ended the answer without finishing it (no finish_reason or [DONE]).");
        }
        return state.end();
      },
    };
  }

  return {
    provider: "openai",

    stream: (request: ModelRequest, options?: StreamOptions) => answerChunks(() => openAnswer(request, options?.signal), options?.signal),

    streamTo: (request: ModelRequest, options: StreamOptions | undefined, onChunk: (chunk: ModelChunk) => void) =>
      answerChunksTo(() => openAnswer(request, options?.signal), options?.signal, onChunk),

    async listModels(options?: StreamOptions): Promise<ModelInfo[]> {
      const models = await readList(options?.signal);
      modelList.set(models);
      return models.map(modelInfo);
    },

    async capabilities(model: string, options?: StreamOptions): Promise<ModelCapabilities> {
      return capabilitiesWith(model, await modelList.listed(model, options?.signal));
    },

    capabilitiesNow(model: string): ModelCapabilities | undefined {
      const listed = modelList.listedNow(model);
      return listed && capabilitiesWith(model, listed.model);
    },

    // Where the server says (LM Studio, llama.cpp's router: server-model-details.ts), a model not loaded waits for its
    // loading on the next request: the run says so ("Loading …"), as on Ollama.
    async state(model: string, options?: StreamOptions): Promise<ModelState> {
      return { loaded: (await modelList.listed(model, options?.signal))?.loaded };
    },

    stateNow(model: string): ModelState | undefined {
      const listed = modelList.listedNow(model);
      return listed && { loaded: listed.model?.loaded };
    },
  };
}

/**
 * A 400 (422 on some FastAPI servers) that says tools are not supported: Ollama's /v1 `"gemma3" does not
 * support tools`, llama.cpp `tools param requires --jinja flag`, vLLM `"auto" tool choice requires
 * --enable-auto-tool-choice…`, "function calling is not supported". Other 400s that merely mention a tool
 * (a bad schema in tools[0]) are not: retrying without tools would hide the real error.
 */
export function refusesTools(error: unknown): boolean {
  if (!(error instanceof ChatError) || (error.status !== 400 && error.status !== 422)) return false;
  const message = error.message;
  return (
    /\b(tools?|tool[ _]choice|function[ _-]?call(ing|s)?)\b/i.test(message) &&
    /(\bnot|n't|\bun)[ -]?(supported|support|enabled|allowed|available)\b|\brequires?\b/i.test(message)
  );
}

/**
 * A tools refusal (refusesTools) as model_unsupported naming tools: what Ollama's refusal is, so the run loop sends
 * the round again without them and tells the user.
 */
function toolsRefusal(error: ChatError, model: string): ChatError {
  return new ChatError("model_unsupported", `"${model}" does not support tools on this server: ${error.message}`, {
    status: error.status,
    cause: error,
    unsupported: "tools",
  });
}

/**
 * A refusal of the images of a request, by a model (or a server) that does not take them: vLLM 400 "… is not a
 * multimodal model" / "At most 0 image(s) may be provided in one request", llama.cpp "image input is not supported -
 * hint: … provide the mmproj" (a 500 on older builds), LM Studio "Model does not support images", OpenAI "image_url is
 * only supported by certain models", OpenRouter's 404 "No endpoints found that support image input". Only for a request that carried images (the caller checks): another 400 merely
 * naming an image is not one. The images may be an earlier question's: the run loop then asks again without them.
 */
export function refusesImages(error: unknown): boolean {
  if (!(error instanceof ChatError)) return false;
  const message = error.message;
  // OpenRouter: 404 "No endpoints found that support image input" (no provider of the model takes them).
  if (error.status === 404) return /\bno endpoints found that support image input\b/i.test(message);
  if (error.status !== 400 && error.status !== 422 && error.status !== 500) return false;
  return (
    /\b(images?|image_url|image input|vision|multi-?modal|mmproj)\b/i.test(message) &&
    /(\bnot|n't|\bun)[ -]?(supported|support|enabled|allowed|available)\b|only supported by|\bnot a multi-?modal\b|at most 0 image/i.test(message)
  );
}

/** An images refusal (refusesImages) as model_unsupported naming images: the run ends saying which model cannot see. */
function imagesRefusal(error: ChatError, model: string): ChatError {
  return new ChatError("model_unsupported", `"${model}" does not take images on this server: ${error.message}`, {
    status: error.status,
    cause: error,
    unsupported: "images",
  });
}

/**
 * A 400 (422) that names `reasoning_effort` (OpenAI: "Unsupported parameter: 'reasoning_effort' is not supported with
 * this model."; Azure: "Unrecognized request argument supplied: reasoning_effort"; strict proxies: extra fields not
 * permitted), for a request that sent a think level: model_unsupported naming thinking, as for a model known to lack
 * it, instead of a bad_request the UI cannot explain. Not retried without it: a level asked for and silently not
 * applied would hide the mistake (the same rule as `think` on a model without thinking). Undefined for other errors.
 */
export function thinkLevelRefusal(error: unknown, model: string): ChatError | undefined {
  if (!(error instanceof ChatError) || (error.status !== 400 && error.status !== 422)) return undefined;
  if (!/\breasoning[_ ]effort\b/i.test(error.message)) return undefined;
  return new ChatError(
    "model_unsupported",
    `"${model}" does not take a thinking level on this server (it refused reasoning_effort): ask without a level. ${error.message}`,
    { status: error.status, cause: error, unsupported: "thinking" },
  );
}

/**
 * A 400 (422) that names `stream_options` as unknown or not allowed: servers that predate it (Azure OpenAI's older API
 * versions: "Unrecognized request argument supplied: stream_options", strict proxies: "extra fields not permitted").
 */
export function refusesStreamOptions(error: unknown): boolean {
  if (!(error instanceof ChatError) || (error.status !== 400 && error.status !== 422)) return false;
  return /\bstream_options\b/.test(error.message);
}

/**
 * A 400 that refuses `max_tokens` for `max_completion_tokens`: OpenAI's reasoning models ("Unsupported parameter:
 * 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."), which count their reasoning in
 * the cap. Other servers take `max_tokens` (llama.cpp, LM Studio and Ollama's /v1 read only it), so it stays the default.
 */
export function wantsMaxCompletionTokens(error: unknown): boolean {
  if (!(error instanceof ChatError) || (error.status !== 400 && error.status !== 422)) return false;
  return /\bmax_tokens\b/.test(error.message) && /\bmax_completion_tokens\b/.test(error.message);
}

/** The request fields a chat's sampling goes in (ModelRequest.options' temperature, topP and seed). */
export type SamplingField = "temperature" | "top_p" | "seed";

/**
 * The sampling field a server refused for its model, if that is what it did: OpenAI's reasoning models answer 400
 * "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported." or
 * "Unsupported parameter: 'top_p' is not supported with this model." (its `param` names the field too).
 */
export function refusedSamplingField(error: unknown): SamplingField | undefined {
  if (!(error instanceof ChatError) || (error.status !== 400 && error.status !== 422)) return undefined;
  return /\bunsupported (?:value|parameter)\b\W+(temperature|top_p|seed)\b/i.exec(error.message)?.[1]?.toLowerCase() as SamplingField | undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Request mapping

/**
 * How a server is made to write on from a final assistant message (a continued answer), by who its list says it is:
 * - `"flag"`: told to (`continue_final_message`: transformers' chat templates, vLLM and SGLang), else it starts anew;
 * - `"as-is"`: it continues the message by itself (llama.cpp's assistant prefill, Ollama's `/v1`, "library");
 * - `"ask"`: any other (OpenAI, OpenRouter, LM Studio, a proxy) is asked in a user message after it, as no field can say
 *   it there (OpenAI refuses unknown ones) and a model that starts a new message would otherwise start the answer over.
 */
export type Continuation = "flag" | "as-is" | "ask";

function continuationBy(owner: string | undefined): Continuation {
  if (owner === "vllm" || owner === "sglang") return "flag";
  if (owner === "llamacpp" || owner === "library") return "as-is";
  return "ask";
}

/** What a server that cannot write on from the model's own message is asked (`"ask"`). */
export const continueRequest = "Continue your last message exactly where it stopped, without repeating any of it.";

/**
 * The request body. `streamOptions: false` leaves out `stream_options` (usage in the last chunk), for a server that
 * refuses it. `thinkingSwitch`: the model's template turns thinking on and off (`enable_thinking`), so `think` goes as
 * `chat_template_kwargs` (llama.cpp and vLLM read it per request); otherwise a level goes as `reasoning_effort` and
 * on/off is not sent. `continueFinal`: how the server is made to write on from the last (assistant) message
 * (`Continuation`). `completionTokens`: the answer's cap (`numPredict`) goes as `max_completion_tokens`, not `max_tokens`.
 */
export function toOpenAIRequest(
  request: ModelRequest,
  opts: {
    streamOptions?: boolean;
    thinkingSwitch?: boolean;
    continueFinal?: Continuation | undefined;
    completionTokens?: boolean;
    /** Sampling fields the model refused: left out. */
    withoutSampling?: ReadonlySet<SamplingField> | undefined;
  } = {},
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: request.model,
    messages: request.messages.map(toOpenAIMessage),
    stream: true,
  };
  if (opts.streamOptions !== false) body["stream_options"] = { include_usage: true };
  if (request.tools && request.tools.length > 0) {
    body["tools"] = request.tools.map((t) => ({
      type: "function",
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
  }
  if (opts.thinkingSwitch && request.think !== undefined) body["chat_template_kwargs"] = { enable_thinking: request.think !== false };
  else if (typeof request.think === "string") body["reasoning_effort"] = request.think;
  if (opts.continueFinal === "flag") {
    body["continue_final_message"] = true;
    body["add_generation_prompt"] = false;
  } else if (opts.continueFinal === "ask") {
    (body["messages"] as unknown[]).push({ role: "user", content: continueRequest });
  }
  const o = request.options;
  if (o?.numPredict !== undefined) body[opts.completionTokens ? "max_completion_tokens" : "max_tokens"] = o.numPredict;
  const sends = (field: SamplingField) => opts.withoutSampling?.has(field) !== true;
  if (o?.temperature !== undefined && sends("temperature")) body["temperature"] = o.temperature;
  if (o?.topP !== undefined && sends("top_p")) body["top_p"] = o.topP;
  if (o?.seed !== undefined && sends("seed")) body["seed"] = o.seed;
  // numCtx is a server-side setting for OpenAI-compatible servers: nothing to send.
  return body;
}

function toOpenAIMessage(message: ChatMessage): Record<string, unknown> {
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content };
    case "user": {
      const text = userMessageText(message);
      if (!message.images || message.images.length === 0) return { role: "user", content: text };
      const parts: Array<Record<string, unknown>> = text === "" ? [] : [{ type: "text", text }];
      for (const image of message.images) parts.push({ type: "image_url", image_url: { url: `data:${image.mimeType};base64,${image.data}` } });
      return { role: "user", content: parts };
    }
    case "assistant":
      if (!message.toolCalls || message.toolCalls.length === 0) return { role: "assistant", content: message.content };
      return {
        role: "assistant",
        content: message.content === "" ? null : message.content,
        // OpenAI wants arguments back as a JSON string.
        tool_calls: message.toolCalls.map((c) => ({
          id: c.id,
          type: "function",
          function: { name: c.name, arguments: c.argsError !== undefined && typeof c.args === "string" ? c.args : JSON.stringify(c.args ?? {}) },
        })),
      };
    case "tool":
      return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Response mapping

const deltaToolCallSchema = z.object({
  index: z.number().int().nonnegative().nullish(),
  id: z.string().nullish(),
  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
});
const deltaSchema = z.object({
  content: z.string().nullish(),
  reasoning: z.string().nullish(),
  reasoning_content: z.string().nullish(),
  tool_calls: z.array(deltaToolCallSchema).nullish(),
});
const chunkSchema = z.object({
  choices: z
    .array(
      z.object({
        index: z.number().nullish(),
        delta: deltaSchema.nullish(),
        message: deltaSchema.nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(), // the usage chunk has choices [] (vLLM: null)
  usage: z.object({ prompt_tokens: z.number().nullish(), completion_tokens: z.number().nullish() }).nullish(),
});

interface PartialToolCall {
  /** The server's `index` (or the one given to a call that came without). */
  index: number;
  id: string | undefined;
  name: string;
  args: string;
}

/** Folds SSE events into model chunks. One instance per response. */
class StreamState {
  /** `onOverflow`: told of a refusal of the prompt as longer than the window that comes in the stream (llama.cpp). */
  constructor(private readonly onOverflow: (refusal: ChatError) => void) {}

  ended = false;
  finishReason: string | undefined;
  /** Every call, in the order its first fragment came. */
  private readonly toolCalls: PartialToolCall[] = [];
  /** The call a fragment with this index continues. */
  private readonly openCalls = new Map<number, PartialToolCall>();
  private readonly metrics: ModelMetrics = {};
  private toolCallsEmitted = false;

  *accept(event: EventSourceMessage): Generator<ModelChunk> {
    if (event.data === "[DONE]") {
      yield* this.end();
      return;
    }
    // An SSE `event: error` frame (`data: {"message":"overloaded"}`, or plain text) ends the answer, whatever
    // follows it ([DONE] often does).
    if (event.event === "error") {
      const { message, body } = errorTextOf(event.data);
      throw this.overflow(message, body) ?? failedMidAnswer(message);
    }
    let json: unknown;
    try {
      json = JSON.parse(event.data);
    } catch {
      throw new ChatError("provider_error", "The model server sent an event that is not JSON.");
    }
    // Mid-stream, HTTP still 200: llama.cpp and others `data: {"error":{"code","message","type"}}`, vLLM
    // `data: {"object":"error","message":"CUDA out of memory",...}`.
    if (carriesError(json) || (typeof json === "object" && json !== null && (json as { object?: unknown }).object === "error")) {
      const message = messageField(json)?.trim() || "unknown error";
      const overflow = this.overflow(message, json);
      if (overflow) throw overflow;
      if (event.event === wholeAnswer) throw new ChatError("provider_error", `The model server answered with an error: ${message}`);
      throw failedMidAnswer(message);
    }
    const parsed = chunkSchema.safeParse(json);
    if (!parsed.success) throw new ChatError("provider_error", "The model server sent an unexpected stream chunk.");
    const chunk = parsed.data;

    if (chunk.usage) {
      if (chunk.usage.prompt_tokens != null) this.metrics.promptTokens = chunk.usage.prompt_tokens;
      if (chunk.usage.completion_tokens != null) this.metrics.completionTokens = chunk.usage.completion_tokens;
    }
    const choice = chunk.choices?.find((c) => (c.index ?? 0) === 0);
    if (!choice) return;
    // A whole answer (not streamed) has the message where a chunk has its delta.
    const delta = choice.delta ?? choice.message;
    // vLLM renamed reasoning_content to reasoning; llama.cpp still sends reasoning_content.
    const reasoning = delta?.reasoning ?? delta?.reasoning_content;
    if (reasoning) yield { type: "reasoning", text: reasoning };
    if (delta?.content) yield { type: "text", text: delta.content };
    for (const fragment of delta?.tool_calls ?? []) this.addFragment(fragment);
    if (choice.finish_reason) {
      this.finishReason = choice.finish_reason;
      yield* this.flushToolCalls();
    }
  }

  private overflow(message: string, body: unknown): ChatError | undefined {
    const refusal = contextOverflowError(message, body);
    if (refusal) this.onOverflow(refusal);
    return refusal;
  }

  *end(): Generator<ModelChunk> {
    this.ended = true;
    yield* this.flushToolCalls();
    yield { type: "finish", reason: this.finishReason === "length" ? "length" : "stop", metrics: this.metrics };
  }

  /** id, type and name come only on an index's first fragment; arguments are fragments to concatenate. */
  private addFragment(fragment: z.infer<typeof deltaToolCallSchema>): void {
    const index = fragment.index ?? this.indexWithoutIndex(fragment.id ?? undefined);
    let call = this.openCalls.get(index);
    if (call === undefined || startsAnotherCall(call, fragment)) {
      call = { index, id: undefined, name: "", args: "" };
      this.toolCalls.push(call);
      this.openCalls.set(index, call);
    }
    if (fragment.id) call.id = fragment.id;
    if (fragment.function?.name) call.name = call.name === "" ? fragment.function.name : call.name;
    if (fragment.function?.arguments) call.args += fragment.function.arguments;
  }

  /** Some servers omit `index`: a new id starts a new call, otherwise the fragment continues the last one. */
  private indexWithoutIndex(id: string | undefined): number {
    const last = this.toolCalls.at(-1);
    if (last === undefined) return 0;
    if (id !== undefined && last.id !== id) return Math.max(...this.openCalls.keys()) + 1;
    return last.index;
  }

  private *flushToolCalls(): Generator<ModelChunk> {
    if (this.toolCallsEmitted) return;
    this.toolCallsEmitted = true;
    // By index; calls that shared one in the order they came (sort is stable).
    for (const partial of [...this.toolCalls].sort((a, b) => a.index - b.index)) {
      const { args, argsError } = parseToolArgs(partial.args);
      const call: ToolCall = { id: partial.id ?? newCallId(), name: partial.name, args };
      if (argsError !== undefined) call.argsError = argsError;
      yield { type: "tool-call", call };
    }
  }
}

/**
 * A fragment that names a function under another id, at an index whose call is whole (its arguments are JSON): a
 * second call that reuses the index. Ollama's /v1 (0.20) sends every call of an answer whole with `index: 0`
 * (ollama/ollama#15457); joined, two calls became one with arguments `{…}{…}` and the second never ran. A fragment
 * without a name or an id continues the call, and so does one with another id but no name, or one that comes before
 * any arguments (some servers change the id after the first fragment, or repeat the name on each).
 */
function startsAnotherCall(call: PartialToolCall, fragment: z.infer<typeof deltaToolCallSchema>): boolean {
  if (!fragment.function?.name || call.name === "" || !fragment.id || call.id === undefined || fragment.id === call.id) return false;
  return call.args.trim() !== "" && parseToolArgs(call.args).argsError === undefined;
}

function failedMidAnswer(message: string | undefined): ChatError {
  return new ChatError("provider_error", `The model server failed mid-answer: ${message?.trim() || "unknown error"}`);
}

/** The largest event (or JSON answer) read: a bound on what one answer can make us buffer. */
const maxEventBytes = 8 * 1024 * 1024;

/** The `event` of the one event a JSON answer becomes (SseDecoder). */
const wholeAnswer = "streamchat:whole-answer";

/**
 * SSE events from a byte stream, a body chunk at a time (UTF-8 safe across chunk splits).
 *
 * A body that starts with `{` is not SSE but one JSON document: a server that ignores `stream: true` and sends the
 * whole completion, or a 200 carrying `{"error": …}`. It is read whole and handed on as one event (`wholeAnswer`)
 * whose data is the document.
 */
class SseDecoder {
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });
  private events: EventSourceMessage[] = [];
  private failure: ChatError | undefined;
  /** What the body is, known from its first character that is not blank. */
  private kind: "unknown" | "sse" | "json" = "unknown";
  /** The body so far while its kind is unknown, or the JSON document. */
  private held = "";
  private readonly parser = createParser({
    maxBufferSize: maxEventBytes,
    onEvent: (event) => this.events.push(event),
    onError: (error) => {
      // llama.cpp reports a failure mid-answer as an `error:` field (not `event: error`), then sends [DONE]: it
      // becomes an error event in its place, so that what came before it is still read and nothing after it.
      if (error.type === "unknown-field" && error.field === "error") this.events.push({ event: "error", data: error.value ?? "", id: undefined });
      // Other unknown fields are legal SSE noise; only a runaway buffer is fatal.
      if (error.type === "max-buffer-size-exceeded") this.failure ??= new ChatError("provider_error", "The model server sent an oversized event.");
    },
  });

  /** Appends the events `chunk` completes to `into`; throws (after them) when the stream broke. */
  push(chunk: Uint8Array, into: EventSourceMessage[]): void {
    this.feed(this.text(chunk), into);
  }

  /** The stream ended: appends a last event without its blank line (it still counts), unless it was cut mid-event. */
  end(into: EventSourceMessage[]): void {
    this.feed(this.text(), into);
    if (this.kind === "json") into.push({ event: wholeAnswer, data: this.held, id: undefined });
    if (this.kind === "sse" && this.failure === undefined) {
      // The parser dispatches an event only at a blank line (`reset({ consume })` parses a last line, but never
      // dispatches it): a server that closes right after its last `data:` line, without the blank line, lost that
      // event (a finish_reason, the usage). The end of the stream ends the event; one cut mid-line is dropped, as
      // before, so a cut answer stays stream_truncated instead of becoming an event that is not JSON.
      const last: EventSourceMessage[] = [];
      this.feed("\n\n", last);
      for (const event of last) if (isWhole(event)) into.push(event);
    }
    this.held = "";
    this.parser.reset();
  }

  private text(chunk?: Uint8Array): string {
    try {
      return chunk === undefined ? this.decoder.decode() : this.decoder.decode(chunk, { stream: true });
    } catch (cause) {
      throw new ChatError("provider_error", "The model server sent bytes that are not valid UTF-8.", { cause });
    }
  }

  private feed(text: string, into: EventSourceMessage[]): void {
    if (this.kind !== "sse") {
      this.held += text;
      if (this.held.length > maxEventBytes) throw new ChatError("provider_error", "The model server sent an oversized answer.");
      if (this.kind === "json") return;
      const start = this.held.trimStart();
      if (start === "") return;
      if (start.startsWith("{")) {
        this.kind = "json";
        return;
      }
      this.kind = "sse";
      text = this.held;
      this.held = "";
    }
    this.events = into;
    this.parser.feed(text);
    if (this.failure) throw this.failure;
  }
}

/** A last event that came whole: [DONE], an error frame, or data that is JSON. */
function isWhole(event: EventSourceMessage): boolean {
  if (event.data === "[DONE]" || event.event === "error") return true;
  try {
    JSON.parse(event.data);
    return true;
  } catch {
    return false;
  }
}

/**
 * What a server's refusals taught of each model (no tools, no images, its window), most recent last, at most `max`
 * models (model names come from users), each for `ttlMs`.
 */
class RememberedModels<V = true> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  get(model: string): V | undefined {
    const entry = this.entries.get(model);
    if (entry && entry.until > this.now()) return entry.value;
    this.entries.delete(model);
    return undefined;
  }

  has(model: string): boolean {
    return this.get(model) !== undefined;
  }

  set(model: string, value: V): void {
    this.entries.delete(model);
    this.entries.set(model, { value, until: this.now() + this.ttlMs });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.max) break;
      this.entries.delete(oldest);
    }
  }
}
