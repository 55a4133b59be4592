import { getEventListeners } from "node:events";
import { createServer } from "node:net";
import { startSimulator, type Scenario, type SimChatRequest, type SimChunk, type Simulator } from "@streamchat/ollama-sim";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { ChatModel } from "./model.js";
import { createOllamaModel } from "./providers/ollama.js";
import { runChat, type RunOptions } from "./run.js";
import { collect, RunRecorder } from "./test-support/recorder.js";
import { modelScenario, simQuestion, simRunOptions, simTools, timeTool } from "./test-support/sim-run.js";
import { defineTool } from "./tools.js";
import { calculatorTool } from "./tools/builtin.js";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0 });
});
afterEach(() => sim.clearScenarios());
afterAll(async () => {
  await sim.close();
});

const tools = simTools;
const question = simQuestion;
const run = (model: string, extra: Partial<RunOptions> = {}) => runChat(simRunOptions(sim, model, extra));
const scenario = (model: string, s: Omit<Scenario, "name" | "match">) => modelScenario(sim, model, s);

/** Round 1 calls tools; once tool results are in, answer with `answer`. */
function toolThenAnswer(first: SimChunk[], answer: SimChunk[] = [{ content: "It is " }, { content: "9 PM." }, { done: true }]) {
  return (req: SimChatRequest): SimChunk[] => (req.messages.at(-1)?.["role"] === "tool" ? answer : first);
}

const head = ["run-start", "status:Processing your question…"];
/** Announced once per round, right before its first answer token. */
const responding = "status:Responding…";

function bodiesOf(model: string): Array<{ messages: Array<Record<string, unknown>>; tools?: unknown[]; think?: unknown }> {
  return sim
    .chatRequests()
    .filter((r) => (r.body as { model?: string }).model === model)
    .map((r) => r.body as { messages: Array<Record<string, unknown>> });
}

