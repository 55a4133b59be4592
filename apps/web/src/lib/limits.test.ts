import { describe, expect, it } from "vitest";
import { checkLength, maxMessageChars, tooLongMessage } from "./limits.js";

describe("checkLength", () => {
  it("uses the server's default limit and counts the trimmed text", () => {
    expect(maxMessageChars).toBe(32_000);
    expect(checkLength(`  ${"a".repeat(32_000)}\n`)).toEqual({ count: 32_000, limit: 32_000, near: true, over: false });
    expect(checkLength("a".repeat(32_001)).over).toBe(true);
  });

  it("shows the counter only near the limit", () => {
    expect(checkLength("a".repeat(25_599)).near).toBe(false);
    expect(checkLength("a".repeat(25_600)).near).toBe(true);
    expect(checkLength("abc", 10)).toEqual({ count: 3, limit: 10, near: false, over: false });
  });

  it("says how long the message is and what the limit is", () => {
    expect(tooLongMessage({ count: 33_000, limit: 32_000 })).toBe(
      "This message is too long: 33,000 characters, at most 32,000. Shorten it to send.",
    );
  });
});
