// Against the reference server from npm (@modelcontextprotocol/server-everything), over stdio.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { createOllamaModel, executeTool, runChat, toolResultContent, type ChatEvent } from "@streamchat/core";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createMcpHub, type McpHub } from "./hub.js";
import { configOf, everythingServer, toolNamed } from "./test-support/servers.js";

const signal = new AbortController().signal;
const hubs: McpHub[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => hub.close()));
});

async function startHub(...args: Parameters<typeof createMcpHub>): Promise<McpHub> {
  const hub = createMcpHub(...args);
  hubs.push(hub);
  await hub.ready();
  return hub;
}

describe("hub with server-everything (stdio)", () => {
  it("offers its tools as every__<tool> with the server's inputSchema as is", async () => {
    const hub = await startHub(configOf({ every: everythingServer() }));
    expect(hub.status()).toEqual([expect.objectContaining({ name: "every", transport: "stdio", state: "connected", restarts: 0, pid: expect.any(Number) })]);

    // What the server lists, read with the SDK's own client from a second copy of it.
    const config = everythingServer();
    const client = new Client({ name: "reference", version: "1" });
    await client.connect(new StdioClientTransport({ command: (config as { command: string }).command, args: (config as { args: string[] }).args, stderr: "ignore" }));
    const listed = (await client.listTools()).tools;
    await client.close();

    const tools = hub.tools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["every__echo", "every__get-sum", "every__get-tiny-image", "every__get-env"]));
    for (const reference of listed) {
      const tool = tools.find((t) => t.mcpName === reference.name);
      expect(tool, reference.name).toBeDefined();
      expect(tool!.name).toBe(`every__${reference.name}`);
      expect(tool!.parameters).toEqual(reference.inputSchema);
      expect(tool!.description).toBe(reference.description);
      expect(tool!.source).toBe("every");
    }
  });

  it("maps text, images and structured content", async () => {
    const hub = await startHub(configOf({ every: everythingServer() }));

    const echo = await executeTool(toolNamed(hub, "every__echo"), { message: "hi" }, { signal, timeoutMs: 10_000 });
    expect(echo).toMatchObject({ ok: true, result: { content: [{ type: "text", text: "Echo: hi" }] } });
    expect(toolResultContent(echo)).toBe("Echo: hi");

    const image = await executeTool(toolNamed(hub, "every__get-tiny-image"), {}, { signal, timeoutMs: 10_000 });
    expect(image.ok && (image.result as { content: unknown[] }).content).toContainEqual({ type: "image", mimeType: "image/png", data: expect.stringMatching(/^iVBOR/) });
    const imageText = toolResultContent(image);
    expect(imageText).toMatch(/^Here's the image you requested:\nThe image above is the MCP logo.\n\[image image\/png, [\d.]+ KB: shown to the user, not included here\]$/);

    const weather = await executeTool(toolNamed(hub, "every__get-structured-content"), { location: "Chicago" }, { signal, timeoutMs: 10_000 });
    expect(weather).toMatchObject({ ok: true, result: { structuredContent: { temperature: 36, conditions: "Light rain / drizzle", humidity: 82 } } });
    expect(JSON.parse(toolResultContent(weather))).toEqual({ temperature: 36, conditions: "Light rain / drizzle", humidity: 82 });
  });

  it("starts stdio servers with a minimal environment plus their configured env, never the API's secrets", async () => {
    const parentEnv = { PATH: process.env["PATH"], HOME: "/home/api", OPENAI_API_KEY: "sk-secret", AUTH_TOKENS: "alice:token123", DATABASE_URL: "postgres://x" };
    const hub = await startHub(configOf({ every: everythingServer({ env: { EXTRA_SETTING: "on" } }) }), { parentEnv });
    const outcome = await executeTool(toolNamed(hub, "every__get-env"), {}, { signal, timeoutMs: 10_000 });
    const env = JSON.parse(toolResultContent(outcome)) as Record<string, string>;
    expect(env).toMatchObject({ PATH: process.env["PATH"], HOME: "/home/api", EXTRA_SETTING: "on" });
    expect(Object.keys(env)).not.toEqual(expect.arrayContaining(["OPENAI_API_KEY"]));
    expect(JSON.stringify(env)).not.toMatch(/sk-secret|token123|postgres:/);
  });

  it("marks tools that need approval, filters by server, and leaves disabled servers unstarted", async () => {
    const hub = await startHub(
      configOf({
        picky: everythingServer({ requireApproval: ["echo", "no-such-tool"] }),
        strict: everythingServer({ requireApproval: true }),
        off: everythingServer({ enabled: false }),
      }),
    );
    expect(toolNamed(hub, "picky__echo").requiresApproval).toBe(true);
    expect(toolNamed(hub, "picky__get-sum").requiresApproval).toBe(false);
    expect(hub.tools().filter((t) => t.source === "strict").every((t) => t.requiresApproval)).toBe(true);

    expect(new Set(hub.tools({ servers: ["strict"] }).map((t) => t.source))).toEqual(new Set(["strict"]));
    expect(hub.tools({ servers: [] })).toEqual([]);
    expect(hub.tools({ servers: ["off"] })).toEqual([]);

    const status = hub.status();
    expect(status.map((s) => [s.name, s.state])).toEqual([
      ["picky", "connected"],
      ["strict", "connected"],
      ["off", "disabled"],
    ]);
    expect(status[2]).not.toHaveProperty("pid");
    expect(status[0]!.tools.find((t) => t.mcpName === "echo")).toEqual({
      name: "picky__echo",
      mcpName: "echo",
      description: "Echoes back the input string",
      requiresApproval: true,
    });
  });

  it("tells listeners about changes and closes its servers", async () => {
    const hub = createMcpHub(configOf({ every: everythingServer() }), { shutdownGraceMs: 500 });
    hubs.push(hub);
    let changes = 0;
    hub.onChange(() => changes++);
    await hub.ready();
    expect(changes).toBeGreaterThan(0);
    const pid = hub.status()[0]!.pid!;
    expect(isAlive(pid)).toBe(true);
    await hub.close();
    expect(isAlive(pid)).toBe(false);
    expect(hub.tools()).toEqual([]);
  });
});

