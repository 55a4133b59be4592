import type { ServerResponse } from "node:http";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChatModel, ModelChunk } from "../model.js";
import { runChat } from "../run.js";
import { collect } from "../test-support/recorder.js";
import { startHttpServer, writeSse, type TestServer } from "../test-support/http.js";
import { ask, chunks, chunksTo, failure, joined } from "../test-support/provider-helpers.js";
import { calculatorTool, createCurrentTimeTool } from "../tools/builtin.js";
import { ChatError } from "../errors.js";
import { createOpenAIModel, refusesImages } from "./openai.js";

let sim: Simulator;
let model: ChatModel;
const servers: TestServer[] = [];

beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0 });
  model = createOpenAIModel({ baseUrl: `${sim.url}/v1` });
});
afterEach(async () => {
  sim.clearScenarios();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await sim.close();
});

/** A local SSE server answering every request with `events`. */
async function sse(events: Array<string | object>, opts: { end?: boolean } = {}): Promise<{ server: TestServer; model: ChatModel }> {
  const server = await startHttpServer((_req, res) => writeSse(res, events, opts));
  servers.push(server);
  return { server, model: createOpenAIModel({ baseUrl: `${server.url}/v1`, apiKey: "sk-test" }) };
}

const delta = (d: object, finish: string | null = null) => ({ choices: [{ index: 0, delta: d, finish_reason: finish }] });

describe("createOpenAIModel against the simulator's /v1", () => {
  it("streams text and reasoning, and reads usage from the usage chunk", async () => {
    sim.addScenario({
      name: "t",
      match: { model: "o-text" },
      chunks: [{ thinking: "hmm" }, { content: "Hel" }, { content: "lo" }, { done: true }],
    });
    const out = joined(await chunks(model, ask("o-text")));
    expect(out.slice(0, 2)).toEqual([
      { type: "reasoning", text: "hmm", pieces: 1 },
      { type: "text", text: "Hello", pieces: 2 },
    ]);
    expect(out[2]).toMatchObject({ type: "finish", reason: "stop", metrics: { completionTokens: 3 } });
    expect((out[2] as { metrics: { promptTokens?: number } }).metrics.promptTokens).toBeGreaterThan(0);
    expect(sim.chatRequests().at(-1)?.body).toMatchObject({ model: "o-text", stream: true, stream_options: { include_usage: true } });
  });

  it("joins fragmented tool-call arguments per index and runs a full tool round trip", async () => {
    const timeTool = createCurrentTimeTool({ now: () => Date.UTC(2026, 10, 29, 12, 0, 0) });
    const { shapes, result } = await collect(
      runChat({
        model,
        modelName: "sim-two-tools",
        conversationId: "c",
        runId: "r",
        messages: [{ role: "user", content: "time and math" }],
        tools: [timeTool, calculatorTool],
      }),
    );
    expect(shapes.slice(2, 4)).toEqual(["tool-call:current_time", "tool-call:calculator"]);
    expect(shapes.filter((s) => s.startsWith("tool-result")).sort()).toEqual(["tool-result:calculator:ok", "tool-result:current_time:ok"]);
    expect(shapes.at(-1)).toBe("done:stop");
    const assistant = result.messages[0];
    expect(assistant).toMatchObject({
      role: "assistant",
      toolCalls: [
        { name: "current_time", args: { timeZone: "Asia/Tokyo" } },
        { name: "calculator", args: { expression: "6*7" } },
      ],
    });
    // Sent back the OpenAI way: arguments as JSON strings, results by tool_call_id.
    const second = sim.chatRequests().at(-1)?.body as { messages: Array<Record<string, unknown>> };
    const ids = assistant?.role === "assistant" ? assistant.toolCalls?.map((c) => c.id) : [];
    expect(second.messages[1]).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [
        { id: ids?.[0], type: "function", function: { name: "current_time", arguments: '{"timeZone":"Asia/Tokyo"}' } },
        { id: ids?.[1], type: "function", function: { name: "calculator", arguments: '{"expression":"6*7"}' } },
      ],
    });
    expect(second.messages.slice(2).map((m) => [m["role"], m["tool_call_id"]])).toEqual([
      ["tool", ids?.[0]],
      ["tool", ids?.[1]],
    ]);
  });

  it("maps the mid-stream error event, truncation and HTTP errors", async () => {
    expect((await failure(chunks(model, ask("sim-error-mid-stream")))).code).toBe("provider_error");
    expect((await failure(chunks(model, ask("sim-truncated")))).code).toBe("stream_truncated");
    expect((await failure(chunks(model, ask("sim-garbage-line")))).code).toBe("provider_error");
    const notFound = await failure(chunks(model, ask("sim-not-found")));
    expect(notFound).toMatchObject({ code: "model_not_found", status: 404 });
    expect(notFound.message).toContain("not found");
  });

  it("hands the same chunks to streamTo's callback as stream yields, and fails the same ways", async () => {
    // The simulator makes up the calls' ids per answer.
    const comparable = (out: ModelChunk[]) => JSON.stringify(joined(out)).replace(/call_[a-z0-9]+/g, "call");
    for (const name of ["sim-utf8-split", "sim-two-tools", "sim-tool-on-done"]) {
      expect(comparable(await chunksTo(model, ask(name))), name).toBe(comparable(await chunks(model, ask(name))));
    }
    expect((await failure(chunksTo(model, ask("sim-error-mid-stream")))).code).toBe("provider_error");
    expect((await failure(chunksTo(model, ask("sim-truncated")))).code).toBe("stream_truncated");
    expect((await failure(chunksTo(model, ask("sim-garbage-line")))).code).toBe("provider_error");
    expect(await failure(chunksTo(model, ask("sim-not-found")))).toMatchObject({ code: "model_not_found", status: 404 });
  });

  it("decodes multi-byte characters split across writes", async () => {
    const out = await chunks(model, ask("sim-utf8-split"));
    expect(out.flatMap((c) => (c.type === "text" ? [c.text] : [])).join("")).toBe("Grüße aus 東京 🎉 café — naïve 日本語");
  });

  it("aborting closes the connection and rejects with cancelled", async () => {
    const ctl = sim.control({ model: "o-abort" });
    const abort = new AbortController();
    const reading = (async () => {
      for await (const chunk of model.stream(ask("o-abort"), { signal: abort.signal })) if (chunk.type === "text") abort.abort();
    })();
    await ctl.connected;
    await ctl.push({ content: "x" });
    expect((await failure(reading)).code).toBe("cancelled");
    await ctl.closedByClient;
  });

  it("lists models from /v1/models with tools on (the list does not say otherwise)", async () => {
    const models = await createOpenAIModel({ baseUrl: `${sim.url}/v1` }).listModels!();
    expect(models.length).toBeGreaterThan(0);
    for (const m of models) expect(m.capabilities).toEqual(["tools"]);
  });

  it("a request whose tools the server refuses fails as model_unsupported naming tools (as on Ollama), and the model's later requests leave them out", async () => {
    const m = createOpenAIModel({ baseUrl: `${sim.url}/v1` });
    const before = sim.chatRequests().length;
    const tools = [{ name: "current_time", description: "time", parameters: { type: "object" } }];
    const refused = await failure(chunks(m, { ...ask("gemma3"), tools }));
    expect(refused).toMatchObject({ code: "model_unsupported", unsupported: "tools", status: 400 });
    expect(refused.message).toContain('"gemma3" does not support tools on this server');
    // Not sent again by the provider: the run loop does that, and says so (next test).
    expect(sim.chatRequests().slice(before).map((r) => (r.body as { tools?: unknown[] }).tools?.length ?? 0)).toEqual([1]);
    expect(await m.capabilities!("gemma3")).toEqual({ tools: false, thinking: undefined });

    const second = await chunks(m, { ...ask("gemma3"), tools });
    expect(second.at(-1)).toMatchObject({ type: "finish", reason: "stop" });
    expect(sim.chatRequests().slice(before).map((r) => (r.body as { tools?: unknown[] }).tools?.length ?? 0)).toEqual([1, 0]);
    // Per model: the others keep their tools, and the list says which model has them off.
    await chunks(m, { ...ask("llama3.2"), tools });
    expect((sim.chatRequests().at(-1)?.body as { tools?: unknown[] }).tools).toHaveLength(1);
    expect(await m.capabilities!("llama3.2")).toEqual({ tools: undefined, thinking: undefined });
    const listed = await m.listModels!();
    expect(listed.find((x) => x.name === "gemma3")?.capabilities).toEqual([]);
    expect(listed.find((x) => x.name === "llama3.2")?.capabilities).toEqual(["tools"]);
  });

  it("a run on a model that refuses tools answers without them and says so in a status, once (OpenAI-compatible server)", async () => {
    let now = Date.now();
    const model = createOpenAIModel({ baseUrl: `${sim.url}/v1`, now: () => now });
    const run = () =>
      collect(
        runChat({
          model,
          modelName: "gemma3",
          conversationId: "c",
          runId: "r",
          messages: [{ role: "user", content: "What is 12 * 7?" }],
          tools: [calculatorTool],
        }),
      );
    const before = sim.chatRequests().length;
    const { events, shapes, result } = await run();
    expect(shapes.at(-1)).toBe("done:stop");
    expect(shapes.some((x) => x.startsWith("tool-call"))).toBe(false);
    expect(result.text).toContain("84");
    expect(events.filter((e) => e.type === "status" && e.unsupportedFeature === "tools")).toEqual([
      expect.objectContaining({ phase: "thinking", message: '"gemma3" does not support tools: answering without them.' }),
    ]);
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    // The refused round and the same round without tools; the model's next run sends none and says nothing of it.
    const tools = () => sim.chatRequests().slice(before).map((r) => (r.body as { tools?: unknown[] }).tools?.length ?? 0);
    expect(tools()).toEqual([1, 0]);
    const next = await run();
    expect(next.shapes.at(-1)).toBe("done:stop");
    expect(next.events.some((e) => e.type === "status" && e.unsupportedFeature !== undefined)).toBe(false);
    expect(tools()).toEqual([1, 0, 0]);
    // An hour later the server may have loaded the model again with tools: they are offered once more.
    now += 60 * 60_000 + 1;
    const later = await run();
    expect(later.shapes.at(-1)).toBe("done:stop");
    expect(tools()).toEqual([1, 0, 0, 1, 0]);
  });
});

