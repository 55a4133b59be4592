// A Streamable HTTP server that restarts, and connections that break around a call: a call that provably never reached
// the server is sent again, one that may have run is not. Real servers on loopback behind a small HTTP proxy that
// plays the network's part.
import { executeTool } from "@streamchat/core";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { McpCallOutcomeUnknownError } from "./call-errors.js";
import type { McpHub } from "./hub.js";
import { startHttpHub } from "./test-support/http-hub.js";
import { passOn, startHttpProxy } from "./test-support/http-proxy.js";
import { recordingLogger, startHttpMcpServer, toolNamed, type HttpMcpServer } from "./test-support/servers.js";

const signal = new AbortController().signal;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Upstream {
  server: HttpMcpServer;
  /** The messages of the echo calls it ran. */
  echoed: string[];
}

async function startUpstream(): Promise<Upstream> {
  const echoed: string[] = [];
  const server = await startHttpMcpServer((mcp) =>
    mcp.registerTool("echo", { description: "Echoes", inputSchema: { message: z.string() } }, ({ message }) => {
      echoed.push(message);
      return { content: [{ type: "text", text: `echo: ${message}` }] };
    }),
  );
  return { server, echoed };
}

interface Proxy {
  url: string;
  upstream: Upstream;
  /**
   * The server behind restarts (a new process that knows no session), and the connections the client holds to it
   * are dead without the client being told, as behind a NAT or a load balancer: a request on one of them is reset.
   */
  restart(): Promise<void>;
}

/**
 * `breakAfterRun(body)`: this request is passed on, and once the server has answered it the client's connection is
 * reset without a byte of the answer. `closeEveryConnection`: no connection is kept alive, so none is reused.
 */
async function startProxy({ closeEveryConnection = false, breakAfterRun }: { closeEveryConnection?: boolean; breakAfterRun?: (body: string) => boolean } = {}): Promise<Proxy> {
  let upstream = await startUpstream();
  const proxy = await startHttpProxy(() => upstream.server.url, {
    relay(answer, res, req, body) {
      if (breakAfterRun?.(body)) {
        answer.resume();
        answer.on("end", () => req.socket.resetAndDestroy());
        return;
      }
      passOn(answer, res, closeEveryConnection ? { ...answer.headers, connection: "close" } : answer.headers);
    },
  });
  const result: Proxy = {
    url: proxy.url,
    upstream,
    async restart() {
      proxy.breakConnections();
      await upstream.server.close();
      upstream = await startUpstream();
      result.upstream = upstream;
    },
  };
  cleanups.push(async () => {
    await proxy.close();
    await upstream.server.close();
  });
  return result;
}

function startHub(url: string, log = recordingLogger()): Promise<McpHub> {
  // Far away: a call that only goes through after a restart by back-off would fail these tests.
  return startHttpHub(url, cleanups, { log, restart: { initialDelayMs: 60_000, maxAttempts: 2 } });
}

describe("hub with a Streamable HTTP server whose connections break", () => {
  it("the first call after the server restarted goes through: on a new connection, in a new session", async () => {
    const proxy = await startProxy();
    const log = recordingLogger();
    const hub = await startHub(proxy.url, log);
    await expect(executeTool(toolNamed(hub, "web__echo"), { message: "before" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true });
    await proxy.restart();

    // Before: the reset of the pooled connection failed the call ("cannot reach the MCP server") and the server.
    const outcome = await executeTool(toolNamed(hub, "web__echo"), { message: "after" }, { signal, timeoutMs: 10_000 });
    expect(outcome).toMatchObject({ ok: true, result: { content: [{ text: "echo: after" }] } });
    expect(proxy.upstream.echoed).toEqual(["after"]);
    expect(proxy.upstream.server.sessions).toHaveLength(1);
    expect(hub.status()[0]).toMatchObject({ state: "connected" });
    // A call goes on a connection of its own (never a pooled one the restart killed): the restarted server answers it
    // 404 for the session it does not know, and it is sent once more in a new one.
    expect(log.lines.filter((l) => l.message === "MCP tool call did not reach the server; sending it again")).toHaveLength(0);
  });

  it("a call whose connection breaks after it was sent is not sent again: a typed error says it may have run", async () => {
    const proxy = await startProxy({ closeEveryConnection: true, breakAfterRun: (body) => body.includes('"message":"transfer"') });
    const hub = await startHub(proxy.url);
    const echo = toolNamed(hub, "web__echo");
    const failure = await Promise.resolve()
      .then(() => echo.execute({ message: "transfer" }, { signal }))
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(McpCallOutcomeUnknownError);
    expect(failure).toMatchObject({
      code: "tool_failed",
      server: "web",
      message: expect.stringMatching(/^Tool web__echo failed: the connection to the MCP server "web" broke after the call was sent and before any answer \(.+\); the tool may have run, so the call was not sent again\.$/),
    });
    // It ran once, and only once.
    expect(proxy.upstream.echoed).toEqual(["transfer"]);
    // One connection broke; the session did not: the server stays connected and its next call goes through.
    expect(hub.status()[0]).toMatchObject({ state: "connected", restarts: 0 });
    await expect(executeTool(toolNamed(hub, "web__echo"), { message: "next" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true });
    expect(proxy.upstream.echoed).toEqual(["transfer", "next"]);
  });
});