describe("a run over the Ollama simulator with MCP tools", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ tokenDelayMs: 0 });
  });
  afterAll(async () => sim.close());

  it("offers the server's schema to the model and sends back the tool's text first", async () => {
    const hub = await startHub(configOf({ every: everythingServer() }));
    sim.addScenario({
      name: "mcp-tools",
      match: { lastUserIncludes: "use the tools" },
      respond: (req) =>
        req.messages.some((m) => m["role"] === "tool")
          ? [{ content: "Done." }, { done: true }]
          : [
              {
                toolCalls: [
                  { name: "every__echo", arguments: { message: "hi" } },
                  { name: "every__get-tiny-image", arguments: {} },
                ],
              },
              { done: true },
            ],
    });
    const run = runChat({
      model: createOllamaModel({ baseUrl: sim.url }),
      modelName: "llama3.2",
      conversationId: "c1",
      runId: "r1",
      messages: [{ role: "user", content: "Please use the tools" }],
      tools: hub.tools(),
    });
    const events: ChatEvent[] = [];
    for await (const event of run) events.push(event);
    expect(events.at(-1)).toMatchObject({ type: "done", reason: "stop" });

    const [first, second] = sim.chatRequests().slice(-2).map((r) => r.body as { tools?: Array<{ function: { name: string; parameters: unknown } }>; messages: Array<Record<string, unknown>> });
    const offered = first!.tools!.find((t) => t.function.name === "every__echo");
    expect(offered!.function.parameters).toEqual(toolNamed(hub, "every__echo").parameters);

    const toolMessages = second!.messages.filter((m) => m["role"] === "tool").map((m) => m["content"] as string);
    expect(toolMessages).toHaveLength(2);
    expect(toolMessages).toContain("Echo: hi");
    const imageMessage = toolMessages.find((m) => m.startsWith("Here's the image you requested:"));
    expect(imageMessage).toBeDefined();
    expect(imageMessage!.length).toBeLessThan(300);

    const imageResult = events.find((e) => e.type === "tool-result" && e.name === "every__get-tiny-image");
    expect(imageResult).toMatchObject({ ok: true, result: { content: expect.arrayContaining([expect.objectContaining({ type: "image" })]) } });
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
