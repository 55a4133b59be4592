import { describe, expect, it } from "vitest";
import { newestHits, searchResults, titleMatches, type ConversationSummary, type SearchHit } from "./conversationSearch.js";

describe("titleMatches", () => {
  it("finds every word of the query in any order, ignoring case and accents", () => {
    expect(titleMatches("What time is it in Tokyo?", "tokyo time")).toBe(true);
    expect(titleMatches("Café opening hours", "cafe")).toBe(true);
    expect(titleMatches("What time is it in Tokyo?", "tokyo weather")).toBe(false);
    expect(titleMatches("Anything", "   ")).toBe(true);
  });
});

describe("searchResults", () => {
  const conversation = (id: string, title: string): ConversationSummary => ({ id, title, createdAt: 0, updatedAt: 0, activeRunId: null });
  const list = [conversation("a", "Trip to Kyoto"), conversation("b", "Groceries"), conversation("c", "")];
  const hit = (conversationId: string): SearchHit => ({ conversationId, title: "", messageId: 1, role: "user", snippet: "…", createdAt: 0 });

  it("shows title matches and conversations the server found the text in, in the list's order", () => {
    expect(searchResults(list, "kyoto", []).map((c) => c.id)).toEqual(["a"]);
    expect(searchResults(list, "kyoto", [hit("c"), hit("b")]).map((c) => c.id)).toEqual(["a", "b", "c"]);
    // A hit in a conversation this page does not list (yet) shows nothing.
    expect(searchResults(list, "zzz", [hit("gone")])).toEqual([]);
    expect(searchResults(list, "untitled", []).map((c) => c.id)).toEqual(["c"]);
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