describe("createOpenAIModel wire details (local SSE server)", () => {
  it("sends the bearer key, maps options and the OpenAI message shapes", async () => {
    const { server, model: m } = await sse([delta({ content: "ok" }, "stop"), "data: [DONE]\n\n"]);
    await chunks(m, {
      model: "gpt",
      messages: [
        { role: "system", content: "s" },
        { role: "assistant", content: "", toolCalls: [{ id: "t1", name: "calc", args: '{"x":', argsError: "bad" }] },
        { role: "tool", toolCallId: "t1", toolName: "calc", content: "err" },
        { role: "assistant", content: "fine" },
      ],
      think: true,
      options: { numPredict: 10, numCtx: 99, temperature: 0, topP: 0.5, seed: 1 },
    });
    const seen = server.requests[0]!;
    expect(seen.path).toBe("/v1/chat/completions");
    expect(seen.headers["authorization"]).toBe("Bearer sk-test");
    expect(seen.body).toEqual({
      model: "gpt",
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 10,
      temperature: 0,
      top_p: 0.5,
      seed: 1,
      messages: [
        { role: "system", content: "s" },
        { role: "assistant", content: null, tool_calls: [{ id: "t1", type: "function", function: { name: "calc", arguments: '{"x":' } }] },
        { role: "tool", tool_call_id: "t1", content: "err" },
        { role: "assistant", content: "fine" },
      ],
    });
  });

  it("handles reasoning_content, comments, usage with choices null, finish_reason length", async () => {
    const { model: m } = await sse([
      ": ping\n\n",
      delta({ role: "assistant", reasoning_content: "think" }),
      delta({ content: "a" }),
      delta({}, "length"),
      { choices: null, usage: { prompt_tokens: 5, completion_tokens: 2 } },
      "data: [DONE]\n\n",
    ]);
    expect(await chunks(m, ask("x"))).toEqual([
      { type: "reasoning", text: "think" },
      { type: "text", text: "a" },
      { type: "finish", reason: "length", metrics: { promptTokens: 5, completionTokens: 2 } },
    ]);
  });

  it("joins the text deltas of one body chunk into one chunk, counting its pieces", async () => {
    const events = [delta({ reasoning_content: "th" }), delta({ reasoning_content: "ink" }), delta({ content: "a" }), delta({ content: "b" }), delta({ content: "c" })];
    // One write: one HTTP chunk, as a server sends what it has buffered.
    const { model: m } = await sse([events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(""), delta({}, "stop"), "data: [DONE]\n\n"]);
    expect((await chunks(m, ask("x"))).slice(0, 2)).toEqual([
      { type: "reasoning", text: "think", pieces: 2 },
      { type: "text", text: "abc", pieces: 3 },
    ]);
  });

  it("turns tool arguments that do not parse into a call with argsError", async () => {
    const { model: m } = await sse([
      delta({ tool_calls: [{ index: 0, id: "c1", type: "function", function: { name: "calc", arguments: '{"exp' } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: "ression" } }] }),
      delta({}, "tool_calls"),
      "data: [DONE]\n\n",
    ]);
    const out = await chunks(m, ask("x"));
    expect(out[0]).toMatchObject({ type: "tool-call", call: { id: "c1", name: "calc", args: '{"expression', argsError: expect.stringMatching(/not valid JSON/) } });
  });

  it("answers unparseable arguments with an invalid_tool_args tool result and keeps the run going", async () => {
    const { server, model: m } = await sse([
      delta({ tool_calls: [{ index: 0, id: "c1", type: "function", function: { name: "calculator", arguments: '{"expression": "1+' } }] }),
      delta({}, "tool_calls"),
      "data: [DONE]\n\n",
    ]);
    const { shapes } = await collect(
      runChat({ model: m, modelName: "x", conversationId: "c", runId: "r", messages: [{ role: "user", content: "1+?" }], tools: [calculatorTool], maxSteps: 1 }),
    );
    expect(shapes).toEqual([
      "run-start",
      "status:Processing your question…",
      "tool-call:calculator",
      "status:Using tool: calculator…",
      "tool-result:calculator:invalid_tool_args",
      "done:max-steps",
    ]);
    // One chat request (the run also read /models once, for the context length).
    expect(server.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(1);
  });

  it("accepts tool-call fragments without index and several calls", async () => {
    const { model: m } = await sse([
      delta({ tool_calls: [{ id: "a", function: { name: "one", arguments: '{"n":' } }] }),
      delta({ tool_calls: [{ function: { arguments: "1}" } }] }),
      delta({ tool_calls: [{ id: "b", function: { name: "two", arguments: "{}" } }] }),
      delta({}, "tool_calls"),
      "data: [DONE]\n\n",
    ]);
    const calls = (await chunks(m, ask("x"))).flatMap((c) => (c.type === "tool-call" ? [c.call] : []));
    expect(calls).toEqual([
      { id: "a", name: "one", args: { n: 1 } },
      { id: "b", name: "two", args: {} },
    ]);
  });

  it("runs every call of an answer that sends each call whole under index 0 (Ollama /v1 0.20, ollama#15457)", async () => {
    const timeTool = createCurrentTimeTool({ now: () => Date.UTC(2026, 10, 29, 12, 0, 0) });
    const server = await startHttpServer((req, res) => {
      if (!req.path.endsWith("/chat/completions")) {
        res.writeHead(404).end();
        return;
      }
      if ((req.body as { messages: unknown[] }).messages.length > 1) return writeSse(res, [delta({ content: "done" }, "stop"), "data: [DONE]\n\n"]);
      writeSse(res, [
        delta({ tool_calls: [{ id: "call_a", index: 0, type: "function", function: { name: "current_time", arguments: '{"timeZone":"Asia/Tokyo"}' } }] }),
        delta({ tool_calls: [{ id: "call_b", index: 0, type: "function", function: { name: "calculator", arguments: '{"expression":"6*7"}' } }] }),
        delta({}, "tool_calls"),
        "data: [DONE]\n\n",
      ]);
    });
    servers.push(server);
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    const { shapes, result } = await collect(
      runChat({ model: m, modelName: "x", conversationId: "c", runId: "r", messages: [{ role: "user", content: "time and math" }], tools: [timeTool, calculatorTool] }),
    );
    expect(shapes.filter((s) => s.startsWith("tool-")).sort()).toEqual([
      "tool-call:calculator",
      "tool-call:current_time",
      "tool-result:calculator:ok",
      "tool-result:current_time:ok",
    ]);
    expect(result.messages[0]).toMatchObject({
      role: "assistant",
      toolCalls: [
        { id: "call_a", name: "current_time", args: { timeZone: "Asia/Tokyo" } },
        { id: "call_b", name: "calculator", args: { expression: "6*7" } },
      ],
    });
    expect(shapes.at(-1)).toBe("done:stop");
  });

  it("keeps one call whose later fragments change the id or repeat the name", async () => {
    const { model: m } = await sse([
      // The id changes after the first fragment (a server that sends a fresh id per chunk).
      delta({ tool_calls: [{ index: 0, id: "first", type: "function", function: { name: "one", arguments: "" } }] }),
      delta({ tool_calls: [{ index: 0, id: "second", function: { arguments: '{"n":' } }] }),
      delta({ tool_calls: [{ index: 0, id: "second", function: { arguments: "1}" } }] }),
      // The name repeated on every fragment, under the same id (and once under another, before any arguments).
      delta({ tool_calls: [{ index: 1, id: "b0", type: "function", function: { name: "two", arguments: "" } }] }),
      delta({ tool_calls: [{ index: 1, id: "b", type: "function", function: { name: "two", arguments: '{"m"' } }] }),
      delta({ tool_calls: [{ index: 1, id: "b", type: "function", function: { name: "two", arguments: ":2}" } }] }),
      delta({}, "tool_calls"),
      "data: [DONE]\n\n",
    ]);
    const calls = (await chunks(m, ask("x"))).flatMap((c) => (c.type === "tool-call" ? [c.call] : []));
    expect(calls).toEqual([
      { id: "second", name: "one", args: { n: 1 } },
      { id: "b", name: "two", args: { m: 2 } },
    ]);
  });

  it("reads a last event the server ends the stream on without its blank line; one cut mid-line is not read", async () => {
    // No [DONE], and the finishing chunk ends with one newline: the answer is whole.
    const single = await sse([delta({ content: "a" }), `data: ${JSON.stringify(delta({}, "stop"))}\n`]);
    expect(await chunks(single.model, ask("x"))).toEqual([
      { type: "text", text: "a" },
      { type: "finish", reason: "stop", metrics: {} },
    ]);
    // The usage chunk last, without a newline at all: its counts are read.
    const usage = await sse([delta({ content: "a" }, "stop"), `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } })}`]);
    expect((await chunks(usage.model, ask("x"))).at(-1)).toEqual({ type: "finish", reason: "stop", metrics: { promptTokens: 5, completionTokens: 2 } });
    // A finishing chunk cut mid-line is a cut answer.
    const cut = await sse([delta({ content: "a" }), `data: ${JSON.stringify(delta({}, "stop")).slice(0, 30)}`]);
    expect((await failure(chunks(cut.model, ask("x")))).code).toBe("stream_truncated");
  });

  it("accepts a finished choice without [DONE], but not a stream without finish", async () => {
    const finished = await sse([delta({ content: "a" }, "stop")]);
    expect((await chunks(finished.model, ask("x"))).at(-1)).toMatchObject({ type: "finish", reason: "stop" });
    const cut = await sse([delta({ content: "a" })]);
    expect((await failure(chunks(cut.model, ask("x")))).code).toBe("stream_truncated");
  });

  it("reports llama.cpp's error event with its message", async () => {
    const { model: m } = await sse([delta({ content: "a" }), { error: { code: 500, message: "context overflow", type: "server_error" } }]);
    const e = await failure(chunks(m, ask("x")));
    expect(e.code).toBe("provider_error");
    expect(e.message).toContain("context overflow");
  });

  it("ends with provider_error and the server's message on an SSE `event: error` frame, even when [DONE] follows", async () => {
    const { model: m } = await sse([delta({ content: "a" }), 'event: error\ndata: {"message":"overloaded"}\n\n', "data: [DONE]\n\n"]);
    const e = await failure(chunks(m, ask("x")));
    expect(e).toMatchObject({ code: "provider_error", message: "The model server failed mid-answer: overloaded" });
    // Not JSON: the frame's text is the message.
    const plain = await sse(["event: error\ndata: upstream timed out\n\n", "data: [DONE]\n\n"]);
    expect(await failure(chunks(plain.model, ask("x")))).toMatchObject({
      code: "provider_error",
      message: "The model server failed mid-answer: upstream timed out",
    });
  });

  it("reads llama.cpp's `error:` field as the failure it is, after the text before it, though [DONE] follows", async () => {
    const failing = [
      delta({ content: "Hel" }),
      'error: {"code":500,"message":"the request exceeds the available context size","type":"exceed_context_size_error"}\n\n',
      "data: [DONE]\n\n",
    ];
    const { model: m } = await sse(failing);
    // The context filled: asking the same again cannot help (a bad_request, not the retryable provider_error).
    for (const read of [chunks, chunksTo]) {
      expect(await failure(read(m, ask("x")))).toMatchObject({
        code: "bad_request",
        retryable: false,
        message: "The conversation is longer than the model's context window on the server: the request exceeds the available context size",
      });
    }
    const other = await sse([delta({ content: "Hel" }), 'error: {"code":500,"message":"CUDA error: out of memory"}\n\n', "data: [DONE]\n\n"]);
    expect(await failure(chunks(other.model, ask("x")))).toMatchObject({ code: "provider_error", message: "The model server failed mid-answer: CUDA error: out of memory" });
    const { events, result } = await collect(runChat({ model: m, modelName: "x", conversationId: "c", runId: "r", messages: [{ role: "user", content: "hi" }] }));
    expect(events.filter((e) => e.type === "token" || e.type === "error" || e.type === "done").map((e) => e.type)).toEqual(["token", "error", "done"]);
    expect(result).toMatchObject({ reason: "error", text: "Hel" });
  });

  it("reads a whole JSON answer from a server that does not stream, through stream and streamTo", async () => {
    const completion = {
      id: "chatcmpl-1",
      object: "chat.completion",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "Let me add.",
            reasoning_content: "Two numbers.",
            tool_calls: [
              { id: "call_1", type: "function", function: { name: "calculator", arguments: '{"expression":"1+1"}' } },
              { id: "call_2", type: "function", function: { name: "calculator", arguments: '{"expression":"2+2"}' } },
            ],
          },
          finish_reason: "tool_calls",
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
    };
    const server = await startHttpServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      // In two writes, the first one only blank: the body's kind is known from its first character that is not.
      res.write("\n");
      res.end(JSON.stringify(completion, null, 2));
    });
    servers.push(server);
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    for (const read of [chunks, chunksTo]) {
      expect(joined(await read(m, ask("x")))).toEqual([
        { type: "reasoning", text: "Two numbers.", pieces: 1 },
        { type: "text", text: "Let me add.", pieces: 1 },
        { type: "tool-call", call: { id: "call_1", name: "calculator", args: { expression: "1+1" } } },
        { type: "tool-call", call: { id: "call_2", name: "calculator", args: { expression: "2+2" } } },
        { type: "finish", reason: "stop", metrics: { promptTokens: 12, completionTokens: 7 } },
      ]);
    }
  });

  it("reports a 200 whose body is a JSON error with the server's message", async () => {
    const server = await startHttpServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "Rate limit reached for requests", type: "requests", code: "rate_limit_exceeded" } }));
    });
    servers.push(server);
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    for (const read of [chunks, chunksTo]) {
      expect(await failure(read(m, ask("x")))).toMatchObject({
        code: "provider_error",
        message: "The model server answered with an error: Rate limit reached for requests",
      });
    }
  });

  it("ends a finished answer whose body the server keeps open, and closes that connection (node:http and fetch)", async () => {
    const closed: Array<Promise<void>> = [];
    const server = await startHttpServer((_req, res) => {
      closed.push(new Promise((resolve) => res.on("close", () => resolve())));
      writeSse(res, [delta({ content: "whole" }, "stop"), "data: [DONE]\n\n"], { end: false });
    });
    servers.push(server);
    const models = [createOpenAIModel({ baseUrl: `${server.url}/v1` }), createOpenAIModel({ baseUrl: `${server.url}/v1`, fetch })];
    for (const m of models) {
      for (const read of [chunks, chunksTo]) {
        expect((await read(m, ask("x"))).map((c) => c.type)).toEqual(["text", "finish"]);
        await closed.at(-1);
      }
    }
    expect(closed).toHaveLength(4);
  });

  it("reads chunks that carry `error: null` as the healthy chunks they are (Foundry Local), and a non-null one as the failure", async () => {
    // The shape Microsoft Foundry Local streams (microsoft/foundry-local#273): its own fields on every chunk, `error` null.
    const foundry = (content: string | null, finish: string | null) => ({
      model: "qwen2.5-1.5b-instruct-generic-gpu:3",
      choices: [
        {
          delta: { role: "assistant", content, name: null, tool_call_id: null, function_call: null, tool_calls: [] },
          message: { role: "assistant", content, name: null, tool_call_id: null, function_call: null, tool_calls: [] },
          index: 0,
          finish_reason: finish,
          finish_details: null,
          logprobs: null,
        },
      ],
      usage: null,
      created: 1759756514,
      id: "chat.id.1",
      StreamEvent: null,
      IsDelta: false,
      Successful: true,
      error: null,
      HttpStatusCode: 0,
      HeaderValues: null,
      object: "chat.completion.chunk",
    });
    const { model: m } = await sse([foundry(" Hello", null), foundry(" there", null), foundry(null, "stop"), "data: [DONE]\n\n"]);
    expect(joined(await chunks(m, ask("x")))).toEqual([
      { type: "text", text: " Hello there", pieces: 2 },
      { type: "finish", reason: "stop", metrics: {} },
    ]);
    const { model: failing } = await sse([{ ...foundry(" Hello", null), error: { message: "device lost" } }, "data: [DONE]\n\n"]);
    expect(await failure(chunks(failing, ask("x")))).toMatchObject({ code: "provider_error", message: "The model server failed mid-answer: device lost" });
  });

  it("ends with provider_error and the server's message on vLLM's {object: error} chunk", async () => {
    const { model: m } = await sse([
      delta({ content: "a" }),
      { object: "error", message: "CUDA out of memory", type: "InternalServerError", param: null, code: 500 },
    ]);
    expect(await failure(chunks(m, ask("x")))).toMatchObject({ code: "provider_error", message: "The model server failed mid-answer: CUDA out of memory" });
  });

  it("an error frame ends the run with the error after the tokens before it", async () => {
    const { model: m } = await sse([delta({ content: "partial" }), 'event: error\ndata: {"message":"overloaded"}\n\n', "data: [DONE]\n\n"]);
    const { events, result } = await collect(runChat({ model: m, modelName: "x", conversationId: "c", runId: "r", messages: [{ role: "user", content: "hi" }] }));
    expect(events.filter((e) => e.type === "token" || e.type === "error" || e.type === "done").map((e) => e.type)).toEqual(["token", "error", "done"]);
    expect(result).toMatchObject({ reason: "error", error: { code: "provider_error", message: expect.stringContaining("overloaded") }, text: "partial" });
  });

  it.each([
    ['"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set', 400], // vLLM
    ["tools param requires --jinja flag", 400], // llama.cpp
    ["This model does not support function calling.", 400],
    ["Tool use is not supported for this model", 422],
  ] as const)("a run goes on without tools after %j (%i)", async (message, status) => {
    const server = await startHttpServer((req, res) => {
      if (req.method !== "POST") {
        // The run asks for /models (context lengths): a server without it.
        res.writeHead(404);
        res.end();
      } else if ((req.body as { tools?: unknown[] }).tools) {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message, type: "invalid_request_error" } }));
      } else {
        writeSse(res, [delta({ content: "ok" }, "stop"), "data: [DONE]\n\n"]);
      }
    });
    servers.push(server);
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    expect(await failure(chunks(m, { ...ask("x"), tools: [{ name: "t", description: "", parameters: {} }] }))).toMatchObject({
      code: "model_unsupported",
      unsupported: "tools",
    });
    const { events, shapes } = await collect(
      runChat({ model: createOpenAIModel({ baseUrl: `${server.url}/v1` }), modelName: "x", conversationId: "c", runId: "r", messages: [{ role: "user", content: "hi" }], tools: [calculatorTool] }),
    );
    expect(shapes.at(-1)).toBe("done:stop");
    expect(events.some((e) => e.type === "status" && e.unsupportedFeature === "tools")).toBe(true);
    const posts = server.requests.filter((r) => r.method === "POST");
    expect(posts.map((r) => "tools" in (r.body as object))).toEqual([true, true, false]);
  });

  it("asks again without stream_options when the server refuses it, and leaves it out from then on", async () => {
    const server = await startHttpServer((req, res) => {
      if ("stream_options" in (req.body as object)) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "Unrecognized request argument supplied: stream_options", type: "invalid_request_error" } }));
      } else {
        writeSse(res, [delta({ content: "ok" }, "stop"), "data: [DONE]\n\n"]);
      }
    });
    servers.push(server);
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    expect((await chunks(m, { ...ask("x"), tools: [{ name: "t", description: "", parameters: {} }] })).map((c) => c.type)).toEqual(["text", "finish"]);
    expect((await chunksTo(m, ask("y"))).map((c) => c.type)).toEqual(["text", "finish"]);
    expect(server.requests.map((r) => ["stream_options" in (r.body as object), "tools" in (r.body as object)])).toEqual([
      [true, true],
      [false, true], // the tools stay: only stream_options was refused
      [false, false],
    ]);
  });

  it("sends an answer's cap as max_completion_tokens to a model that refuses max_tokens for it, from then on; other models keep max_tokens", async () => {
    const server = await startHttpServer((req, res) => {
      const body = req.body as { model: string };
      if (body.model === "o-reasoning" && "max_tokens" in body) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            error: {
              message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
              type: "invalid_request_error",
              param: "max_tokens",
              code: "unsupported_parameter",
            },
          }),
        );
      } else {
        writeSse(res, [delta({ content: "ok" }, "stop"), "data: [DONE]\n\n"]);
      }
    });
    servers.push(server);
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    const capped = (model: string) => ({ ...ask(model), options: { numPredict: 64 } });
    expect((await chunks(m, capped("o-reasoning"))).map((c) => c.type)).toEqual(["text", "finish"]);
    expect((await chunksTo(m, capped("o-reasoning"))).map((c) => c.type)).toEqual(["text", "finish"]);
    expect((await chunks(m, capped("gpt-4o"))).map((c) => c.type)).toEqual(["text", "finish"]);
    // Without a cap there is nothing to send either way.
    expect((await chunks(m, ask("o-reasoning"))).map((c) => c.type)).toEqual(["text", "finish"]);
    const caps = server.requests.map((r) => {
      const body = r.body as Record<string, unknown>;
      return [body["model"], body["max_tokens"], body["max_completion_tokens"]];
    });
    expect(caps).toEqual([
      ["o-reasoning", 64, undefined],
      ["o-reasoning", undefined, 64], // asked again, the cap under the name the model takes
      ["o-reasoning", undefined, 64], // remembered: asked so at once
      ["gpt-4o", 64, undefined],
      ["o-reasoning", undefined, undefined],
    ]);
  });

  it("leaves out the sampling fields a model refuses (OpenAI's reasoning models), one at a time, from then on; other models keep them", async () => {
    const refusals: Record<string, string> = {
      temperature: "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.",
      top_p: "Unsupported parameter: 'top_p' is not supported with this model.",
    };
    const server = await startHttpServer((req, res) => {
      const body = req.body as Record<string, unknown>;
      const refused = body["model"] === "o-reasoning" ? Object.keys(refusals).find((field) => field in body) : undefined;
      if (refused) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: refusals[refused], type: "invalid_request_error", param: refused } }));
      } else {
        writeSse(res, [delta({ content: "ok" }, "stop"), "data: [DONE]\n\n"]);
      }
    });
    servers.push(server);
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    const sampled = (model: string) => ({ ...ask(model), options: { temperature: 0.2, topP: 0.9, seed: 42 } });
    expect((await chunks(m, sampled("o-reasoning"))).map((c) => c.type)).toEqual(["text", "finish"]);
    expect((await chunksTo(m, sampled("o-reasoning"))).map((c) => c.type)).toEqual(["text", "finish"]);
    expect((await chunks(m, sampled("gpt-4o"))).map((c) => c.type)).toEqual(["text", "finish"]);
    const sent = server.requests.map((r) => {
      const body = r.body as Record<string, unknown>;
      return [body["model"], body["temperature"], body["top_p"], body["seed"]];
    });
    expect(sent).toEqual([
      ["o-reasoning", 0.2, 0.9, 42],
      ["o-reasoning", undefined, 0.9, 42], // asked again without the temperature
      ["o-reasoning", undefined, undefined, 42], // and without top P: the seed it takes stays
      ["o-reasoning", undefined, undefined, 42], // remembered: asked so at once
      ["gpt-4o", 0.2, 0.9, 42],
    ]);
  });

  it("does not ask again when a model refuses a sampling field it was not sent: the refusal is the run's", async () => {
    const server = await startHttpServer((_req, res) => {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "Unsupported parameter: 'seed' is not supported with this model.", type: "invalid_request_error" } }));
    });
    servers.push(server);
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    expect(await failure(chunks(m, { ...ask("o-strict"), options: { temperature: 1 } }))).toMatchObject({ code: "bad_request" });
    expect(server.requests).toHaveLength(1);
  });

  it("does not ask again when a model refuses max_completion_tokens too: the refusal is the run's", async () => {
    const server = await startHttpServer((_req, res) => {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "Use 'max_completion_tokens' instead of 'max_tokens'.", type: "invalid_request_error" } }));
    });
    servers.push(server);
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    expect(await failure(chunks(m, { ...ask("o-strict"), options: { numPredict: 8 } }))).toMatchObject({ code: "bad_request" });
    expect(server.requests.map((r) => "max_completion_tokens" in (r.body as object))).toEqual([false, true]);
  });

  it.each([
    ["Unsupported parameter: 'reasoning_effort' is not supported with this model.", 400], // OpenAI
    ["Unrecognized request argument supplied: reasoning_effort", 400], // Azure OpenAI
    ["body.reasoning_effort: Extra inputs are not permitted", 422], // a strict FastAPI proxy
  ] as const)("a think level the server refuses (%j, %i) is model_unsupported naming thinking, not bad_request, and not retried", async (message, status) => {
    const server = await startHttpServer((req, res) => {
      // A run reads the model's capabilities first (a GET, no body).
      if (typeof req.body === "object" && req.body !== null && "reasoning_effort" in req.body) {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message, type: "invalid_request_error", param: "reasoning_effort" } }));
      } else {
        writeSse(res, [delta({ content: "ok" }, "stop"), "data: [DONE]\n\n"]);
      }
    });
    servers.push(server);
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    const e = await failure(chunks(m, { ...ask("o-mini"), think: "high" }));
    expect(e).toMatchObject({ code: "model_unsupported", status, unsupported: "thinking", retryable: false });
    expect(e.message).toContain('"o-mini" does not take a thinking level on this server (it refused reasoning_effort): ask without a level.');
    expect(e.message).toContain(message);
    expect(server.requests).toHaveLength(1);
    // The same request without a level answers.
    expect((await chunks(m, ask("o-mini"))).at(-1)).toMatchObject({ type: "finish" });
    const run = await collect(runChat({ model: m, modelName: "o-mini", conversationId: "c", runId: "r", messages: [{ role: "user", content: "hi" }], think: "low" }));
    expect(run.shapes.slice(-2)).toEqual(["error:model_unsupported", "done:error"]);
  });

  it("does not retry other 400s that mention tools, nor twice", async () => {
    const server = await startHttpServer((req, res) => {
      res.writeHead(400, { "content-type": "application/json" });
      const tools = (req.body as { tools?: unknown[] } | undefined)?.tools;
      const message = tools ? "Invalid 'tools[0].function.name': string does not match pattern" : "context length exceeded";
      res.end(JSON.stringify({ error: { message } }));
    });
    servers.push(server);
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    const e = await failure(chunks(m, { ...ask("x"), tools: [{ name: "t", description: "", parameters: {} }] }));
    expect(e).toMatchObject({ code: "bad_request", status: 400 });
    expect(e.message).toContain("tools[0].function.name");
    expect(server.requests).toHaveLength(1);
    expect(await m.capabilities!("x")).toEqual({ tools: undefined, thinking: undefined });
  });

  it("reports an unreachable server without its address in the message", async () => {
    const server = await startHttpServer(() => undefined);
    await server.close();
    const reported: string[] = [];
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1`, onUnreachable: (f) => reported.push(f.url) });
    const e = await failure(chunks(m, ask("x")));
    expect(e).toMatchObject({ code: "provider_unavailable", message: "Cannot reach the model server (ECONNREFUSED). Is it running?" });
    expect(reported).toEqual([`${server.url}/v1/chat/completions`]);
  });

  it("maps 401 with an OpenAI error body to unauthorized", async () => {
    const server = await startHttpServer((_req, res) => {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "Incorrect API key provided", type: "invalid_request_error" } }));
    });
    servers.push(server);
    const e = await failure(chunks(createOpenAIModel({ baseUrl: `${server.url}/v1` }), ask("x")));
    expect(e.code).toBe("unauthorized");
    expect(e.message).toContain("Incorrect API key provided");
  });
});

describe("createOpenAIModel — context lengths from /v1/models", () => {
  it("reads max_model_len (vLLM), context_length and meta.n_ctx_train (llama.cpp); unknown otherwise", async () => {
    const server = await startHttpServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          object: "list",
          data: [
            { id: "vllm-model", object: "model", max_model_len: 32_768 },
            { id: "router-model", object: "model", context_length: 200_000 },
            { id: "llamacpp-model", object: "model", meta: { n_vocab: 128_256, n_ctx_train: 131_072 } },
            { id: "plain-model", object: "model" },
            { id: "odd-model", object: "model", context_length: "8k" },
          ],
        }),
      );
    });
    servers.push(server);
    let clock = 0;
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1`, now: () => clock });
    expect((await m.listModels!()).map((x) => [x.name, x.contextLength])).toEqual([
      ["vllm-model", 32_768],
      ["router-model", 200_000],
      ["llamacpp-model", 131_072],
      ["plain-model", undefined],
      ["odd-model", undefined],
    ]);
    // capabilities() reuses the list it read; it reads /models itself once the list is older than 5 minutes.
    expect(await m.capabilities!("vllm-model")).toEqual({ tools: undefined, thinking: undefined, contextLength: 32_768 });
    expect(await m.capabilities!("plain-model")).toEqual({ tools: undefined, thinking: undefined });
    // capabilitiesNow: the same from the list in hand, reading nothing; undefined once the list must be read again.
    expect(m.capabilitiesNow!("vllm-model")).toEqual({ tools: undefined, thinking: undefined, contextLength: 32_768 });
    expect(m.capabilitiesNow!("not-listed")).toEqual({ tools: undefined, thinking: undefined });
    expect(server.requests).toHaveLength(1);
    clock += 5 * 60_000 + 1;
    expect(m.capabilitiesNow!("vllm-model")).toBeUndefined();
    expect((await m.capabilities!("llamacpp-model")).contextLength).toBe(131_072);
    expect(server.requests).toHaveLength(2);
  });

  it("a server without /models leaves the context length unknown and is not asked on every run", async () => {
    const server = await startHttpServer((_req, res) => {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("404 page not found");
    });
    servers.push(server);
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    expect(await m.capabilities!("x")).toEqual({ tools: undefined, thinking: undefined });
    expect(await m.capabilities!("x")).toEqual({ tools: undefined, thinking: undefined });
    expect(server.requests).toHaveLength(1);
  });
});


