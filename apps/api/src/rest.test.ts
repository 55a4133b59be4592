import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { heapUsedAfterGc } from "@streamchat/core/test-support";
import { floodAnswer } from "./test-support/flood-answer.js";
import { eventually, startTestApi, type TestApi } from "./test-support/harness.js";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api?.close());

interface SseMessage {
  event: string;
  data: unknown;
}

/** Parses a complete text/event-stream body (comment lines skipped). */
function parseSse(body: string): SseMessage[] {
  return body
    .split("\n\n")
    .filter((block) => block.trim() && !block.startsWith(":"))
    .map((block) => {
      const lines = block.split("\n");
      const event = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? "message";
      const data = lines.find((l) => l.startsWith("data: "))?.slice(6) ?? "";
      return { event, data: JSON.parse(data) as unknown };
    });
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${api.url}${path}`, {
    method: "POST",
    ...(signal ? { signal } : {}),
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("POST /api/chat/stream", () => {
  it("streams thinking, tool, token events and one final done", async () => {
    const res = await post("/api/chat/stream", { message: "what time is it in Tokyo?" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    const conversationId = res.headers.get("x-conversation-id");
    expect(conversationId).toBeTruthy();

    const messages = parseSse(await res.text());
    expect(messages[0]).toEqual({ event: "thinking", data: "Processing your question..." });
    expect(messages.filter((m) => m.event === "done")).toEqual([{ event: "done", data: null }]);
    expect(messages.at(-1)).toEqual({ event: "done", data: null });
    expect(messages).toContainEqual({ event: "tool", data: "Using tool: current_time..." });
    const tokens = messages.filter((m) => m.event === "token");
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.every((m) => typeof m.data === "string")).toBe(true);
    expect(new Set(messages.map((m) => m.event))).toEqual(new Set(["thinking", "tool", "token", "done"]));

    const stored = await api.server.store.listMessages(conversationId!);
    expect(stored.at(-1)?.message.content).toBe(tokens.map((m) => m.data).join(""));
  });

  it("reports a model failure as an error event before done", async () => {
    const res = await post("/api/chat/stream", { message: "hi", model: "sim-not-found" });
    expect(res.status).toBe(200);
    const messages = parseSse(await res.text());
    expect(messages.map((m) => m.event)).toEqual(["thinking", "error", "done"]);
    expect(messages[1]?.data).toEqual({ error: expect.stringContaining("not found") });
  });

  it("continues a conversation by conversationId", async () => {
    const first = await post("/api/chat/stream", { message: "remember the word tulip" });
    const conversationId = first.headers.get("x-conversation-id")!;
    await first.text();
    const second = await post("/api/chat/stream", { message: "which word?", conversationId });
    await second.text();
    const request = api.sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> };
    expect(request.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(request.messages[1]?.content).toBe("remember the word tulip");
  });
});

describe("REST stream disconnects", () => {
  it("does not cancel the run when the client goes away", async () => {
    const control = api.sim.control();
    const abort = new AbortController();
    const res = await post("/api/chat/stream", { message: "hang up on me" }, {}, abort.signal);
    const runId = res.headers.get("x-run-id")!;
    await control.connected;
    const reader = res.body!.getReader();
    await reader.read(); // the thinking event
    abort.abort();
    await reader.read().catch(() => undefined);
    await eventually(() => api.server.runs.stats().subscriptions === 0, "the server to notice the disconnect");
    expect(api.server.runs.stats().activeRuns).toBe(1);
    await control.push({ content: "still " });
    await control.push({ content: "here" });
    await control.push({ done: true });
    await api.server.runs.whenEnded(runId);
    const run = await api.server.store.getRun(runId);
    expect(run).toMatchObject({ status: "done", reason: "stop" });
    const messages = await api.server.store.listMessages(run!.conversationId);
    expect(messages.at(-1)?.message.content).toBe("still here");
  });
});

describe("POST /api/chat/stream to a reader that stops reading", () => {
  // ~32 MB through the API and the log: seconds on an idle box, far more on a loaded one.
  it("holds back instead of buffering the answer, then delivers every token in order and one done", { timeout: 120_000 }, async () => {
    const flood = floodAnswer("[rest:flood]");
    api.sim.addScenario(flood.scenario);
    const heapBefore = heapUsedAfterGc();
    const body: Buffer[] = [];
    let ended!: () => void;
    const end = new Promise<void>((resolve) => (ended = resolve));
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${api.url}/api/chat/stream`, { method: "POST", headers: { "content-type": "application/json" } }, resolve);
      req.on("error", reject);
      req.end(JSON.stringify({ message: "[rest:flood] go" }));
    });
    // Never reads until the run has ended: the kernel's buffers fill, then the server must hold back.
    res.pause();
    res.on("data", (data: Buffer) => body.push(data));
    res.on("end", () => ended());
    const runId = res.headers["x-run-id"] as string;
    await api.server.runs.whenEnded(runId);
    expect(api.server.runs.stats().subscriptions).toBe(1);
    // What the stuck reader costs the server stays bounded (the answer itself is ~32 MB).
    expect(heapUsedAfterGc() - heapBefore).toBeLessThan(16 * 1024 * 1024);

    res.resume();
    await end;
    const messages = parseSse(Buffer.concat(body).toString("utf8"));
    expect(messages[0]).toEqual({ event: "thinking", data: "Processing your question..." });
    expect(messages.filter((m) => m.event === "done")).toEqual([{ event: "done", data: null }]);
    expect(messages.at(-1)).toEqual({ event: "done", data: null });
    const text = messages.filter((m) => m.event === "token").map((m) => m.data as string).join("");
    expect(text).toBe(flood.text());
  });
});