describe("runChat against the simulator (Ollama wire)", () => {
  it("streams a text-only answer: exact events, text, messages and usage", async () => {
    scenario("m-text", { chunks: [{ content: "Hel" }, { content: "lo " }, { content: "😀" }, { done: true }] });
    const { shapes, result, events } = await collect(run("m-text"));
    expect(shapes).toEqual([...head, responding, "token:Hello 😀", "done:stop"]);
    expect(events[0]).toMatchObject({ type: "run-start", conversationId: "conv-1", model: "m-text", provider: "ollama" });
    expect(new Set(events.map((e) => e.runId))).toEqual(new Set([events[0]!.runId]));
    expect(result.text).toBe("Hello 😀");
    expect(result.messages).toEqual([{ role: "assistant", content: "Hello 😀" }]);
    expect(result.reason).toBe("stop");
    expect(result.error).toBeUndefined();
    // Metrics of the done line: eval_count = 3 content chunks, load_duration 1.25 ms.
    expect(result.usage).toMatchObject({ completionTokens: 3, loadMs: 1.25 });
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(result.usage.ttftMs).not.toBeNull();
    expect(result.usage.tokensPerSecond).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ type: "done", usage: result.usage });
    // Sent: the messages as they are, the tools, stream:true, no think by default.
    const [body] = bodiesOf("m-text");
    expect(body).toMatchObject({ model: "m-text", stream: true, messages: [{ role: "system" }, { role: "user", content: "What time is it in Tokyo?" }] });
    expect(body?.tools).toHaveLength(2);
    expect(body).not.toHaveProperty("think");
    expect(sim.chatRequests().at(-1)?.clientClosedEarly).toBe(false);
  });

  it("streams thinking as reasoning events before the answer and sends think:true", async () => {
    scenario("m-think", { chunks: [{ thinking: "Let me " }, { thinking: "see." }, { content: "Yes." }, { done: true }] });
    const { shapes, result } = await collect(run("m-think", { think: true }));
    expect(shapes).toEqual([...head, "reasoning:Let me see.", responding, "token:Yes.", "done:stop"]);
    expect(result.text).toBe("Yes.");
    expect(result.messages).toEqual([{ role: "assistant", content: "Yes.", thinking: "Let me see." }]);
    expect(bodiesOf("m-think")[0]).toMatchObject({ think: true });
  });

  it("reads a <think> block in the text of each round as that round's reasoning, apart from the tool call", async () => {
    scenario("m-tagged-tool", {
      respond: toolThenAnswer(
        [{ content: "<think>I need the time.</think>" }, { toolCalls: [{ id: "call_tagged01", name: "current_time", arguments: { timeZone: "Asia/Tokyo" } }] }, { done: true }],
        [{ content: "<think>\nGot it.\n</think>\n\n" }, { content: "It is 9 PM." }, { done: true }],
      ),
    });
    const { shapes, result } = await collect(run("m-tagged-tool"));
    expect(shapes).toEqual([
      ...head,
      "reasoning:I need the time.",
      "tool-call:current_time",
      "status:Using tool: current_time…",
      "tool-result:current_time:ok",
      "reasoning:Got it.\n",
      responding,
      "token:It is 9 PM.",
      "done:stop",
    ]);
    expect(result.text).toBe("It is 9 PM.");
    expect(result.messages.filter((m) => m.role === "assistant").map((m) => [m.content, m.thinking])).toEqual([
      ["", "I need the time."],
      ["It is 9 PM.", "Got it.\n"],
    ]);
  });

  it("runs a tool called on a done:false chunk and sends the call and its result back", async () => {
    scenario("m-tool", {
      respond: toolThenAnswer([
        { content: "Checking. " },
        { toolCalls: [{ id: "call_tokyo001", name: "current_time", arguments: { timeZone: "Asia/Tokyo" } }] },
        { done: true },
      ]),
    });
    const { shapes, result, events } = await collect(run("m-tool"));
    expect(shapes).toEqual([
      ...head,
      responding,
      "token:Checking. ",
      "tool-call:current_time",
      "status:Using tool: current_time…",
      "tool-result:current_time:ok",
      responding,
      "token:It is 9 PM.",
      "done:stop",
    ]);
    const expected = { timeZone: "Asia/Tokyo", iso: "2026-11-29T21:05:00+09:00", formatted: "Sunday, November 29, 2026 at 9:05:00 PM GMT+9" };
    expect(events.find((e) => e.type === "tool-call")).toMatchObject({ callId: "call_tokyo001", args: { timeZone: "Asia/Tokyo" } });
    expect(events.find((e) => e.type === "tool-result")).toMatchObject({ callId: "call_tokyo001", ok: true, result: expected });
    expect(result.text).toBe("Checking. It is 9 PM.");

    // What the engine sent back: the assistant message with its call (arguments as an object), then the result.
    const bodies = bodiesOf("m-tool");
    expect(bodies).toHaveLength(2);
    expect(bodies[1]?.messages.slice(2)).toEqual([
      {
        role: "assistant",
        content: "Checking. ",
        tool_calls: [{ id: "call_tokyo001", function: { name: "current_time", arguments: { timeZone: "Asia/Tokyo" } } }],
      },
      { role: "tool", content: JSON.stringify(expected), tool_name: "current_time", tool_call_id: "call_tokyo001" },
    ]);
    expect(result.messages).toEqual([
      {
        role: "assistant",
        content: "Checking. ",
        toolCalls: [{ id: "call_tokyo001", name: "current_time", args: { timeZone: "Asia/Tokyo" } }],
      },
      { role: "tool", toolCallId: "call_tokyo001", toolName: "current_time", content: JSON.stringify(expected) },
      { role: "assistant", content: "It is 9 PM." },
    ]);
  });

  it("runs a tool called on the done:true chunk itself (built-in sim-tool-on-done)", async () => {
    const { shapes } = await collect(run("sim-tool-on-done"));
    expect(shapes.slice(0, 7)).toEqual([
      ...head,
      responding,
      "token:Let me check. ",
      "tool-call:current_time",
      "status:Using tool: current_time…",
      "tool-result:current_time:ok",
    ]);
    expect(shapes.at(-1)).toBe("done:stop");
    expect(shapes.filter((s) => s.startsWith("token:")).length).toBeGreaterThan(1);
    const second = bodiesOf("sim-tool-on-done")[1];
    expect(second?.messages.at(-1)).toMatchObject({ role: "tool", tool_name: "current_time" });
  });

  it("appends two tool calls from separate chunks and runs them in parallel (built-in sim-two-tools)", async () => {
    const { shapes, events, result } = await collect(run("sim-two-tools"));
    expect(shapes.slice(0, 6)).toEqual([
      ...head,
      "tool-call:current_time",
      "tool-call:calculator",
      "status:Using tool: current_time…",
      "status:Using tool: calculator…",
    ]);
    expect(shapes.slice(6, 8).sort()).toEqual(["tool-result:calculator:ok", "tool-result:current_time:ok"]);
    expect(events.find((e) => e.type === "tool-result" && e.name === "calculator")).toMatchObject({ result: { expression: "6*7", result: "42" } });
    expect(shapes.at(-1)).toBe("done:stop");
    const sent = bodiesOf("sim-two-tools")[1]?.messages.slice(2);
    expect(sent?.[0]?.["tool_calls"]).toHaveLength(2);
    expect(sent?.slice(1).map((m) => [m["role"], m["tool_name"]])).toEqual([
      ["tool", "current_time"],
      ["tool", "calculator"],
    ]);
    expect(result.messages.map((m) => m.role)).toEqual(["assistant", "tool", "tool", "assistant"]);
  });

  it("runs the tools of one round concurrently", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const started: string[] = [];
    const waiter = (name: string) =>
      defineTool({
        name,
        description: "waits for the gate",
        input: z.object({}),
        execute: async () => {
          started.push(name);
          if (started.length === 2) release(); // only reachable if both run at once
          await gate;
          return name;
        },
      });
    scenario("m-parallel", {
      respond: toolThenAnswer([{ toolCalls: [{ name: "a", arguments: {} }, { name: "b", arguments: {} }] }, { done: true }]),
    });
    const { shapes } = await collect(run("m-parallel", { tools: [waiter("a"), waiter("b")] }));
    expect(started.sort()).toEqual(["a", "b"]);
    expect(shapes.filter((s) => s.startsWith("tool-result")).sort()).toEqual(["tool-result:a:ok", "tool-result:b:ok"]);
  });

  it("decodes multi-byte characters split across TCP writes (built-in sim-utf8-split)", async () => {
    const { result, shapes } = await collect(run("sim-utf8-split"));
    expect(result.text).toBe("Grüße aus 東京 🎉 café — naïve 日本語");
    expect(shapes.at(-1)).toBe("done:stop");
  });

  it("reports an {error} line mid-stream as provider_error after the tokens before it", async () => {
    const { shapes, result, events } = await collect(run("sim-error-mid-stream"));
    expect(shapes).toEqual([...head, responding, "token:The answer starts ", "error:provider_error", "done:error"]);
    expect(events.at(-2)).toMatchObject({ message: expect.stringContaining("an error was encountered while running the model"), retryable: true });
    expect(result).toMatchObject({ reason: "error", text: "The answer starts ", error: { code: "provider_error" } });
    // The partial answer the user saw stays in the history.
    expect(result.messages).toEqual([{ role: "assistant", content: "The answer starts " }]);
  });

  it("reports a stream cut without done as stream_truncated", async () => {
    const { shapes, result } = await collect(run("sim-truncated"));
    expect(shapes).toEqual([...head, responding, "token:The answer starts ", "error:stream_truncated", "done:error"]);
    expect(result.error?.code).toBe("stream_truncated");
  });

  it("reports a non-JSON line as provider_error instead of skipping it", async () => {
    const { shapes } = await collect(run("sim-garbage-line"));
    expect(shapes).toEqual([...head, responding, "token:Before garbage. ", "error:provider_error", "done:error"]);
  });

  it("maps 404 to model_not_found", async () => {
    const notFound = await collect(run("sim-not-found"));
    expect(notFound.shapes).toEqual([...head, "error:model_not_found", "done:error"]);
    expect(notFound.events.at(-2)).toMatchObject({ message: 'model "sim-not-found" not found, try pulling it first', retryable: false });
  });

  it("maps a refused connection to provider_unavailable without the server's address", async () => {
    const port = await closedPort();
    const unreachable: string[] = [];
    const model = createOllamaModel({ baseUrl: `http://127.0.0.1:${port}`, onUnreachable: ({ url }) => unreachable.push(url) });
    const { shapes, events } = await collect(runChat({ ...baseOptions(), model }));
    expect(shapes).toEqual([...head, "error:provider_unavailable", "done:error"]);
    const error = events.at(-2);
    expect(error).toMatchObject({ message: "Cannot reach the model server (ECONNREFUSED). Is it running?", retryable: true });
    expect(JSON.stringify(events)).not.toContain(String(port));
    // The address goes to whoever runs the server (the API logs it).
    expect(unreachable).toContain(`http://127.0.0.1:${port}/api/chat`);
  });
});

