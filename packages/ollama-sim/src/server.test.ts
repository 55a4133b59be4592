import { request } from "node:http";
import { connect } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startSimulator } from "./server.js";
import { allTools, chatLines, contentOf, parseLines, postJson, rawRequest, user } from "./test-support/http.js";
import type { Simulator } from "./types.js";

let sim: Simulator;

beforeEach(async () => {
  sim = await startSimulator({ tokenDelayMs: 0 });
});
afterEach(async () => {
  await sim.close();
});

const createdAtPattern = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

describe("plain endpoints", () => {
  it("GET / says Ollama is running and /api/version reports a version", async () => {
    const root = await rawRequest(sim.url, "/");
    expect(root.status).toBe(200);
    expect(root.text).toBe("Ollama is running");
    const version = await rawRequest(sim.url, "/api/version");
    expect(JSON.parse(version.text)).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
  });

  it("GET /api/tags has Ollama's exact shape and no capabilities", async () => {
    const res = await rawRequest(sim.url, "/api/tags");
    const body = JSON.parse(res.text) as { models: Array<Record<string, unknown>> };
    const names = body.models.map((m) => m["name"]);
    expect(names.slice(0, 4)).toEqual(["demo", "llama3.2", "qwen3", "gemma3"]);
    expect(names).toContain("sim-truncated");
    expect(names).toContain("sim-bench");
    expect(names).not.toContain("sim-not-found");
    for (const m of body.models) {
      expect(Object.keys(m).sort()).toEqual(["details", "digest", "model", "modified_at", "name", "size"]);
      expect(m["digest"]).toMatch(/^[0-9a-f]{64}$/);
      expect(m["size"]).toBeGreaterThan(0);
      expect(m["details"]).toEqual({
        format: "gguf",
        family: expect.any(String),
        families: [expect.any(String)],
        parameter_size: expect.stringMatching(/^\d+(\.\d)?B$/),
        quantization_level: "Q4_K_M",
      });
    }
  });

  it("POST /api/show lists capabilities, accepts :latest, 404s unknown models", async () => {
    const demo = await postJson(sim.url, "/api/show", { model: "demo" });
    expect(demo.status).toBe(200);
    expect(demo.json).toMatchObject({ capabilities: ["completion", "tools", "thinking"], details: { format: "gguf" }, model_info: expect.any(Object) });
    const gemma = await postJson(sim.url, "/api/show", { model: "gemma3:latest" });
    expect((gemma.json as { capabilities: string[] }).capabilities).toEqual(["completion"]);
    const llama = await postJson(sim.url, "/api/show", { name: "llama3.2" });
    expect((llama.json as { capabilities: string[] }).capabilities).toEqual(["completion", "tools"]);
    const noTools = await postJson(sim.url, "/api/show", { model: "sim-no-tools" });
    expect((noTools.json as { capabilities: string[] }).capabilities).toEqual(["completion", "thinking"]);
    const missing = await postJson(sim.url, "/api/show", { model: "nope" });
    expect(missing).toMatchObject({ status: 404, json: { error: "model 'nope' not found" } });
  });

  it("GET /api/ps lists every model when loading is instant (no loadDelayMs), /v1/models lists all", async () => {
    type Ps = { models: Array<{ name: string; expires_at: string; context_length: number }> };
    const ps = JSON.parse((await rawRequest(sim.url, "/api/ps")).text) as Ps;
    expect(ps.models.map((m) => m.name)).toEqual(expect.arrayContaining(["demo", "llama3.2", "qwen3", "gemma3", "gpt-oss", "sim-stall"]));
    expect(ps.models.find((m) => m.name === "demo")).toMatchObject({ context_length: 4096, expires_at: expect.stringMatching(/^\d{4}-/) });
    // The window a model ran with last is the one /api/ps reports.
    await chatLines(sim.url, { model: "qwen3", messages: user("hi"), options: { num_ctx: 8192 } });
    const after = JSON.parse((await rawRequest(sim.url, "/api/ps")).text) as Ps;
    expect(after.models.find((m) => m.name === "qwen3")?.context_length).toBe(8192);
    const v1 = JSON.parse((await rawRequest(sim.url, "/v1/models")).text) as { object: string; data: Array<{ id: string; object: string }> };
    expect(v1.object).toBe("list");
    expect(v1.data.map((m) => m.id).slice(0, 4)).toEqual(["demo", "llama3.2", "qwen3", "gemma3"]);
  });

  it("unknown paths are 404, wrong methods 405", async () => {
    expect((await rawRequest(sim.url, "/api/nope")).status).toBe(404);
    expect((await rawRequest(sim.url, "/api/chat")).status).toBe(405);
  });

  it("custom model lists replace the defaults but fault models still resolve", async () => {
    const custom = await startSimulator({ models: [{ name: "mine", capabilities: ["completion"] }], tokenDelayMs: 0 });
    try {
      const tags = JSON.parse((await rawRequest(custom.url, "/api/tags")).text) as { models: Array<{ name: string }> };
      expect(tags.models.map((m) => m.name)).toEqual(["mine"]);
      expect(contentOf(await chatLines(custom.url, { model: "mine", messages: user("hello") }))).toContain("Hello!");
      expect((await postJson(custom.url, "/api/chat", { model: "demo", messages: user("hi") })).status).toBe(404);
      const truncated = await chatLines(custom.url, { model: "sim-truncated", messages: user("hi") });
      expect(truncated.some((l) => l.done)).toBe(false);
    } finally {
      await custom.close();
    }
  });
});

