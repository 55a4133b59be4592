// Streamable HTTP servers that misbehave at the HTTP level: error statuses with whole error pages as their bodies,
// and responses cut off before the answer. The SDK's own server behind a small proxy that breaks chosen requests.
import type { IncomingMessage, ServerResponse } from "node:http";
import { executeTool } from "@streamchat/core";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { McpHub, McpHubOptions } from "./hub.js";
import { startHttpHub } from "./test-support/http-hub.js";
import { startHttpProxy } from "./test-support/http-proxy.js";
import { recordingLogger, startHttpMcpServer, until, toolNamed } from "./test-support/servers.js";

const signal = new AbortController().signal;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What a reverse proxy or web framework sends with an error: a whole HTML page. */
const errorPage = `<!DOCTYPE html><html><head><title>Error</title></head><body>${"<p>Something went wrong.</p>".repeat(10_000)}</body></html>`;

let cancelled = 0;
/** The `wait` tool's calls answer once this settles (releaseWaits). */
let releaseWaits: () => void = () => undefined;
let waiting = Promise.resolve();

/**
 * The SDK's Streamable HTTP server behind a proxy. `breakRequest` sees each POST's body and may answer it itself
 * (returning true); otherwise the request goes through.
 */
async function startProxiedServer(breakRequest: (body: string, res: ServerResponse, req: IncomingMessage) => boolean): Promise<string> {
  const real = await startHttpMcpServer((server) => {
    server.registerTool("echo", { description: "Echoes", inputSchema: { message: z.string() } }, ({ message }) => ({ content: [{ type: "text", text: `echo: ${message}` }] }));
    server.registerTool("wait", { description: "Answers when the test says so" }, async () => {
      await waiting;
      return { content: [{ type: "text", text: "waited" }] };
    });
    server.registerTool("slow", { description: "Answers after a while" }, async (extra) => {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 60_000);
        extra.signal.addEventListener("abort", () => {
          cancelled++;
          clearTimeout(timer);
          resolve();
        });
      });
      return { content: [{ type: "text", text: "slow answered" }] };
    });
  });
  const proxy = await startHttpProxy(real.url, { onRequest: breakRequest });
  cleanups.push(async () => {
    await proxy.close();
    await real.close();
  });
  return proxy.url;
}

/** What calling the hub's tool `name` fails with (undefined when it succeeds). */
function failureOf(hub: McpHub, name: string): Promise<unknown> {
  return Promise.resolve()
    .then(() => toolNamed(hub, name).execute({}, { signal }))
    .then(
      () => undefined,
      (error: unknown) => error,
    );
}

function startHub(url: string, options: McpHubOptions = {}): Promise<McpHub> {
  return startHttpHub(url, cleanups, { headers: { Authorization: "Bearer expired" }, ...options });
}

