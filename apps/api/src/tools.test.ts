import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool } from "@streamchat/core";
import { faultServer } from "@streamchat/mcp/test-support";
import { collectRun, startTestApi, type TestApi } from "./test-support/harness.js";

// Tools that start something on first use (the calculator's worker: about a second of CPU) are prepared when the
// API registers them, so the first call of the first run does not wait for that start (core's
// calculator-warm.test.ts shows the calculator's prepare gives the first call a ready worker).

let prepared = 0;
let calls = 0;
const warmable = defineTool({
  name: "warmable",
  description: "A tool that starts something ahead of its first call",
  input: z.object({ n: z.number() }),
  prepare: () => {
    prepared++;
  },
  execute: ({ n }) => {
    calls++;
    return { n, prepared };
  },
});

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ extraTools: [warmable] });
});
afterAll(() => api?.close());

describe("tools prepared at registration", () => {
  it("the API prepares its tools when it starts, before any run calls them, and once", async () => {
    expect(prepared).toBe(1);
    expect(calls).toBe(0);
    const client = api.client();
    const { runId } = await client.chat.send.mutate({ message: 'use the warmable tool with {"n":3}' });
    const received = await collectRun(client, runId);
    expect(received.find((r) => r.event.type === "tool-result")?.event).toMatchObject({ ok: true, result: { n: 3, prepared: 1 } });
    expect(calls).toBe(1);
    expect(prepared).toBe(1);
  });
});

describe("tool names taken twice", () => {
  // MCP tools are <server>__<tool> and never take a built-in's name; an embedder's tool can take either's. Every run
  // offered both, and model APIs refuse a request that names two functions alike (or the model calls one of them and
  // the run runs the other).
  let named: TestApi;
  let dir: string;
  const shadow = defineTool({ name: "fault__echo", description: "The embedder's own echo", input: z.object({ text: z.string() }), execute: ({ text }) => ({ mine: text }) });
  const calculator = defineTool({ name: "calculator", description: "The embedder's own calculator", input: z.object({ expression: z.string() }), execute: () => ({ mine: true }) });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "streamchat-tool-names-"));
    const file = join(dir, "mcp.json");
    writeFileSync(file, JSON.stringify({ mcpServers: { fault: faultServer() } }));
    named = await startTestApi({ env: { MCP_CONFIG: file }, extraTools: [shadow, calculator], mcp: { restart: { maxAttempts: 1 }, shutdownGraceMs: 500 } });
    await named.server.mcp!.ready();
  }, 30_000);
  afterAll(async () => {
    await named?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("offers each name once, the first kept (built-ins, the embedder's tools, then MCP servers), and says why the others are not", async () => {
    const client = named.client();
    const list = await client.tools.list.query();
    const views = (name: string) => list.tools.filter((t) => t.name === name).map((t) => [t.source, t.offered, t.unavailable]);
    expect(views("calculator")).toEqual([
      ["builtin", true, undefined],
      ["builtin", false, "its name is taken by the built-in tool calculator"],
    ]);
    expect(views("fault__echo")).toEqual([
      ["builtin", true, undefined],
      ["fault", false, "its name is taken by the built-in tool fault__echo"],
    ]);
    expect(views("fault__fail")).toEqual([["fault", true, undefined]]);

    const { runId } = await client.chat.send.mutate({ message: 'use the fault__echo tool with {"text":"which"}' });
    const received = await collectRun(client, runId);
    expect(received.find((r) => r.event.type === "tool-result")?.event).toMatchObject({ ok: true, result: { mine: "which" } });
    const sent = named.sim.chatRequests().map((r) => r.body as { tools?: Array<{ function: { name: string } }> });
    const names = sent[0]?.tools?.map((t) => t.function.name) ?? [];
    expect(names).toContain("fault__echo");
    expect(names).toContain("fault__fail");
    expect(names.length).toBe(new Set(names).size);
  });
});