describe("errors before streaming", () => {
  const cases: Array<[string, unknown, number, unknown]> = [
    ["unknown model", { model: "x", messages: user("hi") }, 404, { error: 'model "x" not found, try pulling it first' }],
    ["missing model", { messages: user("hi") }, 400, { error: "model is required" }],
    ["think on a model without thinking", { model: "llama3.2", think: true, messages: user("hi") }, 400, { error: '"llama3.2" does not support thinking' }],
    ["tools on a model without tools", { model: "gemma3", tools: allTools, messages: user("hi") }, 400, { error: '"gemma3" does not support tools' }],
    ["sim-not-found", { model: "sim-not-found", messages: user("hi") }, 404, { error: 'model "sim-not-found" not found, try pulling it first' }],
    ["sim-no-tools with tools", { model: "sim-no-tools", tools: allTools, messages: user("hi") }, 400, { error: '"sim-no-tools" does not support tools' }],
    ["sim-no-thinking with think", { model: "sim-no-thinking", think: true, messages: user("hi") }, 400, { error: '"sim-no-thinking" does not support thinking' }],
    ["[sim:not-found] tag", { model: "demo", messages: user("hi [sim:not-found]") }, 404, { error: 'model "demo" not found, try pulling it first' }],
    ["[sim:no-tools] tag with tools", { model: "demo", tools: allTools, messages: user("hi [sim:no-tools]") }, 400, { error: '"demo" does not support tools' }],
  ];
  it.each(cases)("%s", async (_name, body, status, json) => {
    const res = await postJson(sim.url, "/api/chat", body);
    expect(res.status).toBe(status);
    expect(res.contentType).toContain("application/json");
    expect(res.json).toEqual(json);
  });

  it("bad JSON is a 400 with an error message", async () => {
    const res = await rawRequest(sim.url, "/api/chat", "{not json");
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toEqual({ error: expect.any(String) });
    expect(sim.requests.at(-1)?.body).toBe("{not json");
  });

  it("fault models that only refuse tools/thinking answer normally without them", async () => {
    expect(contentOf(await chatLines(sim.url, { model: "sim-no-tools", messages: user("hello") }))).toContain("Hello!");
    expect(contentOf(await chatLines(sim.url, { model: "sim-no-thinking", think: false, messages: user("hello") }))).toContain("Hello!");
    expect(contentOf(await chatLines(sim.url, { model: "gemma3", messages: user("hello") }))).toContain("Hello!");
  });
});

