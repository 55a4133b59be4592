import { describe, expect, it } from "vitest";
import { conversationModelOf, effectiveModel } from "./conversation-model.js";

describe("conversationModelOf", () => {
  const runs = [
    { id: "r1", model: "llama3.2" },
    { id: "r2", model: "qwen3" },
    { id: "r3", model: "gemma3" },
  ];

  it("is the model of the newest message on the path a run wrote, not of a newer run on another branch", () => {
    // r3 regenerated an answer on a branch the path does not show: the reader sees r2's answer.
    const messages = [{ runId: "r1" }, { runId: "r1" }, { runId: "r2" }, { runId: "r2" }];
    expect(conversationModelOf({ messages, runs })).toBe("qwen3");
  });

  it("falls back to the newest run, and to none for a conversation no run answered", () => {
    expect(conversationModelOf({ messages: [{ runId: null }], runs })).toBe("gemma3");
    expect(conversationModelOf({ messages: [], runs: [] })).toBeNull();
    expect(conversationModelOf(undefined)).toBeNull();
  });
});

describe("effectiveModel", () => {
  const listed = (name: string) => ["demo", "qwen3", "llava"].includes(name);

  it("prefers a model picked in this conversation, then the one that answered it, then the last one picked anywhere", () => {
    expect(effectiveModel({ picked: "llava", conversation: "qwen3", global: "demo", listed })).toBe("llava");
    expect(effectiveModel({ picked: null, conversation: "qwen3", global: "demo", listed })).toBe("qwen3");
    expect(effectiveModel({ picked: null, conversation: null, global: "demo", listed })).toBe("demo");
  });

  it("skips a model the server no longer lists, down to none (the server's default)", () => {
    expect(effectiveModel({ picked: null, conversation: "removed-model", global: "demo", listed })).toBe("demo");
    expect(effectiveModel({ picked: "gone", conversation: "also-gone", global: "stale", listed })).toBeNull();
  });
});
