import { defaultSampling } from "@streamchat/core";
import { expect } from "vitest";
import type { ChatStore } from "../types.js";

/**
 * What a v12 database holds before migration 13 (conversation_settings' sampling columns), as both databases' upgrade
 * tests write it with v12's SQL: v11's conversations and alice's instructions (upgraded-v12.ts) and the instructions of
 * alice's c1 and bob's b1. Values in SQL, for INSERT INTO conversation_settings (conversation_id, instructions,
 * updated_at); c2 has none.
 */
export const v12ConversationSettings = `('c1', 'Answer in French.', 7), ('b1', 'Bob''s rules.', 8)`;

/**
 * What a v12 process still running during a rolling upgrade writes when c1's instructions are set (its
 * setConversationInstructions, the values in SQL): an upsert that names no sampling column.
 */
export const v12SetInstructionsSql = `INSERT INTO conversation_settings (conversation_id, instructions, updated_at)
  SELECT id, 'From a v12 process.', 100 FROM conversations WHERE id = 'c1' AND user_id = 'alice'
  ON CONFLICT (conversation_id) DO UPDATE SET instructions = excluded.instructions, updated_at = excluded.updated_at`;

/**
 * After the upgrade, on a store whose clock reads 99: every conversation's instructions as they were and no sampling;
 * then the old rows take sampling like new ones (c1 at 99, its instructions kept), not as activity, and a run of c1 is
 * given it; a v12 process's set of the instructions (`runAsV12` runs v12SetInstructionsSql) keeps it; deleting c1 takes
 * it with it.
 */
export async function expectUpgradedV13(store: ChatStore, runAsV12: (sql: string) => Promise<unknown>): Promise<void> {
  expect(await store.getConversationSettings("alice", "c1")).toEqual({ instructions: "Answer in French.", sampling: defaultSampling, updatedAt: 7 });
  expect(await store.getConversationSettings("alice", "c2")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
  expect(await store.getConversationSettings("bob", "b1")).toEqual({ instructions: "Bob's rules.", sampling: defaultSampling, updatedAt: 8 });
  expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "Be brief.", conversation: "Answer in French.", sampling: defaultSampling });

  const sampling = { temperature: 0.3, topP: null, seed: 42 };
  expect(await store.setConversationSampling("alice", "c1", sampling)).toEqual({ instructions: "Answer in French.", sampling, updatedAt: 99 });
  expect(await store.setConversationSampling("alice", "c2", sampling)).toEqual({ instructions: "", sampling, updatedAt: 99 });
  expect(await store.getConversation("alice", "c1")).toMatchObject({ updatedAt: 30 });
  expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "Be brief.", conversation: "Answer in French.", sampling });
  expect(await store.getRunSettings("bob", "b1")).toEqual({ user: "", conversation: "Bob's rules.", sampling: defaultSampling });

  await runAsV12(v12SetInstructionsSql);
  expect(await store.getConversationSettings("alice", "c1")).toEqual({ instructions: "From a v12 process.", sampling, updatedAt: 100 });
  expect(await store.deleteConversation("alice", "c1")).toBe(true);
  expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "Be brief.", conversation: "", sampling: defaultSampling });
}
