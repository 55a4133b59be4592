import { describe, expect, it } from "vitest";
import { shorten } from "./shorten.js";

describe("shorten", () => {
  it("leaves text that fits, and cuts longer text to max with an ellipsis", () => {
    expect(shorten("abcde", 5)).toBe("abcde");
    expect(shorten("abcdef", 5)).toBe("abcd…");
  });

  it("never cuts an emoji's surrogate pair in half", () => {
    // 😀 is two UTF-16 units; cut after the first, Node would write U+FFFD.
    expect(shorten("abc😀xyz", 5)).toBe("abc…");
    expect(shorten("ab😀xyz", 5)).toBe("ab😀…");
  });
});