describe("createOpenAIModel — images", () => {
  const picture = { type: "image" as const, mimeType: "image/png" as const, data: "iVBORw0KGgo=" };
  const withPicture = (model: string) => ({ ...ask(model), messages: [{ role: "user" as const, content: "What is this?", images: [picture] }] });

  it("reads what a list in OpenRouter's shape says of images and tools; images are unknown where it says nothing", async () => {
    const server = await startHttpServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          data: [
            { id: "sees", architecture: { input_modalities: ["text", "image"] }, supported_parameters: ["tools", "temperature"] },
            { id: "reads", architecture: { input_modalities: ["text"] }, supported_parameters: ["temperature"] },
            { id: "older-shape", architecture: { modality: "text+image->text" } },
            { id: "plain" },
          ],
        }),
      );
    });
    servers.push(server);
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    expect((await m.listModels!()).map((x) => [x.name, x.capabilities, x.unknownCapabilities])).toEqual([
      ["sees", ["tools", "vision"], undefined],
      ["reads", [], undefined],
      ["older-shape", ["tools", "vision"], undefined],
      ["plain", ["tools"], ["vision"]],
    ]);
    expect(await m.capabilities!("sees")).toMatchObject({ tools: true, vision: true });
    expect(await m.capabilities!("reads")).toMatchObject({ tools: false, vision: false });
    expect(await m.capabilities!("plain")).toMatchObject({ tools: undefined, vision: undefined });
  });

  it("knows the servers' refusals of images from other failures that name an image", () => {
    const refusal = (status: number, message: string) => refusesImages(new ChatError("bad_request", message, { status }));
    expect(refusal(400, "At most 0 image(s) may be provided in one request.")).toBe(true);
    expect(refusal(400, "Model does not support images. Please use a model that does.")).toBe(true);
    expect(refusal(400, "Invalid content type. image_url is only supported by certain models.")).toBe(true);
    expect(refusal(500, "image input is not supported - hint: you may need to provide the mmproj")).toBe(true);
    expect(refusal(400, "This model does not support image input")).toBe(true);
    expect(refusal(404, "No endpoints found that support image input")).toBe(true);
    expect(refusal(404, "The model `llava` does not exist")).toBe(false);
    expect(refusal(400, "Bad image: could not decode image data")).toBe(false);
    expect(refusal(400, "tools are not supported")).toBe(false);
    expect(refusal(503, "vision model is not available right now")).toBe(false);
  });

  it("a refusal of a request's images fails as model_unsupported naming images, and the model is known not to see", async () => {
    // vLLM's answer for a text-only model; llama.cpp without its projector answers with a 500.
    const refusals: Record<string, [number, string]> = {
      "text-only": [400, "Qwen/Qwen3-8B is not a multimodal model"],
      "no-mmproj": [500, "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj"],
    };
    const server = await startHttpServer((req, res) => {
      if (req.path.endsWith("/models")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ data: [{ id: "text-only" }, { id: "no-mmproj" }, { id: "other" }] }));
        return;
      }
      const [status, message] = refusals[(req.body as { model: string }).model] ?? [400, "Bad image: could not decode image data"];
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message, type: "BadRequestError", code: status } }));
    });
    servers.push(server);
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    for (const name of ["text-only", "no-mmproj"]) {
      const refused = await failure(chunks(m, withPicture(name)));
      expect(refused, name).toMatchObject({ code: "model_unsupported", unsupported: "images" });
      expect(refused.message).toContain(`"${name}" does not take images on this server`);
      expect(await m.capabilities!(name)).toMatchObject({ vision: false });
    }
    const listed = await m.listModels!();
    expect(listed.map((x) => [x.name, x.unknownCapabilities])).toEqual([
      ["text-only", undefined],
      ["no-mmproj", undefined],
      ["other", ["vision"]],
    ]);
    // Another failure over an image is the server's own: not a refusal of images, and the model stays unknown.
    expect(await failure(chunks(m, withPicture("other")))).toMatchObject({ code: "bad_request" });
    expect(await m.capabilities!("other")).toMatchObject({ vision: undefined });
    // Without images in the request, the same answer is no refusal of them either.
    expect(await failure(chunks(m, ask("text-only")))).toMatchObject({ code: "bad_request" });
  });

  it("a run whose earlier question carried a picture goes on without it when the server refuses it, and says so", async () => {
    const server = await startHttpServer((req, res) => {
      if (req.path.endsWith("/models")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ data: [{ id: "text-only" }] }));
        return;
      }
      if (JSON.stringify(req.body).includes("image_url")) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "text-only is not a multimodal model", code: 400 } }));
        return;
      }
      writeSse(res, [{ choices: [{ index: 0, delta: { content: "A summary." }, finish_reason: null }] }, { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }, "[DONE]"]);
    });
    servers.push(server);
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    const messages = [
      { role: "user" as const, content: "What is this?", images: [picture] },
      { role: "assistant" as const, content: "A red square." },
      { role: "user" as const, content: "Summarise our chat." },
    ];
    const { shapes, result } = await collect(runChat({ model: m, modelName: "text-only", conversationId: "c", runId: "r", messages }));
    expect(shapes).toContain('status:"text-only" cannot see images: answering without the earlier pictures.');
    expect(shapes.at(-1)).toBe("done:stop");
    expect(result.messages).toEqual([{ role: "assistant", content: "A summary." }]);
    const chats = server.requests.filter((r) => r.path.endsWith("/chat/completions"));
    expect(chats.map((r) => JSON.stringify(r.body).includes("image_url"))).toEqual([true, false]);
    // Known now: the next run leaves the picture out from the start.
    await collect(runChat({ model: m, modelName: "text-only", conversationId: "c", runId: "r2", messages }));
    expect(server.requests.filter((r) => r.path.endsWith("/chat/completions")).map((r) => JSON.stringify(r.body).includes("image_url"))).toEqual([true, false, false]);
  });
});

