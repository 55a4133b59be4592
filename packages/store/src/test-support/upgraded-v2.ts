import { expect } from "vitest";
import type { ChatStore } from "../types.js";

/**
 * The data written before conversation versions (SQLite: fixtures/v2-chat.sqlite by the shipped v2 store,
 * scripts/make-v2-fixture.sh; PostgreSQL: the same rows written with the v1 schema's SQL in postgres.test.ts):
 *
 *   id conversation run role
 *    1 c1 (alice)  r1  user       "What time is it in TOKYO?"
 *    2 c2 (bob)    r4  user       "What is 12*7?"
 *    3 c1          r1  assistant  tool call t1
 *    4 c1          r1  tool       t1's result
 *    5 c1          r1  assistant  "It is 14:05 in Tokyo."
 *   (6, 7: c1's "And in Osaka?" and its answer, run r2, deleted by an edit)
 *    8 c1          r3  user       "And in Kyoto?"
 *    9 c1          r3  assistant  "Kyoto is in the same time zone too."
 *   (10: c2's answer "82", run r4, deleted by a regenerate)
 *   11 c2          r5  assistant  "84"
 *   c3 (alice): no messages. r1 has 5 events (a tool round) and usage; r2 and r3 one `done` each.
 *
 * After the upgrade: each conversation is a single branch in id order, its head the last message; ids are never
 * reused; the tree operations work on the old data.
 */
export const upgradedV2Ids = { c1: [1, 3, 4, 5, 8, 9], c2: [2, 11] };

export async function expectUpgradedV2(store: ChatStore): Promise<void> {
  const shape = async (conversationId: string) => (await store.listMessages(conversationId)).map((m) => [m.id, m.parentId, m.runId]);
  expect(await shape("c1")).toEqual([
    [1, null, "r1"],
    [3, 1, "r1"],
    [4, 3, "r1"],
    [5, 4, "r1"],
    [8, 5, "r3"],
    [9, 8, "r3"],
  ]);
  expect(await shape("c2")).toEqual([
    [2, null, "r4"],
    [11, 2, "r5"],
  ]);
  // One branch: the path is the whole conversation, with no versions.
  expect(await store.activePath("c1")).toEqual(await store.listMessages("c1"));
  expect(await store.activePath("c2")).toEqual(await store.listMessages("c2"));
  expect((await store.activePath("c1")).map((m) => m.message.role)).toEqual(["user", "assistant", "tool", "assistant", "user", "assistant"]);
  expect((await store.activePath("c1"))[1]?.message).toEqual({
    role: "assistant",
    content: "",
    toolCalls: [{ id: "t1", name: "current_time", args: { timeZone: "Asia/Tokyo" } }],
  });
  expect(await store.activePath("c3")).toEqual([]);

  // Runs, usage and events are where they were.
  expect((await store.listRuns("c1")).map((r) => [r.id, r.status, r.reason, r.usage?.completionTokens ?? null])).toEqual([
    ["r1", "done", "stop", 8],
    ["r2", "done", "stop", 8],
    ["r3", "done", "stop", 8],
  ]);
  expect((await store.readEvents("r1")).map((e) => [e.seq, e.event.type])).toEqual([
    [1, "run-start"],
    [2, "tool-call"],
    [3, "tool-result"],
    [4, "token"],
    [5, "done"],
  ]);
  expect((await store.findRunByClientRequestId("alice", "req-1"))?.id).toBe("r1");
  expect((await store.searchMessages("alice", "kyoto")).map((h) => [h.messageId, h.role])).toEqual([
    [9, "assistant"],
    [8, "user"],
  ]);

  // The tree operations on the old data: an append continues the chain with a new id (6, 7 and 10 stay unused) …
  const next = await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "Thanks!" } });
  expect(next.parentId).toBe(9);
  expect(next.id).toBeGreaterThan(11);
  // … an edit of an old message adds a version …
  const edited = await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "And in Nara?" }, parentId: 5 });
  expect((await store.activePath("c1")).map((m) => [m.id, m.versions?.siblingIds ?? null])).toEqual([
    [1, null],
    [3, null],
    [4, null],
    [5, null],
    [edited.id, [8, edited.id]],
  ]);
  // … a switch goes back down the old branch to its newest leaf …
  expect((await store.switchBranch("c1", 8)).map((m) => m.id)).toEqual([1, 3, 4, 5, 8, 9, next.id]);
  // … and a regenerate answers an old question again.
  await store.rewindActivePath("c2", 2);
  const again = await store.appendMessage({ conversationId: "c2", runId: null, message: { role: "assistant", content: "12*7 = 84" } });
  expect((await store.activePath("c2")).map((m) => [m.id, m.versions ?? null])).toEqual([
    [2, null],
    [again.id, { index: 2, count: 2, siblingIds: [11, again.id] }],
  ]);
  // The empty conversation starts its tree with a first message.
  expect((await store.appendMessage({ conversationId: "c3", runId: null, message: { role: "user", content: "hello" } })).parentId).toBeNull();
}
