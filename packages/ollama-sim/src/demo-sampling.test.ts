import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { promptSeed } from "./demo-answers.js";
import { choiceSeed, choosesAnew, requestSampling } from "./demo-sampling.js";
import { RequestRepeats } from "./request-repeats.js";
import { startSimulator } from "./server.js";
import { chatLines, contentOf, rawRequest, sseContentOf, user } from "./test-support/http.js";
import type { Simulator } from "./types.js";

describe("requestSampling", () => {
  it("reads the temperature and seed of a request's options, and nothing that is not one", () => {
    expect(requestSampling(undefined)).toEqual({});
    expect(requestSampling({ temperature: 0.8, seed: 42, top_p: 0.9, num_ctx: 8192 })).toEqual({ temperature: 0.8, seed: 42 });
    expect(requestSampling({ temperature: "hot", seed: 1.5 })).toEqual({});
    // llama.cpp's -1 asks for a random seed: none.
    expect(requestSampling({ temperature: 0, seed: -1 })).toEqual({ temperature: 0 });
  });
});

describe("choiceSeed", () => {
  const text = "tell me a joke";

  it("is the prompt's own at temperature 0, whatever the seed and however often asked", () => {
    expect(choiceSeed(text, { temperature: 0 }, 3)).toBe(promptSeed(text));
    expect(choiceSeed(text, { temperature: 0, seed: 7 }, 3)).toBe(promptSeed(text));
  });

  it("follows the seed: the same seed the same choice however often asked, another seed another number", () => {
    expect(choiceSeed(text, { seed: 7 }, 0)).toBe(choiceSeed(text, { seed: 7, temperature: 1.2 }, 5));
    expect(choiceSeed(text, { seed: 7 }, 0)).not.toBe(choiceSeed(text, { seed: 8 }, 0));
    expect(choiceSeed(text, { seed: 7 }, 0)).not.toBe(promptSeed(text));
  });

  it("above temperature 0 (the request's or the model's own), the prompt's own first, then the next on each repeat", () => {
    expect(choosesAnew({})).toBe(true);
    expect(choosesAnew({ temperature: 0.7 })).toBe(true);
    expect(choosesAnew({ temperature: 0.7, seed: 1 })).toBe(false);
    expect(choosesAnew({ temperature: 0 })).toBe(false);
    expect(choiceSeed(text, {}, 0)).toBe(promptSeed(text));
    expect(choiceSeed(text, { temperature: 0.7 }, 2)).toBe(promptSeed(text) + 2);
  });
});

describe("RequestRepeats", () => {
  it("counts the same model and messages, and forgets the least recently asked beyond its capacity", () => {
    const repeats = new RequestRepeats(2);
    const a = { model: "demo", messages: user("a") };
    expect(repeats.next(a)).toBe(0);
    expect(repeats.next({ ...a })).toBe(1);
    expect(repeats.next({ model: "llama3.2", messages: user("a") })).toBe(0);
    expect(repeats.next(a)).toBe(2);
    // a was asked last: b pushes llama3.2's out, not a.
    expect(repeats.next({ model: "demo", messages: user("b") })).toBe(0);
    expect(repeats.next(a)).toBe(3);
    expect(repeats.next({ model: "llama3.2", messages: user("a") })).toBe(0);
  });
});

describe("the demo model's answers under sampling, over HTTP", () => {
  let sim: Simulator;
  // A fresh simulator each: what a request gets depends on what it was asked before.
  beforeEach(async () => {
    sim = await startSimulator({ tokenDelayMs: 0 });
  });
  afterEach(async () => {
    await sim.close();
  });

  const joke = user("Tell me a joke");
  const answer = async (options?: Record<string, unknown>) =>
    contentOf(await chatLines(sim.url, { model: "demo", messages: joke, ...(options ? { options } : {}) }));
  const openaiAnswer = async (fields: Record<string, unknown>) => {
    const res = await rawRequest(sim.url, "/v1/chat/completions", { model: "demo", stream: true, messages: joke, ...fields });
    return sseContentOf(res.text);
  };
  const inTurn = async <T>(n: number, ask: () => Promise<T>) => {
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(await ask());
    return out;
  };

  it("answers the first request as the prompt says, and the same request again differently, in the same order on a fresh simulator", async () => {
    const asked = await inTurn(5, () => answer());
    // Five jokes, picked one after another: each of them once.
    expect(new Set(asked).size).toBe(5);
    await sim.close();
    sim = await startSimulator({ tokenDelayMs: 0 });
    expect(await inTurn(5, () => answer())).toEqual(asked);
  });

  it("answers the same at temperature 0 however often asked, and by the seed with one", async () => {
    const first = await answer();
    expect(await inTurn(3, () => answer({ temperature: 0 }))).toEqual([first, first, first]);
    const bySeed = await Promise.all(Array.from({ length: 12 }, (_, seed) => answer({ seed, temperature: 0.8 })));
    expect(await answer({ seed: 5, temperature: 0.8 })).toBe(bySeed[5]);
    expect(new Set(bySeed).size).toBeGreaterThan(1);
  });

  it("reads an OpenAI-compatible request's temperature and seed as Ollama's /v1 does", async () => {
    expect(await openaiAnswer({ seed: 5, temperature: 0.8 })).toBe(await answer({ seed: 5, temperature: 0.8 }));
    // Temperature 0: the prompt's own choice, which the first request without sampling gets too.
    const greedy = await answer({ temperature: 0 });
    expect(await inTurn(3, () => openaiAnswer({ temperature: 0 }))).toEqual([greedy, greedy, greedy]);
    // Without it, asked again: another.
    const drawn = await inTurn(3, () => openaiAnswer({}));
    expect(new Set(drawn).size).toBe(3);
  });

  it("writes on from its own words: the rest of the answer they began, whichever it was", async () => {
    const drawn = await inTurn(5, () => answer());
    for (const full of drawn) {
      const cut = full.slice(0, 30);
      const rest = contentOf(await chatLines(sim.url, { model: "demo", messages: [...joke, { role: "assistant", content: cut }] }));
      expect(cut + rest).toBe(full);
    }
  });
});
