import { createOllamaModel, createOpenAIModel, type ChatModel } from "@streamchat/core";
import { startSimulator, type Simulator, type SimulatorOptions } from "@streamchat/ollama-sim";
import { defaultChatModel, demoChatModel, type Config } from "./config.js";

export type ProviderKind = "ollama" | "openai" | "sim";

/** The model server the API talks to, chosen once at start-up. */
export interface ProviderHandle {
  kind: ProviderKind;
  /** True when answers come from the built-in simulator (shown as "demo model"). */
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

/** True when an Ollama server answers /api/version within ~1.5 s. */
export async function ollamaAnswers(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/api/version`, { signal: AbortSignal.timeout(probeTimeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

async function simulatorProvider(config: Config, options: SimulatorOptions | undefined): Promise<ProviderHandle> {
  const sim = await startSimulator({ ...options, port: 0, host: "127.0.0.1" });
  return {
    kind: "sim",
    demo: true,
    model: createOllamaModel({ baseUrl: sim.url }),
    defaultModel: config.chatModel ?? demoChatModel,
    baseUrl: sim.url,
    sim,
    close: () => sim.close(),
  };
}

function ollamaProvider(config: Config): ProviderHandle {
  return {
    kind: "ollama",
    demo: false,
    model: createOllamaModel({ baseUrl: config.ollamaHost }),
    defaultModel: config.chatModel ?? defaultChatModel,
    baseUrl: config.ollamaHost,
    close: async () => {},
  };
}

export async function createProvider(
  config: Config,
  log: Log,
  options: { simulator?: SimulatorOptions } = {},
): Promise<ProviderHandle> {
  const closeNothing = async () => {};
  switch (config.provider) {
    case "ollama":
      return ollamaProvider(config);
    case "openai": {
      // loadConfig guarantees the URL for this provider.
      const baseUrl = config.openaiBaseUrl ?? "";
      return {
        kind: "openai",
        demo: false,
        model: createOpenAIModel({ baseUrl, ...(config.openaiApiKey ? { apiKey: config.openaiApiKey } : {}) }),
        defaultModel: config.chatModel ?? defaultChatModel,
        baseUrl,
        close: closeNothing,
      };
    }
    case "sim":
      return simulatorProvider(config, options.simulator);
    case "auto": {
      if (await ollamaAnswers(config.ollamaHost)) {
        log.info({ ollamaHost: config.ollamaHost }, "Using Ollama");
        return ollamaProvider(config);
      }
      log.warn(`No Ollama at ${config.ollamaHost}: using the built-in Ollama-protocol simulator (demo model)`);
      return simulatorProvider(config, options.simulator);
    }
  }
}