describe("hub with a Streamable HTTP server that fails at the HTTP level", () => {
  it("a 401 at start-up says so, points at the configured headers, and does not carry the error page", async () => {
    const url = await startProxiedServer((_body, res) => {
      res.writeHead(401, { "content-type": "text/html" }).end(errorPage);
      return true;
    });
    const hub = await startHub(url);
    const status = hub.status()[0]!;
    expect(status.state).toBe("failed");
    // Before: "Streamable HTTP error: Error POSTing to endpoint: <!DOCTYPE html>…", all 280 000 characters of it, without the status.
    expect(status.error).toMatch(/^the server answered HTTP 401 Unauthorized; check the server's headers \(Authorization\) in MCP_CONFIG: Error Something went wrong\. /);
    expect(status.error!.length).toBeLessThan(400);
  });

  it("a 500 with an error page fails the call with the status and a bounded message", async () => {
    const url = await startProxiedServer((body, res) => {
      if (!body.includes('"name":"echo"')) return false;
      res.writeHead(500, { "content-type": "text/html" }).end(errorPage);
      return true;
    });
    const hub = await startHub(url);
    const outcome = await executeTool(toolNamed(hub, "web__echo"), { message: "hi" }, { signal, timeoutMs: 10_000 });
    expect(outcome).toMatchObject({ ok: false, error: { code: "tool_failed", message: expect.stringMatching(/^Tool web__echo failed: the MCP server "web" answered HTTP 500 Internal Server Error: Error Something/) } });
    expect(!outcome.ok && outcome.error.message.length).toBeLessThan(500);
    expect(JSON.stringify(hub.status())).not.toContain("Something went wrong. Something went wrong. Something went wrong.".repeat(10));
  });

  it("an error status to one call fails that call only: the server stays connected and its other calls go on", async () => {
    waiting = new Promise((resolve) => (releaseWaits = resolve));
    const url = await startProxiedServer((body, res) => {
      if (!body.includes('"name":"echo"')) return false;
      res.writeHead(500, { "content-type": "text/plain" }).end("database is down");
      return true;
    });
    const hub = await startHub(url);
    const running = executeTool(toolNamed(hub, "web__wait"), {}, { signal, timeoutMs: 10_000 });
    const failed = await executeTool(toolNamed(hub, "web__echo"), { message: "hi" }, { signal, timeoutMs: 10_000 });
    expect(failed).toMatchObject({ ok: false, error: { code: "tool_failed", message: 'Tool web__echo failed: the MCP server "web" answered HTTP 500 Internal Server Error: database is down.' } });
    // Before: the 500 marked the whole server failed, which closed its session and cut the running call short.
    expect(hub.status()[0]).toMatchObject({ state: "connected", restarts: 0 });
    releaseWaits();
    await expect(running).resolves.toMatchObject({ ok: true, result: { content: [{ text: "waited" }] } });
    expect(hub.tools().map((t) => t.name)).toContain("web__echo");
  });

  it("a server that does not know even the session just started for a call (404 twice) is backed off, not renewed at every call", async () => {
    const url = await startProxiedServer((body, res) => {
      if (!body.includes('"name":"echo"')) return false;
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }));
      return true;
    });
    const hub = await startHub(url);
    const outcome = await executeTool(toolNamed(hub, "web__echo"), { message: "hi" }, { signal, timeoutMs: 10_000 });
    expect(outcome).toMatchObject({ ok: false, error: { code: "tool_failed", message: expect.stringMatching(/^Tool web__echo failed: the MCP server "web" answered HTTP 404 Not Found/) } });
    expect(hub.status()[0]).toMatchObject({ state: "failed", restarts: 1, error: expect.stringMatching(/^the server does not keep its sessions: the server answered HTTP 404 Not Found/) });
  });

  it("a response cut off before its answer fails the call at once, not at its timeout; the server stays connected", async () => {
    const url = await startProxiedServer((body, res) => {
      if (!body.includes('"name":"slow"')) return false;
      // An event stream begun and dropped, as a proxy's idle timeout or a restarted server leaves it.
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(": waiting\n\n");
      setTimeout(() => res.socket?.destroy(), 100);
      return true;
    });
    const hub = await startHub(url, { toolTimeoutMs: 20_000 });
    const started = Date.now();
    const outcome = await executeTool(toolNamed(hub, "web__slow"), {}, { signal, timeoutMs: 20_000 });
    expect(outcome).toMatchObject({ ok: false, error: { code: "tool_failed", message: 'Tool web__slow failed: the MCP server "web" closed the connection before answering.' } });
    // Before: it waited the whole 20 s and read "Tool web__slow timed out after 20000 ms."
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(hub.status()[0]).toMatchObject({ state: "connected", restarts: 0 });
    await expect(executeTool(toolNamed(hub, "web__echo"), { message: "still" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true });
  });

  it("the tool timeout bounds the whole call: a call sent again in a renewed session gets only the time left", async () => {
    const timeoutMs = 3_000;
    const forgetAfterMs = 2_000;
    // When the server saw each slow call begin, and the cancellation of the second (by its session and request id).
    const calls: Array<{ at: number; session: string; id: unknown }> = [];
    let cancelledAt: number | undefined;
    const url = await startProxiedServer((body, res, req) => {
      const session = String(req.headers["mcp-session-id"]);
      const message = (req.method === "POST" ? JSON.parse(body) : {}) as { method?: string; id?: unknown; params?: { requestId?: unknown } };
      const second = calls[1];
      if (message.method === "notifications/cancelled" && second && session === second.session && message.params?.requestId === second.id) cancelledAt = performance.now();
      if (!body.includes('"name":"slow"')) return false;
      calls.push({ at: performance.now(), session, id: message.id });
      if (calls.length > 1) return false;
      // The server holds the call a while, then no longer knows the session (it expired it meanwhile): the hub starts a
      // new one and sends the call again, which the server runs and does not answer in time.
      setTimeout(() => res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null })), forgetAfterMs);
      return true;
    });
    const hub = await startHub(url, { toolTimeoutMs: timeoutMs });
    const failure = await failureOf(hub, "web__slow");
    expect(failure).toMatchObject({ code: "tool_timeout", message: `Tool web__slow timed out after ${timeoutMs} ms.` });
    expect(calls).toHaveLength(2);
    expect(calls[1]!.session).not.toBe(calls[0]!.session);
    const cancelled = await until(() => cancelledAt, "the server to see the second call cancelled");
    // The second call was given what was left of the timeout (about timeoutMs - forgetAfterMs), and the whole call
    // ended about timeoutMs after it began. Before: the second call got a whole timeout of its own, so the user saw the
    // failure after forgetAfterMs + timeoutMs. Margins of half of forgetAfterMs both ways.
    expect(cancelled - calls[1]!.at).toBeLessThan(timeoutMs - forgetAfterMs / 2);
    expect(cancelled - calls[0]!.at).toBeLessThan(timeoutMs + forgetAfterMs / 2);
  });

  it("the tool timeout bounds the wait for the renewed session too: a server slow to start a new one fails the call in time", async () => {
    const timeoutMs = 2_000;
    let forgotten = false;
    const url = await startProxiedServer((body, res) => {
      if (body.includes('"name":"slow"') && !forgotten) {
        forgotten = true;
        setTimeout(() => res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null })), timeoutMs / 2);
        return true;
      }
      // Once it forgot the session, the server takes far longer than the call's timeout to start a new one (and fails).
      if (forgotten && body.includes('"method":"initialize"')) {
        setTimeout(() => res.writeHead(503).end("starting"), 3 * timeoutMs);
        return true;
      }
      return false;
    });
    const hub = await startHub(url, { toolTimeoutMs: timeoutMs });
    const started = performance.now();
    const failure = await failureOf(hub, "web__slow");
    // Before: the call waited for the new session's start to fail (3 * timeoutMs), and failed as unavailable.
    expect(failure).toMatchObject({ code: "tool_timeout", message: `Tool web__slow timed out after ${timeoutMs} ms.` });
    expect(performance.now() - started).toBeLessThan(2 * timeoutMs);
  });

  it("a call the run cancels is not reported as cut off, and the server is told", async () => {
    const url = await startProxiedServer(() => false);
    const log = recordingLogger();
    const hub = await startHub(url, { toolTimeoutMs: 20_000, log });
    const before = cancelled;
    const outcome = await executeTool(toolNamed(hub, "web__slow"), {}, { signal, timeoutMs: 300 });
    expect(outcome).toMatchObject({ ok: false, error: { code: "tool_timeout" } });
    await until(() => cancelled > before, "the server to see the cancellation");
    await expect(executeTool(toolNamed(hub, "web__echo"), { message: "after" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(log.lines.filter((l) => String(l.data["err"]).includes("unknown message ID"))).toEqual([]);
  });
});
