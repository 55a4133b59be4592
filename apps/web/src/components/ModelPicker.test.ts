import { describe, expect, it } from "vitest";
import { capabilitySupport, capabilityWords, chatModels, modelNote, typeaheadIndex } from "./ModelPicker.js";

describe("capabilitySupport", () => {
  it("says no only when the server listed capabilities without this one", () => {
    expect(capabilitySupport(["completion"], "tools")).toBe("no");
    expect(capabilitySupport(["completion"], "thinking")).toBe("no");
    expect(capabilitySupport(["completion", "tools"], "tools")).toBe("yes");
    expect(capabilitySupport(["completion", "tools", "thinking"], "thinking")).toBe("yes");
  });

  it("is unknown when the server reported nothing (OpenAI-compatible servers, a failed /api/show)", () => {
    expect(capabilitySupport([], "tools")).toBe("unknown");
    expect(capabilitySupport(undefined, "tools")).toBe("unknown");
  });
});

describe("capabilities in words", () => {
  it("describes each model in the list", () => {
    expect(capabilityWords(["completion", "tools", "thinking"])).toBe("Uses tools, can think first");
    expect(capabilityWords(["completion", "tools"])).toBe("Uses tools");
    expect(capabilityWords(["completion"])).toBe("No tools");
    expect(capabilityWords([])).toBe("Capabilities not reported by the server");
  });

  it("explains the chosen model under the composer, and says when tools are off", () => {
    expect(modelNote("gemma3", ["completion"])).toEqual({
      text: "Tools are off for gemma3: it cannot call them, so it answers without the clock, the calculator or the conversation search.",
      toolsOff: true,
    });
    expect(modelNote("demo", ["completion", "tools", "thinking"]).text).toBe(
      "demo can check the clock, calculate and search your conversations, and think before it answers.",
    );
    expect(modelNote("gpt", []).toolsOff).toBe(false);
  });
});

describe("typeaheadIndex", () => {
  const names = ["demo", "llama3.2", "qwen3", "gemma3", "demo-vision", "llava", "gpt-oss", "gemma2"];

  it("goes to the next model starting with the letter, wrapping around", () => {
    expect(typeaheadIndex(names, 0, "q")).toBe(2);
    expect(typeaheadIndex(names, 0, "G")).toBe(3);
    expect(typeaheadIndex(names, 6, "d")).toBe(0);
  });

  it("moves through the models with one letter typed again and again", () => {
    expect(typeaheadIndex(names, 3, "gg")).toBe(6);
    expect(typeaheadIndex(names, 6, "ggg")).toBe(7);
    expect(typeaheadIndex(names, 7, "gggg")).toBe(3);
  });

  it("keeps the active model while a longer prefix still matches it", () => {
    expect(typeaheadIndex(names, 3, "ge")).toBe(3);
    expect(typeaheadIndex(names, 3, "gemma2")).toBe(7);
    expect(typeaheadIndex(names, 0, "demo-")).toBe(4);
    expect(typeaheadIndex(names, 1, "ll")).toBe(5);
  });

  it("finds nothing for a prefix no model has", () => {
    expect(typeaheadIndex(names, 0, "x")).toBe(-1);
    expect(typeaheadIndex([], 0, "d")).toBe(-1);
  });
});

describe("chatModels", () => {
  const list = [
    { name: "llama3.2", capabilities: ["completion", "tools"] },
    { name: "nomic-embed-text", capabilities: ["embedding"] },
    { name: "bge-m3-chat", capabilities: ["completion", "embedding"] },
    { name: "text-embedding-nomic-embed-text-v1.5", capabilities: ["embedding"] },
    { name: "unknown", capabilities: [] },
  ];

  it("leaves out models that only embed (Ollama's and LM Studio's), keeps models that chat or do not say", () => {
    expect(chatModels(list, null).map((m) => m.name)).toEqual(["llama3.2", "bge-m3-chat", "unknown"]);
  });

  it("keeps the one the conversation is on, so the picker shows it", () => {
    expect(chatModels(list, "nomic-embed-text").map((m) => m.name)).toEqual(["llama3.2", "nomic-embed-text", "bge-m3-chat", "unknown"]);
  });
});
