import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createServer as createHttpServer } from "node:http";
import { buildServer, redactUrl, type ApiServer } from "./app.js";
import type { LocalServer } from "./provider.js";
import { loadConfig } from "./config.js";
import { startSimulator } from "@streamchat/ollama-sim";
import type { ChatStore, EventBatcherStats } from "@streamchat/store";
import { collectRun, makeClient, startTestApi, testBackend, type TestApi } from "./test-support/harness.js";

const batcherStats = (api: TestApi) => (api.server.store as ChatStore & { stats(): EventBatcherStats }).stats();

describe("the event log's commit interval (EVENT_FLUSH_MS)", () => {
  it("is 100 ms unless set, and the store of either database is opened with the one set", async () => {
    const plain = await startTestApi();
    const set = await startTestApi({ env: { EVENT_FLUSH_MS: "37" } });
    try {
      expect(batcherStats(plain).flushIntervalMs).toBe(100);
      expect(batcherStats(set).flushIntervalMs).toBe(37);
      // And the run's events do get committed: the answer is in the log another process reads.
      const client = set.client();
      const { runId } = await client.chat.send.mutate({ message: "hello" });
      await collectRun(client, runId);
      const other = await set.data.openStore();
      try {
        expect((await other.readEvents(runId)).at(-1)?.event.type).toBe("done");
      } finally {
        await other.close();
      }
    } finally {
      await Promise.all([plain.close(), set.close()]);
    }
  });
});

describe("health and models", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api?.close());

  it("reports provider, store and version", async () => {
    const health = await api.client().health.query();
    expect(health).toEqual({
      ok: true,
      provider: "ollama",
      demo: true,
      providerReachable: true,
      providerVersion: expect.any(String),
      store: { kind: testBackend, ok: true },
      version: "0.1.0",
      limits: { maxImportBytes: 10 * 1024 * 1024, maxImageBytes: 5 * 1024 * 1024, maxFileChars: 100_000, maxFilesPerMessage: 8, maxContextTokens: 32_768 },
    });
  });

  it("lists the provider's models with the default model", async () => {
    const models = await api.client().models.list.query();
    expect(models).toMatchObject({ provider: "ollama", demo: true, defaultModel: "demo" });
    expect(models.models.map((m) => m.name)).toContain("demo");
    expect(models.models.find((m) => m.name === "demo")?.capabilities).toContain("tools");
  });

  it("hides the simulator's fault models from the picker", async () => {
    const names = (await api.client().models.list.query()).models.map((m) => m.name);
    expect(names).toEqual(["demo", "llama3.2", "qwen3", "gemma3"]);
  });

  it("lists the fault models with SIM_SHOW_FAULT_MODELS=1 (tests)", async () => {
    const shown = await startTestApi({ env: { SIM_SHOW_FAULT_MODELS: "1" } });
    try {
      const names = (await shown.client().models.list.query()).models.map((m) => m.name);
      expect(names).toEqual(expect.arrayContaining(["demo", "sim-error-mid-stream", "sim-no-thinking"]));
    } finally {
      await shown.close();
    }
  });

  it("hides unexpected failures behind a generic message with appCode internal", async () => {
    const store = api.server.store;
    const original = store.listConversations.bind(store);
    store.listConversations = async () => {
      throw new Error("SQLITE_CORRUPT: database disk image is malformed at /work/secret/path.db");
    };
    try {
      const res = await fetch(`${api.url}/trpc/conversations.list`);
      expect(res.status).toBe(500);
      const raw = await res.text();
      expect(raw).not.toMatch(/SQLITE|secret|stack|\.ts:/);
      expect(JSON.parse(raw)).toMatchObject({
        error: { message: "Something went wrong on the server.", data: { code: "INTERNAL_SERVER_ERROR", appCode: "internal" } },
      });
    } finally {
      store.listConversations = original;
    }
  });

  it("answers unknown API paths with JSON 404s and no stack traces", async () => {
    const rest = await fetch(`${api.url}/api/nope`);
    expect(rest.status).toBe(404);
    expect(await rest.json()).toEqual({ error: "Not found", code: "not_found" });
    const trpc = await fetch(`${api.url}/trpc/nope.nothing`);
    expect(trpc.status).toBe(404);
    const body = JSON.stringify(await trpc.json());
    expect(body).not.toMatch(/stack|\/work\/|node_modules/);
  });
});

