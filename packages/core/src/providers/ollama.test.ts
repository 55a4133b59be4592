import type { ServerResponse } from "node:http";
import { startSimulator, simulatedOllamaVersion, type Simulator } from "@streamchat/ollama-sim";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ChatError } from "../errors.js";
import type { ChatModel, ModelCapabilities, ModelChunk } from "../model.js";
import { startHttpServer } from "../test-support/http.js";
import { ask, chunks, chunksTo, failure, joined } from "../test-support/provider-helpers.js";
import { joinedTextLimit } from "./joined-chunks.js";
import { createOllamaModel, fromOllamaLine } from "./ollama.js";

let sim: Simulator;
let model: ChatModel;

beforeAll(async () => {
  sim = await startSimulator({
    tokenDelayMs: 0,
    models: [
      { name: "llama3.2", capabilities: ["completion", "tools"] },
      { name: "qwen3", capabilities: ["completion", "tools", "thinking"] },
    ],
  });
  model = createOllamaModel({ baseUrl: sim.url });
});
afterEach(() => sim.clearScenarios());
afterAll(async () => {
  await sim.close();
});

describe("createOllamaModel — request", () => {
  it("maps every message kind, tools, think and options to Ollama's /api/chat body", async () => {
    sim.addScenario({ name: "req", match: { model: "m-req" }, chunks: [{ content: "ok" }, { done: true }] });
    await chunks(model, {
      model: "m-req",
      messages: [
        { role: "system", content: "sys" },
        { role: "user", content: "time?" },
        {
          role: "assistant",
          content: "",
          thinking: "use the tool",
          toolCalls: [{ id: "call_a1", name: "current_time", args: { timeZone: "Asia/Tokyo" } }],
        },
        { role: "tool", toolCallId: "call_a1", toolName: "current_time", content: '{"iso":"x"}' },
        { role: "assistant", content: "It is x." },
        { role: "user", content: "thanks" },
      ],
      tools: [{ name: "current_time", description: "time", parameters: { type: "object", properties: {} } }],
      think: false,
      options: { numPredict: 64, numCtx: 4096, temperature: 0.2, topP: 0.9, seed: 7 },
    });
    expect(sim.chatRequests().at(-1)?.body).toEqual({
      model: "m-req",
      stream: true,
      think: false,
      messages: [
        { role: "system", content: "sys" },
        { role: "user", content: "time?" },
        {
          role: "assistant",
          content: "",
          thinking: "use the tool",
          tool_calls: [{ id: "call_a1", function: { name: "current_time", arguments: { timeZone: "Asia/Tokyo" } } }],
        },
        { role: "tool", content: '{"iso":"x"}', tool_name: "current_time", tool_call_id: "call_a1" },
        { role: "assistant", content: "It is x." },
        { role: "user", content: "thanks" },
      ],
      tools: [{ type: "function", function: { name: "current_time", description: "time", parameters: { type: "object", properties: {} } } }],
      options: { num_predict: 64, num_ctx: 4096, temperature: 0.2, top_p: 0.9, seed: 7 },
    });
  });

  it("sends the configured headers", async () => {
    const server = await startHttpServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.end('{"message":{"role":"assistant","content":"hi"},"done":true}\n');
    });
    try {
      await chunks(createOllamaModel({ baseUrl: `${server.url}/`, headers: { "x-team": "a" } }), ask("x"));
      expect(server.requests[0]).toMatchObject({ method: "POST", path: "/api/chat", headers: { "x-team": "a", "content-type": "application/json" } });
    } finally {
      await server.close();
    }
  });
});

