import { describe, expect, it } from "vitest";
import type { ConversationSummary } from "./conversationSearch.js";
import { mergeConversationPages, nextAfter, pageOf, patchConversations, patchPages, type ConversationPage } from "./conversationPages.js";

const chat = (id: string, over: Partial<ConversationSummary> = {}): ConversationSummary => ({
  id,
  title: id,
  createdAt: 1,
  updatedAt: 1,
  pinnedAt: null,
  archivedAt: null,
  activeRunId: null,
  ...over,
});
const page = (ids: string[], end = false): ConversationPage => ({ conversations: ids.map((id) => chat(id)), end });
const ids = (list: readonly ConversationSummary[]) => list.map((c) => c.id);

describe("mergeConversationPages", () => {
  it("is the first page, then each older conversation once, in the pages' order", () => {
    const merged = mergeConversationPages([chat("a"), chat("b")], [page(["a", "b"]), page(["c", "d"]), page(["e"], true)]);
    expect(ids(merged)).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("is the first page alone before any older page was loaded (and nothing before the first page came)", () => {
    expect(ids(mergeConversationPages([chat("a")], []))).toEqual(["a"]);
    expect(mergeConversationPages(undefined, [])).toEqual([]);
  });

  it("keeps the first page's copy of a conversation that moved up onto it (new activity, retitled, pinned)", () => {
    const moved = chat("d", { title: "New title", updatedAt: 99, pinnedAt: 98 });
    const merged = mergeConversationPages([moved, chat("a"), chat("b")], [page(["a", "b", "c"]), page(["d", "e"])]);
    expect(ids(merged)).toEqual(["d", "a", "b", "c", "e"]);
    expect(merged[0]).toBe(moved);
    expect(merged.filter((c) => c.id === "d")).toHaveLength(1);
  });

  it("still shows a conversation pushed off the first page, from the older pages' copy of the first page", () => {
    // "x" moved to the top: the refetched first page (2 a page here) lost "b", which the older pages still hold.
    const merged = mergeConversationPages([chat("x"), chat("a")], [page(["a", "b"]), page(["c", "x"])]);
    expect(ids(merged)).toEqual(["x", "a", "b", "c"]);
  });

  it("drops what the first page no longer has only when the older pages do not have it either (deleted, patched out)", () => {
    const pages = patchPages([page(["a", "b"]), page(["c", "d"])], (c) => (c.id === "b" || c.id === "c" ? null : c));
    expect(ids(mergeConversationPages([chat("a")], pages))).toEqual(["a", "d"]);
  });
});

describe("nextAfter", () => {
  it("is the last conversation of the last page, and nothing once a page said it was the end", () => {
    expect(nextAfter([page(["a", "b"]), page(["c", "d"])])).toBe("d");
    expect(nextAfter([page(["a", "b"]), page(["c"], true)])).toBeUndefined();
    expect(nextAfter([page(["a", "b"]), page([], true)])).toBeUndefined();
    expect(nextAfter([])).toBeUndefined();
  });

  it("goes back to the last conversation still listed when the last ones were deleted", () => {
    const pages = patchPages([page(["a", "b"]), page(["c", "d"])], (c) => (c.id === "d" ? null : c));
    expect(nextAfter(pages)).toBe("c");
    const emptied = patchPages(pages, (c) => (c.id === "c" ? null : c));
    expect(nextAfter(emptied)).toBe("b");
  });
});

describe("pageOf", () => {
  it("is the end when the server listed fewer than asked for", () => {
    expect(pageOf([chat("a"), chat("b")], 2).end).toBe(false);
    expect(pageOf([chat("a")], 2).end).toBe(true);
    expect(pageOf([], 2).end).toBe(true);
  });
});

describe("patchConversations and patchPages", () => {
  it("change or drop the named conversation and keep the rest (and the pages' end)", () => {
    const pages = [page(["a", "b"]), page(["c"], true)];
    const retitled = patchPages(pages, (c) => (c.id === "c" ? { ...c, title: "Renamed" } : c));
    expect(retitled[1]).toEqual({ conversations: [chat("c", { title: "Renamed" })], end: true });
    expect(retitled[0]).toBe(pages[0]);
    expect(ids(patchConversations(pages[0]!.conversations, (c) => (c.id === "a" ? null : c)))).toEqual(["b"]);
  });

  it("return what they were given when nothing changed", () => {
    const pages = [page(["a"]), page(["b"])];
    expect(patchPages(pages, (c) => (c.id === "zz" ? null : c))).toBe(pages);
    expect(patchConversations(pages[0]!.conversations, (c) => c)).toBe(pages[0]!.conversations);
  });
});
