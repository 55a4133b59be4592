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

  it("shows the match when folding lengthens the text before it (Turkish capital İ)", () => {
    // "İ".toLowerCase() is two code units: an index in the folded text is past the match in the original.
    const text = `${"İSTANBUL İZMİR ".repeat(30)}needle ${"b".repeat(200)}`;
    expect(snippet(text, "NEEDLE")).toContain("needle");
    expect(snippet(`${"İ".repeat(200)}x${"b".repeat(200)}`, "i̇x")).toContain("İx");
  });

  it("shows a match that spans a line break or a run of spaces", () => {
    const text = `${"a".repeat(200)} first line\n\nsecond line ${"b".repeat(200)}`;
    expect(snippet(text, "line\n\nsecond")).toContain("first line second line");
    expect(snippet(text, "line  second")).toContain("first line second line");
  });

  it("never cuts an emoji sequence, a flag or an accented letter in half", () => {
    const family = "👨‍👩‍👧";
    const cut = (result: string) => result.replace(/^…|…$/g, "");
    for (const unit of [family, "🇯🇵", "e\u0301"]) {
      // Padding beside the match moves both cuts through every offset of a cluster.
      for (let pad = 0; pad < 10; pad++) {
        const text = `${unit.repeat(40)}${"z".repeat(pad)}needle${"z".repeat(pad)}${unit.repeat(60)}`;
        const [before = "", after = ""] = cut(snippet(text, "needle")).split("needle");
        expect(before.replace(/z*$/, "").split(unit).every((part) => part === "")).toBe(true);
        expect(after.replace(/^z*/, "").split(unit).every((part) => part === "")).toBe(true);
      }
    }
  });

  it("stays short beside a character of thousands of combining marks, cutting between code points", () => {
    const zalgo = `a${"\u0301".repeat(5_000)}`;
    const result = snippet(`${zalgo}${"z".repeat(50)}needle${"z".repeat(100)}${zalgo}`, "needle");
    expect(result.length).toBeLessThan(140);
    expect(snippet(`${"😀".repeat(60)}x${"😀".repeat(60)}`, "x").replace(/…/g, "")).toMatch(/^(😀)*x(😀)*$/u);
  });
});
