import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { defaultSampling, type ChatEvent } from "@streamchat/core";
import { EventSource } from "eventsource";
import { createChatClient, type ChatClient, type CompleteResult } from "./client.js";
import { ChatClientError, toChatClientError } from "./errors.js";
import { eventIdOf } from "./follow.js";
import { drain, readUntil, runStart, seqs, strictlyIncreasing, text, types } from "./test-support/events.js";
import { collectText } from "./guards.js";
import { startApi, type TestApi } from "./test-support/api.js";

async function expectClientError(promise: Promise<unknown>): Promise<ChatClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatClientError);
  return error as ChatClientError;
}

describe("createChatClient against the API", () => {
  let api: TestApi;
  let client: ChatClient;

  beforeAll(async () => {
    api = await startApi();
    client = createChatClient({ url: api.url });
  });
  afterAll(async () => {
    await api?.close();
  });

  it("streams a run in order: run-start first, done last, text as stored", async () => {
    const events = await drain(client.stream("Hello there"));
    const start = runStart(events);
    expect(start.model).toBe("demo");
    expect(types(events).at(-1)).toBe("done");
    expect(types(events).filter((t) => t === "done")).toHaveLength(1);
    expect(events.every((e) => e.runId === start.runId)).toBe(true);
    const answer = text(events);
    expect(answer.length).toBeGreaterThan(0);

    const stored = await client.conversations.get(start.conversationId);
    expect(stored.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(stored.messages[1]?.content).toBe(answer);
    const ids = seqs(events);
    expect(strictlyIncreasing(ids)).toBe(true);
  });

  it("streams tool calls and results, and complete() returns the same kind of answer", async () => {
    const events = await drain(client.stream("What time is it in Tokyo?"));
    const call = events.find((e) => e.type === "tool-call");
    expect(call).toMatchObject({ name: "current_time", args: { timeZone: "Asia/Tokyo" } });
    expect(events.find((e) => e.type === "tool-result")).toMatchObject({ name: "current_time", ok: true });

    const done = await client.complete("What time is it in Tokyo?");
    expect(done.toolCalls).toEqual([expect.objectContaining({ name: "current_time", ok: true })]);
    expect(done.text).toBe(
      (await client.conversations.get(done.conversationId)).messages.filter((m) => m.role === "assistant").at(-1)
        ?.content,
    );
    expect(typeof done.usage.durationMs).toBe("number");
  });

  it("collectText gives the answer text of a stream", async () => {
    const answer = await collectText(client.stream("What is 12*7?"));
    expect(answer).toContain("84");
  });

  it("continues a conversation and lists, renames, pins, branches and deletes it", async () => {
    const first = runStart(await drain(client.stream("Hello")));
    const second = runStart(await drain(client.stream("And again", { conversationId: first.conversationId })));
    expect(second.conversationId).toBe(first.conversationId);

    const listed = await client.conversations.list();
    expect(listed.map((c) => c.id)).toContain(first.conversationId);
    const renamed = await client.conversations.rename(first.conversationId, "Greetings");
    expect(renamed.title).toBe("Greetings");
    expect((await client.conversations.list({ query: "GREETINGS" })).map((c) => c.id)).toEqual([first.conversationId]);
    const pinned = await client.conversations.pin(first.conversationId, true);
    expect(pinned.pinnedAt).toEqual(expect.any(Number));
    expect((await client.conversations.list())[0]).toMatchObject({ id: first.conversationId, pinnedAt: pinned.pinnedAt });
    expect((await client.conversations.pin(first.conversationId, false)).pinnedAt).toBeNull();
    const detail = await client.conversations.get(first.conversationId);
    expect(detail.runs.map((r) => r.id)).toEqual(expect.arrayContaining([first.runId, second.runId]));
    // A branch at the first answer: a new conversation with the first turn only, the original as it was.
    const firstAnswer = detail.messages.find((m) => m.role === "assistant" && m.runId === first.runId && m.content !== "")!;
    const { conversationId: branchId } = await client.conversations.branch(first.conversationId, firstAnswer.id);
    const branch = await client.conversations.get(branchId);
    expect(branch.title).toBe("Branch · Greetings");
    expect(branch.messages.map((m) => m.content)).toEqual(detail.messages.slice(0, detail.messages.indexOf(firstAnswer) + 1).map((m) => m.content));
    expect((await client.conversations.get(first.conversationId)).messages).toHaveLength(detail.messages.length);
    const notAnAnswer = await expectClientError(client.conversations.branch(first.conversationId, detail.messages[0]!.id));
    expect(notAnAnswer.trpcCode).toBe("BAD_REQUEST");
    expect(await client.conversations.delete(first.conversationId)).toEqual({ deleted: true });
    const gone = await expectClientError(client.conversations.get(first.conversationId));
    expect(gone.trpcCode).toBe("NOT_FOUND");
  });

  it("uses a custom fetch for requests and for the event stream", async () => {
    const seen: string[] = [];
    const recording = createChatClient({
      url: api.url,
      fetch: (input, init) => {
        seen.push(new URL(input instanceof Request ? input.url : input).pathname);
        return fetch(input, init);
      },
    });
    expect(types(await drain(recording.stream("Hello"))).at(-1)).toBe("done");
    expect(seen).toContain("/trpc/chat.send");
    expect(seen).toContain("/trpc/chat.events");
  });

  it("reads and sets the user's custom instructions, which the next answer's system message carries", async () => {
    expect(await client.settings.get()).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
    const saved = await client.settings.setInstructions("  Sign every answer with a star.  ");
    expect(saved).toMatchObject({ instructions: "Sign every answer with a star." });
    expect(await client.settings.get()).toEqual(saved);
    await client.complete("Hello");
    const body = api.sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> };
    expect(body.messages[0]).toMatchObject({ role: "system" });
    expect(body.messages[0]!.content.endsWith("\n\nSign every answer with a star.")).toBe(true);
    const tooLong = await expectClientError(client.settings.setInstructions("x".repeat(4001)));
    expect(tooLong.code).toBe("bad_request");
    expect((await client.settings.setInstructions("")).instructions).toBe("");
  });

  it("sets the user's own sampling setting by setting, which answers in a conversation without its own are sampled with", async () => {
    try {
      expect((await client.settings.setSampling({ topP: 0.8 })).sampling).toEqual({ temperature: null, topP: 0.8, seed: null });
      expect(await client.settings.get()).toMatchObject({ sampling: { temperature: null, topP: 0.8, seed: null } });
      await client.complete("Hello");
      expect((api.sim.chatRequests().at(-1)?.body as { options?: unknown }).options).toEqual({ top_p: 0.8 });
      const refused = await expectClientError(client.settings.setSampling({ topP: 0 }));
      expect(refused.code).toBe("bad_request");
    } finally {
      await client.settings.setSampling(defaultSampling);
    }
  });

  it("reads and sets a conversation's own instructions, which its answers get after the user's, and no other chat", async () => {
    const { conversationId } = await client.complete("Hello");
    expect(await client.conversations.instructions(conversationId)).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
    const saved = await client.conversations.setInstructions(conversationId, "  Answer in French.  ");
    expect(saved).toEqual({ instructions: "Answer in French.", sampling: defaultSampling, updatedAt: expect.any(Number) });
    expect(await client.conversations.instructions(conversationId)).toEqual(saved);
    // The user's custom instructions are another setting: untouched.
    expect((await client.settings.get()).instructions).toBe("");
    const systemMessage = () => (api.sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> }).messages[0]!;

    await client.settings.setInstructions("Sign every answer with a star.");
    try {
      await client.complete("Hello again", { conversationId });
      const system = systemMessage();
      expect(system.role).toBe("system");
      expect(system.content.endsWith("\n\nAnswer in French.")).toBe(true);
      const userAt = system.content.indexOf("\n\nSign every answer with a star.");
      expect(userAt).toBeGreaterThan(0);
      expect(userAt).toBeLessThan(system.content.indexOf("Answer in French."));
      // Another conversation gets the user's instructions only.
      await client.complete("Hello elsewhere");
      expect(systemMessage().content.endsWith("\n\nSign every answer with a star.")).toBe(true);
      expect(systemMessage().content).not.toContain("Answer in French.");
    } finally {
      await client.settings.setInstructions("");
    }

    const tooLong = await expectClientError(client.conversations.setInstructions(conversationId, "x".repeat(4001)));
    expect(tooLong).toMatchObject({ code: "bad_request", trpcCode: "BAD_REQUEST" });
    expect(await client.conversations.instructions(conversationId)).toEqual(saved);
    const cleared = await client.conversations.setInstructions(conversationId, "");
    expect(cleared.instructions).toBe("");
    expect((await client.conversations.instructions(conversationId)).instructions).toBe("");
    await client.complete("And once more", { conversationId });
    expect(systemMessage().content).not.toContain("Answer in French.");

    for (const missing of [client.conversations.instructions("no-such-conversation"), client.conversations.setInstructions("no-such-conversation", "Hi")]) {
      expect(await expectClientError(missing)).toMatchObject({ trpcCode: "NOT_FOUND", status: 404 });
    }
  });

  it("reads and sets a conversation's sampling, which its answers' model requests carry; its instructions stay", async () => {
    const { conversationId } = await client.complete("Hello");
    expect(await client.conversations.settings(conversationId)).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
    await client.conversations.setInstructions(conversationId, "Answer in French.");
    const sampling = { temperature: 0.2, topP: 0.9, seed: 42 };
    const saved = await client.conversations.setSampling(conversationId, sampling);
    expect(saved).toEqual({ instructions: "Answer in French.", sampling, updatedAt: expect.any(Number) });
    expect(await client.conversations.settings(conversationId)).toEqual(saved);
    // The older name reads the same settings.
    expect(await client.conversations.instructions(conversationId)).toEqual(saved);
    const modelOptions = () => (api.sim.chatRequests().at(-1)?.body as { options?: Record<string, number> }).options ?? {};

    await client.complete("Hello again", { conversationId });
    expect(modelOptions()).toEqual({ temperature: 0.2, top_p: 0.9, seed: 42 });
    // Another conversation: the model's defaults.
    await client.complete("Hello elsewhere");
    expect(modelOptions()).toEqual({});
    // null puts one setting back to the model's; the others stay as sent.
    expect((await client.conversations.setSampling(conversationId, { ...sampling, topP: null })).sampling).toEqual({ ...sampling, topP: null });
    await client.complete("And again", { conversationId });
    expect(modelOptions()).toEqual({ temperature: 0.2, seed: 42 });

    // Out of range: BAD_REQUEST, nothing stored.
    for (const bad of [{ ...sampling, temperature: 2.5 }, { ...sampling, topP: 0 }, { ...sampling, seed: 1.5 }]) {
      expect(await expectClientError(client.conversations.setSampling(conversationId, bad))).toMatchObject({ code: "bad_request", trpcCode: "BAD_REQUEST" });
    }
    expect((await client.conversations.settings(conversationId)).sampling).toEqual({ ...sampling, topP: null });
    expect((await client.conversations.setSampling(conversationId, defaultSampling)).instructions).toBe("Answer in French.");
    await client.complete("And once more", { conversationId });
    expect(modelOptions()).toEqual({});

    for (const missing of [client.conversations.settings("no-such-conversation"), client.conversations.setSampling("no-such-conversation", sampling)]) {
      expect(await expectClientError(missing)).toMatchObject({ trpcCode: "NOT_FOUND", status: 404 });
    }
  });

  it("starts a new conversation with its own instructions (stream and complete), which its first answer already gets", async () => {
    const systemMessage = () => (api.sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> }).messages[0]!.content;
    let conversationId = "";
    for await (const event of client.stream("Plan a week in Kyoto", { instructions: "We travel in April." })) {
      if (event.type === "run-start") conversationId = event.conversationId;
    }
    expect(systemMessage().endsWith("\n\nWe travel in April.")).toBe(true);
    expect((await client.conversations.instructions(conversationId)).instructions).toBe("We travel in April.");
    const completed = await client.complete("Plan a weekend in Lisbon", { instructions: "On foot." });
    expect(systemMessage().endsWith("\n\nOn foot.")).toBe(true);
    expect((await client.conversations.instructions(completed.conversationId)).instructions).toBe("On foot.");
    // Not for a conversation that exists: refused, and its instructions stay.
    const refused = await expectClientError(client.complete("more", { conversationId, instructions: "Other." }));
    expect(refused).toMatchObject({ code: "bad_request", trpcCode: "BAD_REQUEST" });
    expect((await client.conversations.instructions(conversationId)).instructions).toBe("We travel in April.");
  });

  it("starts a new conversation with its own sampling (stream and complete), which its first answer is already sampled with", async () => {
    const modelOptions = () => (api.sim.chatRequests().at(-1)?.body as { options?: Record<string, number> }).options ?? {};
    let conversationId = "";
    for await (const event of client.stream("Pick a number", { sampling: { temperature: 0, topP: null, seed: 3 } })) {
      if (event.type === "run-start") conversationId = event.conversationId;
    }
    expect(modelOptions()).toEqual({ temperature: 0, seed: 3 });
    expect((await client.conversations.settings(conversationId)).sampling).toEqual({ temperature: 0, topP: null, seed: 3 });
    await client.complete("Another", { sampling: { temperature: null, topP: 0.5, seed: null } });
    expect(modelOptions()).toEqual({ top_p: 0.5 });
    // Not for a conversation that exists: refused, and its sampling stays.
    const refused = await expectClientError(client.complete("more", { conversationId, sampling: { temperature: 1, topP: null, seed: null } }));
    expect(refused).toMatchObject({ code: "bad_request", trpcCode: "BAD_REQUEST" });
    expect((await client.conversations.settings(conversationId)).sampling).toEqual({ temperature: 0, topP: null, seed: 3 });
  });

  it("reports models and health", async () => {
    const models = await client.models();
    expect(models.provider).toBe("sim");
    expect(models.models.map((m) => m.name)).toContain("demo");
    const health = await client.health();
    expect(health).toMatchObject({ ok: true, provider: "sim" });
  });

  it("aborting the signal cancels the run on the server and closes the model request", async () => {
    const control = api.sim.control({ lastUserIncludes: "abort-me" });
    const abort = new AbortController();
    // The run starts when iteration does.
    const stream = client.stream("please abort-me", { signal: abort.signal });
    const events = await readUntil(stream, (e) => e.type === "status");
    await control.connected;
    await control.push({ content: "partial" });
    events.push(...(await readUntil(stream, (e) => e.type === "token")));
    abort.abort();
    await expect(stream.next()).rejects.toMatchObject({ name: "AbortError" });
    await control.closedByClient;

    const { runId, conversationId } = runStart(events);
    const rest = await drain(client.events(runId, { lastEventId: eventIdOf(events.at(-1)!) }));
    expect(rest.at(-1)).toMatchObject({ type: "done", reason: "cancelled" });
    const conversation = await client.conversations.get(conversationId);
    expect(conversation.runs.find((r) => r.id === runId)?.reason).toBe("cancelled");
  });

  it("breaking out of the loop cancels the run", async () => {
    const control = api.sim.control({ lastUserIncludes: "break-out" });
    let started: ChatEvent | undefined;
    const pushed = control.connected.then(() => control.push({ content: "first" }));
    for await (const event of client.stream("please break-out")) {
      started ??= event;
      if (event.type === "token") break;
    }
    await pushed;
    await control.closedByClient;
    const { runId, conversationId } = runStart(started ? [started] : []);
    const conversation = await client.conversations.get(conversationId);
    expect(conversation.runs.find((r) => r.id === runId)?.reason).toBe("cancelled");
  });

  it("attaches to an existing run with events(), from the start or after an id", async () => {
    const { runId } = await client.send("Hello again");
    const all = await drain(client.events(runId));
    expect(types(all)[0]).toBe("run-start");
    expect(types(all).at(-1)).toBe("done");
    const after = await drain(client.events(runId, { lastEventId: eventIdOf(all[1]!) }));
    expect(after).toEqual(all.slice(2));
  });

  it("cancel() stops a running run, and says why it did not stop one that ended", async () => {
    const control = api.sim.control({ lastUserIncludes: "cancel-by-id" });
    const { runId } = await client.send("please cancel-by-id");
    await control.connected;
    expect(await client.cancel(runId)).toEqual({ cancelled: true });
    const events = await drain(client.events(runId));
    expect(events.at(-1)).toMatchObject({ type: "done", reason: "cancelled" });
    // Again: not cancelled, and why, typed (an ended run, not one out of the server's reach).
    const again = await client.cancel(runId);
    const reason: "ended" | "unreachable" | null = again.cancelled ? null : again.reason;
    expect(reason).toBe("ended");
    expect(again).toEqual({ cancelled: false, reason: "ended" });
  });

  it("reports a model failure in-band as error + done, and as ChatClientError from complete()", async () => {
    const events = await drain(client.stream("Hello", { model: "sim-not-found" }));
    expect(types(events).slice(-2)).toEqual(["error", "done"]);
    expect(events.at(-2)).toMatchObject({ type: "error", code: "model_not_found" });
    const error = await expectClientError(client.complete("Hello", { model: "sim-not-found" }));
    expect(error.code).toBe("model_not_found");
  });

  it("complete() gives what the server's chat.complete gives for the same scenario", async () => {
    // Only what differs from run to run is set aside: the ids, and times.
    const steady = (result: CompleteResult) => ({
      ...result,
      conversationId: "-",
      runId: "-",
      toolCalls: result.toolCalls.map((call) => ({ ...call, callId: "-" })),
      usage: { ...result.usage, ttftMs: typeof result.usage.ttftMs, durationMs: "-", tokensPerSecond: typeof result.usage.tokensPerSecond },
    });
    for (const question of ["What is 12*7?", "Hello there"]) {
      const fromServer = await client.trpc.chat.complete.mutate({ message: question });
      const fromClient = await client.complete(question);
      expect(steady(fromClient)).toEqual(steady(fromServer));
      expect(fromClient.text).toBe((await client.conversations.get(fromClient.conversationId)).messages.at(-1)?.content);
    }
    const calculated = await client.complete("What is 12*7?");
    expect(calculated.toolCalls).toEqual([expect.objectContaining({ name: "calculator", ok: true })]);

    // A failed run: the same error both ways (but for trpcCode and status, which only an HTTP error answer has).
    const failure = (error: ChatClientError) => ({ code: error.code, message: error.message, retryable: error.retryable });
    for (const model of ["sim-not-found", "sim-error-mid-stream"]) {
      const fromServer = toChatClientError(await client.trpc.chat.complete.mutate({ message: "Hello", model }).catch((e: unknown) => e));
      const fromClient = await expectClientError(client.complete("Hello", { model }));
      expect(failure(fromClient)).toEqual(failure(fromServer));
    }
  });

  it("aborting complete() throws the signal's reason and cancels the run on the server", async () => {
    const control = api.sim.control({ lastUserIncludes: "abort-complete" });
    const abort = new AbortController();
    const answer = client.complete("please abort-complete", { signal: abort.signal });
    await control.connected;
    await control.push({ content: "partial" });
    abort.abort();
    await expect(answer).rejects.toBe(abort.signal.reason);
    await control.closedByClient;

    const conversation = (await client.conversations.list()).find((c) => c.title.includes("abort-complete"));
    const runs = (await client.conversations.get(conversation!.id)).runs;
    expect(runs.map((r) => r.reason)).toEqual(["cancelled"]);
  });

  it("aborting while the server has not answered the send yet throws at once; the run it started anyway is cancelled", async () => {
    // chat.send requests reach the server only when the test lets them: a server slow to answer (or one that hangs).
    const held: Array<() => void> = [];
    const slow = createChatClient({
      url: api.url,
      fetch: async (input, init) => {
        if (new URL(input instanceof Request ? input.url : input).pathname === "/trpc/chat.send") {
          await new Promise<void>((resolve) => held.push(resolve));
        }
        return fetch(input, init);
      },
    });
    const tooLate = () => new Promise((resolve) => setTimeout(() => resolve("still waiting for the send"), 2000));
    for (const how of ["stream", "send"] as const) {
      // The model answers nothing until told: the cancel cannot come after the run ended by itself.
      api.sim.control({ lastUserIncludes: `stop-before-start-${how}` });
      const abort = new AbortController();
      const started =
        how === "stream" ? drain(slow.stream(`please stop-before-start-${how}`, { signal: abort.signal })) : slow.send(`please stop-before-start-${how}`, { signal: abort.signal });
      await expect.poll(() => held.length).toBe(1);
      abort.abort();
      await expect(Promise.race([started, tooLate()])).rejects.toBe(abort.signal.reason);
      // The client owes the run a cancel, and cannot send it before the server names the run.
      expect(slow.pendingCancels).toBe(1);
      expect(await slow.cancelsSent({ timeoutMs: 50 })).toBe(false);
      // The request that was under way reaches the server and starts a run: it is cancelled once its id is known.
      held.shift()!();
      expect(await slow.cancelsSent({ timeoutMs: 20_000 })).toBe(true);
      expect(slow.pendingCancels).toBe(0);
      const conversation = await vi.waitUntil(async () => (await client.conversations.list()).find((c) => c.title.includes(`stop-before-start-${how}`)));
      await expect.poll(async () => (await client.conversations.get(conversation.id)).runs.map((r) => r.reason)).toEqual(["cancelled"]);
    }
  });

  it("complete() holds no request open until the answer is whole: fetch's headers timeout cannot end it", async () => {
    // Requests still waiting for their response's headers, failed at once when the test says the timeout went off.
    const waiting = new Set<(error: Error) => void>();
    const headersTimeout = () => {
      const cause = Object.assign(new Error("Headers Timeout Error"), { code: "UND_ERR_HEADERS_TIMEOUT" });
      for (const fail of waiting) fail(new TypeError("fetch failed", { cause }));
    };
    const timed = createChatClient({
      url: api.url,
      fetch: (input, init) =>
        new Promise((resolve, reject) => {
          waiting.add(reject);
          fetch(input, init)
            .then(resolve, reject)
            .finally(() => waiting.delete(reject));
        }),
    });
    const control = api.sim.control({ lastUserIncludes: "longer-than-headers-timeout" });
    const answer = timed.complete("please longer-than-headers-timeout");
    await control.connected;
    await control.push({ content: "slow " });
    // undici's headersTimeout (300 s) running out in the middle of the answer.
    headersTimeout();
    await control.push({ content: "answer" });
    await control.push({ done: true });
    expect((await answer).text).toBe("slow answer");
  });

  it("turns server errors into ChatClientError with our code", async () => {
    const empty = await expectClientError(drain(client.stream("")));
    expect(empty).toMatchObject({ code: "bad_request", trpcCode: "BAD_REQUEST", status: 400 });
    expect(empty.message).not.toMatch(/at .*\.ts/);

    const missingRun = await expectClientError(drain(client.events("no-such-run")));
    expect(missingRun).toMatchObject({ trpcCode: "NOT_FOUND" });

    const missingConversation = await expectClientError(client.conversations.get("no-such-conversation"));
    expect(missingConversation).toMatchObject({ trpcCode: "NOT_FOUND", status: 404 });
  });

  it("reports an unreachable server as code unreachable", async () => {
    const closed = await startApi();
    const url = closed.url;
    await closed.close();
    const offline = createChatClient({ url });
    const error = await expectClientError(offline.health());
    expect(error.code).toBe("unreachable");
    expect((await expectClientError(drain(offline.stream("Hello")))).code).toBe("unreachable");
    // Named by the socket's code, not undici's "fetch failed" wrapped around it.
    expect(error.message).toBe("Cannot reach the chat server (ECONNREFUSED).");
  });

  it("refuses a URL that is no http(s) URL when the client is made, not with a misleading failure on every call", () => {
    // Without its scheme a URL fails later as "fetch failed" (localhost:3000) or as an "unexpected response", retryable.
    for (const url of ["localhost:3000", "127.0.0.1:3000", "ftp://127.0.0.1:3000", ""]) {
      const made = (() => {
        try {
          return createChatClient({ url });
        } catch (error) {
          return error;
        }
      })();
      expect(made).toBeInstanceOf(ChatClientError);
      expect(made).toMatchObject({ code: "bad_request", retryable: false, message: expect.stringContaining(`(got ${JSON.stringify(url)})`) });
    }
    expect(() => createChatClient({ url: "https://chat.example/base/" })).not.toThrow();
  });
});

