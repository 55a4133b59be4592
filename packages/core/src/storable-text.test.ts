import { describe, expect, it } from "vitest";
import { isStorableText, toStorableText } from "./storable-text.js";

describe("storable text", () => {
  it("refuses NUL and unpaired surrogates, keeps pairs", () => {
    expect(isStorableText("plain ✓ 😀")).toBe(true);
    expect(isStorableText("a\0b")).toBe(false);
    expect(isStorableText("lone high \uD83D end")).toBe(false);
    expect(isStorableText("lone low \uDE00")).toBe(false);
    expect(isStorableText("\uD83D")).toBe(false);
  });

  it("replaces every unstorable character with U+FFFD and nothing else", () => {
    expect(toStorableText("a\0b\0c")).toBe("a\uFFFDb\uFFFDc");
    expect(toStorableText("x\uDE00y\uD83D")).toBe("x\uFFFDy\uFFFD");
    expect(toStorableText("😀 stays")).toBe("😀 stays");
    // The global copy of the pattern keeps no state between calls.
    expect(isStorableText("a\0")).toBe(false);
    expect(isStorableText("a\0")).toBe(false);
  });
});
