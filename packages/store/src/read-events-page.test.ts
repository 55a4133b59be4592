import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMemoryStore } from "./memory.js";
import { openSqliteStore } from "./sqlite.js";
import { doneEvent, tokenEvent } from "./test-support/fixtures.js";
import type { ChatStore } from "./types.js";

// readEvents(runId, afterSeq, limit): pages of a long log (the API replays slow subscribers page by page).
describe.each<{ name: string; open: (dir: string) => ChatStore }>([
  { name: "memory", open: () => createMemoryStore() },
  // Long flush interval: a page must span committed rows and rows still queued in memory.
  { name: "sqlite", open: (dir) => openSqliteStore({ path: join(dir, "chat.db"), flushIntervalMs: 60_000, maxBatch: 4 }) },
])("$name store: readEvents with a limit", ({ open }) => {
  let dir: string;
  let store: ChatStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "store-page-"));
    store = open(dir);
    store.createConversation({ id: "c1", userId: "u", title: "t" });
    store.createRun({ id: "r1", conversationId: "c1", userId: "u", model: "demo", provider: "sim" });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("returns at most `limit` events after afterSeq, in order, across committed and pending rows", () => {
    for (let i = 1; i <= 10; i++) store.appendEvent("r1", tokenEvent("r1", `t${i}`)); // 8 committed, 2 pending (sqlite)
    const seqs = (after: number, limit?: number) => store.readEvents("r1", after, limit).map((e) => e.seq);
    expect(seqs(0, 3)).toEqual([1, 2, 3]);
    expect(seqs(3, 3)).toEqual([4, 5, 6]);
    expect(seqs(6, 3)).toEqual([7, 8, 9]);
    expect(seqs(9, 3)).toEqual([10]);
    expect(seqs(10, 3)).toEqual([]);
    expect(seqs(7, 0)).toEqual([]);
    expect(seqs(5)).toEqual([6, 7, 8, 9, 10]);
    // Paging through equals reading everything.
    const paged = [];
    for (let after = 0, page = store.readEvents("r1", 0, 4); page.length > 0; page = store.readEvents("r1", after, 4)) {
      paged.push(...page);
      after = page.at(-1)?.seq ?? after;
    }
    expect(paged).toEqual(store.readEvents("r1"));
    store.appendEvent("r1", doneEvent("r1"));
    expect(store.readEvents("r1", 10, 5).map((e) => e.event.type)).toEqual(["done"]);
  });
});

// appendEvent(…, { minSeq }): recovery after a crash skips the seqs of the lost, uncommitted tail.
describe.each<{ name: string; open: (dir: string) => ChatStore }>([
  { name: "memory", open: () => createMemoryStore() },
  { name: "sqlite", open: (dir) => openSqliteStore({ path: join(dir, "chat.db"), flushIntervalMs: 60_000 }) },
])("$name store: appendEvent with minSeq", ({ open }) => {
  let dir: string;
  let store: ChatStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "store-minseq-"));
    store = open(dir);
    store.createConversation({ id: "c1", userId: "u", title: "t" });
    store.createRun({ id: "r1", conversationId: "c1", userId: "u", model: "demo", provider: "sim" });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("jumps to minSeq when it is ahead, never goes back, and reads and pages across the gap", () => {
    expect(store.appendEvent("r1", tokenEvent("r1", "a"))).toBe(1);
    expect(store.appendEvent("r1", tokenEvent("r1", "b"), { minSeq: 100 })).toBe(100);
    expect(store.appendEvent("r1", tokenEvent("r1", "c"), { minSeq: 50 })).toBe(101);
    expect(store.appendEvent("r1", doneEvent("r1"))).toBe(102);
    expect(store.lastSeq("r1")).toBe(102);
    expect(store.readEvents("r1").map((e) => e.seq)).toEqual([1, 100, 101, 102]);
    expect(store.readEvents("r1", 1).map((e) => e.seq)).toEqual([100, 101, 102]);
    expect(store.readEvents("r1", 50, 2).map((e) => e.seq)).toEqual([100, 101]);
    expect(store.readEvents("r1", 101).map((e) => e.event.type)).toEqual(["done"]);
  });
});