describe("POST /api/chat", () => {
  it("answers with the full response, tool calls, usage and conversation", async () => {
    const res = await post("/api/chat", { message: "what is 12*7?" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      response: string;
      toolCalls: Array<{ name: string; ok: boolean; result?: { result: string } }>;
      usage: { completionTokens: number };
      conversationId: string;
    };
    expect(body.response).toContain("84");
    expect(body.toolCalls).toEqual([expect.objectContaining({ name: "calculator", ok: true, result: expect.objectContaining({ result: "84" }) })]);
    expect(typeof body.usage.completionTokens).toBe("number");
    expect(await api.server.store.getConversation("local", body.conversationId)).toBeDefined();
  });

  it("passes think to the model (REST /api/chat and /api/chat/stream)", async () => {
    const res = await post("/api/chat", { message: "hello", model: "qwen3", think: true });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { conversationId: string; response: string };
    expect(api.sim.chatRequests().at(-1)?.body).toMatchObject({ model: "qwen3", think: true });
    const stored = (await api.server.store.listMessages(body.conversationId)).at(-1)?.message;
    expect(stored?.role === "assistant" && stored.thinking).toBeTruthy();

    const unsupported = await post("/api/chat", { message: "hello", model: "llama3.2", think: true });
    expect(unsupported.status).toBe(400);
    expect(await unsupported.json()).toMatchObject({ code: "model_unsupported" });

    const requests = api.sim.chatRequests().length;
    const stream = await post("/api/chat/stream", { message: "hello", model: "llama3.2", think: true });
    const messages = parseSse(await stream.text());
    expect(messages.map((m) => m.event)).toEqual(["thinking", "error", "done"]);
    // llama3.2 lacks the thinking capability: the run ends before asking the model.
    expect(api.sim.chatRequests()).toHaveLength(requests);

    const bad = await post("/api/chat", { message: "hello", think: "yes" });
    expect(bad.status).toBe(400);
  });

  it("leaves a <think> block a server put in the answer's text out of the answer (REST /api/chat and /api/chat/stream)", async () => {
    api.sim.addScenario({
      name: "tagged reasoning (REST)",
      match: { lastUserIncludes: "rest tagged" },
      chunks: [{ content: "<think>Hmm, the user " }, { content: "greets me.</thi" }, { content: "nk>\n\nHi " }, { content: "there." }, { done: true }],
    });
    const whole = await post("/api/chat", { message: "rest tagged hello" });
    const body = (await whole.json()) as { conversationId: string; response: string };
    expect(body.response).toBe("Hi there.");
    const stored = (await api.server.store.listMessages(body.conversationId)).at(-1)?.message;
    expect(stored).toMatchObject({ role: "assistant", content: "Hi there.", thinking: "Hmm, the user greets me." });

    const stream = await post("/api/chat/stream", { message: "rest tagged again" });
    const tokens = parseSse(await stream.text()).filter((m) => m.event === "token");
    expect(tokens.map((m) => m.data).join("")).toBe("Hi there.");
  });

  it("maps a model failure to an HTTP error with the typed code", async () => {
    const res = await post("/api/chat", { message: "hi", model: "sim-not-found" });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: expect.stringContaining("not found"), code: "model_not_found" });
  });
});