describe("runChat sends only what the model supports (capabilities from /api/show)", () => {
  it("chats with models without the tools capability: the request carries no tools", async () => {
    for (const model of ["gemma3", "sim-no-tools"]) {
      const { shapes, result } = await collect(run(model));
      expect(shapes.at(-1), model).toBe("done:stop");
      expect(result.text.length, model).toBeGreaterThan(0);
      expect(bodiesOf(model).at(-1), model).not.toHaveProperty("tools");
    }
    // A model with the capability still gets them.
    await collect(run("llama3.2"));
    expect(bodiesOf("llama3.2").at(-1)?.tools).toHaveLength(2);
  });

  it("never sends think to a model without the thinking capability: think:true fails before any request, think:false is left out", async () => {
    const before = bodiesOf("sim-no-thinking").length;
    const asked = await collect(run("sim-no-thinking", { think: true }));
    expect(asked.shapes).toEqual([...head, "error:model_unsupported", "done:error"]);
    expect(asked.events.at(-2)).toMatchObject({ message: '"sim-no-thinking" does not support thinking.', retryable: false });
    expect(bodiesOf("sim-no-thinking")).toHaveLength(before);

    const off = await collect(run("sim-no-thinking", { think: false }));
    expect(off.shapes.at(-1)).toBe("done:stop");
    expect(bodiesOf("sim-no-thinking").at(-1)).not.toHaveProperty("think");
    // A thinking model gets both values as asked.
    await collect(run("qwen3", { think: false }));
    expect(bodiesOf("qwen3").at(-1)).toMatchObject({ think: false });
  });

  it("with unknown capabilities (no /api/show answer), tools the server refuses: the round goes again without them, says so, and later runs leave them out", async () => {
    // "m-refuses" is not installed as far as /api/show knows (404): nothing is known about it.
    scenario("m-refuses", {
      reject: (req) => (req.tools?.length ? { status: 400, error: '"m-refuses" does not support tools' } : undefined),
      chunks: [{ content: "ok" }, { done: true }],
    });
    const model = createOllamaModel({ baseUrl: sim.url }); // one provider: it remembers the refusal
    const first = await collect(runChat({ ...baseOptions(), model, modelName: "m-refuses", tools }));
    expect(first.shapes).toEqual([...head, 'status:"m-refuses" does not support tools: answering without them.', responding, "token:ok", "done:stop"]);
    expect(first.events[2]).toMatchObject({ type: "status", phase: "thinking", unsupportedFeature: "tools" });
    expect(bodiesOf("m-refuses").map((b) => b.tools?.length ?? 0)).toEqual([2, 0]);
    expect(first.result.messages).toEqual([{ role: "assistant", content: "ok" }]);
    // Remembered: the next run sends no tools and pays no refused request.
    expect(await model.capabilities!("m-refuses")).toMatchObject({ tools: false, thinking: undefined });
    const second = await collect(runChat({ ...baseOptions(), model, modelName: "m-refuses", tools }));
    expect(second.shapes).toEqual([...head, responding, "token:ok", "done:stop"]);
    // The refused request counts for nothing: both runs report the same answer's usage.
    expect(first.result.usage).toMatchObject({ completionTokens: second.result.usage.completionTokens, promptTokens: second.result.usage.promptTokens });
    expect(bodiesOf("m-refuses").map((b) => b.tools?.length ?? 0)).toEqual([2, 0, 0]);
    // The same when the answer is handed to onStreamEvent (the API's way).
    const streamed: string[] = [];
    const handed = await collect(
      runChat({ ...baseOptions(), model: createOllamaModel({ baseUrl: sim.url }), modelName: "m-refuses", tools, onStreamEvent: (e) => void streamed.push(e.type) }),
    );
    expect(handed.shapes.slice(0, 3)).toEqual([...head, 'status:"m-refuses" does not support tools: answering without them.']);
    expect(handed.shapes.at(-1)).toBe("done:stop");
    expect(streamed).toContain("token");
    expect(bodiesOf("m-refuses").map((b) => b.tools?.length ?? 0)).toEqual([2, 0, 0, 2, 0]);
  });

  it("goes on without tools when they are refused after a tool round (the history keeps its calls and results)", async () => {
    // The model changed between the rounds (pulled again without tools): the second round's request is refused.
    const secondRound = (req: SimChatRequest) => req.messages.at(-1)?.["role"] === "tool";
    scenario("m-refuses-later", {
      reject: (req) => (secondRound(req) && req.tools?.length ? { status: 400, error: '"m-refuses-later" does not support tools' } : undefined),
      respond: toolThenAnswer([{ toolCalls: [{ name: "calculator", arguments: { expression: "6*7" } }] }, { done: true }], [{ content: "42." }, { done: true }]),
    });
    const { shapes, result } = await collect(run("m-refuses-later"));
    expect(shapes.filter((s) => s.startsWith("status:\"") || s.startsWith("tool-") || s.startsWith("done"))).toEqual([
      "tool-call:calculator",
      "tool-result:calculator:ok",
      'status:"m-refuses-later" does not support tools: answering without them.',
      "done:stop",
    ]);
    expect(result.text).toBe("42.");
    const last = bodiesOf("m-refuses-later").at(-1);
    expect(last?.tools).toBeUndefined();
    expect(last?.messages.map((m) => m["role"])).toEqual(["system", "user", "assistant", "tool"]);
  });

  it("tools refused although /api/show lists them: model_unsupported, not retried (the model changed; the next run reads it again)", async () => {
    scenario("llama3.2", {
      reject: (req) => (req.tools?.length ? { status: 400, error: '"llama3.2" does not support tools' } : undefined),
      chunks: [{ content: "ok" }, { done: true }],
    });
    const before = bodiesOf("llama3.2").length;
    const { shapes } = await collect(run("llama3.2"));
    expect(shapes).toEqual([...head, "error:model_unsupported", "done:error"]);
    expect(bodiesOf("llama3.2")).toHaveLength(before + 1);
  });

  it("with unknown capabilities, thinking the server refuses ends the run with model_unsupported naming thinking (not retried), then before any request", async () => {
    scenario("m-no-think", {
      reject: (req) => (req.think ? { status: 400, error: '"m-no-think" does not support thinking' } : undefined),
      chunks: [{ content: "ok" }, { done: true }],
    });
    const model = createOllamaModel({ baseUrl: sim.url });
    const thinking = await collect(runChat({ ...baseOptions(), model, modelName: "m-no-think", tools: [], think: true }));
    expect(thinking.shapes).toEqual([...head, "error:model_unsupported", "done:error"]);
    expect(thinking.events.at(-2)).toMatchObject({ message: '"m-no-think" does not support thinking', retryable: false });
    expect(bodiesOf("m-no-think")).toHaveLength(1);
    // Remembered: the next such run stops before asking, like one on a model known to lack thinking.
    const again = await collect(runChat({ ...baseOptions(), model, modelName: "m-no-think", tools: [], think: "high" }));
    expect(again.events.at(-2)).toMatchObject({ code: "model_unsupported", message: '"m-no-think" does not support thinking.' });
    expect(bodiesOf("m-no-think")).toHaveLength(1);
    // Without think the same model answers.
    expect((await collect(runChat({ ...baseOptions(), model, modelName: "m-no-think", tools: [] }))).shapes.at(-1)).toBe("done:stop");
  });

  it("takes what the model knows now (capabilitiesNow, stateNow) without asking capabilities or state", async () => {
    const asked: string[] = [];
    const requests: Array<{ tools?: unknown }> = [];
    const model: ChatModel = {
      provider: "test",
      // What the asynchronous ways would say differs, so that the answer shows which one the run took.
      capabilities: async () => {
        asked.push("capabilities");
        return { tools: true, thinking: undefined };
      },
      capabilitiesNow: () => ({ tools: false, thinking: undefined }),
      state: async () => {
        asked.push("state");
        return { loaded: true };
      },
      stateNow: () => ({ loaded: false }),
      async *stream(request) {
        requests.push({ tools: request.tools });
        yield { type: "text", text: "hi" } as const;
        yield { type: "finish", reason: "stop", metrics: {} } as const;
      },
    };
    const { shapes } = await collect(runChat({ ...baseOptions(), model, modelName: "m", tools }));
    expect(asked).toEqual([]);
    expect(requests).toEqual([{ tools: undefined }]); // capabilitiesNow said no tools
    expect(shapes).toEqual([...head, "status:Loading m…", responding, "token:hi", "done:stop"]); // stateNow said not loaded
  });

  it("asks capabilities and state when the model cannot say now", async () => {
    const asked: string[] = [];
    const model: ChatModel = {
      provider: "test",
      capabilities: async () => {
        asked.push("capabilities");
        return { tools: undefined, thinking: undefined };
      },
      capabilitiesNow: () => undefined,
      state: async () => {
        asked.push("state");
        return { loaded: undefined };
      },
      stateNow: () => {
        throw new Error("a provider's bug");
      },
      async *stream() {
        yield { type: "text", text: "hi" } as const;
        yield { type: "finish", reason: "stop", metrics: {} } as const;
      },
    };
    const { shapes } = await collect(runChat({ ...baseOptions(), model, modelName: "m" }));
    expect(asked).toEqual(["capabilities", "state"]);
    expect(shapes.at(-1)).toBe("done:stop");
  });

  it("a cancel while the capabilities are being read ends the run at once", async () => {
    const controller = new AbortController();
    const model: ChatModel = {
      provider: "test",
      capabilities: () => new Promise(() => controller.abort()),
      stream: () => {
        throw new Error("must not be called");
      },
    };
    const { shapes } = await collect(runChat({ ...baseOptions(), model, signal: controller.signal }));
    expect(shapes).toEqual([...head, "done:cancelled"]);
  });
});

