import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { continuing, prefillOf } from "./prefill.js";
import { startSimulator } from "./server.js";
import { chatLines, contentOf, rawRequest, sseContentOf, thinkingOf } from "./test-support/http.js";
import type { Simulator, SimChunk } from "./types.js";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0 });
});
afterAll(async () => {
  await sim.close();
});

const question = { role: "user", content: "Explain how a rainbow forms, in detail" };

describe("a final assistant message is continued (prefill)", () => {
  it("Ollama: the answer's rest after the text the request ends with, without its reasoning", async () => {
    const whole = await chatLines(sim.url, { model: "demo", messages: [question], think: true });
    const full = contentOf(whole);
    expect(full.length).toBeGreaterThan(200);
    expect(thinkingOf(whole)).not.toBe("");
    const cut = full.slice(0, 87); // inside a word: the chunk it ends in is cut
    const rest = await chatLines(sim.url, { model: "demo", messages: [question, { role: "assistant", content: cut }], think: true });
    expect(contentOf(rest)).toBe(full.slice(87));
    expect(thinkingOf(rest)).toBe("");
    expect(rest.at(-1)).toMatchObject({ done: true, done_reason: "stop" });
  });

  it("OpenAI-compatible wire: the same", async () => {
    const body = { model: "demo", stream: true, messages: [question] };
    const text = (res: { text: string }) => sseContentOf(res.text);
    const full = text(await rawRequest(sim.url, "/v1/chat/completions", body));
    const rest = text(
      await rawRequest(sim.url, "/v1/chat/completions", { ...body, messages: [question, { role: "assistant", content: full.slice(0, 40) }] }),
    );
    expect(rest).toBe(full.slice(40));
  });

  it("text the model would not have said: its whole answer follows it", async () => {
    const full = contentOf(await chatLines(sim.url, { model: "demo", messages: [question] }));
    const after = await chatLines(sim.url, { model: "demo", messages: [question, { role: "assistant", content: "Something else entirely. " }] });
    expect(contentOf(after)).toBe(full);
  });

  it("a final assistant message with tool calls, or empty, is not a prefill", () => {
    const req = (last: Record<string, unknown>) => ({ model: "demo", messages: [question, last] });
    expect(prefillOf(req({ role: "assistant", content: "Let me check.", tool_calls: [{ function: { name: "x" } }] }))).toBeUndefined();
    expect(prefillOf(req({ role: "assistant", content: "" }))).toBeUndefined();
    expect(prefillOf(req({ role: "tool", content: "42" }))).toBeUndefined();
    expect(prefillOf(req({ role: "assistant", content: "So far" }))).toBe("So far");
  });

  it("keeps the end of an answer the prefill covers whole", () => {
    const chunks: SimChunk[] = [{ content: "A ", delayMs: 5 }, { content: "B", delayMs: 5 }, { done: true, doneReason: "length" }];
    expect([...continuing(chunks, "A B")]).toEqual([{ done: true, doneReason: "length" }]);
    expect([...continuing(chunks, "A")]).toEqual([{ content: " ", delayMs: 0 }, { content: "B", delayMs: 5 }, { done: true, doneReason: "length" }]);
  });
});