describe("/api/chat streaming", () => {
  it("writes NDJSON lines with Ollama's fields and a final metrics line", async () => {
    const res = await rawRequest(sim.url, "/api/chat", { model: "demo", messages: user("hello") });
    expect(res.headers["content-type"]).toBe("application/x-ndjson");
    expect(res.text.endsWith("\n")).toBe(true);
    const lines = parseLines(res.text);
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      expect(line.model).toBe("demo");
      expect(line.created_at).toMatch(createdAtPattern);
      expect(line.message?.role).toBe("assistant");
      expect(typeof line.message?.content).toBe("string");
    }
    const last = lines.at(-1);
    expect(lines.slice(0, -1).every((l) => l.done === false)).toBe(true);
    expect(last).toMatchObject({ done: true, done_reason: "stop", message: { role: "assistant", content: "" } });
    for (const key of ["total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"]) {
      expect(Number.isInteger(last?.[key]) && (last?.[key] as number) > 0, key).toBe(true);
    }
    expect(last?.["eval_count"]).toBe(lines.length - 1);
    expect(last?.["total_duration"]).toBeGreaterThanOrEqual((last?.["load_duration"] as number) + (last?.["eval_duration"] as number));
  });

  it("writes a batch of lines as one HTTP chunk, or one chunk per line like Ollama (chunkPerLine)", async () => {
    const perLine = await startSimulator({ tokenDelayMs: 0, chunkPerLine: true });
    try {
      const batched = await httpChunks(sim.url, { model: "demo", messages: user("hello") });
      const ollamaLike = await httpChunks(perLine.url, { model: "demo", messages: user("hello") });
      // The same lines either way.
      expect(parseLines(ollamaLike.join("")).map((l) => l.message?.content)).toEqual(parseLines(batched.join("")).map((l) => l.message?.content));
      expect(ollamaLike.length).toBeGreaterThan(5);
      for (const chunk of ollamaLike) expect(chunk.match(/\n/g)?.length, chunk).toBe(1);
      expect(batched.length).toBeLessThan(ollamaLike.length);
      expect(batched.some((chunk) => (chunk.match(/\n/g)?.length ?? 0) > 1)).toBe(true);
    } finally {
      await perLine.close();
    }
  });

  it("stream:false returns one JSON object with the whole message, tool calls and metrics", async () => {
    const text = await postJson(sim.url, "/api/chat", { model: "demo", stream: false, messages: user("hello") });
    expect(text.contentType).toContain("application/json");
    expect(text.json).toMatchObject({
      model: "demo",
      created_at: expect.stringMatching(createdAtPattern),
      message: { role: "assistant", content: expect.stringContaining("Hello! I'm the offline **demo** model") },
      done: true,
      done_reason: "stop",
      eval_count: expect.any(Number),
      total_duration: expect.any(Number),
    });
    const tool = await postJson(sim.url, "/api/chat", { model: "demo", stream: false, tools: allTools, messages: user("What time is it in Paris?") });
    expect(tool.json).toMatchObject({
      done: true,
      message: { content: "", tool_calls: [{ id: expect.stringMatching(/^call_[a-z0-9]{8}$/), function: { index: 0, name: "current_time", arguments: { timeZone: "Europe/Paris" } } }] },
    });
  });

  it("stream:false on a mid-stream error is a 500 with the error; on a truncated stream the connection drops", async () => {
    const failed = await postJson(sim.url, "/api/chat", { model: "sim-error-mid-stream", stream: false, messages: user("hi") });
    expect(failed).toMatchObject({ status: 500, json: { error: "an error was encountered while running the model" } });
    await expect(rawRequest(sim.url, "/api/chat", { model: "sim-truncated", stream: false, messages: user("hi") })).rejects.toThrow();
  });
});

