import { describe, expect, it } from "vitest";
import { matchRanges, newestHits, searchResults, titleMatches, type ConversationSummary, type SearchHit } from "./conversationSearch.js";

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

describe("searchResults", () => {
  const conversation = (id: string, title: string): ConversationSummary => ({ id, title, createdAt: 0, updatedAt: 0, pinnedAt: null, activeRunId: null });
  const list = [conversation("a", "Trip to Kyoto"), conversation("b", "Groceries"), conversation("c", "")];
  const hit = (conversationId: string): SearchHit => ({ conversationId, title: "", messageId: 1, role: "user", snippet: "…", createdAt: 0 });

  it("shows title matches and conversations the server found the text in, in the list's order", () => {
    expect(searchResults(list, "kyoto", []).map((c) => c.id)).toEqual(["a"]);
    expect(searchResults(list, "kyoto", [hit("c"), hit("b")]).map((c) => c.id)).toEqual(["a", "b", "c"]);
    expect(searchResults(list, "untitled", []).map((c) => c.id)).toEqual(["c"]);
  });

  it("shows a conversation the sidebar has not loaded (an older page) after the listed ones, newest hit first, once", () => {
    const at = (conversationId: string, title: string, createdAt: number): SearchHit => ({ ...hit(conversationId), title, createdAt });
    const results = searchResults(list, "zzz", [at("old-1", "Old one", 500), at("b", "Groceries", 900), at("old-2", "Older", 100), at("old-1", "Old one", 300)]);
    expect(results.map((c) => c.id)).toEqual(["b", "old-1", "old-2"]);
    expect(results[1]).toEqual({ id: "old-1", title: "Old one", createdAt: 500, updatedAt: 500, pinnedAt: null, activeRunId: null });
  });
});

describe("newestHits", () => {
  const hit = (conversationId: string, messageId: number, createdAt: number): SearchHit => ({
    conversationId,
    title: "",
    messageId,
    role: "user",
    snippet: "…",
    createdAt,
  });

  it("keeps each conversation's newest hit, whatever the order, the first of equally new ones", () => {
    const hits = [hit("a", 1, 10), hit("b", 7, 5), hit("a", 3, 30), hit("a", 2, 20), hit("b", 8, 5)];
    expect([...newestHits(hits)]).toEqual([
      ["a", 3],
      ["b", 7],
    ]);
    expect(newestHits([]).size).toBe(0);
  });
});
