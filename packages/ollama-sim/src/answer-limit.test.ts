import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerLimitOf, limitedTo } from "./answer-limit.js";
import { startSimulator } from "./server.js";
import { chatLines, contentOf, rawRequest, sseData } from "./test-support/http.js";
import type { Simulator } from "./types.js";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0 });
});
afterAll(async () => {
  await sim.close();
});

const question = [{ role: "user", content: "Explain how a rainbow forms, in detail" }];

describe("an answer limited to a number of tokens", () => {
  it("Ollama: options.num_predict ends the answer after that many tokens, done_reason length", async () => {
    const full = await chatLines(sim.url, { model: "demo", messages: question });
    const cut = await chatLines(sim.url, { model: "demo", messages: question, options: { num_predict: 5 } });
    expect(cut.filter((l) => !l.done)).toHaveLength(5);
    expect(contentOf(full).startsWith(contentOf(cut))).toBe(true);
    expect(cut.at(-1)).toMatchObject({ done: true, done_reason: "length", eval_count: 5 });
    // Ollama's "as long as the model goes" values, and a limit the answer stays under, change nothing.
    const unlimited = await chatLines(sim.url, { model: "demo", messages: question, options: { num_predict: -1 } });
    expect(contentOf(unlimited)).toBe(contentOf(full));
    expect((await chatLines(sim.url, { model: "demo", messages: question, options: { num_predict: 100_000 } })).at(-1)).toMatchObject({ done_reason: "stop" });
  });

  it("OpenAI wire: max_completion_tokens, else max_tokens; finish_reason length", async () => {
    const res = await rawRequest(sim.url, "/v1/chat/completions", { model: "demo", stream: true, messages: question, max_tokens: 3 });
    const data = sseData(res.text).filter((d): d is Record<string, unknown> => d !== "[DONE]");
    const reasons = data.map((d) => (d["choices"] as Array<{ finish_reason?: string | null }> | undefined)?.[0]?.finish_reason).filter(Boolean);
    expect(reasons).toEqual(["length"]);
    expect(answerLimitOf({ max_completion_tokens: 7, max_tokens: 3 }, "openai")).toBe(7);
    expect(answerLimitOf({ max_tokens: 0 }, "openai")).toBeUndefined();
    expect(answerLimitOf({ options: { num_predict: 2.5 } }, "ollama")).toBeUndefined();
  });

  it("counts text and reasoning chunks, not the done line", () => {
    const chunks = [{ thinking: "a" }, { content: "b" }, { toolCalls: [] }, { content: "c" }, { done: true }];
    expect([...limitedTo(chunks, 2)]).toEqual([{ thinking: "a" }, { content: "b" }, { toolCalls: [] }, { done: true, doneReason: "length" }]);
    expect([...limitedTo(chunks, 3)]).toEqual(chunks);
  });
});
