/**
 * Model capabilities through runChat, over real HTTP against the simulator: images for vision models,
 * think levels, the context window (token trimming, num_ctx, truncation), model loading, keep_alive.
 */
import { capabilityModels, defaultModels, solidPng, startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageAttachment } from "./attachments.js";
import type { FileAttachment } from "./files.js";
import { checkModelSupport } from "./capabilities.js";
import type { ChatEvent } from "./events.js";
import type { ChatMessage, ChatModel } from "./model.js";
import { createOllamaModel, type OllamaModelOptions } from "./providers/ollama.js";
import { createOpenAIModel } from "./providers/openai.js";
import { runChat, type RunOptions } from "./run.js";
import { collect } from "./test-support/recorder.js";
import { calculatorTool } from "./tools/builtin.js";
import { defineTool } from "./tools.js";
import { z } from "zod";

let sim: Simulator;
let runs = 0;
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0, models: [...defaultModels, ...capabilityModels] });
});
afterAll(() => sim.close());

const system: ChatMessage = { role: "system", content: "You are helpful." };
const ask = (content: string, images?: ImageAttachment[]): ChatMessage => (images ? { role: "user", content, images } : { role: "user", content });
const redPng = solidPng(4, 3, [255, 0, 0]).toString("base64");
const redImage: ImageAttachment = { type: "image", mimeType: "image/png", data: redPng };
const head = ["run-start", "status:Processing your question…"];

function run(model: ChatModel, modelName: string, extra: Partial<RunOptions> = {}) {
  runs += 1;
  return runChat({ model, modelName, conversationId: "c", runId: `r${runs}`, messages: [system, ask("hello")], ...extra });
}
const ollama = (opts: Partial<OllamaModelOptions> = {}, target: Simulator = sim) => createOllamaModel({ baseUrl: target.url, ...opts });

type Body = { model: string; messages: Array<Record<string, unknown>>; think?: unknown; keep_alive?: unknown; reasoning_effort?: unknown; options?: { num_ctx?: number } };
const lastBody = (target: Simulator = sim) => target.chatRequests().at(-1)?.body as Body;
const statusEvents = (events: ChatEvent[]) => events.filter((e): e is Extract<ChatEvent, { type: "status" }> => e.type === "status");

describe("images", () => {
  it("a vision model gets the image as exactly the base64 sent, on that user message, and answers about it", async () => {
    const messages = [system, ask("An earlier question"), { role: "assistant", content: "An answer." } as ChatMessage, ask("What is in this picture?", [redImage])];
    const { result } = await collect(run(ollama(), "demo-vision", { messages }));
    expect(result.reason).toBe("stop");
    expect(result.text).toContain("**4×3** pixels");
    expect(result.text).toContain("**red** (#ff0000)");
    const sent = lastBody().messages;
    expect(sent.at(-1)).toEqual({ role: "user", content: "What is in this picture?", images: [redPng] });
    expect(sent.slice(0, -1).some((m) => "images" in m)).toBe(false);
  });

  it("a model known to lack vision fails with model_unsupported before any model request", async () => {
    const before = sim.chatRequests().length;
    const { shapes, events } = await collect(run(ollama(), "llama3.2", { messages: [system, ask("What is this?", [redImage])] }));
    expect(shapes).toEqual([...head, "error:model_unsupported", "done:error"]);
    expect(events.at(-2)).toMatchObject({ message: '"llama3.2" does not support images. Pick a vision model to send images.', retryable: false });
    expect(sim.chatRequests()).toHaveLength(before);
  });

  it("images earlier in the history are left out for a model without vision, so the chat goes on", async () => {
    const messages = [system, ask("Look", [redImage]), { role: "assistant", content: "A red image." } as ChatMessage, ask("And now a joke")];
    const { result } = await collect(run(ollama(), "llama3.2", { messages }));
    expect(result.reason).toBe("stop");
    expect(JSON.stringify(lastBody().messages)).not.toContain(redPng);
    expect(lastBody().messages[1]).toEqual({ role: "user", content: "Look" });
  });

  it("checkModelSupport tells the API before it starts a run", async () => {
    const model = ollama();
    expect(await checkModelSupport(model, "llama3.2", { images: 1 })).toMatchObject({ code: "model_unsupported" });
    expect(await checkModelSupport(model, "demo-vision", { images: 4 })).toBeUndefined();
    expect(await checkModelSupport(model, "sim-no-thinking", { think: "low" })).toMatchObject({ code: "model_unsupported", message: '"sim-no-thinking" does not support thinking.' });
    expect(await checkModelSupport(model, "qwen3", { think: "high", images: 0 })).toBeUndefined();
    expect(await checkModelSupport(model, "not-installed", { images: 2, think: true })).toBeUndefined(); // unknown: the server decides
  });

  it("OpenAI-compatible servers get image_url data-URL content parts", async () => {
    const model = createOpenAIModel({ baseUrl: `${sim.url}/v1` });
    const { result } = await collect(run(model, "demo-vision", { messages: [system, ask("Describe it", [redImage])] }));
    expect(result.text).toContain("**4×3** pixels");
    expect(lastBody().messages.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "text", text: "Describe it" },
        { type: "image_url", image_url: { url: `data:image/png;base64,${redPng}` } },
      ],
    });
  });
});