describe("request log and scenarios", () => {
  it("records every request in order with its parsed body", async () => {
    await rawRequest(sim.url, "/api/tags");
    const body = { model: "demo", messages: user("hello"), options: { temperature: 0 } };
    await chatLines(sim.url, body);
    await postJson(sim.url, "/v1/chat/completions", { model: "demo", messages: user("hello") });
    expect(sim.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /api/tags", "POST /api/chat", "POST /v1/chat/completions"]);
    expect(sim.requests.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(sim.chatRequests().map((r) => r.path)).toEqual(["/api/chat", "/v1/chat/completions"]);
    expect(sim.chatRequests()[0]?.body).toEqual(body);
    expect(sim.chatRequests()[0]?.scenario).toBe("demo");
    await sim.chatRequests()[0]?.finished;
    expect(sim.chatRequests()[0]?.clientClosedEarly).toBe(false);
  });

  it("custom scenarios win over built-ins, newest first, and clearScenarios removes them", async () => {
    sim.addScenario({ name: "first", match: { model: "*" }, chunks: [{ content: "one" }, { done: true }] });
    sim.addScenario({ name: "second", match: { lastUserIncludes: "magic" }, chunks: [{ content: "two" }, { done: true }] });
    expect(contentOf(await chatLines(sim.url, { model: "anything", messages: user("hi") }))).toBe("one");
    expect(contentOf(await chatLines(sim.url, { model: "demo", messages: user("the magic word") }))).toBe("two");
    expect(sim.chatRequests().map((r) => r.scenario)).toEqual(["first", "second"]);
    sim.clearScenarios();
    expect(contentOf(await chatLines(sim.url, { model: "demo", messages: user("hello") }))).toContain("Hello!");
  });

  it("a scenario with httpError answers that status and body", async () => {
    sim.addScenario({ name: "busy", match: { model: "demo" }, httpError: { status: 503, error: "server busy, please try again" } });
    const res = await postJson(sim.url, "/api/chat", { model: "demo", messages: user("hi") });
    expect(res).toMatchObject({ status: 503, json: { error: "server busy, please try again" } });
  });

  it("a scenario's respond() sees the request", async () => {
    sim.addScenario({ name: "echo", respond: (req) => [{ content: `${req.model}:${req.messages.length}:${req.tools?.length ?? 0}` }, { done: true }] });
    expect(contentOf(await chatLines(sim.url, { model: "m", tools: allTools, messages: user("hi") }))).toBe("m:1:3");
  });
});

describe("control()", () => {
  it("writes exactly what the test pushes, when it pushes it", async () => {
    const stream = sim.control({ model: "demo" });
    const res = await fetch(`${sim.url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "demo", messages: user("hi") }) });
    const record = await stream.connected;
    expect(record.path).toBe("/api/chat");
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const nextLine = async () => JSON.parse(decoder.decode((await reader.read()).value)) as { message: { content: string }; done: boolean };

    await stream.push({ content: "first" });
    expect(await nextLine()).toMatchObject({ message: { content: "first" }, done: false });
    await stream.push({ content: "second" });
    expect(await nextLine()).toMatchObject({ message: { content: "second" }, done: false });
    await stream.push({ done: true });
    expect(await nextLine()).toMatchObject({ done: true, done_reason: "stop", eval_count: 2 });
    expect((await reader.read()).done).toBe(true);
    await record.finished;
    expect(record.clientClosedEarly).toBe(false);
  });

  it("end() without done truncates; the next request is not controlled any more", async () => {
    const stream = sim.control();
    const pending = rawRequest(sim.url, "/api/chat", { model: "demo", messages: user("hello") });
    await stream.push({ content: "partial" });
    await stream.end();
    const lines = parseLines((await pending).text);
    expect(lines.map((l) => l.message?.content)).toEqual(["partial"]);
    expect(contentOf(await chatLines(sim.url, { model: "demo", messages: user("hello") }))).toContain("Hello!");
  });

  it("pushes raw bytes exactly, so a test can split a UTF-8 character across reads deterministically", async () => {
    const stream = sim.control();
    const line = Buffer.from('{"model":"demo","created_at":"2025-06-01T10:00:00.000000001Z","message":{"role":"assistant","content":"東"},"done":false}\n');
    const cut = line.indexOf(0xe6) + 1; // inside the 3-byte 東
    const chunks: Buffer[] = [];
    let gotFirst!: () => void;
    const first = new Promise<void>((resolve) => (gotFirst = resolve));
    const done = new Promise<void>((resolve) => {
      request(`${sim.url}/api/chat`, { method: "POST", agent: false }, (res) => {
        res.on("data", (c: Buffer) => {
          chunks.push(c);
          gotFirst();
        });
        res.on("end", resolve);
      }).end(JSON.stringify({ model: "demo", messages: user("hi") }));
    });
    await stream.connected;
    await stream.push({ raw: line.subarray(0, cut) });
    await first;
    await stream.push({ raw: line.subarray(cut) });
    await stream.end();
    await done;
    expect(chunks).toHaveLength(2);
    expect(chunks[0]?.at(-1)).toBe(0xe6);
    expect(Buffer.concat(chunks).equals(line)).toBe(true);
  });

  it("end() before any request withdraws the stream", async () => {
    const stream = sim.control();
    await stream.end();
    expect(contentOf(await chatLines(sim.url, { model: "demo", messages: user("hello") }))).toContain("Hello!");
    expect(sim.chatRequests()[0]?.scenario).toBe("demo");
  });

  it("matches by lastUserIncludes, so parallel tests can each drive their own stream", async () => {
    const a = sim.control({ lastUserIncludes: "[a]" });
    const b = sim.control({ lastUserIncludes: "[b]" });
    const pendingB = rawRequest(sim.url, "/api/chat", { model: "demo", messages: user("stream [b]") });
    const pendingA = rawRequest(sim.url, "/api/chat", { model: "demo", messages: user("stream [a]") });
    await Promise.all([a.connected, b.connected]);
    await b.push({ content: "bee" });
    await a.push({ content: "ay" });
    await a.push({ done: true });
    await b.push({ done: true });
    expect(contentOf(parseLines((await pendingA).text))).toBe("ay");
    expect(contentOf(parseLines((await pendingB).text))).toBe("bee");
  });

  it("closedByClient resolves when the client aborts, and later pushes write nothing", async () => {
    const stream = sim.control();
    const abort = new AbortController();
    const res = await fetch(`${sim.url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "demo", messages: user("hi") }), signal: abort.signal });
    const record = await stream.connected;
    await stream.push({ content: "one" });
    const reader = res.body!.getReader();
    await reader.read();
    abort.abort();
    await stream.closedByClient;
    await record.finished;
    expect(record.clientClosedEarly).toBe(true);
    await expect(stream.push({ content: "after" })).resolves.toBeUndefined();
    expect(sim.activeResponses()).toBe(0);
  });
});

