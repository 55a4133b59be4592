import { describe, expect, it } from "vitest";
import { itemKeyOf, onPath } from "./openAt.js";

describe("itemKeyOf", () => {
  const path = [
    { id: 1, role: "system" as const },
    { id: 2, role: "user" as const },
    { id: 3, role: "assistant" as const },
    { id: 4, role: "tool" as const },
    { id: 5, role: "assistant" as const },
    { id: 6, role: "user" as const },
    { id: 7, role: "assistant" as const },
  ];

  it("names the question's item for a question and its turn's answer item for what answered it", () => {
    expect(itemKeyOf(path, 2)).toBe("u2");
    expect(itemKeyOf(path, 3)).toBe("a2");
    expect(itemKeyOf(path, 4)).toBe("a2");
    expect(itemKeyOf(path, 5)).toBe("a2");
    expect(itemKeyOf(path, 6)).toBe("u6");
    expect(itemKeyOf(path, 7)).toBe("a6");
  });

  it("is null for what the chat does not show: another branch's message, a system prompt, an answer without a question", () => {
    expect(itemKeyOf(path, 99)).toBeNull();
    expect(itemKeyOf(path, 1)).toBeNull();
    expect(itemKeyOf([{ id: 1, role: "assistant" }], 1)).toBeNull();
  });
});

describe("onPath", () => {
  it("tells whether the shown path holds the message", () => {
    expect(onPath([{ id: 1 }, { id: 2 }], 2)).toBe(true);
    expect(onPath([{ id: 1 }, { id: 2 }], 3)).toBe(false);
    expect(onPath([], 1)).toBe(false);
  });
});