describe("text files", () => {
  const notes: FileAttachment = { type: "file", name: "notes.md", text: "# Plan\n\n- ship it\n" };
  const csv: FileAttachment = { type: "file", name: 'a "b" <c>.csv', text: "x,y\n1,2" };
  const withFiles = (content: string, files: FileAttachment[]): ChatMessage => ({ role: "user", content, files });
  const expected = '<file name="notes.md">\n# Plan\n\n- ship it\n</file>\n\n<file name="a &quot;b&quot; &lt;c&gt;.csv">\nx,y\n1,2\n</file>\n\nSum y.';

  it("Ollama: every model reads the files before the question, in the user message's text, and earlier ones stay in the history", async () => {
    const messages = [system, withFiles("Summarize", [notes]), { role: "assistant", content: "A plan." } as ChatMessage, withFiles("Sum y.", [notes, csv])];
    const { result } = await collect(run(ollama(), "llama3.2", { messages }));
    expect(result.reason).toBe("stop");
    const sent = lastBody().messages;
    expect(sent.at(-1)).toEqual({ role: "user", content: expected });
    expect(sent[1]).toEqual({ role: "user", content: '<file name="notes.md">\n# Plan\n\n- ship it\n</file>\n\nSummarize' });
  });

  it("OpenAI-compatible: the same text, beside an image as a text part", async () => {
    const model = createOpenAIModel({ baseUrl: `${sim.url}/v1` });
    await collect(run(model, "demo-vision", { messages: [system, { role: "user", content: "Sum y.", files: [notes, csv], images: [redImage] }] }));
    expect(lastBody().messages.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "text", text: expected },
        { type: "image_url", image_url: { url: `data:image/png;base64,${redPng}` } },
      ],
    });
  });

  it("a file counts toward the context: older messages are left out to fit it", async () => {
    const big: FileAttachment = { type: "file", name: "big.txt", text: "word ".repeat(2_000) };
    const history: ChatMessage[] = [];
    for (let i = 0; i < 6; i += 1) history.push(ask(`question ${i} ${"filler ".repeat(150)}`), { role: "assistant", content: `answer ${i}` });
    const messages = [system, ...history, withFiles("What is in it?", [big])];
    const { events } = await collect(run(ollama(), "llama3.2", { messages, maxContextTokens: 3_500 }));
    const done = events.at(-1) as Extract<ChatEvent, { type: "done" }>;
    expect(done.usage?.context?.droppedMessages).toBeGreaterThan(0);
    expect(lastBody().messages.at(-1)?.["content"]).toContain("word word");
  });
});

