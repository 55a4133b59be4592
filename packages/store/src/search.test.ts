import { describe, expect, it } from "vitest";
import { containsPattern, escapeLike, snippet } from "./search.js";

describe("escapeLike / containsPattern", () => {
  it("escapes LIKE wildcards and the escape character", () => {
    expect(escapeLike("100%_a\\b")).toBe("100\\%\\_a\\\\b");
    expect(containsPattern("Ab%")).toBe("%ab\\%%");
  });
});

describe("snippet", () => {
  it("returns short text whole, on one line", () => {
    expect(snippet("What time\n\n is it?", "time")).toBe("What time is it?");
  });

  it("cuts long text around the first match with ellipses", () => {
    const text = `${"a".repeat(100)} NEEDLE ${"b".repeat(200)}`;
    const result = snippet(text, "needle");
    expect(result.startsWith("…")).toBe(true);
    expect(result.endsWith("…")).toBe(true);
    expect(result).toContain("NEEDLE");
    expect(result.length).toBeLessThan(140);
  });

  it("never splits a surrogate pair", () => {
    const text = `${"😀".repeat(60)}x${"😀".repeat(60)}`;
    const result = snippet(text, "x");
    expect(result.replace(/…/g, "")).toMatch(/^(😀)*x(😀)*$/u);
  });
});