describe("createOllamaModel — response", () => {
  it("turns the final chunk's metrics from nanoseconds into milliseconds and keeps done_reason length", async () => {
    const done = {
      model: "m",
      message: { role: "assistant", content: "" },
      done: true,
      done_reason: "length",
      total_duration: 182242375,
      load_duration: 41295167,
      prompt_eval_count: 169,
      prompt_eval_duration: 24573166,
      eval_count: 15,
      eval_duration: 115959084,
    };
    sim.addScenario({ name: "metrics", match: { model: "m-metrics" }, chunks: [{ content: "x" }, { raw: `${JSON.stringify(done)}\n` }] });
    expect(await chunks(model, ask("m-metrics"))).toEqual([
      { type: "text", text: "x" },
      {
        type: "finish",
        reason: "length",
        metrics: { promptTokens: 169, completionTokens: 15, loadMs: 41.295167, evalMs: 115.959084, totalMs: 182.242375 },
      },
    ]);
  });

  it("generates ids for tool calls without one and parses string arguments (older servers)", async () => {
    const line = (calls: unknown[], done = false) => `${JSON.stringify({ message: { role: "assistant", content: "", tool_calls: calls }, done })}\n`;
    sim.addScenario({
      name: "old",
      match: { model: "m-old" },
      chunks: [
        { raw: line([{ function: { name: "a", arguments: { x: 1 } } }]) },
        { raw: line([{ function: { name: "b", arguments: '{"y":2}' } }]) },
        { raw: line([{ function: { name: "c", arguments: "{broken" } }], true) },
      ],
    });
    const out = await chunks(model, ask("m-old"));
    const calls = out.flatMap((c) => (c.type === "tool-call" ? [c.call] : []));
    expect(calls.map((c) => [c.name, c.args])).toEqual([
      ["a", { x: 1 }],
      ["b", { y: 2 }],
      ["c", "{broken"],
    ]);
    for (const call of calls) expect(call.id).toMatch(/^call_[a-z0-9]{8}$/);
    expect(new Set(calls.map((c) => c.id)).size).toBe(3);
    expect(calls[2]?.argsError).toMatch(/not valid JSON/);
    expect(out.at(-1)).toMatchObject({ type: "finish", reason: "stop" });
  });

  it("ignores content after the done line and reads the stream to its end", async () => {
    const line = (content: string, done: boolean) => `${JSON.stringify({ message: { role: "assistant", content }, done })}\n`;
    const ctl = sim.control({ model: "m-after" });
    const reading = chunks(model, ask("m-after"));
    await ctl.connected;
    await ctl.push({ raw: line("a", false) + line("", true) });
    await ctl.push({ raw: line("ignored", false) });
    await ctl.end();
    expect((await reading).map((c) => c.type)).toEqual(["text", "finish"]);
    const record = sim.chatRequests().at(-1)!;
    await record.finished;
    expect(record.clientClosedEarly).toBe(false);
  });

  it("joins the lines of one body chunk into one chunk per kind, counting its pieces; chunks apart stay apart", async () => {
    const line = (message: { content?: string; thinking?: string }) => `${JSON.stringify({ message: { role: "assistant", content: "", ...message }, done: false })}\n`;
    const ctl = sim.control({ model: "m-join" });
    const stream = model.stream(ask("m-join"))[Symbol.asyncIterator]();
    const first = stream.next();
    await ctl.connected;
    await ctl.push({ raw: line({ thinking: "a" }) + line({ thinking: "b" }) + line({ content: "c" }) + line({ content: "d" }) + line({ content: "e" }) });
    expect((await first).value).toEqual({ type: "reasoning", text: "ab", pieces: 2 });
    expect((await stream.next()).value).toEqual({ type: "text", text: "cde", pieces: 3 });
    // Read by now: the next line comes in a read of its own.
    const next = stream.next();
    await ctl.push({ content: "f" });
    expect((await next).value).toEqual({ type: "text", text: "f" });
    await ctl.push({ done: true });
    expect((await stream.next()).value).toMatchObject({ type: "finish" });
  });

  it("a joined chunk stops growing at joinedTextLimit: the next line starts a chunk of its own", async () => {
    const long = "x".repeat(10 * 1024);
    const line = (content: string) => `${JSON.stringify({ message: { role: "assistant", content }, done: false })}\n`;
    sim.addScenario({ name: "long-read", match: { model: "m-long-read" }, chunks: [{ raw: line(long) + line(long) + line(long) }, { done: true }] });
    const texts = (await chunks(model, ask("m-long-read"))).filter((c) => c.type === "text");
    expect(texts.map((c) => [c.text.length, c.pieces ?? 1])).toEqual([
      [2 * long.length, 2],
      [long.length, 1],
    ]);
    expect(joinedTextLimit).toBeLessThan(2 * long.length);
  });

  it("a failure line hands out the text of its read before it, then provider_error", async () => {
    const line = (content: string) => `${JSON.stringify({ message: { role: "assistant", content }, done: false })}\n`;
    sim.addScenario({ name: "fail-in-read", match: { model: "m-fail-read" }, chunks: [{ raw: `${line("x")}${line("y")}{"error":"boom"}\n${line("z")}` }] });
    const seen: ModelChunk[] = [];
    const reading = (async () => {
      for await (const chunk of model.stream(ask("m-fail-read"))) seen.push(chunk);
    })();
    const error = await failure(reading);
    expect(error.code).toBe("provider_error");
    expect(error.message).toContain("boom");
    expect(seen).toEqual([{ type: "text", text: "xy", pieces: 2 }]);
  });

  it("reads lines that carry `error: null` (a proxy's field on every line) as an answer, not as a failure", async () => {
    const line = (content: string, done: boolean) => `${JSON.stringify({ message: { role: "assistant", content }, done, error: null })}\n`;
    sim.addScenario({ name: "error-null", match: { model: "m-error-null" }, chunks: [{ raw: line("a", false) }, { raw: line("b", false) }, { raw: line("", true) }] });
    expect(joined(await chunks(model, ask("m-error-null")))).toEqual([
      { type: "text", text: "ab", pieces: 2 },
      { type: "finish", reason: "stop", metrics: {} },
    ]);
  });

  it("ends an answer whose done line came while the server keeps the body open, then closes that connection", async () => {
    const line = (content: string, done: boolean) => `${JSON.stringify({ message: { role: "assistant", content }, done })}\n`;
    for (const read of [chunks, chunksTo]) {
      const ctl = sim.control({ model: "m-held" });
      const reading = read(model, ask("m-held"));
      await ctl.connected;
      await ctl.push({ raw: line("a", false) + line("", true) });
      expect((await reading).map((c) => c.type)).toEqual(["text", "finish"]);
      await ctl.closedByClient;
    }
  });

  it("keeps a complete answer when junk follows the done line", async () => {
    const doneLine = JSON.stringify({ message: { role: "assistant", content: "" }, done: true });
    sim.addScenario({ name: "junk", match: { model: "m-junk" }, chunks: [{ content: "a" }, { raw: `${doneLine}\nnot json\n` }] });
    expect((await chunks(model, ask("m-junk"))).map((c) => c.type)).toEqual(["text", "finish"]);
  });

  it("reports a chunk of the wrong shape as provider_error", async () => {
    sim.addScenario({ name: "shape", match: { model: "m-shape" }, chunks: [{ raw: '{"message":{"content":42},"done":false}\n' }] });
    expect((await failure(chunks(model, ask("m-shape")))).code).toBe("provider_error");
  });

  it("aborting mid-stream rejects with cancelled and closes the connection", async () => {
    const ctl = sim.control({ model: "m-abort" });
    const abort = new AbortController();
    const seen: ModelChunk[] = [];
    const reading = (async () => {
      for await (const chunk of model.stream(ask("m-abort"), { signal: abort.signal })) {
        seen.push(chunk);
        if (seen.length === 1) abort.abort();
      }
    })();
    await ctl.connected;
    await ctl.push({ content: "one" });
    expect((await failure(reading)).code).toBe("cancelled");
    await ctl.closedByClient;
  });

  it("an already aborted signal rejects with cancelled before any request", async () => {
    const before = sim.chatRequests().length;
    expect((await failure(chunks(model, ask("demo"), AbortSignal.abort()))).code).toBe("cancelled");
    expect(sim.chatRequests().length).toBe(before);
  });
});