const fetchOverride: unique symbol = Symbol.for("eventsource.supports-fetch-override") as never;

describe("auth and limits", () => {
  let api: TestApi;
  const token = "alice-secret-token";
  const bobToken = "bob-secret-token";

  beforeAll(async () => {
    api = await startApi({ AUTH_TOKENS: `alice:${token},bob:${bobToken}`, MAX_RUNS_PER_USER: "1" });
  });
  afterAll(async () => {
    await api?.close();
  });

  it("sends the token as a Bearer header on requests and subscriptions", async () => {
    const client = createChatClient({ url: api.url, token });
    const events = await drain(client.stream("Hello"));
    expect(types(events).at(-1)).toBe("done");
  });

  it("sends the token in connectionParams with an EventSource that cannot set headers (browsers)", async () => {
    // Like the browser's EventSource: no `fetch` option, so no way to set Authorization.
    class HeaderlessEventSource extends EventSource {
      static readonly [fetchOverride] = false;
    }
    const client = createChatClient({
      url: api.url,
      token,
      EventSource: HeaderlessEventSource as unknown as typeof globalThis.EventSource,
    });
    const { runId } = await client.send("Hello");
    const events = await drain(client.events(runId));
    expect(types(events).at(-1)).toBe("done");
  });

  it("rejects a missing or wrong token with code unauthorized", async () => {
    const anonymous = createChatClient({ url: api.url });
    expect(await expectClientError(anonymous.conversations.list())).toMatchObject({
      code: "unauthorized",
      trpcCode: "UNAUTHORIZED",
      status: 401,
    });
    const owner = createChatClient({ url: api.url, token });
    const { runId } = await owner.send("Hello");
    await drain(owner.events(runId));
    const wrong = createChatClient({ url: api.url, token: "not-the-token" });
    expect(await expectClientError(drain(wrong.events(runId)))).toMatchObject({ code: "unauthorized" });
    expect(await expectClientError(drain(wrong.stream("Hello")))).toMatchObject({ code: "unauthorized" });
  });

  it("keeps a conversation's instructions to its owner: another user gets NOT_FOUND, reading or setting them", async () => {
    const alice = createChatClient({ url: api.url, token });
    const bob = createChatClient({ url: api.url, token: bobToken });
    const { conversationId } = await alice.complete("Hello");
    const saved = await alice.conversations.setInstructions(conversationId, "Answer in French.");
    expect(await expectClientError(bob.conversations.instructions(conversationId))).toMatchObject({ trpcCode: "NOT_FOUND" });
    expect(await expectClientError(bob.conversations.setInstructions(conversationId, "Answer in German."))).toMatchObject({ trpcCode: "NOT_FOUND" });
    expect(await alice.conversations.instructions(conversationId)).toEqual(saved);
  });

  it("keeps a conversation's sampling to its owner: another user gets NOT_FOUND, reading or setting it", async () => {
    const alice = createChatClient({ url: api.url, token });
    const bob = createChatClient({ url: api.url, token: bobToken });
    const { conversationId } = await alice.complete("Hello");
    const saved = await alice.conversations.setSampling(conversationId, { temperature: 0.2, topP: 0.9, seed: 42 });
    expect(await expectClientError(bob.conversations.settings(conversationId))).toMatchObject({ trpcCode: "NOT_FOUND" });
    expect(await expectClientError(bob.conversations.setSampling(conversationId, defaultSampling))).toMatchObject({ trpcCode: "NOT_FOUND" });
    expect(await alice.conversations.settings(conversationId)).toEqual(saved);
  });

  it("reports TOO_MANY_REQUESTS as rate_limited", async () => {
    const client = createChatClient({ url: api.url, token });
    const control = api.sim.control({ lastUserIncludes: "hold-the-slot" });
    const { runId } = await client.send("please hold-the-slot");
    await control.connected;
    try {
      const error = await expectClientError(client.send("one too many"));
      expect(error).toMatchObject({ code: "rate_limited", trpcCode: "TOO_MANY_REQUESTS", status: 429 });
    } finally {
      await client.cancel(runId);
      await drain(client.events(runId));
    }
  });
});
