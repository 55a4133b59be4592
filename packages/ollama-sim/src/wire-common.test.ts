import { describe, expect, it } from "vitest";
import { createdAt, jsonString, newToolCallId } from "./wire-common.js";

describe("wire helpers", () => {
  it("jsonString equals JSON.stringify for plain and special text", () => {
    for (const text of ["tok1 ", "", 'say "hi"', "back\\slash", "line\nbreak", "tab\t", "Grüße 東京 🎉", "\u0000", "\ud800", "~ ! #"]) {
      expect(jsonString(text)).toBe(JSON.stringify(text));
    }
  });

  it("createdAt has Go's nanosecond RFC 3339 form and follows the wall clock", () => {
    const before = Date.now();
    const stamp = createdAt();
    expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(Math.abs(Date.parse(stamp) - before)).toBeLessThan(60_000);
  });

  it("tool-call ids look like Ollama's", () => {
    const ids = new Set(Array.from({ length: 50 }, () => newToolCallId()));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^call_[a-z0-9]{8}$/);
  });
});
