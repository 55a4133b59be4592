import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { ChatEvent, EventOf } from "@streamchat/core";
import { everythingServer, faultServer, startHttpMcpServer, type HttpMcpServer } from "@streamchat/mcp/test-support";
import { collectRun, eventually, recordEvents, startTestApi, type ApiClient, type Received, type TestApi } from "./test-support/harness.js";

// The API with MCP_CONFIG naming real MCP servers: the reference server from npm over stdio, the SDK's Streamable
// HTTP server in this process, and a stdio server that cannot start. Their tools are offered as <server>__<tool>,
// listed by tools.list, switched per user, and the ones configured with requireApproval wait for chat.approve.

const alice = "alice-token-123";
const bob = "bob-token-4567";
const removed: string[] = [];
let hangCalls = 0;
let hangCancelled = 0;

let web: HttpMcpServer;
let api: TestApi;
let aliceClient: ApiClient;
let bobClient: ApiClient;
let configPath: string;
let dir: string;

function writeConfig(into: string, webUrl: string): string {
  const file = join(into, "mcp.json");
  const json = {
    mcpServers: {
      every: { ...everythingServer(), requireApproval: ["get-env"] },
      web: { url: webUrl, requireApproval: ["remove"] },
      broken: faultServer(["--crash-on-start"]),
    },
  };
  writeFileSync(file, JSON.stringify(json));
  return file;
}

