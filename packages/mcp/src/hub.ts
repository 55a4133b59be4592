import { defineTool } from "@streamchat/core";
import type { McpConfig } from "./config.js";
import { McpServerConnection, type ListedTool } from "./connection.js";
import { offeredNames } from "./names.js";
import { defaultMaxModelChars, modelContent } from "./result.js";
import { modelSchema } from "./schema.js";
import { defaultMaxMessageBytes } from "./stdio-transport.js";
import { silentLogger, type McpLogger, type McpServerStatus, type McpTool, type McpToolStatus, type RestartPolicy } from "./types.js";

export interface McpHubOptions {
  log?: McpLogger;
  /**
   * Longest a tools/call may take as a whole, default 15000 (pass TOOL_TIMEOUT_MS; runs also abort calls themselves):
   * the wait for a (re)starting server, and a call sent again (refused, or in a renewed session), included.
   */
  toolTimeoutMs?: number;
  /** Start-up (initialize and the first tools/list) of one server, default 30000. */
  connectTimeoutMs?: number;
  /** Closing a stdio server: wait this long after closing its stdin, then after SIGTERM; then SIGKILL. Default 2000. */
  shutdownGraceMs?: number;
  restart?: RestartPolicy;
  /** Where stdio servers inherit PATH, HOME… from; default process.env. */
  parentEnv?: NodeJS.ProcessEnv;
  /**
   * Longest message (JSON-RPC line) a stdio server may send, default 32 MiB: a longer one fails the calls waiting on
   * the server and restarts it, instead of growing the API's memory without bound. An HTTP server's message (a JSON
   * body, one event of an event stream) has the same limit; a longer one fails the call it answered.
   */
  maxMessageBytes?: number;
  /** Most characters of a result the model reads (the rest is cut, saying so); default 50000 (result.ts). */
  maxModelChars?: number;
}

export interface McpHub {
  /** Tools of the connected servers, all or of the named ones, in config order then server order. */
  tools(filter?: { servers?: readonly string[] }): McpTool[];
  /** Every configured server with its state and the tools of its last listing. */
  status(): McpServerStatus[];
  /** Called after any change of a server's state or tool list; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
  /** Resolves once every server has connected or failed at least once (or is disabled). */
  ready(): Promise<void>;
  /** Ends every server (stdio processes: stdin closed, SIGTERM, SIGKILL) and stops restarts. */
  close(): Promise<void>;
}

/** Starts every enabled server of the config at once; tools appear as servers connect. */
export function createMcpHub(config: McpConfig, options: McpHubOptions = {}): McpHub {
  const log = options.log ?? silentLogger;
  const listeners = new Set<() => void>();
  let cache: { tools: McpTool[]; status: McpServerStatus[] } | undefined;
  let closed = false;
  const maxModelChars = options.maxModelChars ?? defaultMaxModelChars;

  const changed = () => {
    cache = undefined;
    for (const listener of listeners) {
      try {
        listener();
      } catch (error) {
        log.warn({ err: error instanceof Error ? error.message : String(error) }, "MCP change listener failed");
      }
    }
  };

  const connections = config.servers.map(
    ({ name, config: serverConfig }) =>
      new McpServerConnection(name, serverConfig, {
        log,
        toolTimeoutMs: options.toolTimeoutMs ?? 15_000,
        connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
        shutdownGraceMs: options.shutdownGraceMs ?? 2_000,
        restart: {
          initialDelayMs: options.restart?.initialDelayMs ?? 1_000,
          maxDelayMs: options.restart?.maxDelayMs ?? 60_000,
          maxAttempts: options.restart?.maxAttempts ?? 10,
          stableAfterMs: options.restart?.stableAfterMs ?? 60_000,
        },
        parentEnv: options.parentEnv ?? process.env,
        maxMessageBytes: options.maxMessageBytes ?? defaultMaxMessageBytes,
        onChange: changed,
      }),
  );

  // Tool objects are rebuilt only when something changed, so a run's list is the same objects as the last.
  const build = (): { tools: McpTool[]; status: McpServerStatus[] } => {
    if (cache) return cache;
    const entries = connections.flatMap((connection) => connection.tools.map((tool) => ({ connection, tool })));
    const names = connections.flatMap((connection) => offeredNames(connection.name, connection.tools.map((tool) => tool.mcpName)));
    const tools: McpTool[] = [];
    const statusTools = new Map<McpServerConnection, McpToolStatus[]>();
    entries.forEach(({ connection, tool }, i) => {
      const name = names[i]!;
      const info: McpToolStatus = { name, mcpName: tool.mcpName, description: tool.description, requiresApproval: tool.requiresApproval };
      if (!tool.check.ok) info.error = `not offered: ${tool.check.reason}`;
      statusTools.set(connection, [...(statusTools.get(connection) ?? []), info]);
      if (tool.check.ok && connection.isConnected) tools.push(toTool(connection, tool, name, tool.check.input, maxModelChars));
    });
    const status = connections.map((connection) => ({ ...connection.status(), tools: statusTools.get(connection) ?? [] }));
    cache = { tools, status };
    return cache;
  };

  for (const connection of connections) connection.start();

  return {
    tools(filter) {
      if (closed) return [];
      const tools = build().tools;
      const servers = filter?.servers;
      return servers ? tools.filter((tool) => servers.includes(tool.source)) : [...tools];
    },
    status() {
      return structuredClone(build().status);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async ready() {
      await Promise.all(connections.map((connection) => connection.settled));
    },
    async close() {
      closed = true;
      await Promise.all(connections.map((connection) => connection.close()));
      changed();
      listeners.clear();
    },
  };
}

function toTool(connection: McpServerConnection, tool: ListedTool, name: string, input: McpTool["input"], maxModelChars: number): McpTool {
  const parameters = modelSchema(tool.inputSchema);
  const defined = defineTool({
    name,
    description: tool.description,
    input,
    parameters,
    source: connection.name,
    requiresApproval: tool.requiresApproval,
    execute: (args, { signal }) => connection.call(tool, name, args, signal),
    toModelContent: (result) => modelContent(result, maxModelChars),
  });
  return { ...defined, source: connection.name, mcpName: tool.mcpName, requiresApproval: tool.requiresApproval, parameters };
}
