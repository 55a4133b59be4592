import { createOllamaModel } from "@streamchat/core";
import type { Simulator } from "@streamchat/ollama-sim";
import type { ChatStore } from "@streamchat/store";
import { loadConfig } from "../config.js";
import { RunManager, type RunLimits, type RunLog, type RunManagerOptions } from "../runs/run-manager.js";

const silent = { info() {}, warn() {}, error() {} };

/** A RunManager on `store` with the simulator as Ollama, default limits, one event per model chunk. */
export function testRunManager(
  store: ChatStore,
  sim: Simulator,
  extra: Partial<
    Pick<RunManagerOptions, "subscriberQueueLimit" | "logPageSize" | "closeRetryMs" | "toolsFor" | "liveness" | "remotePollMs" | "model" | "streams" | "observer" | "recoverySeqGap" | "approvalPollMs" | "unownedCancelWaitMs">
  > & {
    limits?: Partial<RunLimits>;
    log?: RunLog;
  } = {},
): RunManager {
  const { limits, log, ...options } = extra;
  return new RunManager({
    store,
    model: createOllamaModel({ baseUrl: sim.url }),
    provider: "ollama",
    defaultModel: "demo",
    limits: { ...loadConfig({ COALESCE_TOKENS: "0" }), ...limits },
    toolsFor: () => [],
    log: log ?? silent,
    ...options,
  });
}
