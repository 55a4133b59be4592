// Against the SDK's own Streamable HTTP server (McpServer + StreamableHTTPServerTransport on node:http).
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { executeTool } from "@streamchat/core";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { McpHub, McpHubOptions } from "./hub.js";
import { startHttpHub } from "./test-support/http-hub.js";
import { startHttpMcpServer, until, type HttpMcpServer, toolNamed } from "./test-support/servers.js";

const signal = new AbortController().signal;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let cancelledCalls = 0;

function registerTools(server: McpServer): void {
  server.registerTool("echo", { description: "Echoes", inputSchema: { message: z.string() } }, ({ message }) => ({
    content: [{ type: "text", text: `echo: ${message}` }],
  }));
  server.registerTool("hang", { description: "Never answers" }, (extra) => {
    return new Promise((_resolve, reject) => {
      extra.signal.addEventListener("abort", () => {
        cancelledCalls++;
        reject(new Error("cancelled"));
      });
    });
  });
  server.registerTool("fail", { description: "Fails" }, () => ({ isError: true, content: [{ type: "text", text: "quota exceeded" }] }));
  server.registerTool("grow", { description: "Adds a tool" }, () => {
    server.registerTool("added", { description: "Added later" }, () => ({ content: [{ type: "text", text: "added answered" }] }));
    return { content: [{ type: "text", text: "grown" }] };
  });
}

async function startServer(port = 0): Promise<HttpMcpServer> {
  const server = await startHttpMcpServer(registerTools, port);
  cleanups.push(() => server.close());
  return server;
}

// Restarts within 300 ms, as many as the hub's default allows (not startHttpHub's one, a minute away): the reconnection
// tests wait for them.
function startHub(url: string, options: McpHubOptions = {}): Promise<McpHub> {
  return startHttpHub(url, cleanups, {
    headers: { Authorization: "Bearer web-token" },
    requireApproval: ["echo"],
    restart: { initialDelayMs: 100, maxDelayMs: 300 },
    ...options,
  });
}

