import type { Tool } from "@streamchat/core";
import type { McpToolResult } from "./result.js";
import type { ToolArgs } from "./schema.js";

/** Structured logging in pino's argument order, so the API's logger fits as is. */
export interface McpLogger {
  info(data: Record<string, unknown>, message: string): void;
  warn(data: Record<string, unknown>, message: string): void;
}

export const silentLogger: McpLogger = { info: () => undefined, warn: () => undefined };

/**
 * - `starting`: connecting (first start or a restart);
 * - `connected`: its tools are offered;
 * - `failed`: `error` says why; `nextRetryAt` says when it is tried again (absent: given up or shut down);
 * - `disabled`: `"enabled": false` in the config.
 */
export type McpServerState = "starting" | "connected" | "failed" | "disabled";

export interface McpToolStatus {
  /** The name the model sees (`<server>__<tool>`). */
  name: string;
  /** The tool's name on its server. */
  mcpName: string;
  description: string;
  requiresApproval: boolean;
  /** Why the tool is not offered (a broken input schema); absent for offered tools. */
  error?: string;
}

export interface McpServerStatus {
  name: string;
  transport: "stdio" | "http";
  state: McpServerState;
  error?: string;
  /** Epoch ms of the next connection attempt of a failed server. */
  nextRetryAt?: number;
  /** Connection attempts after the first. */
  restarts: number;
  /** The server process of a started stdio server. */
  pid?: number;
  /** The tools of the last listing; offered only while the server is `connected`. */
  tools: McpToolStatus[];
}

/** A core tool backed by an MCP server's tool. */
export interface McpTool extends Tool<ToolArgs, McpToolResult> {
  source: string;
  mcpName: string;
  requiresApproval: boolean;
  /** What the model is sent: the server's inputSchema, without keywords model APIs refuse at its top (schema.ts modelSchema). */
  parameters: Record<string, unknown>;
}

export interface RestartPolicy {
  /** Delay before the first restart; doubles with each failure in a row. Default 1000. */
  initialDelayMs?: number;
  /** Default 60000. */
  maxDelayMs?: number;
  /** Failed connection attempts in a row (the first start included) before the server is left `failed` for good. Default 10. */
  maxAttempts?: number;
  /** A connection that lasted this long resets the count of failures in a row. Default 60000. */
  stableAfterMs?: number;
}
