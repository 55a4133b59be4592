import { describe, expect, it } from "vitest";
import { thinkToSend } from "./capabilities.js";
import { takesThinkLevels } from "./think.js";

describe("takesThinkLevels (Ollama's gpt-oss rule)", () => {
  it("is the gptoss family or architecture with the harmony template", () => {
    const harmony = "<|start|>system<|message|>…<|end|>";
    expect(takesThinkLevels({ family: "gptoss", template: harmony })).toBe(true);
    expect(takesThinkLevels({ architecture: "gpt-oss", template: harmony })).toBe(true);
    expect(takesThinkLevels({ family: "gptoss" })).toBe(true); // no template in the answer: the family decides
    expect(takesThinkLevels({ family: "gptoss", template: "{{ .Prompt }}" })).toBe(false); // a re-templated fine-tune
    expect(takesThinkLevels({ family: "qwen3", template: harmony })).toBe(false);
  });
});

describe("thinkToSend", () => {
  const caps = (thinking: boolean | undefined, thinkLevels?: boolean) => ({ tools: undefined, thinking, thinkLevels });

  it("passes levels to models that take them and to models nobody knows about", () => {
    expect(thinkToSend("high", caps(true, true), "m")).toBe("high");
    expect(thinkToSend("low", caps(undefined), "m")).toBe("low");
    expect(thinkToSend(undefined, caps(true, true), "m")).toBeUndefined();
  });

  it("sends a level as true to a model with on/off thinking", () => {
    expect(thinkToSend("medium", caps(true, false), "m")).toBe(true);
    expect(thinkToSend(false, caps(true, false), "m")).toBe(false);
  });

  it("refuses thinking (true or any level) for a model known to lack it, and leaves false out", () => {
    expect(() => thinkToSend("low", caps(false), "m")).toThrow(expect.objectContaining({ code: "model_unsupported", message: '"m" does not support thinking.' }));
    expect(() => thinkToSend(true, caps(false), "m")).toThrow(/does not support thinking/);
    expect(thinkToSend(false, caps(false), "m")).toBeUndefined();
  });
});
