import { defineTool } from "@streamchat/core";
import { cutAnswerScenario } from "@streamchat/ollama-sim";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectRun, startTestApi, tokenText, trpcFailure, type ApiClient, type TestApi } from "../test-support/harness.js";

/**
 * chat.continue through the API: the answer at the end of the conversation, cut short by the length limit, is written
 * on as a new version that holds all of it; the model is sent the answer's text last. Runs on both store backends.
 */

let api: TestApi;
let client: ApiClient;

beforeAll(async () => {
  api = await startTestApi({ env: { AUTH_TOKENS: "alice:alice-token-1,bob:bob-token-22" } });
  client = api.client("alice-token-1");
  // "#cut": the first answer stops at the length limit; asked to write on from it, the model says the rest.
  api.sim.addScenario(cutAnswerScenario({ name: "cut answers", lastUserIncludes: "#cut", first: "Part one. ", rest: [{ content: "Part two." }, { done: true }] }));
  // "#broken": the same, but asked to write on, the model server fails before a word.
  api.sim.addScenario(cutAnswerScenario({ name: "broken continuations", lastUserIncludes: "#broken", first: "Part one. ", rest: [{ error: "the runner crashed" }] }));
});
afterAll(() => api?.close());

const get = (conversationId: string) => client.conversations.get.query({ conversationId });