describe("runChat against the simulator (Ollama wire), continued", () => {
  it("streams a slow drip chunk by chunk: each token is out before the next is written", async () => {
    const ctl = sim.control({ model: "m-drip" });
    const rec = new RunRecorder(run("m-drip"));
    await ctl.connected;
    for (const word of ["one ", "two ", "three"]) {
      await ctl.push({ content: word });
      await rec.until((e) => e.type === "token" && e.text === word);
    }
    await ctl.push({ done: true });
    const { result } = await rec.finished;
    // One body chunk each: one token event each, none held back to be joined with the next.
    expect(rec.events.flatMap((e) => (e.type === "token" ? [e.text] : []))).toEqual(["one ", "two ", "three"]);
    expect(rec.shapes()).toEqual([...head, responding, "token:one two three", "done:stop"]);
    expect(result.text).toBe("one two three");
  });

  it("cancels mid-stream: done{cancelled} only, and the simulator sees the connection close", async () => {
    const ctl = sim.control({ model: "m-cancel" });
    const abort = new AbortController();
    const rec = new RunRecorder(run("m-cancel", { signal: abort.signal }));
    const record = await ctl.connected;
    await ctl.push({ content: "Partial " });
    await rec.until((e) => e.type === "token");
    abort.abort();
    const { result } = await rec.finished;
    expect(rec.shapes()).toEqual([...head, responding, "token:Partial ", "done:cancelled"]);
    expect(result).toMatchObject({ reason: "cancelled", text: "Partial ", messages: [{ role: "assistant", content: "Partial " }] });
    expect(result.error).toBeUndefined();
    await ctl.closedByClient;
    await record.finished;
    expect(record.clientClosedEarly).toBe(true);
  });

  it("leaves no listener on the caller's signal, after tool rounds and after a consumer that stops", async () => {
    scenario("m-listeners", { respond: toolThenAnswer([{ toolCalls: [{ name: "calculator", arguments: { expression: "1+1" } }] }, { done: true }]) });
    const signal = new AbortController().signal;
    const { shapes } = await collect(run("m-listeners", { signal }));
    expect(shapes.at(-1)).toBe("done:stop");
    expect(getEventListeners(signal, "abort")).toHaveLength(0);

    const ctl = sim.control({ model: "m-listeners-stop" });
    const stopped = run("m-listeners-stop", { signal });
    void ctl.connected.then(() => ctl.push({ content: "Partial " }));
    for (let next = await stopped.next(); !next.done && next.value.type !== "token"; next = await stopped.next());
    expect(getEventListeners(signal, "abort").length).toBeGreaterThan(0);
    await stopped.return(undefined as never);
    expect(getEventListeners(signal, "abort")).toHaveLength(0);
    await ctl.closedByClient;
  });

  it("cancels while waiting for the first byte of a stalled model", async () => {
    const abort = new AbortController();
    const rec = new RunRecorder(run("sim-stall", { signal: abort.signal }));
    await rec.until((e) => e.type === "token" && e.text.endsWith("starts "));
    abort.abort();
    await rec.finished;
    expect(rec.shapes().at(-1)).toBe("done:cancelled");
    const record = sim.chatRequests().filter((r) => (r.body as { model: string }).model === "sim-stall").at(-1)!;
    await record.finished;
    expect(record.clientClosedEarly).toBe(true);
  });

  it("makes one AbortController per run, not one per model round: a stall aborts the run's own", async () => {
    scenario("m-tool-controllers", {
      respond: toolThenAnswer([{ toolCalls: [{ name: "current_time", arguments: { timeZone: "Asia/Tokyo" } }] }, { done: true }]),
    });
    const Original = globalThis.AbortController;
    let made = 0;
    globalThis.AbortController = class extends Original {
      constructor() {
        super();
        // The simulator answers in this process: its requests' controllers are not the run's.
        if (!new Error().stack?.includes("ollama-sim")) made++;
      }
    };
    try {
      const { shapes } = await collect(run("m-tool-controllers"));
      expect(shapes.at(-1)).toBe("done:stop");
    } finally {
      globalThis.AbortController = Original;
    }
    // Two model rounds and one tool call: the run's controller and the tool call's timeout.
    expect(made).toBe(2);
  });

  it("fails a stalled model after idleTimeoutMs and closes its connection", async () => {
    const { shapes, events } = await collect(run("sim-stall", { idleTimeoutMs: 200 }));
    expect(shapes).toEqual([...head, responding, "token:The answer starts ", "error:provider_error", "done:error"]);
    expect(events.at(-2)).toMatchObject({ message: "The model stalled: no data from the model server for 0.2 s.", retryable: true });
    const record = sim.chatRequests().at(-1)!;
    await record.finished;
    expect(record.clientClosedEarly).toBe(true);
  });

  it("closes the model connection when the consumer stops iterating early", async () => {
    const ctl = sim.control({ model: "m-return" });
    const gen = run("m-return");
    const seen: string[] = [];
    const consume = (async () => {
      for await (const event of gen) {
        seen.push(event.type);
        if (event.type === "token") break; // calls gen.return()
      }
    })();
    await ctl.connected;
    await ctl.push({ content: "Hi" });
    await consume;
    await ctl.closedByClient;
    expect(seen).toEqual(["run-start", "status", "status", "token"]);
    expect(await gen.next()).toEqual({ done: true, value: undefined });
  });

  it("cancels promptly while a tool is running, even a tool that ignores its signal", async () => {
    let toolStarted!: () => void;
    const started = new Promise<void>((r) => (toolStarted = r));
    const deaf = defineTool({
      name: "deaf",
      description: "never returns",
      input: z.object({}),
      execute: () => {
        toolStarted();
        return new Promise<never>(() => undefined);
      },
    });
    scenario("m-cancel-tool", { chunks: [{ toolCalls: [{ id: "call_deaf0001", name: "deaf", arguments: {} }] }, { done: true }] });
    const abort = new AbortController();
    const rec = new RunRecorder(run("m-cancel-tool", { signal: abort.signal, tools: [deaf], toolTimeoutMs: 60_000 }));
    await started;
    abort.abort();
    const { result } = await rec.finished;
    expect(rec.shapes()).toEqual([...head, "tool-call:deaf", "status:Using tool: deaf…", "done:cancelled"]);
    // The history stays valid for the next request: the call is answered as cancelled.
    expect(result.messages.at(-1)).toMatchObject({ role: "tool", toolCallId: "call_deaf0001", content: expect.stringContaining('"cancelled"') });
  });

  it("stops after maxSteps rounds that keep calling tools", async () => {
    scenario("m-loop", { chunks: [{ toolCalls: [{ name: "calculator", arguments: { expression: "1+1" } }] }, { done: true }] });
    const { shapes, result } = await collect(run("m-loop", { maxSteps: 2 }));
    const round = ["tool-call:calculator", "status:Using tool: calculator…", "tool-result:calculator:ok"];
    expect(shapes).toEqual([...head, ...round, ...round, "done:max-steps"]);
    expect(bodiesOf("m-loop")).toHaveLength(2);
    expect(result.messages.map((m) => m.role)).toEqual(["assistant", "tool", "assistant", "tool"]);
  });

  it("reports tool timeouts, throws, invalid args and unknown tools to the model and carries on", async () => {
    const slow = defineTool({
      name: "slow",
      description: "too slow",
      input: z.object({}),
      timeoutMs: 20,
      execute: (_args, { signal }) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")))),
    });
    const boom = defineTool({
      name: "boom",
      description: "throws",
      input: z.object({}),
      execute: () => {
        throw new Error("database is down");
      },
    });
    scenario("m-tool-faults", {
      respond: toolThenAnswer([
        {
          toolCalls: [
            { id: "call_slow0001", name: "slow", arguments: {} },
            { id: "call_boom0001", name: "boom", arguments: {} },
            { id: "call_args0001", name: "current_time", arguments: { timeZone: "Mars/Base" } },
            { id: "call_none0001", name: "teleport", arguments: {} },
          ],
        },
        { done: true },
      ]),
    });
    const { shapes, events, result } = await collect(run("m-tool-faults", { tools: [slow, boom, timeTool] }));
    expect(shapes.slice(0, 6)).toEqual([...head, "tool-call:slow", "tool-call:boom", "tool-call:current_time", "tool-call:teleport"]);
    expect(shapes.slice(10, 14).sort()).toEqual([
      "tool-result:boom:tool_failed",
      "tool-result:current_time:invalid_tool_args",
      "tool-result:slow:tool_timeout",
      "tool-result:teleport:tool_failed",
    ]);
    expect(shapes.slice(14)).toEqual([responding, "token:It is 9 PM.", "done:stop"]);
    const errorOf = (callId: string) => events.find((e) => e.type === "tool-result" && e.callId === callId);
    expect(errorOf("call_boom0001")).toMatchObject({ error: { message: "Tool boom failed: database is down" } });
    expect(errorOf("call_slow0001")).toMatchObject({ error: { message: "Tool slow timed out after 20 ms." } });
    expect(errorOf("call_args0001")).toMatchObject({ error: { message: expect.stringContaining('Unknown time zone "Mars/Base"') } });
    // The invalid call is announced with the raw arguments the model sent.
    expect(events.find((e) => e.type === "tool-call" && e.callId === "call_args0001")).toMatchObject({ args: { timeZone: "Mars/Base" } });
    const sent = bodiesOf("m-tool-faults")[1]?.messages.filter((m) => m["role"] === "tool");
    expect(sent?.map((m) => [m["tool_call_id"], JSON.parse(String(m["content"])).error.code])).toEqual([
      ["call_slow0001", "tool_timeout"],
      ["call_boom0001", "tool_failed"],
      ["call_args0001", "invalid_tool_args"],
      ["call_none0001", "tool_failed"],
    ]);
    expect(result.reason).toBe("stop");
  });

  it("sums usage over rounds", async () => {
    scenario("m-usage", {
      respond: toolThenAnswer([{ content: "a" }, { toolCalls: [{ name: "calculator", arguments: { expression: "2" } }] }, { done: true }], [
        { content: "b" },
        { content: "c" },
        { done: true },
      ]),
    });
    const { result } = await collect(run("m-usage"));
    // eval_count: round 1 = 2 (text + call chunk), round 2 = 2; load 1.25 ms per round.
    expect(result.usage).toMatchObject({ completionTokens: 4, loadMs: 2.5 });
  });
});