describe("think levels", () => {
  it("Ollama: a level goes to gpt-oss unchanged and it reasons longer at a higher level", async () => {
    const model = ollama();
    const low = await collect(run(model, "gpt-oss", { think: "low" }));
    expect(lastBody().think).toBe("low");
    const high = await collect(run(model, "gpt-oss", { think: "high" }));
    expect(lastBody().think).toBe("high");
    const reasoning = (events: ChatEvent[]) => events.flatMap((e) => (e.type === "reasoning" ? [e.text] : [])).join("");
    expect(reasoning(high.events).length).toBeGreaterThan(reasoning(low.events).length);
  });

  it("Ollama: a level for a model with on/off thinking is sent as true; thinking asked of a model without it fails first", async () => {
    const model = ollama();
    await collect(run(model, "qwen3", { think: "medium" }));
    expect(lastBody().think).toBe(true);
    const before = sim.chatRequests().length;
    const { shapes } = await collect(run(model, "sim-no-thinking", { think: "low" }));
    expect(shapes).toEqual([...head, "error:model_unsupported", "done:error"]);
    expect(sim.chatRequests()).toHaveLength(before);
  });

  it("OpenAI-compatible: a level becomes reasoning_effort; true and false send none", async () => {
    const model = createOpenAIModel({ baseUrl: `${sim.url}/v1` });
    const { events } = await collect(run(model, "gpt-oss", { think: "low" }));
    expect(lastBody()).toMatchObject({ reasoning_effort: "low" });
    expect(lastBody()).not.toHaveProperty("think");
    expect(events.some((e) => e.type === "reasoning")).toBe(true);
    for (const think of [true, false]) {
      await collect(run(model, "qwen3", { think }));
      expect(lastBody()).not.toHaveProperty("reasoning_effort");
    }
  });
});

/** About `tokens` estimated tokens of English-ish text. */
const filler = (tokens: number, word = "lorem") => `${word} `.repeat(Math.ceil((tokens * 4) / (word.length + 1)));