describe("chat.continue", () => {
  it("writes on from an answer cut at the length limit, as a new version holding all of it", async () => {
    const first = await client.chat.send.mutate({ message: "#cut tell me", model: "qwen3" });
    const cut = await collectRun(client, first.runId);
    expect(cut.at(-1)?.event).toMatchObject({ type: "done", reason: "length" });

    const next = await client.chat.continue.mutate({ conversationId: first.conversationId });
    expect(next.conversationId).toBe(first.conversationId);
    const events = await collectRun(client, next.runId);
    // The answer so far first, then what the model added; the model the answer had.
    expect(events[0]?.event).toMatchObject({ type: "run-start", model: "qwen3" });
    expect(tokenText(events)).toBe("Part one. Part two.");
    expect(events.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    const sent = api.sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> };
    expect(sent.messages.at(-1)).toEqual({ role: "assistant", content: "Part one. " });

    const detail = await get(first.conversationId);
    expect(detail.messages.map((m) => [m.role, m.content, m.versions ? `${m.versions.index}/${m.versions.count}` : null])).toEqual([
      ["user", "#cut tell me", null],
      ["assistant", "Part one. Part two.", "2/2"],
    ]);
    // The cut answer stays as the version before.
    const older = detail.messages[1]!.versions!.siblingIds[0]!;
    await client.conversations.switchBranch.mutate({ conversationId: first.conversationId, messageId: older });
    expect((await get(first.conversationId)).messages.at(-1)).toMatchObject({ content: "Part one. ", versions: { index: 1, count: 2 } });
  });

  it("a continue that fails before the model adds anything leaves the answer as it was: no second version", async () => {
    const first = await client.chat.send.mutate({ message: "#broken once more" });
    await collectRun(client, first.runId);
    const failed = await client.chat.continue.mutate({ conversationId: first.conversationId });
    const events = await collectRun(client, failed.runId);
    expect(events.at(-1)?.event).toMatchObject({ type: "done", reason: "error" });
    const detail = await get(first.conversationId);
    expect(detail.messages.map((m) => [m.role, m.content, m.versions ?? null])).toEqual([
      ["user", "#broken once more", null],
      ["assistant", "Part one. ", null],
    ]);
    // Its run says it continued (its log's run-start), so a page loaded later offers Continue again, not Retry.
    expect(detail.runs.map((run) => [run.id, run.reason, run.continued])).toEqual([
      [first.runId, "length", false],
      [failed.runId, "error", true],
    ]);
  });

  it("refuses a conversation that does not end with the model's text, and one that is not the user's", async () => {
    // A model that is not installed: the run stores no answer, the conversation ends with its question.
    const failed = await client.chat.send.mutate({ message: "no answer", model: "sim-not-found" });
    await collectRun(client, failed.runId);
    const refused = await trpcFailure(client.chat.continue.mutate({ conversationId: failed.conversationId }));
    expect(refused).toMatchObject({ code: "BAD_REQUEST", appCode: "bad_request" });
    expect(refused.message).toMatch(/cannot be continued/);
    expect(await get(failed.conversationId).then((d) => d.messages.map((m) => m.role))).toEqual(["user"]);

    const other = api.client("bob-token-22");
    expect(await trpcFailure(other.chat.continue.mutate({ conversationId: failed.conversationId }))).toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("chat.continue with CHAT_MAX_ANSWER_TOKENS", () => {
  let limited: TestApi;
  beforeAll(async () => {
    limited = await startTestApi({ env: { CHAT_MAX_ANSWER_TOKENS: "4" } });
  });
  afterAll(() => limited?.close());

  it("an answer cut at the limit ends with reason length, and each continue adds up to the limit more of it", async () => {
    const user = limited.client();
    const question = "Explain how a rainbow forms, in detail";
    const first = await user.chat.send.mutate({ message: question });
    const cut = await collectRun(user, first.runId);
    expect(cut.at(-1)?.event).toMatchObject({ type: "done", reason: "length" });
    const sent = limited.sim.chatRequests().at(-1)?.body as { options?: { num_predict?: number } };
    expect(sent.options?.num_predict).toBe(4);
    const once = tokenText(cut);

    const next = await user.chat.continue.mutate({ conversationId: first.conversationId });
    const events = await collectRun(user, next.runId);
    expect(events.at(-1)?.event).toMatchObject({ type: "done", reason: "length" });
    const twice = tokenText(events);
    expect(twice.startsWith(once)).toBe(true);
    expect(twice.length).toBeGreaterThan(once.length);
    const stored = await user.conversations.get.query({ conversationId: first.conversationId });
    expect(stored.messages.at(-1)).toMatchObject({ role: "assistant", content: twice, versions: { index: 2, count: 2 } });
  });
});

describe("chat.continue of an answer with a tool round", () => {
  let tooled: TestApi;
  // A tool that takes a while, so its logged duration is not 0.
  const slowEcho = defineTool({
    name: "slow_echo",
    description: "Echoes its text after a moment",
    input: z.object({ text: z.string() }),
    execute: async ({ text }) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return { text };
    },
  });
  beforeAll(async () => {
    tooled = await startTestApi({ extraTools: [slowEcho] });
    // First a call, then after its result an answer cut at the length limit; asked to write on, the rest.
    tooled.sim.addScenario({
      name: "tooled answers",
      match: { lastUserIncludes: "#tooled" },
      respond: (req) => {
        const last = req.messages.at(-1);
        if (last?.["role"] === "assistant") return [{ content: "Part two." }, { done: true }];
        if (last?.["role"] === "tool") return [{ content: "Part one. " }, { done: true, doneReason: "length" }];
        return [{ toolCalls: [{ name: "slow_echo", arguments: { text: "hi" } }] }, { done: true }];
      },
    });
  });
  afterAll(() => tooled?.close());

  it("tells the tool round again as its run logged it (its duration), before the text and the rest", async () => {
    const user = tooled.client();
    const first = await user.chat.send.mutate({ message: "#tooled go" });
    const cut = await collectRun(user, first.runId);
    const logged = cut.find((r) => r.event.type === "tool-result")?.event;
    expect(logged).toMatchObject({ type: "tool-result", name: "slow_echo", ok: true, result: { text: "hi" } });
    expect((logged as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(25);

    const next = await user.chat.continue.mutate({ conversationId: first.conversationId });
    const events = (await collectRun(user, next.runId)).map((r) => r.event);
    expect(events.map((e) => e.type).slice(0, 4)).toEqual(["run-start", "tool-call", "tool-result", "token"]);
    expect(events[2]).toMatchObject({ ...logged, runId: next.runId, at: expect.any(Number) });
    expect(tokenText(await collectRun(user, next.runId))).toBe("Part one. Part two.");
    const stored = await user.conversations.get.query({ conversationId: first.conversationId });
    expect(stored.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(stored.messages.at(-1)).toMatchObject({ content: "Part one. Part two." });
  });
});