describe("createOpenAIModel — a prompt longer than the server's window", () => {
  const long = "word ".repeat(1500); // ~1,900 tokens a message
  const history = [
    { role: "user" as const, content: `First: ${long}` },
    { role: "assistant" as const, content: `Answer: ${long}` },
    { role: "user" as const, content: "And now?" },
  ];
  // The two ways servers refuse it: vLLM's HTTP 400 (OpenAI's and OpenRouter's words), llama.cpp's error in the stream
  // with the window beside the message.
  const refusals = {
    vllm: (res: ServerResponse, tokens: number) => {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "error", message: `This model's maximum context length is 2048 tokens. However, you requested ${tokens} tokens in the messages, Please reduce the length of the messages.`, type: "BadRequestError", code: 400 }));
    },
    "llama.cpp": (res: ServerResponse, tokens: number) =>
      writeSse(res, [{ error: { code: 400, message: "the request exceeds the available context size, try increasing it", type: "exceed_context_size_error", n_prompt_tokens: tokens, n_ctx: 2048 } }]),
  };

  /** A server with a 2,048-token window it does not list, refusing longer prompts as `refuse` does. */
  async function smallWindow(refuse: (res: ServerResponse, tokens: number) => void): Promise<TestServer> {
    const server = await startHttpServer((req, res) => {
      if (req.method === "GET") return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ data: [{ id: "small" }] }));
      const tokens = Math.ceil(JSON.stringify((req.body as { messages: unknown }).messages).length / 4);
      if (tokens > 2048) return refuse(res, tokens);
      writeSse(res, [{ choices: [{ index: 0, delta: { content: "Short." }, finish_reason: "stop" }] }, "[DONE]"]);
    });
    servers.push(server);
    return server;
  }
  const posts = (server: TestServer) => server.requests.filter((r) => r.method === "POST").map((r) => (r.body as { messages: unknown[] }).messages.length);

  for (const [name, refuse] of Object.entries(refusals)) {
    it(`${name}: the round goes again with the history cut to the window the refusal gave, and the next run starts cut`, async () => {
      const server = await smallWindow(refuse);
      const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
      const run = (runId: string) => collect(runChat({ model: m, modelName: "small", conversationId: "c", runId, messages: history }));
      const first = await run("r1");
      expect(first.shapes.at(-1)).toBe("done:stop");
      expect(first.events.find((e) => e.type === "status" && e.contextTrimmed)).toMatchObject({ contextTrimmed: { droppedMessages: 2 } });
      expect(first.result.text).toBe("Short.");
      expect(posts(server)).toEqual([3, 1]);
      // Remembered for the model: what models.list and the next run see.
      expect((await m.capabilities!("small")).contextLength).toBe(2048);
      expect((await m.listModels!()).map((x) => x.contextLength)).toEqual([2048]);
      await run("r2");
      expect(posts(server)).toEqual([3, 1, 1]);
    });
  }

  it("a newest message that alone is too long fails once cut to the window, as a bad_request naming it, after one more try", async () => {
    const server = await smallWindow(refusals.vllm);
    const m = createOpenAIModel({ baseUrl: `${server.url}/v1` });
    const { events, shapes } = await collect(runChat({ model: m, modelName: "small", conversationId: "c", runId: "r", messages: [{ role: "user", content: "word ".repeat(3000) }] }));
    expect(shapes.at(-1)).toBe("done:error");
    const error = events.find((e) => e.type === "error");
    expect(error).toMatchObject({ code: "bad_request", retryable: false });
    expect(error?.type === "error" && error.message).toContain("longer than the model's context window on the server (2,048 tokens)");
    expect(posts(server)).toEqual([1, 1]);
  });
});