describe("createOllamaModel — HTTP errors", () => {
  it.each([
    [404, 'model "x" not found, try pulling it first', "model_not_found"],
    [400, '"x" does not support thinking', "model_unsupported"],
    [400, "model is required", "bad_request"],
    [401, "unauthorized", "unauthorized"],
    [429, "too many requests", "rate_limited"],
    [500, "llama runner process has terminated", "provider_error"],
    [503, "server busy, please try again. maximum pending requests exceeded", "provider_error"],
  ] as const)("%i %s → %s", async (status, error, code) => {
    sim.addScenario({ name: "err", match: { model: "m-err" }, httpError: { status, error } });
    const e = await failure(chunks(model, ask("m-err")));
    expect(e.code).toBe(code);
    expect(e.status).toBe(status);
    expect(e.message).toContain(error);
  });
});

describe("createOllamaModel — listModels and version", () => {
  it("lists models with capabilities from /api/show", async () => {
    const models = await model.listModels!();
    expect(models.map((m) => [m.name, m.capabilities])).toEqual([
      ["llama3.2", ["completion", "tools"]],
      ["qwen3", ["completion", "tools", "thinking"]],
    ]);
    expect(sim.requests.filter((r) => r.path === "/api/show").map((r) => r.body)).toEqual(
      expect.arrayContaining([{ model: "llama3.2" }, { model: "qwen3" }]),
    );
  });

  it("reads the server version", async () => {
    expect(await model.version!()).toBe(simulatedOllamaVersion);
  });

  it("reports provider_unavailable when nothing listens, with the address only to onUnreachable", async () => {
    const server = await startHttpServer(() => undefined);
    const url = server.url;
    await server.close();
    const reported: string[] = [];
    const offline = createOllamaModel({ baseUrl: url, onUnreachable: (f) => reported.push(f.url) });
    expect((await failure(offline.version!())).code).toBe("provider_unavailable");
    expect((await failure(offline.listModels!())).code).toBe("provider_unavailable");
    const e = await failure(chunks(offline, ask("demo")));
    expect(e.message).toBe("Cannot reach the model server (ECONNREFUSED). Is it running?");
    expect(reported).toEqual([`${url}/api/version`, `${url}/api/ps`, `${url}/api/tags`, `${url}/api/chat`]);
    // Unreachable capabilities are unknown, not an error: the chat request decides.
    expect(toolsAndThinking(await offline.capabilities!("demo"))).toEqual({ tools: undefined, thinking: undefined });
  });
});

