/**
 * The simulator's model capabilities over real HTTP: vision models that answer about the image they get,
 * a gpt-oss model with think levels, context lengths and num_ctx truncation, /api/ps and cold starts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capabilityModels, defaultModels } from "./models.js";
import { startSimulator } from "./server.js";
import { chatLines, contentOf, postJson, rawRequest, sseData, thinkingOf, user, type Line } from "./test-support/http.js";
import { solidPng } from "./test-images.js";
import type { Simulator } from "./types.js";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0 });
});
afterAll(() => sim.close());

const red = solidPng(4, 3, [255, 0, 0]).toString("base64");
const doneLine = (lines: Line[]) => lines.find((l) => l.done) as Record<string, unknown> | undefined;

describe("/api/tags", () => {
  it("lists the capability models when the model list includes them (the CLI does), and resolves them anyway", async () => {
    const names = async (target: Simulator) => (JSON.parse((await rawRequest(target.url, "/api/tags")).text) as { models: Array<{ name: string }> }).models.map((m) => m.name);
    expect(await names(sim)).not.toContain("gpt-oss");
    const listing = await startSimulator({ tokenDelayMs: 0, models: [...defaultModels, ...capabilityModels] });
    try {
      expect(await names(listing)).toEqual(expect.arrayContaining(["demo", "demo-vision", "llava", "gpt-oss", "gemma2"]));
    } finally {
      await listing.close();
    }
  });
});

describe("/api/show: context lengths, vision, think levels", () => {
  it("reports model_info[<architecture>.context_length] per model", async () => {
    const lengths: Record<string, number> = {};
    for (const model of ["demo", "qwen3", "gemma2", "llava", "gpt-oss"]) {
      const show = (await postJson(sim.url, "/api/show", { model })).json as { model_info: Record<string, unknown> };
      const arch = show.model_info["general.architecture"] as string;
      lengths[model] = show.model_info[`${arch}.context_length`] as number;
    }
    expect(lengths).toEqual({ demo: 131_072, qwen3: 40_960, gemma2: 8192, llava: 4096, "gpt-oss": 131_072 });
  });

  it("lists vision for the vision models and shows gpt-oss as family gptoss with the harmony template", async () => {
    for (const model of ["demo-vision", "llava"]) {
      expect(((await postJson(sim.url, "/api/show", { model })).json as { capabilities: string[] }).capabilities).toContain("vision");
    }
    const oss = (await postJson(sim.url, "/api/show", { model: "gpt-oss" })).json as { details: { family: string }; template: string; capabilities: string[] };
    expect(oss.details.family).toBe("gptoss");
    expect(oss.template).toContain("<|start|>");
    expect(oss.template).toContain("<|end|>");
    expect(oss.capabilities).toContain("thinking");
  });

  it("shows each family's Modelfile parameters as the real models set them, padded as Ollama pads them", async () => {
    const parameters = async (model: string) => ((await postJson(sim.url, "/api/show", { model })).json as { parameters: string }).parameters;
    expect((await parameters("qwen3")).split("\n")).toEqual([
      'stop                           "<|im_end|>"',
      "temperature                    0.6",
      "top_k                          20",
      "top_p                          0.95",
    ]);
    expect(await parameters("gpt-oss")).toBe("temperature                    1");
    expect(await parameters("demo")).toContain("temperature                    0.7");
  });
});

describe("vision demo", () => {
  it("answers with the PNG's size and dominant colour (Ollama images)", async () => {
    const lines = await chatLines(sim.url, { model: "demo-vision", messages: [{ role: "user", content: "What is this?", images: [red] }] });
    const text = contentOf(lines);
    expect(text).toContain("**4×3** pixels");
    expect(text).toContain("**red** (#ff0000)");
  });

  it("answers about image_url data-URL parts on /v1 and numbers several images", async () => {
    const blue = solidPng(2, 2, [0, 0, 255]).toString("base64");
    const res = await rawRequest(sim.url, "/v1/chat/completions", {
      model: "llava",
      stream: true,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Compare these" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${red}` } },
            { type: "image_url", image_url: { url: `data:image/png;base64,${blue}` } },
          ],
        },
      ],
    });
    const text = sseData(res.text)
      .flatMap((e) => (e === "[DONE]" ? [] : [((e["choices"] as Array<{ delta?: { content?: string } }>)[0]?.delta?.content ?? "")]))
      .join("");
    expect(text).toContain("I see 2 images");
    expect(text).toContain("1. A PNG image of **4×3** pixels");
    expect(text).toContain("2. A PNG image of **2×2** pixels. Its dominant colour is **blue**");
  });

  it("a model without vision fails like Ollama's runner; bytes that are no image get an honest answer", async () => {
    const res = await postJson(sim.url, "/api/chat", { model: "llama3.2", messages: [{ role: "user", content: "hi", images: [red] }] });
    expect(res).toMatchObject({ status: 500, json: { error: "this model is missing data required for image input" } });
    const lines = await chatLines(sim.url, { model: "demo-vision", messages: [{ role: "user", content: "?", images: [Buffer.from("hello").toString("base64")] }] });
    expect(contentOf(lines)).toContain("not a PNG, JPEG, GIF or WebP image I can read");
  });
});

describe("think levels (gpt-oss)", () => {
  it("reasons longer at higher levels, at medium without a level, and takes reasoning_effort on /v1", async () => {
    const reasoningOf = async (think: unknown) => thinkingOf(await chatLines(sim.url, { model: "gpt-oss", think, messages: user("Explain recursion") }));
    const low = await reasoningOf("low");
    const medium = await reasoningOf("medium");
    const high = await reasoningOf("high");
    expect(low.length).toBeGreaterThan(0);
    expect(medium.length).toBeGreaterThan(low.length);
    expect(high.length).toBeGreaterThan(medium.length);
    expect(await reasoningOf(true)).toBe(medium);
    const res = await rawRequest(sim.url, "/v1/chat/completions", { model: "gpt-oss", stream: true, reasoning_effort: "high", messages: user("Explain recursion") });
    const reasoning = sseData(res.text)
      .flatMap((e) => (e === "[DONE]" ? [] : [((e["choices"] as Array<{ delta?: { reasoning?: string } }>)[0]?.delta?.reasoning ?? "")]))
      .join("");
    expect(reasoning).toBe(high);
  });

  it("models with on/off thinking reason the same at any level", async () => {
    const of = async (think: unknown) => thinkingOf(await chatLines(sim.url, { model: "qwen3", think, messages: user("Explain recursion") }));
    expect(await of("high")).toBe(await of(true));
  });
});

describe("num_ctx and prompt truncation", () => {
  const history = (turns: number) =>
    Array.from({ length: turns }, (_, i) => [
      { role: "user", content: `question ${i} ${"lorem ipsum ".repeat(100)}` },
      { role: "assistant", content: `answer ${i} ${"dolor sit amet ".repeat(80)}` },
    ]).flat();

  it("cuts a prompt longer than the default 4096-token window like Ollama: oldest messages first, system kept", async () => {
    const messages = [{ role: "system", content: "be brief" }, ...history(20), { role: "user", content: "hello" }];
    const lines = await chatLines(sim.url, { model: "qwen3", messages });
    const record = sim.chatRequests().at(-1)!;
    expect(record.prompt).toMatchObject({ numCtx: 4096, truncated: true });
    expect(record.prompt!.droppedMessages).toBeGreaterThan(0);
    expect(doneLine(lines)?.["prompt_eval_count"]).toBe(record.prompt!.tokens);
    expect(record.prompt!.tokens).toBeLessThanOrEqual(4096);
  });

  it("evaluates the whole prompt when num_ctx is large enough, capped at the model's context length", async () => {
    const messages = [...history(20), { role: "user", content: "hello" }];
    const lines = await chatLines(sim.url, { model: "qwen3", messages, options: { num_ctx: 32_768 } });
    const record = sim.chatRequests().at(-1)!;
    expect(record.prompt).toMatchObject({ numCtx: 32_768, truncated: false, droppedMessages: 0 });
    expect(doneLine(lines)?.["prompt_eval_count"]).toBeGreaterThan(4096);
    await chatLines(sim.url, { model: "gemma2", messages: user("hi"), options: { num_ctx: 65_536 } });
    expect(sim.chatRequests().at(-1)?.prompt?.numCtx).toBe(8192);
  });
});

describe("loading: /api/ps and cold starts (loadDelayMs)", () => {
  it("a cold model waits loadDelayMs, reports it as load_duration, then stays loaded for keep_alive", async () => {
    const cold = await startSimulator({ tokenDelayMs: 0, loadDelayMs: 150 });
    try {
      const ps = async () => (JSON.parse((await rawRequest(cold.url, "/api/ps")).text) as { models: Array<{ name: string; context_length: number }> }).models;
      expect(await ps()).toEqual([]);
      const first = doneLine(await chatLines(cold.url, { model: "gemma3", messages: user("hi") }));
      expect(cold.chatRequests().at(-1)?.coldStart).toBe(true);
      expect(first?.["load_duration"]).toBe(150_000_000);
      expect((await ps()).map((m) => [m.name, m.context_length])).toEqual([["gemma3", 4096]]);

      const warm = doneLine(await chatLines(cold.url, { model: "gemma3", messages: user("hi") }));
      expect(cold.chatRequests().at(-1)?.coldStart).toBeUndefined();
      expect(warm?.["load_duration"]).toBeLessThan(150_000_000);

      // Another window means a reload, as in Ollama.
      await chatLines(cold.url, { model: "gemma3", messages: user("hi"), options: { num_ctx: 8192 } });
      expect(cold.chatRequests().at(-1)?.coldStart).toBe(true);

      cold.unload("gemma3");
      expect(await ps()).toEqual([]);
      await chatLines(cold.url, { model: "gemma3", messages: user("hi"), keep_alive: 0 });
      expect(cold.chatRequests().at(-1)?.coldStart).toBe(true);
      await cold.chatRequests().at(-1)?.finished;
      expect(await ps()).toEqual([]); // keep_alive 0: unloaded as soon as the answer ended
    } finally {
      await cold.close();
    }
  });

  it("keep_alive durations and seconds set when the model unloads", async () => {
    const { keepAliveMs } = await import("./server.js");
    expect(keepAliveMs("5m")).toBe(300_000);
    expect(keepAliveMs("1h30m")).toBe(5_400_000);
    expect(keepAliveMs(30)).toBe(30_000);
    expect(keepAliveMs("30")).toBe(30_000);
    expect(keepAliveMs(-1)).toBe(Infinity);
    expect(keepAliveMs("-1m")).toBe(Infinity);
    expect(keepAliveMs(undefined)).toBe(300_000);
    expect(keepAliveMs("soon")).toBe(300_000);
  });
});
