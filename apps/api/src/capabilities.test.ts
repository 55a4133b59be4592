import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventOf } from "@streamchat/core";
import { collectRun, startTestApi, types, type ApiClient, type Received, type TestApi } from "./test-support/harness.js";

/**
 * Model capabilities through the API (issue 14): think levels passed through unchanged, models.list fields,
 * the context window (the whole history to the engine, trimmed by tokens and MAX_CONTEXT_MESSAGES, reported),
 * usage per conversation, KEEP_ALIVE, and the loading status.
 */

type SentBody = { model: string; messages: Array<{ role: string; content: string }>; think?: unknown; keep_alive?: unknown; options?: Record<string, unknown> };

const statuses = (received: Received[]) => received.flatMap((r) => (r.event.type === "status" ? [r.event] : []));
const doneOf = (received: Received[]) => received.at(-1)?.event as EventOf<"done">;

describe("think levels, models.list, usage and the context window", () => {
  let api: TestApi;
  let client: ApiClient;
  const lastBody = () => api.sim.chatRequests().at(-1)?.body as SentBody;
  beforeAll(async () => {
    api = await startTestApi({ env: { KEEP_ALIVE: "10m" } });
    client = api.client();
  });
  afterAll(() => api?.close());

  it("passes think levels unchanged to Ollama on chat.send, chat.complete and chat.edit (and REST)", async () => {
    const sent: unknown[] = [];
    const first = await client.chat.send.mutate({ message: "explain streams", model: "gpt-oss", think: "low" });
    const received = await collectRun(client, first.runId);
    expect(types(received)).toContain("reasoning");
    sent.push(lastBody().think);

    await client.chat.complete.mutate({ message: "explain streams", model: "gpt-oss", think: "high" });
    sent.push(lastBody().think);

    const user = (await client.conversations.get.query({ conversationId: first.conversationId })).messages[0]!;
    const edited = await client.chat.edit.mutate({ conversationId: first.conversationId, messageId: user.id, message: "again", model: "gpt-oss", think: "medium" });
    await collectRun(client, edited.runId);
    sent.push(lastBody().think);

    const regenerated = await client.chat.regenerate.mutate({ conversationId: first.conversationId, model: "gpt-oss", think: "high" });
    await collectRun(client, regenerated.runId);
    sent.push(lastBody().think);

    const rest = await fetch(`${api.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hi", model: "gpt-oss", think: "low" }),
    });
    expect(rest.status).toBe(200);
    sent.push(lastBody().think);
    expect(sent).toEqual(["low", "high", "medium", "high", "low"]);
  });

  it("a level for a model with on/off thinking is sent as true; a level that is no level is refused", async () => {
    const { runId } = await client.chat.send.mutate({ message: "explain streams", model: "qwen3", think: "medium" });
    expect(types(await collectRun(client, runId))).toContain("reasoning");
    expect(lastBody().think).toBe(true);
    const refused = await client.chat.send.mutate({ message: "x", think: "max" as never }).catch((e: { data?: { appCode?: string }; message: string }) => e);
    expect(refused).toMatchObject({ data: { appCode: "bad_request" } });
    expect((refused as Error).message).toMatch(/think: must be a boolean or one of "low", "medium", "high"/);
  });

  it("sends KEEP_ALIVE as keep_alive", async () => {
    await client.chat.complete.mutate({ message: "hello" });
    expect(lastBody().keep_alive).toBe("10m");
  });

  it("models.list: name, capabilities, contextLength, loaded, thinkLevels, samplingDefaults", async () => {
    const { models } = await client.models.list.query();
    const qwen3 = models.find((m) => m.name === "qwen3");
    expect(qwen3).toMatchObject({ name: "qwen3", capabilities: expect.arrayContaining(["tools", "thinking"]), contextLength: 40_960, loaded: true });
    // The model's own sampling, from its Modelfile's parameters (what "Model default" is in the Model settings dialog).
    expect(qwen3?.samplingDefaults).toEqual({ temperature: 0.6, topP: 0.95 });
    expect(qwen3?.thinkLevels).toBeUndefined();
    expect(models.find((m) => m.name === "gemma3")).toMatchObject({ capabilities: ["completion"], contextLength: 131_072 });
  });

  it("conversations.get: usage summed over runs, and the last run's context fullness", async () => {
    const first = await client.chat.send.mutate({ message: "hello" });
    const one = doneOf(await collectRun(client, first.runId));
    const second = await client.chat.send.mutate({ conversationId: first.conversationId, message: "what is 6*7?" });
    const two = doneOf(await collectRun(client, second.runId));
    const { usage } = await client.conversations.get.query({ conversationId: first.conversationId });
    expect(usage.promptTokens).toBe(one.usage.promptTokens + two.usage.promptTokens);
    expect(usage.completionTokens).toBe(one.usage.completionTokens + two.usage.completionTokens);
    expect(usage.promptTokens).toBeGreaterThan(0);
    expect(usage.context).toEqual(two.usage.context);
    expect(usage.contextModel).toBe("demo");
    // The simulator reports prompt_eval_count: the meter reads real counts against the model's window.
    expect(usage.context).toMatchObject({ contextLength: 131_072, limitTokens: 32_768, promptTokensEstimated: false, droppedMessages: 0, truncated: false });
    expect(usage.context!.promptTokens).toBeGreaterThan(0);
  });

  it("trims a long history to the model's window, tells the user, and counts what it left out", async () => {
    // gemma2: 8192 tokens. Three questions of ~3000 tokens each cannot all be sent again.
    const long = (n: number) => `question ${n}: ${"lorem ipsum dolor sit amet ".repeat(450)}`;
    const first = await client.chat.send.mutate({ message: long(1), model: "gemma2" });
    await collectRun(client, first.runId);
    const second = await client.chat.send.mutate({ conversationId: first.conversationId, message: long(2), model: "gemma2" });
    await collectRun(client, second.runId);
    const third = await client.chat.send.mutate({ conversationId: first.conversationId, message: long(3), model: "gemma2" });
    const received = await collectRun(client, third.runId);
    const trimmed = statuses(received).find((s) => s.contextTrimmed);
    expect(trimmed).toMatchObject({ phase: "thinking", contextTrimmed: { droppedMessages: expect.any(Number) } });
    const dropped = trimmed!.contextTrimmed!.droppedMessages;
    expect(dropped).toBeGreaterThanOrEqual(2);
    const context = doneOf(received).usage.context;
    expect(context).toMatchObject({ contextLength: 8192, limitTokens: 8192, droppedMessages: dropped, truncated: false });
    // The request held the system prompt, the newest history and the question, and asked for a window that fits it.
    const body = lastBody();
    expect(body.messages[0]?.role).toBe("system");
    expect(body.messages.at(-1)?.content).toBe(long(3));
    expect(body.messages.some((m) => m.content === long(1))).toBe(false);
    expect(body.messages.length).toBe(4 + 1 - dropped + 1);
    expect(body.options?.["num_ctx"]).toEqual(expect.any(Number));
    expect((await client.conversations.get.query({ conversationId: first.conversationId })).usage.context?.droppedMessages).toBe(dropped);
  });
});

describe("MAX_CONTEXT_MESSAGES", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ env: { MAX_CONTEXT_MESSAGES: "2" } });
  });
  afterAll(() => api?.close());

  it("the engine gets the whole history and leaves out the oldest, saying how many (droppedMessages)", async () => {
    const client = api.client();
    const first = await client.chat.send.mutate({ message: "hello" });
    await collectRun(client, first.runId);
    const second = await client.chat.send.mutate({ conversationId: first.conversationId, message: "hello again" });
    const received = await collectRun(client, second.runId);
    // History: user, assistant, user — at most two besides the system prompt, and history goes a whole turn at a
    // time (an answer is never sent without its question): the first turn is left out.
    expect(statuses(received).find((s) => s.contextTrimmed)?.contextTrimmed).toEqual({ droppedMessages: 2 });
    expect(doneOf(received).usage.context?.droppedMessages).toBe(2);
    const body = api.sim.chatRequests().at(-1)?.body as SentBody;
    expect(body.messages.map((m) => m.role)).toEqual(["system", "user"]);
  });
});

describe("a model that loads longer than CHAT_LOAD_TIMEOUT_MS", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ sim: { loadDelayMs: 2_000 }, env: { CHAT_IDLE_TIMEOUT_MS: "50", CHAT_LOAD_TIMEOUT_MS: "200" } });
  });
  afterAll(() => api?.close());

  it("fails the answer with a retryable provider_error that names the setting to raise", async () => {
    const client = api.client();
    const { runId } = await client.chat.send.mutate({ message: "hello" });
    const received = await collectRun(client, runId);
    expect(received.map((e) => e.event).find((e) => e.type === "error")).toMatchObject({
      code: "provider_error",
      retryable: true,
      message: "The model did not start answering within 0.2 s (it was loading). Try again, or raise CHAT_LOAD_TIMEOUT_MS for models that load slowly.",
    });
    expect(doneOf(received).reason).toBe("error");
  });
});

describe("a model that is not loaded yet", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ sim: { loadDelayMs: 150 } });
  });
  afterAll(() => api?.close());

  it('says "Loading <model>…" before the answer, and reports the load time', async () => {
    const client = api.client();
    const { runId } = await client.chat.send.mutate({ message: "hello" });
    const received = await collectRun(client, runId);
    expect(statuses(received).map((s) => [s.phase, s.message])).toContainEqual(["loading-model", "Loading demo…"]);
    expect(doneOf(received).usage.loadMs).toBeGreaterThan(0);
    // Loaded now: the next answer has no loading status.
    const again = await client.chat.send.mutate({ message: "hello" });
    expect(statuses(await collectRun(client, again.runId)).map((s) => s.phase)).not.toContain("loading-model");
  });
});
