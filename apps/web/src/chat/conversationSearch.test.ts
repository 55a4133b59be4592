import { describe, expect, it } from "vitest";
import { newestHits, searchResults, type ConversationSummary, type SearchHit } from "./conversationSearch.js";

describe("searchResults", () => {
  const conversation = (id: string, title: string): ConversationSummary => ({ id, title, createdAt: 0, updatedAt: 0, pinnedAt: null, archivedAt: null, activeRunId: null });
  const list = [conversation("a", "Trip to Kyoto"), conversation("b", "Groceries"), conversation("c", "")];
  const hit = (conversationId: string): SearchHit => ({ conversationId, title: "", messageId: 1, role: "user", snippet: "…", createdAt: 0, archivedAt: null });

  it("shows title matches and conversations the server found the text in, in the list's order", () => {
    expect(searchResults(list, "kyoto", []).map((c) => c.id)).toEqual(["a"]);
    expect(searchResults(list, "kyoto", [hit("c"), hit("b")]).map((c) => c.id)).toEqual(["a", "b", "c"]);
    expect(searchResults(list, "untitled", []).map((c) => c.id)).toEqual(["c"]);
  });

  it("shows a conversation the sidebar has not loaded (an older page) after the listed ones, newest hit first, once", () => {
    const at = (conversationId: string, title: string, createdAt: number): SearchHit => ({ ...hit(conversationId), title, createdAt });
    const results = searchResults(list, "zzz", [at("old-1", "Old one", 500), at("b", "Groceries", 900), at("old-2", "Older", 100), at("old-1", "Old one", 300)]);
    expect(results.map((c) => c.id)).toEqual(["b", "old-1", "old-2"]);
    expect(results[1]).toEqual({ id: "old-1", title: "Old one", createdAt: 500, updatedAt: 500, pinnedAt: null, archivedAt: null, activeRunId: null });
  });

  it("shows archived chats whose title the server matched after the other title matches, before message-only hits, each once", () => {
    const archived = { ...conversation("gone-kyoto", "Kyoto, old plan"), archivedAt: 5 };
    const results = searchResults(list, "kyoto", [{ ...hit("old-msg"), createdAt: 900 }, { ...hit("gone-kyoto"), archivedAt: 5 }], [], [archived]);
    expect(results.map((c) => [c.id, c.archivedAt])).toEqual([
      ["a", null],
      ["gone-kyoto", 5],
      ["old-msg", null],
    ]);
  });

  it("says which chats found by their messages are archived, as their hits say", () => {
    const results = searchResults(list, "zzz", [{ ...hit("kept"), createdAt: 20, archivedAt: 7 }, { ...hit("live"), createdAt: 10 }]);
    expect(results.map((c) => [c.id, c.archivedAt])).toEqual([
      ["kept", 7],
      ["live", null],
    ]);
  });

  it("shows titles the server matched beyond the loaded pages after the listed ones, as the server sent them, before message-only hits", () => {
    const older = { ...conversation("old-kyoto", "Kyoto temples"), updatedAt: 50, activeRunId: "run-1" };
    const results = searchResults(list, "kyoto", [{ ...hit("old-msg"), title: "Notes", createdAt: 900 }, hit("old-kyoto")], [conversation("a", "Trip to Kyoto"), older]);
    expect(results.map((c) => c.id)).toEqual(["a", "old-kyoto", "old-msg"]);
    // The server's summary, not one made up from a hit: its activity and its running answer are right.
    expect(results[1]).toEqual(older);
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
    archivedAt: null,
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
