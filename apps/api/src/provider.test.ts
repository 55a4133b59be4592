import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { startSimulator } from "@streamchat/ollama-sim";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { buildServer, type ApiServer } from "./app.js";
import { loadConfig } from "./config.js";
import { loggableUrl, probeOllama } from "./provider.js";
import { collectRun, makeClient } from "./test-support/harness.js";

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("an unreachable model server", () => {
  let server: ApiServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("is reported to users without its address, which goes to the server log", async () => {
    const port = await closedPort();
    const logs: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(...chunk.toString().split("\n").filter(Boolean));
        done();
      },
    });
    const config = loadConfig({
      PORT: "0",
      CHAT_PROVIDER: "ollama",
      OLLAMA_HOST: `http://127.0.0.1:${port}`,
      DATABASE_PATH: ":memory:",
    });
    server = await buildServer({ config, logger: { stream }, webDistDir: null });
    const url = await server.listen();
    const client = makeClient(url);

    const { runId } = await client.chat.send.mutate({ message: "anyone there?" });
    const received = await collectRun(client, runId);
    const error = received.find((r) => r.event.type === "error")?.event;
    expect(error).toMatchObject({ code: "provider_unavailable", message: "Cannot reach the model server (ECONNREFUSED). Is it running?" });

    const complete = await client.chat.complete.mutate({ message: "still there?" }).catch((e: unknown) => e);
    const rest = await fetch(`${url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hello?" }),
    });
    const stored = await client.conversations.list.query();
    const visible = JSON.stringify([received, String(complete), await rest.text(), stored]);
    expect(visible).toContain("Cannot reach the model server");
    expect(visible).not.toContain(String(port));
    expect(visible).not.toContain("127.0.0.1");

    const unreachable = logs.map((l) => JSON.parse(l) as { msg?: string; url?: string; code?: string }).filter((l) => l.msg === "model server unreachable");
    expect(unreachable).toContainEqual(expect.objectContaining({ url: `http://127.0.0.1:${port}/api/chat`, code: "ECONNREFUSED" }));
  });
});

describe("loggableUrl", () => {
  it("drops credentials a URL carries", () => {
    expect(loggableUrl("http://user:secret@ollama.internal:11434/api/chat")).toBe("http://ollama.internal:11434/api/chat");
    expect(loggableUrl("not a url")).toBe("[invalid URL]");
  });
});

describe("what answers at OLLAMA_HOST", () => {
  /** Ollama's /api/version as Ollama sends it: no word of being anything else. */
  async function fakeOllama(): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createHttpServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
      res.end('{"version":"0.13.0"}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  async function started(ollamaHost: string, provider: Record<string, string> = { CHAT_PROVIDER: "ollama" }) {
    const logs: Array<{ level: number; msg?: string }> = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split("\n").filter(Boolean)) logs.push(JSON.parse(line) as { level: number; msg?: string });
        done();
      },
    });
    const config = loadConfig({ PORT: "0", OLLAMA_HOST: ollamaHost, DATABASE_PATH: ":memory:", ...provider });
    const server = await buildServer({ config, logger: { stream }, webDistDir: null });
    const health = await makeClient(await server.listen()).health.query();
    await server.close();
    return { demo: health.demo, logs };
  }

  it("tells the simulator from Ollama, and labels the simulator's answers as the demo's", async () => {
    const sim = await startSimulator({ port: 0, host: "127.0.0.1" });
    const ollama = await fakeOllama();
    try {
      expect(await probeOllama(sim.url)).toBe("simulator");
      expect(await probeOllama(ollama.url)).toBe("ollama");
      expect(await probeOllama(`http://127.0.0.1:${await closedPort()}`)).toBe("none");

      const onSim = await started(sim.url);
      expect(onSim.demo).toBe(true);
      expect(onSim.logs).toContainEqual(expect.objectContaining({ level: 40, msg: "Using the Ollama-protocol simulator at OLLAMA_HOST (demo model), not Ollama" }));
      const onOllama = await started(ollama.url);
      expect(onOllama.demo).toBe(false);
      expect(onOllama.logs).toContainEqual(expect.objectContaining({ msg: "Using Ollama" }));
    } finally {
      await Promise.all([sim.close(), ollama.close()]);
    }
  });

  it("warns at start-up when nothing answers there yet (and at OPENAI_BASE_URL)", async () => {
    const { demo, logs } = await started(`http://127.0.0.1:${await closedPort()}`);
    expect(demo).toBe(false);
    expect(logs.find((l) => l.msg?.startsWith("No Ollama answers at http://127.0.0.1:"))).toMatchObject({ level: 40 });
    const openai = await started("", { CHAT_PROVIDER: "openai", OPENAI_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1` });
    expect(openai.logs.find((l) => l.msg?.startsWith("No answer from the model server at http://127.0.0.1:"))).toMatchObject({ level: 40 });
    const sim = await startSimulator({ port: 0, host: "127.0.0.1" });
    try {
      const answering = await started("", { CHAT_PROVIDER: "openai", OPENAI_BASE_URL: `${sim.url}/v1` });
      expect(answering.logs.filter((l) => l.level >= 40)).toEqual([]);
    } finally {
      await sim.close();
    }
  });
});