describe("HTTP surface", () => {
  let server: ApiServer | undefined;
  let dir: string;
  let logs: string[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "streamchat-app-"));
    mkdirSync(join(dir, "web", "assets"), { recursive: true });
    writeFileSync(join(dir, "web", "index.html"), "<!doctype html><title>streamchat</title>");
    writeFileSync(join(dir, "web", "assets", "app.js"), "console.log('hi')");
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function start(env: Record<string, string> = {}, options: { listen?: boolean; localServers?: LocalServer[] } = {}) {
    logs = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(...chunk.toString().split("\n").filter(Boolean));
        done();
      },
    });
    const config = loadConfig({
      PORT: "0",
      CHAT_PROVIDER: "sim",
      DATABASE_PATH: ":memory:",
      MAX_BODY_BYTES: "2048",
      ...env,
    });
    server = await buildServer({
      config,
      logger: { stream },
      webDistDir: join(dir, "web"),
      simulator: { tokenDelayMs: 1 },
      ...(options.localServers ? { localServers: options.localServers } : {}),
    });
    return options.listen === false ? "" : server.listen();
  }

  it("serves the web app with a strict CSP and falls back to index.html for client routes", async () => {
    const url = await start();
    const index = await fetch(`${url}/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain("<title>streamchat</title>");
    const csp = index.headers.get("content-security-policy") ?? "";
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      "connect-src 'self'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(index.headers.get("x-content-type-options")).toBe("nosniff");

    expect(index.headers.get("cache-control")).toBe("no-cache");
    const asset = await fetch(`${url}/assets/app.js`);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    const route = await fetch(`${url}/c/some-conversation`);
    expect(route.status).toBe(200);
    expect(await route.text()).toContain("<title>streamchat</title>");
    const missing = await fetch(`${url}/assets/missing.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "Not found", code: "not_found" });
    // No CORS headers unless CORS_ORIGINS allows an origin.
    const cross = await fetch(`${url}/api/chat`, { method: "OPTIONS", headers: { origin: "http://evil.example", "access-control-request-method": "POST" } });
    expect(cross.headers.get("access-control-allow-origin")).toBeNull();
    expect(cross.status).toBe(404);
    expect(await cross.json()).toEqual({ error: "Not found", code: "not_found" });
  });

  it("allows the origins in CORS_ORIGINS", async () => {
    const url = await start({ CORS_ORIGINS: "http://localhost:5173" });
    const preflight = await fetch(`${url}/trpc/chat.send`, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:5173", "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
  });

  it("answers a failing route with a generic 500 JSON", async () => {
    await start({}, { listen: false });
    server!.app.get("/api/boom", () => {
      throw new Error("ENOENT: /work/secret/file");
    });
    const url = await server!.listen();
    const res = await fetch(`${url}/api/boom`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: "Something went wrong on the server.", code: "internal" });
  });

  it("answers a too large body with 413 JSON naming the route's limit", async () => {
    const url = await start({ MAX_IMAGE_BYTES: "1024", MAX_FILE_CHARS: "1" });
    const post = (path: string, body: string) => fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const res = await post("/api/chat", JSON.stringify({ message: "x".repeat(9000) }));
    expect(res.status).toBe(413);
    // 4 images of 1024 bytes as base64, 8 files of one character as JSON (6 bytes at most), plus MAX_BODY_BYTES.
    expect(await res.json()).toEqual({ error: "Request body is too large (at most 7558 bytes).", code: "bad_request" });
    const rename = await post("/trpc/conversations.rename", JSON.stringify({ conversationId: "c", title: "x".repeat(3000) }));
    expect(rename.status).toBe(413);
    // On /trpc in tRPC's error shape (its clients show the message).
    expect(await rename.json()).toEqual({
      error: {
        code: -32013,
        message: "Request body is too large (at most 2048 bytes).",
        data: { code: "PAYLOAD_TOO_LARGE", httpStatus: 413, appCode: "bad_request" },
      },
    });
  });

  it("runs on the in-process simulator as the demo model", async () => {
    const url = await start();
    expect(server?.sim).toBeDefined();
    const client = makeClient(url);
    expect(await client.models.list.query()).toMatchObject({ provider: "sim", demo: true, defaultModel: "demo" });
    expect(await client.health.query()).toMatchObject({ provider: "sim", demo: true, store: { kind: "memory", ok: true } });
    // The run says so too (the simulator speaks Ollama's protocol, but it is not an Ollama).
    const { runId } = await client.chat.send.mutate({ message: "hello" });
    const received = await collectRun(client, runId);
    expect(received[0]?.event).toMatchObject({ type: "run-start", provider: "sim", model: "demo" });
    expect((await server?.store.getRun(runId))?.provider).toBe("sim");
  });

  it("the built-in simulator offers the vision and think-level models in the picker, with their capabilities", async () => {
    const url = await start();
    const { models } = await makeClient(url).models.list.query();
    expect(models.map((m) => m.name)).toEqual(["demo", "llama3.2", "qwen3", "gemma3", "demo-vision", "llava", "gpt-oss", "gemma2"]);
    const byName = new Map(models.map((m) => [m.name, m]));
    expect(byName.get("demo-vision")).toMatchObject({ capabilities: expect.arrayContaining(["vision"]), contextLength: 131_072, loaded: true });
    expect(byName.get("llava")).toMatchObject({ capabilities: ["completion", "vision"], contextLength: 4096 });
    expect(byName.get("gpt-oss")).toMatchObject({ capabilities: expect.arrayContaining(["thinking"]), thinkLevels: ["low", "medium", "high"] });
    expect(byName.get("qwen3")?.thinkLevels).toBeUndefined();
    expect(byName.get("gemma2")?.contextLength).toBe(8192);
  });

  it("runs on the built-in simulator know the model's capabilities and window (named as the sim provider)", async () => {
    const client = makeClient(await start());
    const answer = await client.chat.complete.mutate({ message: "explain streams", model: "qwen3", think: "high" });
    // qwen3 thinks on/off only: the level goes as true, which only a run that read /api/show knows.
    expect((server?.sim?.chatRequests().at(-1)?.body as { think?: unknown }).think).toBe(true);
    expect(answer.usage.context).toMatchObject({ contextLength: 40_960, limitTokens: 32_768 });
  });

  it("logs one line per run without message contents, and no credentials", async () => {
    const url = await start({ AUTH_TOKENS: "alice:alice-token-1" });
    const client = makeClient(url, "alice-token-1");
    const { runId } = await client.chat.send.mutate({ message: "a very private question" });
    await collectRun(client, runId);
    await fetch(`${url}/trpc/health?connectionParams=${encodeURIComponent('{"token":"alice-token-1"}')}`);
    await server?.close();
    const runLines = logs.filter((l) => l.includes('"run finished"'));
    expect(runLines).toHaveLength(1);
    expect(JSON.parse(runLines[0]!)).toMatchObject({
      runId,
      model: "demo",
      outcome: "stop",
      tokens: expect.any(Number),
      durationMs: expect.any(Number),
    });
    const all = logs.join("\n");
    expect(all).not.toContain("a very private question");
    expect(all).not.toContain("alice-token-1");
  });

  it("warns once per model when a model server leaves reasoning in the answer with no opening marker", async () => {
    // vLLM without a reasoning parser, serving an R1 distill whose template opened <think> in the prompt.
    const sim = await startSimulator({ tokenDelayMs: 0 });
    try {
      sim.addScenario({ name: "opened by template", match: { model: "r1-distill" }, chunks: [{ content: "The user greets me.\n</think>\n\nHello!" }, { done: true }] });
      sim.addScenario({ name: "plain", match: { model: "plain" }, chunks: [{ content: "Write </think> after <think>." }, { done: true }] });
      const url = await start({ CHAT_PROVIDER: "openai", OPENAI_BASE_URL: `${sim.url}/v1`, CHAT_MODEL: "r1-distill", GENERATE_TITLES: "0" });
      const client = makeClient(url);
      for (const model of ["r1-distill", "r1-distill", "plain"]) {
        const { runId } = await client.chat.send.mutate({ message: "hi", model });
        await collectRun(client, runId);
      }
      await server?.close();
      const warnings = logs.map((line) => JSON.parse(line) as { msg: string; model?: string; marker?: string }).filter((l) => l.msg.includes("reasoning parser"));
      expect(warnings).toEqual([expect.objectContaining({ model: "r1-distill", marker: "</think>" })]);
    } finally {
      await sim.close();
    }
  });

  const freePort = () =>
    new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });

  /** An HTTP server on a free port answering every request with `answer`'s status, type and body. */
  async function fakeServer(answer: (path: string) => { status: number; type: string; body: string }) {
    const http = createHttpServer((req, res) => {
      const { status, type, body } = answer(req.url ?? "/");
      res.writeHead(status, { "content-type": type });
      res.end(body);
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const { port } = http.address() as { port: number };
    return { baseUrl: `http://127.0.0.1:${port}/v1`, close: () => new Promise<void>((resolve) => http.close(() => resolve())) };
  }

  it("falls back to the simulator when no Ollama, LM Studio or llama.cpp answers (auto)", async () => {
    const closedPort = await freePort();
    const nothing = [{ name: "LM Studio", baseUrl: `http://127.0.0.1:${await freePort()}/v1`, owner: "organization_owner" }];
    await start({ CHAT_PROVIDER: "auto", OLLAMA_HOST: `http://127.0.0.1:${closedPort}` }, { localServers: nothing });
    expect(server?.provider).toMatchObject({ kind: "sim", demo: true, defaultModel: "demo" });
    expect(
      logs.some((l) => l.includes(`No Ollama at http://127.0.0.1:${closedPort}/, nor LM Studio or llama.cpp on this machine: using the built-in Ollama-protocol simulator (demo model)`)),
    ).toBe(true);
  });

  it("without Ollama, auto uses a llama.cpp or LM Studio server it finds, and not something else on their port", async () => {
    // A development web server where LM Studio would be: a 200 page, not a model list.
    const web = await fakeServer(() => ({ status: 200, type: "text/html", body: "<!doctype html><title>my app</title>" }));
    const llama = await fakeServer((path) =>
      path === "/v1/models"
        ? { status: 200, type: "application/json", body: JSON.stringify({ object: "list", data: [{ id: "qwen3-8b", object: "model", owned_by: "llamacpp" }] }) }
        : { status: 404, type: "application/json", body: JSON.stringify({ error: { code: 404, message: "File Not Found" } }) },
    );
    try {
      const closedPort = await freePort();
      await start(
        { CHAT_PROVIDER: "auto", OLLAMA_HOST: `http://127.0.0.1:${closedPort}` },
        {
          localServers: [
            { name: "LM Studio", baseUrl: web.baseUrl, owner: "organization_owner" },
            { name: "llama.cpp", baseUrl: llama.baseUrl, owner: "llamacpp" },
          ],
        },
      );
      expect(server?.provider).toMatchObject({ kind: "openai", demo: false, baseUrl: llama.baseUrl, defaultModel: "qwen3-8b" });
      expect(logs.some((l) => l.includes(`No Ollama at http://127.0.0.1:${closedPort}/: using llama.cpp at ${llama.baseUrl}`))).toBe(true);
    } finally {
      await server?.close();
      server = undefined;
      await Promise.all([web.close(), llama.close()]);
    }
  });
});

