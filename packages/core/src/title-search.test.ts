import { describe, expect, it } from "vitest";
import { matchRanges, titleMatcher, titleMatches } from "./title-search.js";

describe("titleMatches", () => {
  it("finds every word of the query in any order, ignoring case and accents", () => {
    expect(titleMatches("What time is it in Tokyo?", "tokyo time")).toBe(true);
    expect(titleMatches("Café opening hours", "cafe")).toBe(true);
    expect(titleMatches("What time is it in Tokyo?", "tokyo weather")).toBe(false);
    expect(titleMatches("Anything", "   ")).toBe(true);
  });
});

describe("matchRanges", () => {
  const marked = (text: string, query: string) => matchRanges(text, query).map((r) => text.slice(r.start, r.end));

  it("finds each word of the query where titleMatches does: any case, any order, every occurrence", () => {
    expect(marked("What time is it in Tokyo?", "tokyo TIME")).toEqual(["time", "Tokyo"]);
    expect(marked("Tea, tea and more TEA", "tea")).toEqual(["Tea", "tea", "TEA"]);
    expect(matchRanges("Anything", "   ")).toEqual([]);
    expect(matchRanges("Groceries", "kyoto")).toEqual([]);
  });

  it("marks accented text found by a plain query, and a plain one found by an accented query", () => {
    expect(marked("Café opening hours", "cafe")).toEqual(["Café"]);
    expect(marked("Cafe opening hours", "café")).toEqual(["Cafe"]);
    // Decomposed: "e" and its combining accent are two code points; the accent stays inside the mark.
    expect(marked("Cafe\u0301 au lait", "cafe")).toEqual(["Cafe\u0301"]);
    // Folding lengthens "İ" ("i" and a combining dot): what follows is still marked where it is.
    expect(marked("İstanbul trip", "trip")).toEqual(["trip"]);
    expect(marked("İstanbul trip", "istanbul")).toEqual(["İstanbul"]);
    // A final sigma is a sigma: the title matches, and shows where.
    expect(titleMatches("ΟΔΟΣ ΣΤΟ ΒΟΥΝΟ", "οδος")).toBe(true);
    expect(marked("ΟΔΟΣ ΣΤΟ ΒΟΥΝΟ", "οδος")).toEqual(["ΟΔΟΣ"]);
  });

  it("merges overlapping and touching words into one mark, in the text's order", () => {
    expect(marked("Sourdough starter", "dough sour")).toEqual(["Sourdough"]);
    expect(matchRanges("banana", "ana")).toEqual([{ start: 1, end: 6 }]);
  });

  it("never splits a surrogate pair", () => {
    expect(marked("🍣 sushi night", "sushi")).toEqual(["sushi"]);
    expect(marked("𝒜lpha", "𝒜")).toEqual(["𝒜"]);
  });
});

describe("titleMatcher", () => {
  it("is titleMatches with the query folded once", () => {
    const matches = titleMatcher("TOKYO café");
    expect(["Cafe in Tokyo", "Tokyo", "CAFÉ TOKYO trip", ""].map(matches)).toEqual([true, false, true, false]);
    expect(titleMatcher(" ")("")).toBe(true);
  });
});