function baseOptions(): RunOptions {
  return simRunOptions(sim, "demo");
}

/** A port nothing listens on: bind an ephemeral one, then release it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("runChat contract edges (in-process models)", () => {
  const modelOf = (stream: ChatModel["stream"]): ChatModel => ({ provider: "test", stream });
  const opts = (model: ChatModel, extra: Partial<RunOptions> = {}): RunOptions => ({
    model,
    modelName: "t",
    conversationId: "c",
    runId: "r",
    messages: question,
    ...extra,
  });

  it("hides an unexpected throw behind internal (no message or stack leaks)", async () => {
    const model = modelOf(async function* () {
      yield { type: "text", text: "a" } as const;
      throw new TypeError("Cannot read properties of undefined (reading 'secret')");
    });
    const { shapes, events, result } = await collect(runChat(opts(model)));
    expect(shapes).toEqual([...head, responding, "token:a", "error:internal", "done:error"]);
    expect(events.at(-2)).toMatchObject({ message: "Something went wrong on the server.", retryable: true });
    expect(result.error).toEqual({ code: "internal", message: "Something went wrong on the server." });
  });

  it("treats a model that ends without finish as stream_truncated", async () => {
    const model = modelOf(async function* () {
      yield { type: "text", text: "a" } as const;
    });
    expect((await collect(runChat(opts(model)))).shapes).toEqual([...head, responding, "token:a", "error:stream_truncated", "done:error"]);
  });

  it("cancels promptly even when the model ignores the signal", async () => {
    let entered!: () => void;
    const waiting = new Promise<void>((r) => (entered = r));
    const model = modelOf(async function* () {
      yield { type: "text", text: "a" } as const;
      entered();
      await new Promise(() => undefined); // never resolves, never looks at the signal
    });
    const abort = new AbortController();
    const rec = new RunRecorder(runChat(opts(model, { signal: abort.signal })));
    await waiting;
    abort.abort();
    const { result } = await rec.finished;
    expect(rec.shapes()).toEqual([...head, responding, "token:a", "done:cancelled"]);
    expect(result.reason).toBe("cancelled");
  });

  it("ends at once with done{cancelled} when the signal is already aborted", async () => {
    let called = false;
    const model = modelOf(async function* () {
      called = true;
      yield { type: "finish", reason: "stop", metrics: {} } as const;
    });
    const { shapes } = await collect(runChat(opts(model, { signal: AbortSignal.abort() })));
    expect(shapes).toEqual([...head, "done:cancelled"]);
    expect(called).toBe(false); // no request was made
  });

  it("stamps events with the injected clock and measures usage with it", async () => {
    let t = 1000;
    const now = () => t;
    const model = modelOf(async function* () {
      t = 1100;
      yield { type: "reasoning", text: "r" } as const;
      t = 1200;
      yield { type: "text", text: "a" } as const;
      t = 1300;
      yield { type: "text", text: "b" } as const;
      t = 1500;
      yield { type: "finish", reason: "length", metrics: { promptTokens: 7 } } as const;
    });
    const { events, result } = await collect(runChat(opts(model, { now })));
    // run-start, thinking, reasoning, responding + token (same instant), token, done.
    expect(events.map((e) => e.at)).toEqual([1000, 1000, 1100, 1200, 1200, 1300, 1500]);
    // No eval metrics: 3 chunks measured from the first (1100) to the end of the round (1500).
    expect(result.usage).toEqual({ promptTokens: 7, completionTokens: 3, ttftMs: 100, durationMs: 500, loadMs: null, tokensPerSecond: 7.5 });
    expect(result.reason).toBe("length");
  });

  it("counts a chunk's pieces as tokens where the model reports no count", async () => {
    let t = 1000;
    const model = modelOf(async function* () {
      t = 1100;
      yield { type: "text", text: "abc", pieces: 3 } as const;
      t = 1500;
      yield { type: "text", text: "d" } as const;
      yield { type: "finish", reason: "stop", metrics: {} } as const;
    });
    const { result } = await collect(runChat(opts(model, { now: () => t })));
    // 4 tokens from the first chunk (1100) to the end of the round (1500).
    expect(result.usage).toMatchObject({ completionTokens: 4, tokensPerSecond: 10 });
  });

  it("announces responding once per round, right before the round's first token", async () => {
    let round = 0;
    const model = modelOf(async function* () {
      round += 1;
      if (round === 1) {
        yield { type: "reasoning", text: "hmm" } as const;
        yield { type: "text", text: "Let me " } as const;
        yield { type: "text", text: "check." } as const;
        yield { type: "tool-call", call: { id: "c1", name: "calculator", args: { expression: "2*3" } } } as const;
      } else {
        yield { type: "text", text: "It is " } as const;
        yield { type: "text", text: "6." } as const;
      }
      yield { type: "finish", reason: "stop", metrics: {} } as const;
    });
    const { shapes, events } = await collect(runChat(opts(model, { tools: [calculatorTool] })));
    expect(shapes).toEqual([
      ...head,
      "reasoning:hmm",
      responding,
      "token:Let me check.",
      "tool-call:calculator",
      "status:Using tool: calculator…",
      "tool-result:calculator:ok",
      responding,
      "token:It is 6.",
      "done:stop",
    ]);
    expect(events.filter((e) => e.type === "status" && e.phase === "responding")).toHaveLength(2);
  });

  it("does not count a slow consumer as a stalled model", async () => {
    const model = modelOf(async function* () {
      yield { type: "text", text: "a" } as const;
      yield { type: "text", text: "b" } as const;
      yield { type: "finish", reason: "stop", metrics: {} } as const;
    });
    const seen: string[] = [];
    for await (const event of runChat(opts(model, { idleTimeoutMs: 100 }))) {
      seen.push(event.type);
      if (event.type === "token") await new Promise((r) => setTimeout(r, 300)); // the idle timer fires meanwhile
    }
    // Had the timer counted the consumer's time, the run would have failed with provider_error.
    expect(seen).toEqual(["run-start", "status", "status", "token", "token", "done"]);
  });

  it("takes tokens per second from the eval metrics when every round reports them", async () => {
    let round = 0;
    const model = modelOf(async function* () {
      round += 1;
      yield { type: "text", text: "x" } as const;
      if (round === 1) yield { type: "tool-call", call: { id: "c1", name: "calculator", args: { expression: "1" } } } as const;
      yield { type: "finish", reason: "stop", metrics: { promptTokens: 10, completionTokens: 10, evalMs: 400, loadMs: 3 } } as const;
    });
    const { result } = await collect(runChat(opts(model, { tools: [calculatorTool] })));
    expect(result.usage).toMatchObject({ promptTokens: 20, completionTokens: 20, loadMs: 6, tokensPerSecond: 25 });
  });

  it("gives a repeated or missing tool-call id a fresh one", async () => {
    let round = 0;
    const model = modelOf(async function* () {
      round += 1;
      if (round === 1) {
        yield { type: "tool-call", call: { id: "dup", name: "calculator", args: { expression: "1" } } } as const;
        yield { type: "tool-call", call: { id: "dup", name: "calculator", args: { expression: "2" } } } as const;
        yield { type: "tool-call", call: { id: "", name: "calculator", args: { expression: "3" } } } as const;
      }
      yield { type: "finish", reason: "stop", metrics: {} } as const;
    });
    const { events } = await collect(runChat(opts(model, { tools: [calculatorTool] })));
    const ids = events.flatMap((e) => (e.type === "tool-call" ? [e.callId] : []));
    expect(ids[0]).toBe("dup");
    expect(new Set(ids).size).toBe(3);
  });
});