describe("REST input errors", () => {
  for (const path of ["/api/chat", "/api/chat/stream"]) {
    it(`${path}: 400 "Message is required" when the message is missing or empty`, async () => {
      for (const body of [{}, { message: "" }, { message: "   " }, { message: null }]) {
        const res = await post(path, body);
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({ error: "Message is required", code: "bad_request" });
      }
    });

    it(`${path}: 400 saying that message must be a string when it is not one`, async () => {
      for (const body of [{ message: 42 }, { message: ["hi"] }, { message: { text: "hi" } }, { message: true }]) {
        const res = await post(path, body);
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({ error: "message must be a string", code: "bad_request" });
      }
    });

    it(`${path}: 400 naming the invalid field`, async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ message: "hi", conversationId: 5 }, /^conversationId: .*string/],
        [{ message: "hi", model: "" }, /^model: /],
        [{ message: "hi", think: "yes" }, /^think: .*boolean/],
        [{ message: "hi", model: 1, think: 2 }, /^model: .*; think: /],
        [[1, 2], /JSON object/],
        ["null", /JSON object/],
      ];
      for (const [body, error] of cases) {
        const res = await post(path, body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        const json = (await res.json()) as { error: string; code: string };
        expect(json.error, JSON.stringify(body)).toMatch(error);
        expect(json.code).toBe("bad_request");
      }
    });

    it(`${path}: 405 with Allow: POST for other methods`, async () => {
      for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
        const res = await fetch(`${api.url}${path}`, { method });
        expect(res.status, method).toBe(405);
        expect(res.headers.get("allow"), method).toBe("POST");
        expect(await res.json()).toEqual({ error: "Method not allowed: use POST.", code: "bad_request" });
      }
      const head = await fetch(`${api.url}${path}`, { method: "HEAD" });
      expect(head.status).toBe(405);
      expect(head.headers.get("allow")).toBe("POST");
    });

    it(`${path}: 415 telling to send JSON for other content types`, async () => {
      for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream"]) {
        const res = await post(path, JSON.stringify({ message: "hi" }), { "content-type": type });
        expect(res.status, type).toBe(415);
        expect(await res.json()).toEqual({
          error: "Unsupported content type: send the request body as JSON (Content-Type: application/json).",
          code: "bad_request",
        });
      }
      // JSON with parameters is still JSON.
      const ok = await post("/api/chat", { message: "hi" }, { "content-type": "Application/JSON; charset=utf-8" });
      expect(ok.status).toBe(200);
    });
  }

  it("400 naming a __proto__ key (Fastify's onProtoPoisoning), not calling the JSON malformed", async () => {
    for (const path of ["/api/chat", "/api/chat/stream"]) {
      for (const body of ['{"message":"hi","__proto__":{"admin":true}}', '{"message":"hi","attachments":[{"__proto__":{}}]}']) {
        const res = await post(path, body);
        expect(res.status, `${path} ${body}`).toBe(400);
        expect(await res.json()).toEqual({ error: 'The request body has a "__proto__" key, which is not accepted: remove it.', code: "bad_request" });
      }
    }
    // Malformed JSON still says so.
    expect(await (await post("/api/chat", '{"__proto__":')).json()).toEqual({
      error: "Body is not valid JSON but content-type is set to 'application/json'",
      code: "bad_request",
    });
  });

  it("400 on a body that is not JSON", async () => {
    const res = await post("/api/chat", "{nope");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: expect.any(String), code: "bad_request" });
  });

  it("404 JSON with a code for an unknown conversation", async () => {
    for (const path of ["/api/chat", "/api/chat/stream"]) {
      const res = await post(path, { message: "hi", conversationId: "missing" });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: "Conversation not found", code: "not_found" });
    }
  });
});

describe("configuration with whitespace around values", () => {
  it("starts and applies them (cmd.exe `set MAX_RUNS_PER_USER=1 && pnpm start` sets \"1 \")", async () => {
    const spaced = await startTestApi({ env: { PORT: "0 ", MAX_RUNS_PER_USER: "1 ", MAX_MESSAGE_CHARS: "10\r" } });
    try {
      const long = await fetch(`${spaced.url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "x".repeat(11) }),
      });
      expect(long.status).toBe(400);
      expect(await long.json()).toEqual({ error: "Message is too long (at most 10 characters).", code: "bad_request" });
      const control = spaced.sim.control();
      const first = await fetch(`${spaced.url}/api/chat/stream`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "hold on" }),
      });
      await control.connected;
      const second = await fetch(`${spaced.url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "me too" }),
      });
      expect(second.status).toBe(429);
      expect(await second.json()).toMatchObject({ code: "rate_limited" });
      await control.push({ done: true });
      await first.text();
    } finally {
      await spaced.close();
    }
  });
});
