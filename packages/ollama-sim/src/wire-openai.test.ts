import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator } from "./server.js";
import { allTools, postJson, rawRequest, sseData, user } from "./test-support/http.js";
import type { Simulator } from "./types.js";
import { splitFragments } from "./wire-openai.js";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0 });
});
afterAll(async () => {
  await sim.close();
});

type Chunk = {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: {
      role?: string;
      content?: string;
      reasoning?: string;
      tool_calls?: Array<{ index: number; id?: string; type?: string; function: { name?: string; arguments?: string } }>;
    };
    finish_reason: string | null;
  }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
};

async function sse(body: Record<string, unknown>) {
  const res = await rawRequest(sim.url, "/v1/chat/completions", { stream: true, ...body });
  expect(res.status).toBe(200);
  expect(res.headers["content-type"]).toBe("text/event-stream");
  return sseData(res.text);
}

describe("/v1/chat/completions streaming", () => {
  it("streams chat.completion.chunk events, a finish_reason and [DONE]", async () => {
    const events = await sse({ model: "demo", messages: user("hello") });
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1) as unknown as Chunk[];
    const ids = new Set(chunks.map((c) => c.id));
    expect(ids.size).toBe(1);
    for (const c of chunks) {
      expect(c).toMatchObject({ object: "chat.completion.chunk", model: "demo", created: expect.any(Number) });
      expect(c.choices).toHaveLength(1);
    }
    expect(chunks.slice(0, -1).every((c) => c.choices[0]?.finish_reason === null)).toBe(true);
    expect(chunks.at(-1)?.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: "stop" });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toContain("Hello! I'm the offline **demo** model");
    expect(chunks.some((c) => c.usage)).toBe(false);
  });

  it("splits tool-call arguments into several fragments; id/type/name only on the first", async () => {
    const events = await sse({ model: "demo", tools: allTools, messages: user("What time is it in New York?") });
    const chunks = events.filter((e): e is Record<string, unknown> => e !== "[DONE]") as unknown as Chunk[];
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas[0]).toEqual({ index: 0, id: expect.stringMatching(/^call_[a-z0-9]{8}$/), type: "function", function: { name: "current_time", arguments: "" } });
    const rest = deltas.slice(1);
    expect(rest.length).toBeGreaterThanOrEqual(2);
    for (const d of rest) expect(Object.keys(d).sort()).toEqual(["function", "index"]);
    expect(rest.every((d) => d.function.name === undefined && typeof d.function.arguments === "string")).toBe(true);
    expect(JSON.parse(deltas.map((d) => d.function.arguments ?? "").join(""))).toEqual({ timeZone: "America/New_York" });
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("tool_calls");
    expect(events.at(-1)).toBe("[DONE]");
  });

  it("adds a usage chunk with choices [] before [DONE] when stream_options.include_usage", async () => {
    const events = await sse({ model: "demo", stream_options: { include_usage: true }, messages: user("hello") });
    expect(events.at(-1)).toBe("[DONE]");
    const usage = events.at(-2) as unknown as Chunk;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toEqual({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) });
    expect(usage.usage!.total_tokens).toBe(usage.usage!.prompt_tokens + usage.usage!.completion_tokens);
    expect((events.at(-3) as unknown as Chunk).choices[0]?.finish_reason).toBe("stop");
  });

  it("streams reasoning in delta.reasoning when think is set", async () => {
    const events = await sse({ model: "qwen3", think: true, messages: user("hello") });
    const chunks = events.slice(0, -1) as unknown as Chunk[];
    const firstContent = chunks.findIndex((c) => c.choices[0]?.delta.content);
    const reasoning = chunks.map((c) => c.choices[0]?.delta.reasoning ?? "").join("");
    expect(reasoning).toContain("greeting");
    expect(chunks.findIndex((c) => c.choices[0]?.delta.reasoning)).toBeLessThan(firstContent);
  });

  it("a mid-stream error is a data: {error} event and no [DONE]", async () => {
    const events = await sse({ model: "sim-error-mid-stream", messages: user("hi") });
    expect(events.at(-1)).toEqual({ error: { message: "an error was encountered while running the model", type: "server_error", param: null, code: null } });
    expect(events).not.toContain("[DONE]");
  });

  it("serves the same fault scenarios: truncated ends without finish_reason or [DONE]", async () => {
    const events = await sse({ model: "demo", messages: user("hi [sim:truncated]") });
    expect(events).not.toContain("[DONE]");
    expect((events as unknown as Chunk[]).map((c) => c.choices[0]?.delta.content)).toEqual(["The ", "answer ", "starts "]);
  });

  it("utf8-split cuts characters on this wire too", async () => {
    const res = await rawRequest(sim.url, "/v1/chat/completions", { model: "sim-utf8-split", stream: true, messages: user("hi") });
    const decoder = new TextDecoder("utf-8", { fatal: true });
    expect(res.chunks.some((c) => {
      try {
        decoder.decode(c);
        return false;
      } catch {
        return true;
      }
    })).toBe(true);
    const chunks = sseData(res.text).slice(0, -1) as unknown as Chunk[];
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("Grüße aus 東京 🎉 café — naïve 日本語");
  });
});

describe("/v1/chat/completions without streaming and errors", () => {
  it("answers one chat.completion with string arguments when stream is not set", async () => {
    const res = await postJson(sim.url, "/v1/chat/completions", { model: "demo", tools: allTools, messages: user("calculate 12*7") });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      object: "chat.completion",
      model: "demo",
      choices: [
        {
          index: 0,
          finish_reason: "tool_calls",
          message: { role: "assistant", content: "", tool_calls: [{ id: expect.stringMatching(/^call_/), type: "function", function: { name: "calculator", arguments: '{"expression":"12*7"}' } }] },
        },
      ],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) },
    });
  });

  it("reads OpenAI tool results (tool_call_id, string arguments) in the next round", async () => {
    const res = await postJson(sim.url, "/v1/chat/completions", {
      model: "demo",
      tools: allTools,
      messages: [
        ...user("calculate 12*7"),
        { role: "assistant", content: null, tool_calls: [{ id: "call_abc", type: "function", function: { name: "calculator", arguments: '{"expression":"12*7"}' } }] },
        { role: "tool", tool_call_id: "call_abc", content: '{"expression":"12*7","result":"84"}' },
      ],
    });
    expect((res.json as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe("12*7 = **84**");
  });

  it("errors use OpenAI's error object", async () => {
    expect(await postJson(sim.url, "/v1/chat/completions", { model: "nope", messages: user("hi") })).toMatchObject({
      status: 404,
      json: { error: { message: 'model "nope" not found, try pulling it first', type: "not_found_error" } },
    });
    expect(await postJson(sim.url, "/v1/chat/completions", { messages: user("hi") })).toMatchObject({
      status: 400,
      json: { error: { message: "model is required", type: "invalid_request_error" } },
    });
  });
});

describe("splitFragments", () => {
  it("cuts on code points and joins back to the input", () => {
    expect(splitFragments('{"city":"東京🎉"}', 3).join("")).toBe('{"city":"東京🎉"}');
    expect(splitFragments('{"city":"東京🎉"}', 3)).toHaveLength(3);
    expect(splitFragments("{}", 3)).toEqual(["{", "}"]);
    expect(splitFragments("", 3)).toEqual([""]);
  });
});
