import { expect } from "vitest";
import type { ChatStore } from "../types.js";

/**
 * The conversations a v10 database holds before migration 11 (archived_at), as both databases' upgrade tests write
 * them with v10's SQL: alice's c1 (the oldest, with the question "hello"), c2 (pinned, imported from ChatGPT) and c3,
 * and bob's b1. Values in SQL, for an INSERT INTO conversations (id, user_id, title, created_at, updated_at,
 * pinned_at, origin).
 */
export const v10Conversations = `('c1', 'alice', 'Oldest', 1, 30, NULL, NULL), ('c2', 'alice', 'Pinned', 2, 20, 50, 'ChatGPT:x@1'),
  ('c3', 'alice', 'Newest', 3, 20, NULL, NULL), ('b1', 'bob', 'Bob''s', 4, 40, NULL, NULL)`;

/**
 * After the upgrade, on a store whose clock reads 99: every row as it was, none archived, in the order v10 listed
 * them, and c1's question still on its path; then the old rows archive like new ones (c2 at 99), out of the list,
 * into the archived one and as an imported copy, and bob's list untouched.
 */
export async function expectUpgradedV11(store: ChatStore): Promise<void> {
  expect(await store.listConversations("alice")).toEqual([
    { id: "c2", userId: "alice", title: "Pinned", createdAt: 2, updatedAt: 20, pinnedAt: 50, archivedAt: null },
    { id: "c1", userId: "alice", title: "Oldest", createdAt: 1, updatedAt: 30, pinnedAt: null, archivedAt: null },
    { id: "c3", userId: "alice", title: "Newest", createdAt: 3, updatedAt: 20, pinnedAt: null, archivedAt: null },
  ]);
  expect(await store.listConversations("alice", { archived: true })).toEqual([]);
  expect((await store.activePath("c1")).map((m) => m.message.content)).toEqual(["hello"]);
  expect(await store.setArchived("alice", "c2", true)).toEqual({ id: "c2", userId: "alice", title: "Pinned", createdAt: 2, updatedAt: 20, pinnedAt: 50, archivedAt: 99 });
  expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["c1", "c3"]);
  expect((await store.listConversations("alice", { archived: true })).map((c) => c.id)).toEqual(["c2"]);
  expect((await store.importedCopies("alice", "ChatGPT:x@")).map((c) => [c.id, c.archivedAt])).toEqual([["c2", 99]]);
  expect((await store.listConversations("bob")).map((c) => [c.id, c.archivedAt])).toEqual([["b1", null]]);
}