describe("context window", () => {
  it("reports the context use of a run in done.usage.context", async () => {
    const { result } = await collect(run(ollama(), "qwen3"));
    expect(result.usage.context).toEqual({
      contextLength: 40_960,
      limitTokens: 32_768,
      promptTokens: result.usage.promptTokens,
      promptTokensEstimated: false,
      completionTokens: result.usage.completionTokens,
      droppedMessages: 0,
      truncated: false,
    });
  });

  it("trims old history to the token budget, keeps tool calls with their results, and says so", async () => {
    // gemma2: 8192 tokens; 2048 stay free for the answer, so about 6100 tokens of prompt fit.
    const call = { id: "call_pair0001", name: "calculator", args: { expression: "6*7" } };
    const history: ChatMessage[] = [];
    for (let i = 0; i < 8; i += 1) {
      history.push(ask(`question ${i} ${filler(400)}`), { role: "assistant", content: `answer ${i} ${filler(400, "dolor")}` });
      if (i === 3) {
        history.push(ask("what is 6*7?"), { role: "assistant", content: "", toolCalls: [call] });
        history.push({ role: "tool", toolCallId: call.id, toolName: "calculator", content: `{"result":"42","note":"${filler(600, "x")}"}` });
        history.push({ role: "assistant", content: "42" });
      }
    }
    const messages = [system, ...history, ask("and now?")];
    const { events, result } = await collect(run(ollama(), "gemma2", { messages }));
    expect(result.reason).toBe("stop");
    const sent = lastBody().messages;
    const dropped = messages.length - sent.length;
    expect(dropped).toBeGreaterThan(0);
    expect(sent[0]).toMatchObject({ role: "system" });
    expect(sent.at(-1)).toMatchObject({ role: "user", content: "and now?" });
    // The newest history is kept, the oldest left out.
    expect(JSON.stringify(sent)).toContain("answer 7");
    expect(JSON.stringify(sent)).not.toContain("question 0");
    // A tool result is sent only with its call, and a call only with its result.
    const callSent = sent.some((m) => JSON.stringify(m["tool_calls"] ?? []).includes(call.id));
    const resultSent = sent.some((m) => m["role"] === "tool" && m["tool_call_id"] === call.id);
    expect(callSent).toBe(resultSent);
    expect(sent.findIndex((m) => m["role"] === "tool")).not.toBe(1);
    // Whole turns go: what is kept starts with a question.
    expect(sent[1]).toMatchObject({ role: "user" });
    // Said once, before the request, and kept in the usage of the run.
    const trimmed = statusEvents(events).filter((e) => e.contextTrimmed);
    expect(trimmed).toEqual([expect.objectContaining({ phase: "thinking", contextTrimmed: { droppedMessages: dropped }, message: `Left out ${dropped} older messages to fit the model's context window.` })]);
    expect(result.usage.context).toMatchObject({ contextLength: 8192, limitTokens: 8192, droppedMessages: dropped, truncated: false });
    // What was sent fits: the simulator (cutting like Ollama) left nothing out.
    expect(sim.chatRequests().at(-1)?.prompt).toMatchObject({ truncated: false });
  });

  it("drops the whole turn when the budget falls inside it: the request never starts with an answer", async () => {
    const call = { id: "call_pair0002", name: "calculator", args: { expression: "1+1" } };
    const messages: ChatMessage[] = [
      system,
      ask("first"),
      { role: "assistant", content: "", toolCalls: [call] },
      { role: "tool", toolCallId: call.id, toolName: "calculator", content: filler(4000) },
      { role: "assistant", content: filler(2500) },
      ask("next"),
    ];
    // 6144 tokens fit (8192 less 2048 for the answer): the 2500-token answer would, but not without its
    // question, and the question's turn with the 4000-token result does not.
    const { events } = await collect(run(ollama(), "gemma2", { messages }));
    expect(lastBody().messages.map((m) => m["role"])).toEqual(["system", "user"]);
    expect(statusEvents(events).find((e) => e.contextTrimmed)?.contextTrimmed).toEqual({ droppedMessages: 4 });
    // The same on an OpenAI-compatible server, trimmed by MAX_CONTEXT_MESSAGES.
    const openai = createOpenAIModel({ baseUrl: `${sim.url}/v1` });
    await collect(run(openai, "qwen3", { messages: [system, ask("first"), { role: "assistant", content: "an answer" }, ask("next")], maxContextMessages: 2 }));
    expect(lastBody().messages.map((m) => m["role"])).toEqual(["system", "user"]);
  });

  it("counts the tools' schemas against the window", async () => {
    // 8192 tokens, 2048 of them kept for the answer: ~4,000 tokens of history fit, not with ~2,500 more of schemas.
    const messages: ChatMessage[] = [system, ask(filler(2000)), { role: "assistant", content: filler(2000, "dolor") }, ask("next")];
    await collect(run(ollama(), "qwen3", { messages, maxContextTokens: 8192 }));
    expect(lastBody().messages.map((m) => m["role"])).toEqual(["system", "user", "assistant", "user"]);
    const bulky = defineTool({ name: "bulky", description: filler(2500, "ipsum"), input: z.object({}), execute: () => "ok" });
    const { result } = await collect(run(ollama(), "qwen3", { messages, maxContextTokens: 8192, tools: [bulky] }));
    // The old turn no longer fits beside the schemas: it goes whole (an answer without its question would mislead).
    expect(lastBody().messages.map((m) => m["role"])).toEqual(["system", "user"]);
    expect(lastBody()).toMatchObject({ tools: [expect.objectContaining({ function: expect.objectContaining({ name: "bulky" }) })] });
    expect(result.usage.context?.droppedMessages).toBe(2);
  });

  it("applies MAX_CONTEXT_MESSAGES (maxContextMessages) and reports those left out too", async () => {
    const messages = [system, ask("1"), { role: "assistant", content: "2" } as ChatMessage, ask("3"), { role: "assistant", content: "4" } as ChatMessage, ask("5")];
    const { result, events } = await collect(run(ollama(), "qwen3", { messages, maxContextMessages: 3 }));
    expect(lastBody().messages.map((m) => m["content"])).toEqual(["You are helpful.", "3", "4", "5"]);
    expect(result.usage.context?.droppedMessages).toBe(2);
    expect(statusEvents(events).find((e) => e.contextTrimmed)?.message).toBe("Left out 2 older messages to fit the model's context window.");
  });

  it("sends num_ctx only when the prompt needs more than Ollama's default window, then keeps sending it", async () => {
    const model = ollama(); // one provider: what it sent is remembered across runs
    await collect(run(model, "qwen3", { messages: [system, ask("short")] }));
    expect(lastBody().options).toBeUndefined();

    // ~3000 tokens: more than the 2048 assumed default; /api/ps says qwen3 runs with 4096, which is enough.
    await collect(run(model, "qwen3", { messages: [system, ask(filler(3000))] }));
    expect(lastBody().options).toEqual({ num_ctx: 4096 });

    // ~6000 tokens: the next power of two; the simulator evaluates it all.
    const long = await collect(run(model, "qwen3", { messages: [system, ask(filler(6000))] }));
    expect(lastBody().options).toEqual({ num_ctx: 8192 });
    expect(sim.chatRequests().at(-1)?.prompt).toMatchObject({ numCtx: 8192, truncated: false });
    expect(long.result.usage.context).toMatchObject({ numCtx: 8192, truncated: false, promptTokensEstimated: false });
    expect(long.result.usage.context?.promptTokens).toBeGreaterThan(5000);

    // A short prompt again: the same window, so Ollama does not reload the model to shrink it.
    await collect(run(model, "qwen3", { messages: [system, ask("short again")] }));
    expect(lastBody().options).toEqual({ num_ctx: 8192 });
  });

  it("notices a prompt Ollama cut (the server's window was smaller than assumed) and reports it", async () => {
    // The provider is told Ollama's default is 32768; the server's real default is 4096, and /api/ps says
    // nothing (a server without /api/ps context lengths is the same case).
    const model = ollama({ defaultNumCtx: 32_768 });
    const messages = [system, ask(filler(3500)), { role: "assistant", content: filler(3500, "dolor") } as ChatMessage, ask(`${filler(3500, "ipsum")} summarise`)];
    const { result } = await collect(run(model, "gpt-oss", { messages }));
    expect(lastBody().options).toBeUndefined();
    expect(sim.chatRequests().at(-1)?.prompt).toMatchObject({ truncated: true });
    expect(result.usage.context).toMatchObject({ truncated: true, promptTokensEstimated: false });
  });

  it("warns when the newest message alone is longer than the window, and reports the cut", async () => {
    const { events, result } = await collect(run(ollama(), "gemma2", { messages: [system, ask(filler(10_000))] }));
    expect(lastBody().options).toEqual({ num_ctx: 8192 });
    const warning = statusEvents(events).find((e) => e.message.startsWith("The newest messages are longer than the model's context window"));
    expect(warning?.message).toMatch(/about \d+ of 8192 tokens/);
    expect(result.usage.context).toMatchObject({ numCtx: 8192, truncated: true });
    expect(result.reason).toBe("stop");
  });
});

