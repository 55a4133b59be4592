import { defaultSampling } from "@streamchat/core";
import { expect } from "vitest";
import type { ChatStore } from "../types.js";

/**
 * What a v13 process still running during a rolling upgrade writes when alice's custom instructions are set (its
 * setInstructions, the values in SQL): an upsert that names no sampling column.
 */
export const v13SetInstructionsSql = `INSERT INTO user_settings (user_id, instructions, updated_at) VALUES ('alice', 'From a v13 process.', 200)
  ON CONFLICT (user_id) DO UPDATE SET instructions = excluded.instructions, updated_at = excluded.updated_at`;

/**
 * After migration 14 (user_settings' sampling columns) of a v13 database holding v11's conversations, alice's
 * instructions (upgraded-v12.ts) and the conversation settings of upgraded-v13.ts, on a store whose clock reads 99:
 * alice's instructions as they were and no sampling; then her sampling is set like a new user's, her runs are given
 * it where the conversation sets nothing, and a v13 process's set of her instructions (`runAsV13` runs
 * v13SetInstructionsSql) keeps it.
 */
export async function expectUpgradedV14(store: ChatStore, runAsV13: (sql: string) => Promise<unknown>): Promise<void> {
  expect(await store.getUserSettings("alice")).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 5 });
  expect(await store.getUserSettings("bob")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
  expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "Be brief.", conversation: "Answer in French.", sampling: defaultSampling });

  const sampling = { temperature: 0.5, topP: null, seed: 11 };
  expect(await store.setUserSampling("alice", { temperature: 0.5, seed: 11 })).toEqual({ instructions: "Be brief.", sampling, updatedAt: 99 });
  expect(await store.setUserSampling("bob", { topP: 0.9 })).toEqual({ instructions: "", sampling: { temperature: null, topP: 0.9, seed: null }, updatedAt: 99 });
  expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "Be brief.", conversation: "Answer in French.", sampling });

  await runAsV13(v13SetInstructionsSql);
  expect(await store.getUserSettings("alice")).toEqual({ instructions: "From a v13 process.", sampling, updatedAt: 200 });
}
