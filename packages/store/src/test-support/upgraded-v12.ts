import { defaultSampling } from "@streamchat/core";
import { expect } from "vitest";
import type { ChatStore } from "../types.js";

/**
 * What a v11 database holds before migration 12 (conversation_settings), as both databases' upgrade tests write it with
 * v11's SQL: alice's c1 (with the question "hello"), c2 (pinned and archived) and bob's b1, and alice's custom
 * instructions. Values in SQL, for INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at,
 * archived_at) and INSERT INTO user_settings (user_id, instructions, updated_at).
 */
export const v11Conversations = `('c1', 'alice', 'Oldest', 1, 30, NULL, NULL), ('c2', 'alice', 'Archived', 2, 20, 50, 60),
  ('b1', 'bob', 'Bob''s', 4, 40, NULL, NULL)`;
export const v11UserSettings = `('alice', 'Be brief.', 5)`;

/**
 * After the upgrade, on a store whose clock reads 99: every conversation as it was and without instructions of its own,
 * the user's instructions as they were; then the old rows take instructions like new ones (c1 at 99), not as activity,
 * a run of c1 is given both, and deleting c1 takes its settings with it.
 */
export async function expectUpgradedV12(store: ChatStore): Promise<void> {
  expect(await store.listConversations("alice")).toEqual([{ id: "c1", userId: "alice", title: "Oldest", createdAt: 1, updatedAt: 30, pinnedAt: null, archivedAt: null }]);
  expect(await store.listConversations("alice", { archived: true })).toEqual([
    { id: "c2", userId: "alice", title: "Archived", createdAt: 2, updatedAt: 20, pinnedAt: 50, archivedAt: 60 },
  ]);
  expect((await store.activePath("c1")).map((m) => m.message.content)).toEqual(["hello"]);
  for (const [userId, id] of [["alice", "c1"], ["alice", "c2"], ["bob", "b1"]] as const) {
    expect(await store.getConversationSettings(userId, id), id).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
  }
  expect(await store.getUserSettings("alice")).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 5 });
  expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "Be brief.", conversation: "", sampling: defaultSampling });

  expect(await store.setConversationInstructions("alice", "c1", "Answer in French.")).toEqual({ instructions: "Answer in French.", sampling: defaultSampling, updatedAt: 99 });
  expect(await store.getConversationSettings("alice", "c1")).toEqual({ instructions: "Answer in French.", sampling: defaultSampling, updatedAt: 99 });
  expect(await store.getConversation("alice", "c1")).toMatchObject({ updatedAt: 30 });
  expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "Be brief.", conversation: "Answer in French.", sampling: defaultSampling });
  expect(await store.getRunSettings("bob", "b1")).toEqual({ user: "", conversation: "", sampling: defaultSampling });
  expect(await store.deleteConversation("alice", "c1")).toBe(true);
  expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "Be brief.", conversation: "", sampling: defaultSampling });
}
