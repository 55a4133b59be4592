import { createOllamaModel, createOpenAIModel, type ChatModel, type UnreachableFailure } from "@streamchat/core";
import { capabilityModels, defaultModels, simulatorHeader, startSimulator, type Simulator, type SimulatorOptions } from "@streamchat/ollama-sim";
import { defaultChatModel, demoChatModel, type Config } from "./config.js";
import { ListedDefaultModel, watchingLists } from "./default-model.js";

export type ProviderKind = "ollama" | "openai" | "sim";

/** The model server the API talks to, chosen once at start-up. */
export interface ProviderHandle {
  kind: ProviderKind;
  /** True when answers come from the simulator, built in or at OLLAMA_HOST (shown as "demo model"). */
  demo: boolean;
  model: ChatModel;
  defaultModel: string;
  baseUrl: string;
  /** The in-process simulator when kind is "sim". */
  sim?: Simulator;
  close(): Promise<void>;
}

interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
}

const probeTimeoutMs = 1500;

/** A URL without credentials it may carry (user:password@), for the log. */
export function loggableUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "[invalid URL]";
  }
}

/**
 * Where the model server was looked for goes to the server log only: users see "Cannot reach the model
 * server", never the internal address (OLLAMA_HOST, OPENAI_BASE_URL).
 */
function logUnreachable(log: Log): (failure: UnreachableFailure) => void {
  return ({ url, error }) => {
    const code = errorCode(error);
    log.warn({ url: loggableUrl(url), ...(code ? { code } : {}) }, "model server unreachable");
  };
}

function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * What answers Ollama's /api/version at `baseUrl` within ~1.5 s: Ollama, the simulator (it says so in a header), or
 * nothing.
 */
export async function probeOllama(baseUrl: string): Promise<"ollama" | "simulator" | "none"> {
  try {
    const res = await fetch(`${baseUrl}/api/version`, { signal: AbortSignal.timeout(probeTimeoutMs) });
    await res.body?.cancel();
    if (!res.ok) return "none";
    return res.headers.has(simulatorHeader) ? "simulator" : "ollama";
  } catch {
    return "none";
  }
}

/** A model server `auto` looks for on this machine when no Ollama answers, known by its `/models` list's `owned_by`. */
export interface LocalServer {
  name: string;
  /** Its OpenAI-compatible base URL, with `/v1`. */
  baseUrl: string;
  owner: string;
}

/** Where LM Studio's and llama.cpp's servers listen unless told otherwise. */
export const localServers: readonly LocalServer[] = [
  { name: "LM Studio", baseUrl: "http://127.0.0.1:1234/v1", owner: "organization_owner" },
  { name: "llama.cpp", baseUrl: "http://127.0.0.1:8080/v1", owner: "llamacpp" },
];

/**
 * Whether `server` answers its `/models` within ~1.5 s with a list naming its owner. Only a list in that shape counts:
 * something else on the port (a development web server on 8080) is not taken for a model server.
 */