describe("hub with a Streamable HTTP server", () => {
  it("offers and calls its tools, sending the configured headers", async () => {
    const server = await startServer();
    const hub = await startHub(server.url);
    expect(hub.status()).toEqual([
      expect.objectContaining({ name: "web", transport: "http", state: "connected", tools: expect.arrayContaining([expect.objectContaining({ name: "web__echo", requiresApproval: true })]) }),
    ]);
    expect(hub.tools().map((t) => t.name)).toEqual(["web__echo", "web__hang", "web__fail", "web__grow"]);
    expect(toolNamed(hub, "web__echo").parameters).toMatchObject({ type: "object", properties: { message: { type: "string" } }, required: ["message"] });

    const outcome = await executeTool(toolNamed(hub, "web__echo"), { message: "over http" }, { signal, timeoutMs: 10_000 });
    expect(outcome).toMatchObject({ ok: true, result: { content: [{ type: "text", text: "echo: over http" }] } });
    expect(server.headers.length).toBeGreaterThan(0);
    expect(server.headers.every((h) => h.authorization === "Bearer web-token")).toBe(true);
  });

  it("ends its session at the server (DELETE) when the hub closes", async () => {
    const server = await startServer();
    const hub = await startHub(server.url);
    expect(server.sessions).toHaveLength(1);
    expect(server.sessions[0]!.isConnected()).toBe(true);
    await hub.close();
    // Before: the session stayed open at the server until its own timeout, one more after every restart of the API.
    await until(() => !server.sessions[0]!.isConnected(), "the server to end the session", 3_000);
  });

  it("cancels a hanging call at the server when the run's timeout aborts it", async () => {
    const server = await startServer();
    // The hub's own timeout is far away: only the run's signal can cancel the request in time.
    const hub = await startHub(server.url, { toolTimeoutMs: 120_000 });
    const before = cancelledCalls;
    const outcome = await executeTool(toolNamed(hub, "web__hang"), {}, { signal, timeoutMs: 300 });
    expect(outcome).toMatchObject({ ok: false, error: { code: "tool_timeout" } });
    await until(() => cancelledCalls > before, "the server to see the cancellation");
    await expect(executeTool(toolNamed(hub, "web__echo"), { message: "after" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true });
  });

  it("a result of megabytes reaches the model cut to maxModelChars; the tool-result keeps it whole", async () => {
    const text = "0123456789".repeat(500_000); // 5 MB
    const server = await startHttpMcpServer((mcp) =>
      mcp.registerTool("dump", { description: "Returns a whole log file" }, () => ({ content: [{ type: "text", text }] })),
    );
    cleanups.push(() => server.close());
    const hub = await startHub(server.url, { maxModelChars: 1000 });
    const outcome = await executeTool(toolNamed(hub, "web__dump"), {}, { signal, timeoutMs: 30_000 });
    if (!outcome.ok) throw new Error(outcome.error.message);
    expect((outcome.result as { content: Array<{ text: string }> }).content[0]?.text).toHaveLength(5_000_000);
    expect(outcome.content).toBe(`${text.slice(0, 1000)}\n[The result is cut here: it has 5000000 characters, of which the first 1000 are shown.]`);
  });

  for (const jsonResponse of [false, true]) {
    it(`a result over maxMessageBytes fails that call only, without reading it whole (${jsonResponse ? "JSON answer" : "event stream"})`, async () => {
      const server = await startHttpMcpServer(
        (mcp) => {
          mcp.registerTool("dump", { description: "Returns a whole log file" }, () => ({ content: [{ type: "text", text: "0123456789".repeat(300_000) }] }));
          mcp.registerTool("small", { description: "Answers briefly" }, () => ({ content: [{ type: "text", text: "small" }] }));
        },
        0,
        { jsonResponse },
      );
      cleanups.push(() => server.close());
      const hub = await startHub(server.url, { maxMessageBytes: 1024 * 1024 });
      // Before: an HTTP server's answer was read whole, whatever its size (only stdio servers had the limit).
      await expect(executeTool(toolNamed(hub, "web__dump"), {}, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({
        ok: false,
        error: { code: "tool_failed", message: 'Tool web__dump failed: the MCP server "web" sent a message larger than 1 MiB (the limit).' },
      });
      expect(hub.status()[0]).toMatchObject({ state: "connected", restarts: 0 });
      await expect(executeTool(toolNamed(hub, "web__small"), {}, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true });
    });
  }

  it("isError: true is a failed tool result with the server's message", async () => {
    const server = await startServer();
    const hub = await startHub(server.url);
    await expect(executeTool(toolNamed(hub, "web__fail"), {}, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({
      ok: false,
      error: { code: "tool_failed", message: "Tool web__fail failed: quota exceeded" },
    });
  });

  it("picks up tools/list_changed", async () => {
    const server = await startServer();
    const hub = await startHub(server.url);
    await executeTool(toolNamed(hub, "web__grow"), {}, { signal, timeoutMs: 10_000 });
    const added = await until(() => hub.tools().find((t) => t.name === "web__added"), "web__added");
    await expect(executeTool(added, {}, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true, result: { content: [{ text: "added answered" }] } });
  });

  it("a server that went away fails the call, and is reconnected when it is back", async () => {
    const first = await startServer();
    const hub = await startHub(first.url);
    const echo = toolNamed(hub, "web__echo");
    await first.close();

    const outcome = await executeTool(echo, { message: "anyone?" }, { signal, timeoutMs: 10_000 });
    expect(outcome).toMatchObject({ ok: false, error: { code: "tool_failed", message: expect.stringMatching(/^Tool web__echo failed: cannot reach the MCP server "web" \(connect ECONNREFUSED [^()]+\)\.$/) } });
    expect(hub.status()[0]).toMatchObject({ state: expect.stringMatching(/^(failed|starting)$/) });

    await startServer(first.port);
    await until(() => hub.status()[0]!.state === "connected", "the reconnection");
    expect(hub.status()[0]!.restarts).toBeGreaterThan(0);
    await expect(executeTool(toolNamed(hub, "web__echo"), { message: "back" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({
      ok: true,
      result: { content: [{ text: "echo: back" }] },
    });
  });

  it("a session the server no longer knows (404) is replaced by a new one, and the call goes through", async () => {
    const server = await startServer();
    const hub = await startHub(server.url);
    const echo = toolNamed(hub, "web__echo");
    // The server drops the session, as one does on expiry (or forgets all of them in a restart): 404 to its id.
    await server.sessions[0]!.close();
    // Before: the call failed ("cannot reach the MCP server … HTTP 404"), and the server was left failed for a second.
    await expect(executeTool(echo, { message: "again" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({
      ok: true,
      result: { content: [{ text: "echo: again" }] },
    });
    expect(server.sessions).toHaveLength(2);
    expect(hub.status()[0]).toMatchObject({ state: "connected", restarts: 1 });
  });

  it("an unreachable URL fails that server with the reason", async () => {
    const server = await startServer();
    const port = server.port;
    await server.close();
    const hub = await startHub(`http://127.0.0.1:${port}/mcp`, { restart: { maxAttempts: 1 } });
    expect(hub.status()[0]).toMatchObject({ state: "failed", error: expect.stringMatching(/ECONNREFUSED/) });
    expect(hub.tools()).toEqual([]);
  });
});