describe("requests refused before any route", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ env: { CORS_ORIGINS: "http://app.example.test" } });
  });
  afterAll(() => api?.close());

  /** Writes `requests` on one connection and resolves with everything the server sent until it closed. */
  function exchange(...requests: string[]): Promise<string> {
    return new Promise((resolve) => {
      const socket = connect(Number(new URL(api.url).port), "127.0.0.1");
      let received = "";
      socket.on("data", (chunk: Buffer) => (received += chunk.toString("utf8")));
      socket.on("error", () => {});
      socket.on("close", () => resolve(received));
      socket.write(requests.join(""));
    });
  }

  /** The last response of an exchange: its status, headers (lowercase) and JSON body. */
  function lastAnswer(received: string) {
    const start = received.lastIndexOf("HTTP/1.1 ");
    const headEnd = received.indexOf("\r\n\r\n", start);
    const [statusLine = "", ...lines] = received.slice(start, headEnd).split("\r\n");
    const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
    return { status: Number(statusLine.split(" ")[1]), headers, body: JSON.parse(received.slice(headEnd + 4)) as unknown };
  }

  it("answers what Node's HTTP parser refuses in the API's error shape, with Connection: close", async () => {
    const cases: Array<[string, number, RegExp]> = [
      [`GET /trpc/health HTTP/1.1\r\nhost: localhost\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`, 431, /^Request headers are too large \(at most \d+ bytes in all\): send fewer or smaller headers/],
      ["GARBAGE\r\n\r\n", 400, /^Malformed HTTP request \(.+\): check the request line and headers\.$/],
      ["GET /trpc/health HTTP/1.1\r\nhost: localhost\r\nno colon here\r\n\r\n", 400, /^Malformed HTTP request/],
    ];
    for (const [request, status, message] of cases) {
      const answer = lastAnswer(await exchange(request));
      const what = request.slice(0, 40);
      expect(answer.status, what).toBe(status);
      expect(answer.headers["connection"], what).toBe("close");
      expect(answer.headers["content-type"], what).toBe("application/json; charset=utf-8");
      // The shape of every other error: a message and a typed code, nothing else (Fastify's had statusCode, no code).
      expect(answer.body, what).toEqual({ error: expect.stringMatching(message), code: "bad_request" });
    }
  });

  it("answers URLs Fastify's router refuses (broken percent-encoding, a path segment too long) in the API's error shape", async () => {
    const cases: Array<[string, number, string]> = [
      ["/api/%E0%A4%A", 400, "The URL is not valid (broken percent-encoding?): check the request path."],
      [`/trpc/${"health,".repeat(1000)}health?batch=1`, 414, "The URL path is too long: shorten it (for a tRPC batch, send fewer calls at a time)."],
    ];
    for (const [path, status, error] of cases) {
      const res = await fetch(`${api.url}${path}`);
      expect(res.status, path.slice(0, 30)).toBe(status);
      // Fastify's own answer echoed the path and had FST_ERR_* codes.
      expect(await res.json()).toEqual({ error, code: "bad_request" });
    }
  });

  it("answers a malformed request after a good one on the same connection, after the first's answer", async () => {
    const received = await exchange("GET /trpc/health HTTP/1.1\r\nhost: localhost\r\n\r\n", "G@T / HTTP/1.1\r\nhost: localhost\r\n\r\n");
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    const answer = lastAnswer(received);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: "bad_request" });
  });

  it("answers a malformed chunked body at once, and closes the connection its request was waiting on", async () => {
    const head = "POST /api/chat HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    const answer = lastAnswer(await exchange(`${head}5\r\n{"mes\r\nzz\r\n`));
    expect(answer.status).toBe(400);
    expect(answer.headers["connection"]).toBe("close");
    expect(answer.body).toEqual({ error: expect.stringMatching(/^Malformed HTTP request/), code: "bad_request" });
  });

  it("answers an OPTIONS request that is no CORS preflight with a JSON 400, and preflights as before", async () => {
    for (const headers of [{}, { origin: "http://app.example.test" }, { "access-control-request-method": "POST" }]) {
      const res = await fetch(`${api.url}/api/chat`, { method: "OPTIONS", headers });
      expect(res.status, JSON.stringify(headers)).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({
        error: "OPTIONS is only answered as a CORS preflight: send Origin and Access-Control-Request-Method.",
        code: "bad_request",
      });
    }
    const preflight = await fetch(`${api.url}/trpc/chat.send`, {
      method: "OPTIONS",
      headers: { origin: "http://app.example.test", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://app.example.test");
  });
});

describe("redactUrl", () => {
  it("hides connectionParams and token query values", () => {
    expect(redactUrl("/trpc/chat.events?input=%7B%7D&connectionParams=%7B%22token%22%3A%22s%22%7D")).toBe(
      "/trpc/chat.events?input=%7B%7D&connectionParams=[redacted]",
    );
    expect(redactUrl("/x?token=abc&y=1")).toBe("/x?token=[redacted]&y=1");
  });
});

describe("OpenAI-compatible provider", () => {
  it("answers through /v1/chat/completions, tools included", async () => {
    const api = await startTestApi({ env: (sim) => ({ CHAT_PROVIDER: "openai", OPENAI_BASE_URL: `${sim.url}/v1` }) });
    try {
      const client = api.client();
      const { runId } = await client.chat.send.mutate({ message: "what time is it in Tokyo?" });
      const received = await collectRun(client, runId);
      expect(received[0]?.event).toMatchObject({ type: "run-start", provider: "openai", model: "demo" });
      expect(received.find((r) => r.event.type === "tool-call")?.event).toMatchObject({
        name: "current_time",
        args: { timeZone: "Asia/Tokyo" },
      });
      expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
      expect(api.sim.chatRequests().every((r) => r.path === "/v1/chat/completions")).toBe(true);
      expect(await client.health.query()).toMatchObject({ provider: "openai", demo: false });
    } finally {
      await api.close();
    }
  });
});