describe("model loading and keep_alive", () => {
  let cold: Simulator;
  beforeAll(async () => {
    cold = await startSimulator({ tokenDelayMs: 0, loadDelayMs: 300 });
  });
  afterAll(() => cold.close());

  it("says Loading <model>… before the request of a model that is not loaded, and not once it is", async () => {
    const model = ollama({ loadedTtlMs: 0 }, cold);
    const first = await collect(run(model, "gemma3"));
    expect(first.shapes.slice(0, 4)).toEqual([...head, "status:Loading gemma3…", "status:Responding…"]);
    expect(first.events[2]).toMatchObject({ type: "status", phase: "loading-model" });
    expect(first.result.usage.loadMs).toBe(300);

    const warm = await collect(run(model, "gemma3"));
    expect(warm.shapes).not.toContain("status:Loading gemma3…");
    expect(warm.result.usage.loadMs).toBeLessThan(300);

    // Unloaded (idle past keep_alive): cold again. A reasoning model goes back to "Processing" once it speaks.
    cold.unload();
    const again = await collect(run(model, "qwen3", { think: true }));
    expect(again.shapes.slice(0, 5)).toEqual([...head, "status:Loading qwen3…", "status:Processing your question…", expect.stringMatching(/^reasoning:/)]);
  });

  it("waits for a model that loads longer than the idle limit (loadTimeoutMs), and says so when the load takes too long", async () => {
    // 300 ms to load, 200 ms of silence allowed once the model answers: the first wait gets the load limit.
    cold.unload();
    const loads = await collect(run(ollama({ loadedTtlMs: 0 }, cold), "gemma3", { idleTimeoutMs: 200, loadTimeoutMs: 10_000 }));
    expect(loads.shapes.slice(0, 3)).toEqual([...head, "status:Loading gemma3…"]);
    expect(loads.shapes.at(-1)).toBe("done:stop");

    cold.unload();
    const tooSlow = await collect(run(ollama({ loadedTtlMs: 0 }, cold), "gemma3", { idleTimeoutMs: 50, loadTimeoutMs: 100 }));
    expect(tooSlow.shapes.slice(-2)).toEqual(["error:provider_error", "done:error"]);
    // Named as the caller sets it: this option by default, the caller's own name when it gives one (the API's env var).
    expect(tooSlow.events.find((e) => e.type === "error")).toMatchObject({
      message: "The model did not start answering within 0.1 s (it was loading). Try again, or raise loadTimeoutMs for models that load slowly.",
      retryable: true,
    });
    cold.unload();
    const named = await collect(run(ollama({ loadedTtlMs: 0 }, cold), "gemma3", { idleTimeoutMs: 50, loadTimeoutMs: 100, loadTimeoutName: "MY_LOAD_LIMIT" }));
    expect(named.events.find((e) => e.type === "error")).toMatchObject({ message: expect.stringMatching(/, or raise MY_LOAD_LIMIT for models that load slowly\.$/) });
  });

  it("says nothing about loading for a model the server does not list (nothing is known about it)", async () => {
    cold.addScenario({ name: "m-unknown", match: { model: "m-unknown" }, chunks: [{ content: "ok" }, { done: true }] });
    const { shapes } = await collect(run(ollama({}, cold), "m-unknown"));
    expect(shapes).toEqual([...head, "status:Responding…", "token:ok", "done:stop"]);
  });

  it("sends keep_alive: the run's own, else the provider's default, else none", async () => {
    await collect(run(ollama(), "qwen3"));
    expect(lastBody()).not.toHaveProperty("keep_alive");
    await collect(run(ollama({ keepAlive: -1 }), "qwen3"));
    expect(lastBody().keep_alive).toBe(-1);
    await collect(run(ollama({ keepAlive: -1 }), "qwen3", { keepAlive: "10m" }));
    expect(lastBody().keep_alive).toBe("10m");
  });
});