/** The two capabilities these tests are about (the others have tests of their own). */
const toolsAndThinking = (c: ModelCapabilities) => ({ tools: c.tools, thinking: c.thinking });

/** An Ollama-shaped server whose model list, capabilities and answers a test changes as it goes. */
async function fakeOllama() {
  const state = {
    digest: "sha-1",
    models: ["m1"],
    /** null: /api/show without a capabilities field (Ollama before 0.6.4). */
    capabilities: ["completion", "tools"] as string[] | null,
    /** Extra /api/show fields (model_info, details, template). */
    show: {} as Record<string, unknown>,
    /** /api/ps models; null: a server without /api/ps (404). */
    ps: [] as Array<Record<string, unknown>> | null,
    showStatus: 200,
    chatError: undefined as string | undefined,
  };
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const server = await startHttpServer((req, res) => {
    if (req.path === "/api/tags") return json(res, 200, { models: state.models.map((name) => ({ name: `${name}:latest`, digest: state.digest })) });
    if (req.path === "/api/show") {
      if (state.showStatus !== 200) return json(res, state.showStatus, { error: "show failed" });
      return json(res, 200, state.capabilities === null ? { details: {}, ...state.show } : { capabilities: state.capabilities, ...state.show });
    }
    if (req.path === "/api/ps") return state.ps === null ? json(res, 404, { error: "404 page not found" }) : json(res, 200, { models: state.ps });
    if (state.chatError) return json(res, 400, { error: state.chatError });
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    res.end(`${JSON.stringify({ message: { role: "assistant", content: "ok" }, done: true, done_reason: "stop" })}\n`);
  });
  let clock = 1_000_000;
  const model = createOllamaModel({ baseUrl: server.url, now: () => clock, capabilityTtlMs: 60_000 });
  return {
    state,
    model,
    shows: () => server.requests.filter((r) => r.path === "/api/show").length,
    psReads: () => server.requests.filter((r) => r.path === "/api/ps").length,
    advance: (ms: number) => (clock += ms),
    close: () => server.close(),
  };
}

