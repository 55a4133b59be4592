export type { AppRouter } from "./router/root.js";
export { buildServer } from "./app.js";
export type { ApiServer, BuildServerOptions } from "./app.js";
export { loadConfig, ConfigError, isLoopbackHost } from "./config.js";
export type { Config } from "./config.js";
export type { RunManager, RunManagerStats, StartedRun } from "./runs/run-manager.js";
export type { ProviderHandle, ProviderKind } from "./provider.js";
export type { ToolCallSummary } from "./runs/transcript.js";
