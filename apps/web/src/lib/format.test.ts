import { describe, expect, it } from "vitest";
import { formatMs, formatRate, formatValue, relativeTime } from "./format.js";

describe("format helpers", () => {
  it("formats durations by magnitude", () => {
    expect(formatMs(12.4)).toBe("12 ms");
    expect(formatMs(0.3)).toBe("<1 ms");
    expect(formatMs(1234)).toBe("1.2 s");
    expect(formatMs(42_000)).toBe("42 s");
    expect(formatMs(125_000)).toBe("2 min 5 s");
  });

  it("formats token rates", () => {
    expect(formatRate(4.26)).toBe("4.3 tok/s");
    expect(formatRate(87.6)).toBe("88 tok/s");
  });

  it("shows strings as-is and other values as JSON", () => {
    expect(formatValue("21:05")).toBe("21:05");
    expect(formatValue({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(formatValue(undefined)).toBe("");
  });

  it("gives relative times", () => {
    expect(relativeTime(0, 30_000)).toBe("just now");
    expect(relativeTime(0, 5 * 60_000)).toBe("5 min ago");
    expect(relativeTime(0, 3 * 3_600_000)).toBe("3 h ago");
  });
});