describe("createOllamaModel — capabilities", () => {
  it("reads them from /api/show once per model and reuses them", async () => {
    const shows = () => sim.requests.filter((r) => r.path === "/api/show").length;
    const fresh = createOllamaModel({ baseUrl: sim.url });
    const before = shows();
    expect(toolsAndThinking(await fresh.capabilities!("qwen3"))).toEqual({ tools: true, thinking: true });
    expect(toolsAndThinking(await fresh.capabilities!("llama3.2"))).toEqual({ tools: true, thinking: false });
    expect(toolsAndThinking(await fresh.capabilities!("sim-no-tools"))).toEqual({ tools: false, thinking: true });
    expect(toolsAndThinking(await fresh.capabilities!("sim-no-thinking"))).toEqual({ tools: true, thinking: false });
    expect(shows() - before).toBe(4);
    expect(toolsAndThinking(await fresh.capabilities!("qwen3"))).toEqual({ tools: true, thinking: true });
    expect(toolsAndThinking(await fresh.capabilities!("qwen3:latest"))).toEqual({ tools: true, thinking: true }); // the same model
    expect(shows() - before).toBe(4);
    // Concurrent first asks share one read.
    await Promise.all([fresh.capabilities!("sim-stall"), fresh.capabilities!("sim-stall")]);
    expect(shows() - before).toBe(5);
  });

  it("a model /api/show does not know has unknown capabilities", async () => {
    expect(toolsAndThinking(await createOllamaModel({ baseUrl: sim.url }).capabilities!("not-installed"))).toEqual({ tools: undefined, thinking: undefined });
  });

  it("reads them again after the TTL; a failed refresh keeps the last list, a failed first read is retried later", async () => {
    const fake = await fakeOllama();
    try {
      expect(toolsAndThinking(await fake.model.capabilities!("m1"))).toEqual({ tools: true, thinking: false });
      fake.state.capabilities = ["completion", "tools", "thinking"];
      fake.advance(59_000);
      expect(toolsAndThinking(await fake.model.capabilities!("m1"))).toMatchObject({ thinking: false });
      expect(fake.shows()).toBe(1);
      fake.advance(2_000);
      expect(toolsAndThinking(await fake.model.capabilities!("m1"))).toEqual({ tools: true, thinking: true });
      expect(fake.shows()).toBe(2);

      fake.state.showStatus = 500;
      fake.advance(61_000);
      expect(toolsAndThinking(await fake.model.capabilities!("m1"))).toEqual({ tools: true, thinking: true }); // stale but known
      expect(toolsAndThinking(await fake.model.capabilities!("m2"))).toEqual({ tools: undefined, thinking: undefined });
      const failedReads = fake.shows();
      expect(toolsAndThinking(await fake.model.capabilities!("m2"))).toEqual({ tools: undefined, thinking: undefined });
      expect(fake.shows()).toBe(failedReads); // a broken /api/show is not asked on every run
      fake.state.showStatus = 200;
      fake.advance(31_000);
      expect(toolsAndThinking(await fake.model.capabilities!("m2"))).toEqual({ tools: true, thinking: true });
    } finally {
      await fake.close();
    }
  });

  it("a model list re-reads models whose digest changed and forgets removed ones", async () => {
    const fake = await fakeOllama();
    try {
      expect((await fake.model.listModels!()).map((m) => [m.name, m.capabilities])).toEqual([["m1:latest", ["completion", "tools"]]]);
      expect(toolsAndThinking(await fake.model.capabilities!("m1"))).toEqual({ tools: true, thinking: false });
      await fake.model.listModels!(); // same digest: nothing read again
      expect(fake.shows()).toBe(1);

      // `ollama pull m1` brought a new version that thinks and lost tools.
      fake.state.digest = "sha-2";
      fake.state.capabilities = ["completion", "thinking"];
      expect((await fake.model.listModels!())[0]?.capabilities).toEqual(["completion", "thinking"]);
      expect(toolsAndThinking(await fake.model.capabilities!("m1"))).toEqual({ tools: false, thinking: true });
      expect(fake.shows()).toBe(2);

      // Removed, then installed again (same digest, other capabilities): the list dropped it meanwhile.
      fake.state.models = [];
      await fake.model.listModels!();
      fake.state.models = ["m1"];
      fake.state.capabilities = ["completion", "tools"];
      expect(toolsAndThinking(await fake.model.capabilities!("m1"))).toEqual({ tools: true, thinking: false });
      expect(fake.shows()).toBe(3);
    } finally {
      await fake.close();
    }
  });

  it("a server that lists no capabilities (old Ollama) leaves them unknown, so tools are still sent", async () => {
    const fake = await fakeOllama();
    try {
      fake.state.capabilities = null;
      expect(toolsAndThinking(await fake.model.capabilities!("m1"))).toEqual({ tools: undefined, thinking: undefined });
      expect((await fake.model.listModels!())[0]?.capabilities).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it("a request the server refuses for the model makes the next run read the capabilities again", async () => {
    const fake = await fakeOllama();
    try {
      expect(toolsAndThinking(await fake.model.capabilities!("m1"))).toMatchObject({ tools: true });
      fake.state.chatError = "registry.ollama.ai/library/m1:latest does not support tools";
      fake.state.capabilities = ["completion"];
      expect((await failure(chunks(fake.model, { ...ask("m1"), tools: [{ name: "t", description: "", parameters: {} }] }))).code).toBe("model_unsupported");
      expect(toolsAndThinking(await fake.model.capabilities!("m1"))).toEqual({ tools: false, thinking: false });
      expect(fake.shows()).toBe(2);
    } finally {
      await fake.close();
    }
  });
});

describe("createOllamaModel — fuzz", () => {
  it("answers any 200 body with chunks ending in finish or a ChatError, never anything else", async () => {
    let body = new Uint8Array();
    const server = await startHttpServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.end(body);
    });
    const fuzzModel = createOllamaModel({ baseUrl: server.url });
    const line = fc.oneof(
      fc.constant('{"message":{"role":"assistant","content":"a"},"done":false}'),
      fc.constant('{"message":{"role":"assistant","content":""},"done":true}'),
      fc.constant('{"error":"boom"}'),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string(),
    );
    try {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.array(line, { maxLength: 6 }).map((ls) => new TextEncoder().encode(ls.join("\n")))), async (bytes) => {
          body = bytes;
          try {
            const out = await chunks(fuzzModel, ask("x"));
            expect(out.at(-1)?.type).toBe("finish");
            expect(out.filter((c) => c.type === "finish")).toHaveLength(1);
          } catch (error) {
            expect(error).toBeInstanceOf(ChatError);
            expect(["provider_error", "stream_truncated"]).toContain((error as ChatError).code);
          }
        }),
        { numRuns: 60 },
      );
    } finally {
      await server.close();
    }
  });
});

