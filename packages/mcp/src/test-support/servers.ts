import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { McpConfig, McpServerConfig } from "../config.js";
import type { McpHub } from "../hub.js";
import type { McpLogger } from "../types.js";

/** `node <server-everything>/dist/index.js stdio`: the reference server from npm. */
export function everythingServer(extra: Partial<McpServerConfig> = {}): McpServerConfig {
  const bin = createRequire(import.meta.url).resolve("@modelcontextprotocol/server-everything/dist/index.js");
  return { command: process.execPath, args: [bin, "stdio"], env: {}, requireApproval: false, enabled: true, ...extra } as McpServerConfig;
}

export const faultServerPath = fileURLToPath(new URL("./fault-server.ts", import.meta.url));

/** The misbehaving stdio server of fault-server.ts, run by Node itself (it strips the types). */
export function faultServer(flags: string[] = [], extra: Partial<McpServerConfig> = {}): McpServerConfig {
  return { command: process.execPath, args: [faultServerPath, ...flags], env: {}, requireApproval: false, enabled: true, ...extra } as McpServerConfig;
}

/** The hub's tool of that name (as offered: `<server>__<tool>`), or a failure listing what it offers. */
export function toolNamed(hub: McpHub, name: string) {
  const tool = hub.tools().find((t) => t.name === name);
  if (!tool) throw new Error(`no tool ${name} among ${hub.tools().map((t) => t.name).join(", ")}`);
  return tool;
}

export function configOf(servers: Record<string, McpServerConfig>): McpConfig {
  return { servers: Object.entries(servers).map(([name, config]) => ({ name, config })) };
}

/** A logger that keeps every line, for asserting what servers wrote to stderr. */
export function recordingLogger(): McpLogger & { lines: Array<{ message: string; data: Record<string, unknown> }>; stderr(server: string): string[] } {
  const lines: Array<{ message: string; data: Record<string, unknown> }> = [];
  const push = (data: Record<string, unknown>, message: string) => lines.push({ message, data });
  return {
    lines,
    info: push,
    warn: push,
    stderr: (server) => lines.filter((l) => l.data["server"] === server && typeof l.data["stderr"] === "string").map((l) => l.data["stderr"] as string),
  };
}

/** Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function until<T>(check: () => T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface HttpMcpServer {
  url: string;
  port: number;
  /** Request headers of every HTTP request, in order. */
  headers: IncomingHttpHeaders[];
  /** The McpServer of each session, newest last (tools can be added to a live session). */
  sessions: McpServer[];
  /** Closes the listener and every open connection (the server is "down"). */
  close(): Promise<void>;
}

/**
 * The SDK's own Streamable HTTP server on node:http, stateful (one McpServer per session, so
 * notifications such as tools/list_changed reach the client over its GET stream). `setup` registers the
 * tools of each new session. `jsonResponse`: answers as one JSON body instead of an event stream.
 */
export async function startHttpMcpServer(setup: (server: McpServer) => void, port = 0, options: { jsonResponse?: boolean } = {}): Promise<HttpMcpServer> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const headers: IncomingHttpHeaders[] = [];
  const sessions: McpServer[] = [];
  const http: Server = createServer(async (req, res) => {
    headers.push(req.headers);
    const sessionId = req.headers["mcp-session-id"];
    let transport = typeof sessionId === "string" ? transports.get(sessionId) : undefined;
    if (!transport) {
      if (sessionId !== undefined || req.method !== "POST") {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }));
        return;
      }
      const server = new McpServer({ name: "http-test-server", version: "1.0.0" }, { capabilities: { tools: { listChanged: true } } });
      setup(server);
      sessions.push(server);
      const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: options.jsonResponse ?? false,
        onsessioninitialized: (id) => {
          transports.set(id, created);
        },
      });
      created.onclose = () => {
        if (created.sessionId) transports.delete(created.sessionId);
      };
      await server.connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(port, "127.0.0.1", resolve));
  const actualPort = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}/mcp`,
    port: actualPort,
    headers,
    sessions,
    async close() {
      await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
