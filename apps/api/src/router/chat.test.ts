import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatEvent } from "@streamchat/core";
import {
  collectRun,
  eventually,
  recordEvents,
  startTestApi,
  tokenText,
  trpcFailure,
  types,
  type ApiClient,
  type TestApi,
} from "../test-support/harness.js";

let api: TestApi;
let client: ApiClient;

beforeAll(async () => {
  api = await startTestApi();
  client = api.client();
});
afterAll(() => api?.close());

const isToken = (text: string) => (e: ChatEvent) => e.type === "token" && e.text === text;


function assistantTexts(messages: Array<{ role: string; content: string }>) {
  return messages.filter((m) => m.role === "assistant").map((m) => m.content);
}

describe("chat over SSE", () => {
  it("streams a whole run and stores the answer it streamed", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "hello there" });
    const received = await collectRun(client, runId);

    const kinds = types(received);
    // run-start, "Processing…", then "Responding…" right before the first token.
    expect(kinds.slice(0, 3)).toEqual(["run-start", "status", "status"]);
    expect(received.slice(1, 3).map((r) => r.event.type === "status" && r.event.phase)).toEqual(["thinking", "responding"]);
    expect(kinds.at(-1)).toBe("done");
    expect(kinds.slice(3, -1).every((k) => k === "token")).toBe(true);
    expect(kinds.length).toBeGreaterThan(4);
    expect(received.map((r) => r.id)).toEqual(received.map((_, i) => String(i + 1)));
    const done = received.at(-1)?.event;
    expect(done?.type === "done" && done.reason).toBe("stop");

    const stored = await client.conversations.get.query({ conversationId });
    expect(stored.title).toBe("hello there");
    expect(stored.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(stored.messages[1]?.content).toBe(tokenText(received));
    expect(stored.runs).toEqual([expect.objectContaining({ id: runId, status: "done", reason: "stop", model: "demo" })]);
    expect(stored.activeRunId).toBeNull();
  });

  it("resumes after lastEventId mid-run without gaps or duplicates", async () => {
    const control = api.sim.control();
    const { runId } = await client.chat.send.mutate({ message: "resume me" });
    await control.connected;
    await control.push({ content: "Hel" });
    await control.push({ content: "lo" });

    const first = recordEvents(client, runId);
    await first.waitFor(isToken("lo"));
    first.unsubscribe();
    const lastSeen = first.received.at(-1)?.id;
    expect(lastSeen).toBeDefined();

    await control.push({ content: " wor" }); // written while nobody listens: must come from the log
    const second = recordEvents(client, runId, lastSeen);
    await second.waitFor(isToken(" wor"));
    await control.push({ content: "ld" }); // and this one live
    await control.push({ done: true });
    const rest = await second.completed;

    const all = [...first.received, ...rest];
    expect(all.map((r) => r.id)).toEqual(all.map((_, i) => String(i + 1)));
    expect(types(all)).toEqual(["run-start", "status", "status", "token", "token", "token", "token", "done"]);
    expect(all[2]?.event).toMatchObject({ type: "status", phase: "responding" });
    expect(tokenText(all)).toBe("Hello world");
  });

  it("refuses a lastEventId the run never sent with BAD_REQUEST, and ends at once after its done's id", async () => {
    const control = api.sim.control();
    const { runId } = await client.chat.send.mutate({ message: "ids" });
    await control.connected;
    await control.push({ content: "so far" });
    const live = recordEvents(client, runId);
    const seen = await live.waitFor(isToken("so far"));
    live.unsubscribe();
    // Running here: beyond its last seq (an id of another run, or made up) it would have skipped the run's done.
    const ahead = recordEvents(client, runId, "999");
    expect(await trpcFailure(ahead.completed)).toEqual({
      code: "BAD_REQUEST",
      appCode: "bad_request",
      message: `lastEventId 999 is not an event of this run: its last event is ${seen.id}.`,
    });
    await control.push({ done: true });
    const all = await collectRun(client, runId);
    const doneId = Number(all.at(-1)?.id);
    expect(all.at(-1)?.event.type).toBe("done");
    // Finished: its done's id means "seen it all"; one past it was never sent.
    await expect(recordEvents(client, runId, String(doneId)).completed).resolves.toEqual([]);
    expect(await trpcFailure(recordEvents(client, runId, String(doneId + 1)).completed)).toMatchObject({ code: "BAD_REQUEST" });
  });

  it("resumes by itself when the connection drops (Last-Event-ID)", async () => {
    const control = api.sim.control();
    const { runId } = await client.chat.send.mutate({ message: "drop the line" });
    await control.connected;
    await control.push({ content: "before" });
    const rec = recordEvents(client, runId);
    await rec.waitFor(isToken("before"));
    const subscriptionsBefore = api.server.runs.stats().startedTotal;
    api.server.app.server.closeAllConnections();
    await control.push({ content: " during" });
    await eventually(() => api.server.runs.stats().subscriptions === 1, "the client to reconnect");
    await control.push({ content: " after" });
    await control.push({ done: true });
    const received = await rec.completed;
    expect(received.map((r) => r.id)).toEqual(received.map((_, i) => String(i + 1)));
    expect(tokenText(received)).toBe("before during after");
    expect(api.server.runs.stats().startedTotal).toBe(subscriptionsBefore); // reconnecting did not start a run
  });

  it("delivers every event to two subscribers", async () => {
    const control = api.sim.control();
    const { runId } = await client.chat.send.mutate({ message: "two listeners" });
    await control.connected;
    const a = recordEvents(client, runId);
    const b = recordEvents(client, runId);
    await Promise.all([a.waitFor((e) => e.type === "status"), b.waitFor((e) => e.type === "status")]);
    for (const word of ["one", " two", " three"]) await control.push({ content: word });
    await control.push({ done: true });
    const [ra, rb] = await Promise.all([a.completed, b.completed]);
    expect(ra).toEqual(rb);
    expect(tokenText(ra)).toBe("one two three");
    await eventually(() => api.server.runs.stats().listeners === 0, "listeners to be removed");
  });

  it("replays a finished run from the log, and nothing after its done", async () => {
    const { runId } = await client.chat.send.mutate({ message: "replay later" });
    const live = await collectRun(client, runId);
    const replayed = await collectRun(client, runId);
    expect(replayed).toEqual(live);
    const afterDone = await collectRun(client, runId, live.at(-1)?.id);
    expect(afterDone).toEqual([]);
  });

  it("cancels: the model connection closes and the run ends with done{cancelled}", async () => {
    const control = api.sim.control();
    const { conversationId, runId } = await client.chat.send.mutate({ message: "cancel me" });
    await control.connected;
    await control.push({ content: "Partial" });
    const rec = recordEvents(client, runId);
    await rec.waitFor(isToken("Partial"));

    expect(await client.chat.cancel.mutate({ runId })).toEqual({ cancelled: true });
    await control.closedByClient;
    const received = await rec.completed;
    expect(types(received)).toEqual(["run-start", "status", "status", "token", "done"]);
    const done = received.at(-1)?.event;
    expect(done?.type === "done" && done.reason).toBe("cancelled");
    expect(await client.chat.cancel.mutate({ runId })).toEqual({ cancelled: false, reason: "ended" });

    const stored = await client.conversations.get.query({ conversationId });
    expect(assistantTexts(stored.messages)).toEqual(["Partial"]);
    expect(stored.runs[0]).toMatchObject({ status: "done", reason: "cancelled" });
  });

  it("does not cancel a run when its subscriber disconnects", async () => {
    const control = api.sim.control();
    const { runId } = await client.chat.send.mutate({ message: "keep going" });
    await control.connected;
    await control.push({ content: "A" });
    const rec = recordEvents(client, runId);
    await rec.waitFor(isToken("A"));
    rec.unsubscribe();
    await eventually(() => api.server.runs.stats().listeners === 0, "the listener to go");
    await control.push({ content: "B" });
    await control.push({ done: true });
    const all = await collectRun(client, runId);
    expect(tokenText(all)).toBe("AB");
    expect(all.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
  });

  it("names new conversations and runs with time-ordered ids (UUID v7), the later one sorting after", async () => {
    const first = await client.chat.send.mutate({ message: "first of two" });
    await collectRun(client, first.runId);
    const second = await client.chat.send.mutate({ message: "second of two" });
    await collectRun(client, second.runId);
    const v7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const id of [first.conversationId, first.runId, second.conversationId, second.runId]) expect(id).toMatch(v7);
    expect(second.conversationId > first.conversationId).toBe(true);
    expect(second.runId > first.runId).toBe(true);
  });

  it("returns the same run for the same clientRequestId", async () => {
    const before = api.sim.chatRequests().length;
    const first = await client.chat.send.mutate({ message: "only once", clientRequestId: "req-1" });
    const again = await client.chat.send.mutate({ message: "only once", clientRequestId: "req-1" });
    expect(again).toEqual(first);
    await collectRun(client, first.runId);
    expect(api.sim.chatRequests().length).toBe(before + 1);
    const stored = await client.conversations.get.query({ conversationId: first.conversationId });
    expect(stored.messages.filter((m) => m.role === "user")).toHaveLength(1);
  });

  it("reports an unknown model as error{model_not_found} then done", async () => {
    const { runId } = await client.chat.send.mutate({ message: "hi", model: "sim-not-found" });
    const received = await collectRun(client, runId);
    expect(types(received)).toEqual(["run-start", "status", "error", "done"]);
    expect(received[2]?.event).toMatchObject({ type: "error", code: "model_not_found" });
    expect(received[3]?.event).toMatchObject({ type: "done", reason: "error" });
  });

  it("reports an error line mid-stream after the tokens before it", async () => {
    const { runId } = await client.chat.send.mutate({ message: "hi", model: "sim-error-mid-stream" });
    const received = await collectRun(client, runId);
    const kinds = types(received);
    expect(kinds.slice(-2)).toEqual(["error", "done"]);
    expect(kinds).toContain("token");
    expect(received.at(-2)?.event).toMatchObject({ type: "error", code: "provider_error" });
  });

  it("reports a stream cut without done as stream_truncated", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "hi", model: "sim-truncated" });
    const received = await collectRun(client, runId);
    expect(types(received).slice(-2)).toEqual(["error", "done"]);
    expect(received.at(-2)?.event).toMatchObject({ type: "error", code: "stream_truncated" });
    // What was streamed before the cut stays in the conversation.
    const stored = await client.conversations.get.query({ conversationId });
    expect(assistantTexts(stored.messages)).toEqual([tokenText(received)]);
  });

  it("runs the current_time tool for 'what time is it in Tokyo?'", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "what time is it in Tokyo?" });
    const received = await collectRun(client, runId);
    const kinds = types(received);
    const call = received.find((r) => r.event.type === "tool-call")?.event;
    const result = received.find((r) => r.event.type === "tool-result")?.event;
    expect(call).toMatchObject({ name: "current_time", args: { timeZone: "Asia/Tokyo" } });
    expect(result).toMatchObject({ name: "current_time", ok: true, result: { timeZone: "Asia/Tokyo" } });
    expect(kinds.indexOf("tool-call")).toBeLessThan(kinds.indexOf("tool-result"));
    expect(kinds.lastIndexOf("token")).toBeGreaterThan(kinds.indexOf("tool-result"));
    expect(kinds.at(-1)).toBe("done");

    const stored = await client.conversations.get.query({ conversationId });
    expect(stored.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(stored.messages[1]?.toolCalls?.[0]).toMatchObject({ name: "current_time" });
    expect(stored.messages[2]).toMatchObject({ toolName: "current_time" });
    expect(assistantTexts(stored.messages).join("")).toBe(tokenText(received));

    // The second model round carried the tool result back.
    const rounds = api.sim.chatRequests().filter((r) => JSON.stringify(r.body).includes("what time is it in Tokyo?"));
    const lastRound = rounds.at(-1)?.body as { messages: Array<{ role: string }> };
    expect(lastRound.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool"]);
  });

  it("sends the conversation so far with the next message", async () => {
    const first = await client.chat.send.mutate({ message: "my name is Ada" });
    const firstEvents = await collectRun(client, first.runId);
    const second = await client.chat.send.mutate({ conversationId: first.conversationId, message: "what is my name?" });
    await collectRun(client, second.runId);

    const request = api.sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> };
    expect(request.messages.map((m) => [m.role, m.role === "system" ? "" : m.content])).toEqual([
      ["system", ""],
      ["user", "my name is Ada"],
      ["assistant", tokenText(firstEvents)],
      ["user", "what is my name?"],
    ]);
    expect(request.messages[0]?.content).toContain("helpful assistant");
  });

  it("answers chat.complete with the full text, tool calls and usage", async () => {
    const answer = await client.chat.complete.mutate({ message: "what time is it in London?" });
    expect(answer.text.length).toBeGreaterThan(0);
    expect(answer.toolCalls).toEqual([
      expect.objectContaining({ name: "current_time", args: { timeZone: "Europe/London" }, ok: true }),
    ]);
    expect(answer.usage.completionTokens).toBeGreaterThanOrEqual(0);
    const stored = await client.conversations.get.query({ conversationId: answer.conversationId });
    expect(assistantTexts(stored.messages).join("")).toBe(answer.text);
  });

  it("fails chat.complete with the run's typed error", async () => {
    expect(await trpcFailure(client.chat.complete.mutate({ message: "hi", model: "sim-not-found" }))).toMatchObject({
      code: "NOT_FOUND",
      appCode: "model_not_found",
    });
  });

  it("regenerates the last answer, dropping the previous one", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "tell me something" });
    await collectRun(client, runId);
    const again = await client.chat.regenerate.mutate({ conversationId });
    expect(again.conversationId).toBe(conversationId);
    expect(again.runId).not.toBe(runId);
    const received = await collectRun(client, again.runId);
    const stored = await client.conversations.get.query({ conversationId });
    expect(stored.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(stored.messages[1]?.content).toBe(tokenText(received));
    const request = api.sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string }> };
    expect(request.messages.map((m) => m.role)).toEqual(["system", "user"]);
  });

  it("edits a user message: drops what followed and answers the new text", async () => {
    const first = await client.chat.send.mutate({ message: "first question" });
    await collectRun(client, first.runId);
    const second = await client.chat.send.mutate({ conversationId: first.conversationId, message: "second question" });
    await collectRun(client, second.runId);
    const before = await client.conversations.get.query({ conversationId: first.conversationId });
    const firstUser = before.messages.find((m) => m.role === "user");
    expect(firstUser).toBeDefined();

    const edited = await client.chat.edit.mutate({
      conversationId: first.conversationId,
      messageId: firstUser!.id,
      message: "edited question",
    });
    await collectRun(client, edited.runId);
    const after = await client.conversations.get.query({ conversationId: first.conversationId });
    expect(after.messages.map((m) => [m.role, m.role === "user" ? m.content : ""])).toEqual([
      ["user", "edited question"],
      ["assistant", ""],
    ]);
    const request = api.sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> };
    expect(request.messages.map((m) => m.role)).toEqual(["system", "user"]);
    expect(request.messages[1]?.content).toBe("edited question");
  });

  it("asks the model to think on request: reasoning events, think:true in the model request", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "explain streams", model: "qwen3", think: true });
    const received = await collectRun(client, runId);
    const kinds = types(received);
    expect(kinds).toContain("reasoning");
    expect(kinds.indexOf("reasoning")).toBeLessThan(kinds.indexOf("token"));
    expect(kinds.at(-1)).toBe("done");
    const request = api.sim.chatRequests().at(-1)?.body as { model: string; think?: unknown };
    expect(request).toMatchObject({ model: "qwen3", think: true });
    const reasoning = received.flatMap((r) => (r.event.type === "reasoning" ? [r.event.text] : [])).join("");
    const stored = await client.conversations.get.query({ conversationId });
    expect(stored.messages.at(-1)?.thinking).toBe(reasoning);

    // Without think the request carries none and no reasoning streams.
    const plain = await client.chat.send.mutate({ message: "explain streams", model: "qwen3" });
    expect(types(await collectRun(client, plain.runId))).not.toContain("reasoning");
    expect(api.sim.chatRequests().at(-1)?.body).not.toHaveProperty("think");
  });

  it("streams and stores a <think> block a server left in the answer's text as the answer's reasoning", async () => {
    // What llama.cpp, vLLM or a proxy that does not take a reasoning model's thinking apart sends, split anywhere.
    api.sim.addScenario({
      name: "tagged reasoning",
      match: { lastUserIncludes: "tagged thinking" },
      chunks: [{ content: "<think>\nWeigh " }, { content: "it.\n</thi" }, { content: "nk>\n\nStreams " }, { content: "flow." }, { done: true }],
    });
    const { conversationId, runId } = await client.chat.send.mutate({ message: "tagged thinking please" });
    const received = await collectRun(client, runId);
    const text = (type: "reasoning" | "token") => received.flatMap((r) => (r.event.type === type ? [r.event.text] : [])).join("");
    expect(text("reasoning")).toBe("Weigh it.\n");
    expect(text("token")).toBe("Streams flow.");
    const stored = (await client.conversations.get.query({ conversationId })).messages.at(-1);
    expect(stored).toMatchObject({ role: "assistant", content: "Streams flow.", thinking: "Weigh it.\n" });
  });

  it("passes think through regenerate, edit and complete", async () => {
    const first = await client.chat.send.mutate({ message: "hello", model: "demo" });
    await collectRun(client, first.runId);
    const regenerated = await client.chat.regenerate.mutate({ conversationId: first.conversationId, think: true });
    expect(types(await collectRun(client, regenerated.runId))).toContain("reasoning");
    expect(api.sim.chatRequests().at(-1)?.body).toMatchObject({ think: true });

    const userMessage = (await client.conversations.get.query({ conversationId: first.conversationId })).messages[0]!;
    const edited = await client.chat.edit.mutate({
      conversationId: first.conversationId,
      messageId: userMessage.id,
      message: "hello again",
      think: true,
    });
    expect(types(await collectRun(client, edited.runId))).toContain("reasoning");
    expect(api.sim.chatRequests().at(-1)?.body).toMatchObject({ think: true });

    await client.chat.complete.mutate({ message: "hello", think: true });
    expect(api.sim.chatRequests().at(-1)?.body).toMatchObject({ think: true });
  });

  it("ends a think request to a model without the thinking capability with model_unsupported", async () => {
    const { runId } = await client.chat.send.mutate({ message: "hi", model: "llama3.2", think: true });
    const received = await collectRun(client, runId);
    expect(types(received)).toEqual(["run-start", "status", "error", "done"]);
    expect(received[2]?.event).toMatchObject({ type: "error", code: "model_unsupported" });
    expect(received[3]?.event).toMatchObject({ type: "done", reason: "error" });
    expect(await trpcFailure(client.chat.complete.mutate({ message: "hi", model: "llama3.2", think: true }))).toMatchObject({
      code: "BAD_REQUEST",
      appCode: "model_unsupported",
    });
  });

  it("rejects a second run on a conversation that is still answering", async () => {
    const control = api.sim.control();
    const { conversationId, runId } = await client.chat.send.mutate({ message: "busy" });
    await control.connected;
    expect(await trpcFailure(client.chat.send.mutate({ conversationId, message: "again" }))).toMatchObject({ code: "CONFLICT" });
    const list = await client.conversations.list.query();
    expect(list.find((c) => c.id === conversationId)?.activeRunId).toBe(runId);
    await control.push({ done: true });
    await collectRun(client, runId);
  });

  it("validates input: empty message, too long, unknown ids", async () => {
    expect(await trpcFailure(client.chat.send.mutate({ message: "   " }))).toMatchObject({
      code: "BAD_REQUEST",
      appCode: "bad_request",
      message: "Message is required",
    });
    expect(await trpcFailure(client.chat.send.mutate({ message: "x".repeat(32_001) }))).toMatchObject({
      code: "BAD_REQUEST",
      appCode: "bad_request",
    });
    expect(await trpcFailure(client.chat.send.mutate({ conversationId: "nope", message: "hi" }))).toMatchObject({
      code: "NOT_FOUND",
    });
    expect(await trpcFailure(client.chat.cancel.mutate({ runId: "nope" }))).toMatchObject({ code: "NOT_FOUND" });
    await expect(collectRun(client, "nope")).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
  });

  it("leaves no runs or listeners behind", async () => {
    await eventually(() => {
      const s = api.server.runs.stats();
      return s.activeRuns === 0 && s.listeners === 0 && s.subscriptions === 0;
    }, "runs and listeners to drain");
  });
});