describe("fromOllamaLine", () => {
  const line = (message: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    model: "m",
    created_at: "2025-01-01T00:00:00Z",
    message: { role: "assistant", ...message },
    done: false,
    ...extra,
  });

  it("maps plain content and thinking lines (the per-token fast path)", () => {
    expect(fromOllamaLine(line({ content: "Hi" }))).toEqual([{ type: "text", text: "Hi" }]);
    expect(fromOllamaLine(line({ content: "" }))).toEqual([]);
    expect(fromOllamaLine(line({ content: "", thinking: "hm" }))).toEqual([{ type: "reasoning", text: "hm" }]);
    expect(fromOllamaLine(line({ content: "a", thinking: null }))).toEqual([{ type: "text", text: "a" }]);
  });

  it("rejects lines that only look plain exactly as the schema does", () => {
    for (const bad of [
      line({ content: 1 }),
      line({ content: "a", thinking: 2 }),
      line({ content: "a" }, { eval_count: "x" }),
      line({ content: "a", tool_calls: "nope" }),
      { message: "a", done: false },
    ]) {
      expect(() => fromOllamaLine(bad)).toThrow(/not an Ollama chat chunk/);
    }
  });

  it("still maps tool calls and metrics on non-plain lines", () => {
    const chunks = fromOllamaLine(line({ content: "", tool_calls: [{ id: "c1", function: { name: "t", arguments: { a: 1 } } }] }));
    expect(chunks).toEqual([{ type: "tool-call", call: { id: "c1", name: "t", args: { a: 1 } } }]);
    expect(fromOllamaLine({ message: { content: "x" }, done: true, eval_count: 3 })).toEqual([
      { type: "text", text: "x" },
      { type: "finish", reason: "stop", metrics: { completionTokens: 3 } },
    ]);
  });
});

