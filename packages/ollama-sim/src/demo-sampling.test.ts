import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { promptSeed } from "./demo-answers.js";
import { choiceSeed, choosesAnew, requestSampling } from "./demo-sampling.js";
import { startSimulator } from "./server.js";
import { chatLines, contentOf, rawRequest, sseData, user } from "./test-support/http.js";
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
  const never = () => {
    throw new Error("not a random choice");
  };

  it("is the prompt's own without sampling, at temperature 0 (greedy, whatever the seed)", () => {
    expect(choiceSeed(text, {}, never)).toBe(promptSeed(text));
    expect(choiceSeed(text, { temperature: 0 }, never)).toBe(promptSeed(text));
    expect(choiceSeed(text, { temperature: 0, seed: 7 }, never)).toBe(promptSeed(text));
  });

  it("follows the seed: the same seed the same choice, another seed another number", () => {
    expect(choiceSeed(text, { seed: 7 }, never)).toBe(choiceSeed(text, { seed: 7, temperature: 1.2 }, never));
    expect(choiceSeed(text, { seed: 7 }, never)).not.toBe(choiceSeed(text, { seed: 8 }, never));
    expect(choiceSeed(text, { seed: 7 }, never)).not.toBe(promptSeed(text));
  });

  it("draws anew above temperature 0 without a seed", () => {
    expect(choosesAnew({ temperature: 0.7 })).toBe(true);
    expect(choosesAnew({ temperature: 0.7, seed: 1 })).toBe(false);
    expect(choosesAnew({})).toBe(false);
    expect(choiceSeed(text, { temperature: 0.7 }, () => 0.5)).toBe(0x8000_0000);
  });
});

describe("the demo model's answers under sampling, over HTTP", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ tokenDelayMs: 0 });
  });
  afterAll(async () => {
    await sim.close();
  });

  const joke = user("Tell me a joke");
  const answer = async (options?: Record<string, unknown>) =>
    contentOf(await chatLines(sim.url, { model: "demo", messages: joke, ...(options ? { options } : {}) }));
  const openaiAnswer = async (fields: Record<string, unknown>) => {
    const res = await rawRequest(sim.url, "/v1/chat/completions", { model: "demo", stream: true, messages: joke, ...fields });
    return sseData(res.text)
      .map((d) => (d === "[DONE]" ? "" : ((d["choices"] as Array<{ delta?: { content?: string } }>)[0]?.delta?.content ?? "")))
      .join("");
  };

  it("answers a prompt the same way without sampling and at temperature 0", async () => {
    const fixed = await answer();
    expect(await answer()).toBe(fixed);
    expect(await answer({ temperature: 0 })).toBe(fixed);
    expect(await answer({ temperature: 0, seed: 3 })).toBe(fixed);
  });

  it("gives a seed's answer again for that seed, and other answers for other seeds", async () => {
    const bySeed = await Promise.all(Array.from({ length: 12 }, (_, seed) => answer({ seed, temperature: 0.8 })));
    expect(await answer({ seed: 5, temperature: 0.8 })).toBe(bySeed[5]);
    expect(new Set(bySeed).size).toBeGreaterThan(1);
  });

  it("varies between requests above temperature 0 without a seed, as a regenerated answer does", async () => {
    // Five jokes: 24 draws all alike would happen once in 5^23 runs.
    const drawn = await Promise.all(Array.from({ length: 24 }, () => answer({ temperature: 0.8 })));
    expect(new Set(drawn).size).toBeGreaterThan(1);
  });

  it("reads an OpenAI-compatible request's temperature and seed as Ollama's /v1 does", async () => {
    expect(await openaiAnswer({ seed: 5, temperature: 0.8 })).toBe(await answer({ seed: 5, temperature: 0.8 }));
    expect(await openaiAnswer({ temperature: 0 })).toBe(await answer());
    const drawn = await Promise.all(Array.from({ length: 24 }, () => openaiAnswer({ temperature: 1 })));
    expect(new Set(drawn).size).toBeGreaterThan(1);
  });

  it("writes on from its own words when it samples anew: the rest of the answer they began", async () => {
    const drawn = [...new Set(await Promise.all(Array.from({ length: 24 }, () => answer({ temperature: 0.8 }))))];
    for (const full of drawn) {
      const cut = full.slice(0, 30);
      const rest = contentOf(
        await chatLines(sim.url, { model: "demo", messages: [...joke, { role: "assistant", content: cut }], options: { temperature: 0.8 } }),
      );
      expect(cut + rest).toBe(full);
    }
  });
});
