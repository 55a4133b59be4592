export { loadMcpConfig, parseMcpConfig, isStdioServer, McpConfigError, type McpConfig, type McpServerConfig, type StdioServerConfig, type HttpServerConfig } from "./config.js";
export { McpCallOutcomeUnknownError, McpHttpAnswerError } from "./call-errors.js";
export { createMcpHub, type McpHub, type McpHubOptions } from "./hub.js";
export { offeredNames, maxToolNameLength, serverNameProblem, type ToolRef } from "./names.js";
export { modelContent, defaultMaxModelChars, type McpToolResult } from "./result.js";
export type { ToolArgs } from "./schema.js";
export { inheritedEnvVars, serverEnvironment } from "./stdio-transport.js";
export type { McpLogger, McpServerState, McpServerStatus, McpToolStatus, McpTool, RestartPolicy } from "./types.js";