beforeAll(async () => {
  web = await startHttpMcpServer((server) => {
    server.registerTool("remove", { description: "Removes a file", inputSchema: { path: z.string() } }, ({ path }) => {
      removed.push(path);
      return { content: [{ type: "text", text: `removed ${path}` }] };
    });
    server.registerTool("hang", { description: "Never answers" }, (extra) => {
      hangCalls += 1;
      return new Promise((_resolve, reject) =>
        extra.signal.addEventListener("abort", () => {
          hangCancelled += 1;
          reject(new Error("cancelled"));
        }),
      );
    });
  });
  dir = mkdtempSync(join(tmpdir(), "streamchat-mcp-api-"));
  configPath = writeConfig(dir, web.url);
  api = await startTestApi({
    env: { AUTH_TOKENS: `alice:${alice},bob:${bob}`, MCP_CONFIG: configPath, TOOL_TIMEOUT_MS: "1500" },
    mcp: { restart: { initialDelayMs: 60_000, maxAttempts: 1 }, shutdownGraceMs: 500 },
  });
  aliceClient = api.client(alice);
  bobClient = api.client(bob);
  // MCP tools appear within seconds of start-up.
  await eventually(async () => {
    const { servers } = await aliceClient.tools.list.query();
    return servers.every((s) => s.state === "connected" || s.state === "failed");
  }, "every MCP server to connect or fail", 20_000);
}, 60_000);
afterAll(async () => {
  await api?.close();
  await web?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const eventOf = <T extends ChatEvent["type"]>(received: Received[], type: T) =>
  received.map((r) => r.event).find((e): e is EventOf<T> => e.type === type);

describe("MCP tools over the API", () => {
  it("lists built-in and MCP tools with their source and approval, and each server's state by name", async () => {
    const list = await aliceClient.tools.list.query();
    const byName = new Map(list.tools.map((t) => [t.name, t]));
    expect(byName.get("calculator")).toMatchObject({ source: "builtin", requiresApproval: false, offered: true });
    expect(byName.get("search_conversations")).toMatchObject({ source: "builtin", requiresApproval: false });
    expect(byName.get("every__echo")).toMatchObject({ source: "every", requiresApproval: false, offered: true, description: expect.any(String) });
    expect(byName.get("every__get-env")).toMatchObject({ source: "every", requiresApproval: true });
    expect(byName.get("web__remove")).toMatchObject({ source: "web", requiresApproval: true, offered: true, description: "Removes a file" });
    expect(byName.get("web__hang")).toMatchObject({ source: "web", requiresApproval: false });
    expect(list.servers.map((s) => [s.name, s.transport, s.state, s.enabled])).toEqual([
      ["every", "stdio", "connected", true],
      ["web", "http", "connected", true],
      ["broken", "stdio", "failed", true],
    ]);
    expect(list.servers[2]!.error).toEqual(expect.any(String));
  });

  it("runs an MCP tool the model calls: the tool message starts with the tool's text, the run ends normally", async () => {
    const { runId, conversationId } = await aliceClient.chat.send.mutate({ message: 'use the every__echo tool with {"message":"hello mcp"}' });
    const received = await collectRun(aliceClient, runId);
    expect(eventOf(received, "tool-call")).toMatchObject({ name: "every__echo", args: { message: "hello mcp" } });
    expect(eventOf(received, "tool-result")).toMatchObject({ name: "every__echo", ok: true });
    expect(eventOf(received, "approval-request")).toBeUndefined();
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    const stored = await aliceClient.conversations.get.query({ conversationId });
    expect(stored.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(stored.messages[2]!.content.startsWith("Echo: hello mcp")).toBe(true);
  });

  it("waits for approval of a tool configured with requireApproval, shows its server and arguments, runs it once approved", async () => {
    const { runId } = await aliceClient.chat.send.mutate({ message: 'use the web__remove tool with {"path":"notes.txt"}' });
    const events = recordEvents(aliceClient, runId);
    const request = (await events.waitFor((e) => e.type === "approval-request")).event as EventOf<"approval-request">;
    expect(request).toMatchObject({ name: "web__remove", source: "web", args: { path: "notes.txt" }, description: "Removes a file" });
    await events.waitFor((e) => e.type === "status" && e.phase === "waiting");
    expect(removed).not.toContain("notes.txt");
    // Another client of the same user decides.
    await api.client(alice).chat.approve.mutate({ runId, callId: request.callId, approved: true });
    const received = await events.completed;
    expect(eventOf(received, "tool-result")).toMatchObject({ name: "web__remove", ok: true });
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(removed.filter((p) => p === "notes.txt")).toHaveLength(1);
  });

  it("denies: the MCP server never gets the call, tool_denied goes to the model, the run ends normally", async () => {
    const { runId } = await aliceClient.chat.send.mutate({ message: 'use the web__remove tool with {"path":"keep.txt"}' });
    const events = recordEvents(aliceClient, runId);
    const request = (await events.waitFor((e) => e.type === "approval-request")).event as EventOf<"approval-request">;
    // Another user cannot decide it.
    const stranger = await bobClient.chat.approve.mutate({ runId, callId: request.callId, approved: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(stranger).toBeInstanceOf(TRPCClientError);
    expect((stranger as TRPCClientError<never>).data).toMatchObject({ code: "NOT_FOUND" });
    await aliceClient.chat.approve.mutate({ runId, callId: request.callId, approved: false });
    const received = await events.completed;
    expect(eventOf(received, "tool-result")).toMatchObject({ name: "web__remove", ok: false, error: { code: "tool_denied" } });
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(removed).not.toContain("keep.txt");
  });

  it("stops a call that outlasts TOOL_TIMEOUT_MS with tool_timeout; the run goes on", async () => {
    const { runId } = await aliceClient.chat.send.mutate({ message: "use the web__hang tool with {}" });
    const received = await collectRun(aliceClient, runId);
    expect(eventOf(received, "tool-result")).toMatchObject({ name: "web__hang", ok: false, error: { code: "tool_timeout" } });
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(hangCalls).toBeGreaterThan(0);
  });

  it("cancelling a run during an MCP call cancels the call at the server and ends the run at once", async () => {
    const { runId } = await aliceClient.chat.send.mutate({ message: "use the web__hang tool with {}" });
    const events = recordEvents(aliceClient, runId);
    await events.waitFor((e) => e.type === "tool-call" && e.name === "web__hang");
    const before = hangCancelled;
    const cancelledAt = Date.now();
    await aliceClient.chat.cancel.mutate({ runId });
    const received = await events.completed;
    // Well before TOOL_TIMEOUT_MS (1500): the cancel, not the call's timeout, ended it.
    expect(Date.now() - cancelledAt).toBeLessThan(1_000);
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "cancelled" });
    await eventually(async () => hangCancelled > before, "the server to see notifications/cancelled", 5_000);
  });

  it("turns a server off for one user only: its tools are not offered to that user's runs", async () => {
    const view = await aliceClient.tools.setServerEnabled.mutate({ server: "every", enabled: false });
    expect(view).toMatchObject({ name: "every", enabled: false, state: "connected" });
    try {
      const mine = await aliceClient.tools.list.query();
      expect(mine.servers.find((s) => s.name === "every")?.enabled).toBe(false);
      expect(mine.tools.find((t) => t.name === "every__echo")).toMatchObject({ offered: false, unavailable: "turned off" });
      const theirs = await bobClient.tools.list.query();
      expect(theirs.tools.find((t) => t.name === "every__echo")).toMatchObject({ offered: true });

      // The model is not offered every__echo: it answers without calling it.
      const { runId } = await aliceClient.chat.send.mutate({ message: 'use the every__echo tool with {"message":"off"}' });
      const received = await collectRun(aliceClient, runId);
      expect(eventOf(received, "tool-call")).toBeUndefined();
      expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
      // Bob's runs still get it.
      const bobRun = await bobClient.chat.send.mutate({ message: 'use the every__echo tool with {"message":"on"}' });
      expect(eventOf(await collectRun(bobClient, bobRun.runId), "tool-result")).toMatchObject({ name: "every__echo", ok: true });

      // Stored: another store on the same data reads the switch.
      const store = await api.openStore();
      try {
        expect(await store.listToolServerSettings("alice")).toEqual([expect.objectContaining({ server: "every", enabled: false })]);
      } finally {
        await store.close();
      }
    } finally {
      await aliceClient.tools.setServerEnabled.mutate({ server: "every", enabled: true });
    }
    expect((await aliceClient.tools.list.query()).tools.find((t) => t.name === "every__echo")).toMatchObject({ offered: true });
  });

  it("refuses a switch for a server that is not configured", async () => {
    const error = await aliceClient.tools.setServerEnabled.mutate({ server: "nope", enabled: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as TRPCClientError<never>).data).toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("MCP servers and the API's life", () => {
  it("ends the stdio server processes when the API closes", async () => {
    const own = await startTestApi({ env: { MCP_CONFIG: configPath }, mcp: { restart: { maxAttempts: 1 }, shutdownGraceMs: 500 } });
    let pid: number | undefined;
    try {
      await own.server.mcp!.ready();
      pid = own.server.mcp!.status().find((s) => s.name === "every")?.pid;
      expect(pid).toEqual(expect.any(Number));
      expect(isAlive(pid!)).toBe(true);
    } finally {
      await own.close();
    }
    expect(isAlive(pid!)).toBe(false);
  });

  it("refuses to start with a broken MCP_CONFIG, naming the problem", async () => {
    const file = join(dir, "bad-mcp.json");
    writeFileSync(file, JSON.stringify({ mcpServers: { x: { command: "node", requireAproval: true } } }));
    await expect(startTestApi({ env: { MCP_CONFIG: file } })).rejects.toThrow(/MCP_CONFIG .*mcp\.json/);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