describe("createOllamaModel — what /api/show and /api/ps say", () => {
  it("context length from model_info[<general.architecture>.context_length], vision, and think levels by the gpt-oss rule", async () => {
    const fake = await fakeOllama();
    try {
      fake.state.capabilities = ["completion", "thinking", "vision"];
      fake.state.show = {
        details: { family: "gptoss" },
        template: "<|start|>system<|message|>{{ .System }}<|end|>",
        model_info: { "general.architecture": "gptoss", "gptoss.context_length": 131_072, "llama.context_length": 8 },
      };
      expect(await fake.model.capabilities!("m1")).toEqual({
        tools: false,
        thinking: true,
        vision: true,
        thinkLevels: true,
        contextLength: 131_072,
        defaultContextTokens: 2048,
      });
      // Another model: a gpt-oss fine-tune with its own template takes no levels; no architecture, one key.
      fake.state.show = { details: { family: "gptoss" }, template: "{{ .Prompt }}", model_info: { "x.context_length": 4096 } };
      expect(await fake.model.capabilities!("m2")).toMatchObject({ thinkLevels: false, contextLength: 4096 });
      // Garbage in model_info is no context length.
      fake.state.show = { model_info: { "general.architecture": "llama", "llama.context_length": "lots" } };
      expect((await fake.model.capabilities!("m3")).contextLength).toBeUndefined();
    } finally {
      await fake.close();
    }
  });

  it("state: loaded with its window from /api/ps; not loaded only for an installed model; unknown without /api/ps", async () => {
    const fake = await fakeOllama();
    try {
      fake.state.ps = [{ name: "m1:latest", model: "m1:latest", context_length: 8192 }];
      expect(await fake.model.state!("m1")).toEqual({ loaded: true, contextTokens: 8192 });
      await fake.model.capabilities!("m2"); // /api/show answered: m2 is installed
      expect(await fake.model.state!("m2")).toEqual({ loaded: false });
      fake.state.showStatus = 404;
      expect(await fake.model.state!("never-seen")).toEqual({ loaded: undefined });
      fake.state.ps = null;
      fake.advance(3_000); // past the 2 s the /api/ps answer is reused
      expect(await fake.model.state!("m1")).toEqual({ loaded: undefined });
    } finally {
      await fake.close();
    }
  });

  it("capabilitiesNow and stateNow: what capabilities and state would answer, while cached; undefined when they must read", async () => {
    const fake = await fakeOllama();
    try {
      fake.state.ps = [{ name: "m1:latest", model: "m1:latest", context_length: 8192 }];
      expect(fake.model.capabilitiesNow!("m1")).toBeUndefined();
      expect(fake.model.stateNow!("m1")).toBeUndefined();
      const capabilities = await fake.model.capabilities!("m1");
      const state = await fake.model.state!("m1");
      const reads = [fake.shows(), fake.psReads()];
      expect(fake.model.capabilitiesNow!("m1")).toEqual(capabilities);
      expect(fake.model.capabilitiesNow!("m1:latest")).toEqual(capabilities);
      expect(fake.model.stateNow!("m1")).toEqual(state);
      expect(fake.model.stateNow!("m2")).toEqual({ loaded: undefined }); // /api/ps said, about m2 as well: not known to be installed
      expect([fake.shows(), fake.psReads()]).toEqual(reads); // the peeks read nothing
      // A read that failed is known for its while too: unknown, as `capabilities` would say.
      fake.state.showStatus = 500;
      await fake.model.capabilities!("m2");
      expect(toolsAndThinking(fake.model.capabilitiesNow!("m2")!)).toEqual({ tools: undefined, thinking: undefined });
      fake.advance(3_000); // past /api/ps's 2 s
      expect(fake.model.stateNow!("m1")).toBeUndefined();
      expect(fake.model.capabilitiesNow!("m1")).toEqual(capabilities);
      fake.advance(60_000); // past the capabilities' TTL
      expect(fake.model.capabilitiesNow!("m1")).toBeUndefined();
    } finally {
      await fake.close();
    }
  });

  it("state after an answer: a fresh /api/ps answer that lists the model is kept; one that calls it absent is read again", async () => {
    const fake = await fakeOllama();
    const answer = async (model: string) => {
      for await (const chunk of fake.model.stream({ model, messages: [{ role: "user", content: "hi" }] })) void chunk;
    };
    try {
      fake.state.ps = [{ name: "m1:latest", model: "m1:latest", context_length: 8192 }];
      expect(await fake.model.state!("m1")).toEqual({ loaded: true, contextTokens: 8192 });
      await answer("m1");
      await answer("m1");
      expect(await fake.model.state!("m1")).toEqual({ loaded: true, contextTokens: 8192 });
      expect(fake.psReads()).toBe(1); // every answer used to drop it: one /api/ps read per run

      await fake.model.capabilities!("m2"); // installed, and /api/ps does not list it: cold
      expect(await fake.model.state!("m2")).toEqual({ loaded: false });
      fake.state.ps = [...fake.state.ps, { name: "m2:latest", model: "m2:latest", context_length: 4096 }];
      await answer("m2"); // it answered, so it is loaded now: the cached "absent" is not reused
      expect(await fake.model.state!("m2")).toEqual({ loaded: true, contextTokens: 4096 });
      expect(fake.psReads()).toBe(2);

      fake.advance(3_000); // past the 2 s an answer is reused: read again, answer or not
      await answer("m1");
      expect(await fake.model.state!("m1")).toEqual({ loaded: true, contextTokens: 8192 });
      expect(fake.psReads()).toBe(3);
    } finally {
      await fake.close();
    }
  });
});