export async function probeLocalServer(server: LocalServer): Promise<boolean> {
  try {
    const res = await fetch(`${server.baseUrl}/models`, { signal: AbortSignal.timeout(probeTimeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      return false;
    }
    const list = (await res.json()) as { data?: unknown };
    if (!Array.isArray(list.data)) return false;
    return list.data.some((m: unknown) => typeof m === "object" && m !== null && (m as { owned_by?: unknown }).owned_by === server.owner);
  } catch {
    return false;
  }
}

/** The first of `servers` (in their order) that answers as itself; all asked at once. */
async function firstLocalServer(servers: readonly LocalServer[]): Promise<LocalServer | undefined> {
  const found = await Promise.all(servers.map((server) => probeLocalServer(server)));
  return servers[found.indexOf(true)];
}

/** The simulator's window without num_ctx (its default, Ollama 0.6.4+'s). */
const simDefaultNumCtx = 4096;

async function simulatorProvider(config: Config, log: Log, options: SimulatorOptions | undefined): Promise<ProviderHandle> {
  // The offline demo lists the vision and think-level models too, so the picker shows images and levels.
  const sim = await startSimulator({ models: [...defaultModels, ...capabilityModels], ...options, port: 0, host: "127.0.0.1" });
  return {
    kind: "sim",
    demo: true,
    model: createOllamaModel({
      baseUrl: sim.url,
      onUnreachable: logUnreachable(log),
      defaultNumCtx: options?.defaultNumCtx ?? simDefaultNumCtx,
    }),
    defaultModel: config.chatModel ?? demoChatModel,
    baseUrl: sim.url,
    sim,
    close: () => sim.close(),
  };
}

/**
 * The model and its default: CHAT_MODEL when set, else one the server lists (ListedDefaultModel: llama3.2 when it has
 * it), following every model list read through the model.
 */
function withDefaultModel(config: Config, model: ChatModel): { model: ChatModel; defaultModel: () => string } {
  const chosen = config.chatModel;
  if (chosen !== undefined) return { model, defaultModel: () => chosen };
  const listed = new ListedDefaultModel(defaultChatModel);
  return { model: watchingLists(model, (models) => listed.seen(models)), defaultModel: () => listed.name };
}

/** `demo`: the server at OLLAMA_HOST is the simulator (`pnpm cluster` runs one for its replicas). */
async function ollamaProvider(config: Config, log: Log, demo: boolean): Promise<ProviderHandle> {
  const { model, defaultModel } = withDefaultModel(
    config,
    createOllamaModel({
      baseUrl: config.ollamaHost,
      onUnreachable: logUnreachable(log),
      ...(config.ollamaContextLength === undefined ? {} : { defaultNumCtx: config.ollamaContextLength }),
    }),
  );
  // Without CHAT_MODEL, the list says which model a request without one goes to: read once before serving.
  if (config.chatModel === undefined) await model.listModels?.({ signal: AbortSignal.timeout(probeTimeoutMs) }).catch(() => undefined);
  return {
    kind: "ollama",
    demo,
    model,
    get defaultModel() {
      return defaultModel();
    },
    baseUrl: config.ollamaHost,
    close: async () => {},
  };
}

async function openaiProvider(config: Config, baseUrl: string, log: Log): Promise<ProviderHandle> {
  const { model, defaultModel } = withDefaultModel(
    config,
    createOpenAIModel({
      baseUrl,
      ...(config.openaiApiKey ? { apiKey: config.openaiApiKey } : {}),
      onUnreachable: logUnreachable(log),
    }),
  );
  // As for Ollama: not required yet, but the log says why chats fail.
  const answers = await model.listModels?.({ signal: AbortSignal.timeout(probeTimeoutMs) }).then(
    () => true,
    () => false,
  );
  if (answers === false) log.warn(`No answer from the model server at ${loggableUrl(baseUrl)} (/models) yet: chats fail until it answers`);
  return {
    kind: "openai",
    demo: false,
    model,
    get defaultModel() {
      return defaultModel();
    },
    baseUrl,
    close: async () => {},
  };
}

export async function createProvider(
  config: Config,
  log: Log,
  /** `localServers`: where `auto` looks after Ollama (default: LM Studio's and llama.cpp's ports on this machine). */
  options: { simulator?: SimulatorOptions; localServers?: readonly LocalServer[] } = {},
): Promise<ProviderHandle> {
  switch (config.provider) {
    case "ollama": {
      // Not required to answer yet (Ollama may start after the API), but a person reading the log learns why chats fail.
      const found = await probeOllama(config.ollamaHost);
      if (found === "none") log.warn(`No Ollama answers at ${loggableUrl(config.ollamaHost)} yet: chats fail until it does`);
      else logFound(log, config.ollamaHost, found);
      return await ollamaProvider(config, log, found === "simulator");
    }
    case "openai":
      // loadConfig guarantees the URL for this provider.
      return openaiProvider(config, config.openaiBaseUrl ?? "", log);
    case "sim":
      return simulatorProvider(config, log, options.simulator);
    case "auto": {
      const found = await probeOllama(config.ollamaHost);
      if (found !== "none") {
        logFound(log, config.ollamaHost, found);
        return await ollamaProvider(config, log, found === "simulator");
      }
      const local = await firstLocalServer(options.localServers ?? localServers);
      if (local) {
        log.info({ baseUrl: local.baseUrl }, `No Ollama at ${loggableUrl(config.ollamaHost)}: using ${local.name} at ${local.baseUrl}`);
        return openaiProvider(config, local.baseUrl, log);
      }
      log.warn(`No Ollama at ${loggableUrl(config.ollamaHost)}, nor LM Studio or llama.cpp on this machine: using the built-in Ollama-protocol simulator (demo model)`);
      return simulatorProvider(config, log, options.simulator);
    }
  }
}

function logFound(log: Log, ollamaHost: string, found: "ollama" | "simulator"): void {
  if (found === "ollama") log.info({ ollamaHost: loggableUrl(ollamaHost) }, "Using Ollama");
  else log.warn({ ollamaHost: loggableUrl(ollamaHost) }, "Using the Ollama-protocol simulator at OLLAMA_HOST (demo model), not Ollama");
}
