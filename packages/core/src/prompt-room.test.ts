/** promptRoom over real HTTP against the simulator: the run loop's limit, reserve, calibration and tools. */
import { capabilityModels, defaultModels, startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerReserve } from "./context-window.js";
import { createOllamaModel } from "./providers/ollama.js";
import { createOpenAIModel } from "./providers/openai.js";
import { promptRoom } from "./prompt-room.js";
import { runChat } from "./run.js";
import { collect } from "./test-support/recorder.js";
import { estimateMessageTokens, estimateToolTokens } from "./tokens.js";
import { calculatorTool, currentTimeTool } from "./tools/builtin.js";
import { toolSpec } from "./tools.js";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0, models: [...defaultModels, ...capabilityModels] });
});
afterAll(() => sim.close());

const system = "You are helpful.\n\nThe user's custom instructions: answer in French, briefly.";
const tools = [calculatorTool, currentTimeTool];
const signal = new AbortController().signal;

describe("promptRoom", () => {
  it("leaves the newest message the window less the answer's reserve, the system message and the tools' schemas", async () => {
    const model = createOllamaModel({ baseUrl: sim.url });
    const room = await promptRoom({ model, modelName: "qwen3", system, tools, maxContextTokens: 8192, signal });
    const fixed = estimateMessageTokens({ role: "system", content: system }) + estimateToolTokens(tools.map((t) => toolSpec(t)));
    expect(room).toEqual({ limit: 8192, reserve: answerReserve(8192), fixedTokens: fixed, room: 8192 - answerReserve(8192) - fixed });
    expect(fixed).toBeGreaterThan(100);
    // The model's own window when it is smaller than the cap.
    expect((await promptRoom({ model, modelName: "qwen3", system: "", tools: [], maxContextTokens: 65_536, signal })).limit).toBe(40_960);
  });

  it("counts no tools for a model that cannot use them, as a run sends none", async () => {
    const model = createOllamaModel({ baseUrl: sim.url });
    const room = await promptRoom({ model, modelName: "gemma2", system, tools, maxContextTokens: 32_768, signal });
    expect(room.fixedTokens).toBe(estimateMessageTokens({ role: "system", content: system }));
    expect(room.limit).toBe(8192);
  });

  it("counts with the model's calibration once a run has learnt it", async () => {
    const model = createOllamaModel({ baseUrl: sim.url });
    const before = await promptRoom({ model, modelName: "llama3.2", system, tools, maxContextTokens: 8192, signal });
    // The simulator counts a prompt's tokens its own way: a finished answer teaches the ratio of its count to the estimate.
    await collect(runChat({ model, modelName: "llama3.2", conversationId: "c", runId: "r1", messages: [{ role: "system", content: system }, { role: "user", content: "hello ".repeat(600) }] }));
    const after = await promptRoom({ model, modelName: "llama3.2", system, tools, maxContextTokens: 8192, signal });
    expect(after.fixedTokens).not.toBe(before.fixedTokens);
    expect(after.room).toBe(8192 - answerReserve(8192) - after.fixedTokens);
  });

  it("has no room to tell when the model does not say its window (an OpenAI-compatible server)", async () => {
    const model = createOpenAIModel({ baseUrl: `${sim.url}/v1` });
    expect(await promptRoom({ model, modelName: "qwen3", system, tools, maxContextTokens: 8192, signal })).toMatchObject({ limit: undefined, room: undefined, reserve: 0 });
  });
});