describe("models.list", () => {
  it("Ollama: capabilities, context length, loaded, think levels", async () => {
    const models = await ollama().listModels!();
    const byName = Object.fromEntries(models.map((m) => [m.name, m]));
    expect(byName["gpt-oss"]).toMatchObject({ capabilities: ["completion", "tools", "thinking"], contextLength: 131_072, loaded: true, thinkLevels: ["low", "medium", "high"] });
    expect(byName["demo-vision"]).toMatchObject({ capabilities: expect.arrayContaining(["vision"]), contextLength: 131_072 });
    expect(byName["gemma2"]).toMatchObject({ capabilities: ["completion"], contextLength: 8192 });
    expect(byName["qwen3"]).not.toHaveProperty("thinkLevels");
    // Each model's own sampling, from its Modelfile's parameters (/api/show).
    expect(byName["qwen3"]?.samplingDefaults).toEqual({ temperature: 0.6, topP: 0.95 });
    expect(byName["gpt-oss"]?.samplingDefaults).toEqual({ temperature: 1 });
    expect(byName["gemma2"]?.samplingDefaults).toEqual({ temperature: 0.7 });
  });

  it("Ollama: loaded follows /api/ps", async () => {
    const cold = await startSimulator({ tokenDelayMs: 0, loadDelayMs: 1, models: capabilityModels });
    try {
      const model = ollama({}, cold);
      expect((await model.listModels!()).find((m) => m.name === "llava")?.loaded).toBe(false);
      await collect(run(model, "llava", { tools: [calculatorTool] }));
      expect((await model.listModels!()).find((m) => m.name === "llava")?.loaded).toBe(true);
    } finally {
      await cold.close();
    }
  });
});