describe("client abort", () => {
  it("marks clientClosedEarly and stops writing at once, even in the middle of a long delay", async () => {
    let pulled = 0;
    let stopped!: () => void;
    const generatorStopped = new Promise<void>((resolve) => (stopped = resolve));
    sim.addScenario({
      name: "counting",
      *respond() {
        try {
          pulled++;
          yield { content: "first " };
          pulled++;
          yield { content: "never written ", delayMs: 600_000 }; // only an aborted sleep gets past this
          pulled++;
          yield { done: true };
        } finally {
          stopped();
        }
      },
    });
    const received: Buffer[] = [];
    let req!: ReturnType<typeof request>;
    await new Promise<void>((resolve) => {
      req = request(`${sim.url}/api/chat`, { method: "POST", agent: false }, (res) => {
        res.on("data", (c: Buffer) => {
          received.push(c);
          resolve();
        });
      });
      req.on("error", () => undefined);
      req.end(JSON.stringify({ model: "demo", messages: user("hi") }));
    });
    const record = sim.chatRequests()[0]!;
    req.destroy();
    await record.finished;
    await generatorStopped;
    expect(record.clientClosedEarly).toBe(true);
    expect(pulled).toBe(2);
    expect(sim.activeResponses()).toBe(0);
    expect(parseLines(Buffer.concat(received).toString()).map((l) => l.message?.content)).toEqual(["first "]);
  });
});

describe("close()", () => {
  it("resolves with a stalled connection open and destroys it", async () => {
    const pending = rawRequest(sim.url, "/api/chat", { model: "sim-stall", messages: user("hi") });
    const settled = pending.then(
      () => "ended",
      () => "error",
    );
    while (sim.chatRequests().length === 0 || sim.activeResponses() === 0) await new Promise((r) => setTimeout(r, 5));
    expect(sim.openConnections()).toBe(1);
    await sim.close();
    expect(await settled).toBe("error");
    expect(sim.openConnections()).toBe(0);
    // afterEach closes again: close() must be safe to call twice
  });
});

/** The HTTP chunks of a streamed /api/chat answer, as the server framed them (read off a raw socket). */
async function httpChunks(url: string, body: Record<string, unknown>): Promise<string[]> {
  const { hostname, port } = new URL(url);
  const payload = JSON.stringify(body);
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `POST /api/chat HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`,
      );
    });
    const parts: Buffer[] = [];
    socket.on("data", (part: Buffer) => parts.push(part));
    socket.on("end", () => resolve(Buffer.concat(parts)));
    socket.on("error", reject);
  });
  let at = raw.indexOf("\r\n\r\n") + 4;
  expect(raw.subarray(0, at).toString("latin1")).toMatch(/transfer-encoding: chunked/i);
  const chunks: string[] = [];
  for (;;) {
    const lineEnd = raw.indexOf("\r\n", at);
    const size = parseInt(raw.subarray(at, lineEnd).toString("latin1"), 16);
    if (size === 0) return chunks;
    chunks.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size).toString("utf8"));
    at = lineEnd + 2 + size + 2;
  }
}
