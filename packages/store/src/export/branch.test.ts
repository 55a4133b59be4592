import { defaultSampling } from "@streamchat/core";
import { beforeEach, describe, expect, it } from "vitest";
import { allBackends, type BackendContext, type TestStore } from "../test-support/backends.js";
import { exportSeed } from "../test-support/export-seed.js";
import { failure, manualClock } from "../test-support/fixtures.js";
import { describeEachBackend } from "../test-support/postgres.js";
import { isStoreError } from "../errors.js";
import { BranchError, branchConversation, branchTitle } from "./branch.js";
import { buildConversationExport } from "./export.js";

describe("branchTitle", () => {
  it("puts 'Branch · ' before the title once, on one line", () => {
    expect(branchTitle("Trip to Tokyo")).toBe("Branch · Trip to Tokyo");
    expect(branchTitle("Branch · Trip to Tokyo")).toBe("Branch · Trip to Tokyo");
    expect(branchTitle("  Two\nlines  ")).toBe("Branch · Two lines");
  });

  it("cuts a long title to 200 characters between characters, with an ellipsis", () => {
    const title = branchTitle(`${"a".repeat(190)}🗼🗼🗼🗼🗼🗼`);
    expect(title.length).toBeLessThanOrEqual(200);
    expect(title.endsWith("…")).toBe(true);
    expect(title).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(title.startsWith("Branch · aaa")).toBe(true);
  });
});

describeEachBackend((backend) => `branching a conversation on the ${backend.name} store`, allBackends, (backend) => {
  const ctx: BackendContext = backend.context();
  let store: TestStore;
  let clock: ReturnType<typeof manualClock>;

  beforeEach(async () => {
    clock = manualClock(1_700_000_000_000);
    store = await ctx.open({ now: () => (clock.set(clock.now() + 1_000), clock.now()) });
  });

  /** The seed's messages by content, to name them in a test. */
  async function messageIds(conversationId: string): Promise<Map<string, number>> {
    const all = await store.listMessages(conversationId);
    return new Map(all.map((stored) => [stored.message.content || `${stored.message.role}:${stored.id}`, stored.id]));
  }

  it("copies the path to an answer off the active path, with that answer's run, as a new conversation; the original is as it was", async () => {
    await exportSeed(store);
    const before = await buildConversationExport(store, "alice", "c1", { now: () => 1 });
    const f1 = (await messageIds("c1")).get("It is 14:05 in Tokyo.")!;

    const { conversationId } = await branchConversation(store, "alice", "c1", f1, { now: () => 1_800_000_000_000 });

    expect(conversationId).not.toBe("c1");
    expect(await buildConversationExport(store, "alice", "c1", { now: () => 1 })).toEqual(before);
    const branch = await store.getConversation("alice", conversationId);
    expect(branch).toMatchObject({ title: "Branch · Trip to Tokyo 🗼", pinnedAt: null, updatedAt: 1_800_000_000_000 });
    // New: the list shows it first.
    expect((await store.listConversations("alice")).map((c) => c.id)[0]).toBe(conversationId);

    const path = await store.activePath(conversationId);
    expect(path.map((m) => [m.message.role, m.message.content])).toEqual([
      ["user", "What time is it in Tokyo?"],
      ["assistant", ""],
      ["tool", '{"iso":"2026-01-01T05:05:00Z"}'],
      ["assistant", "It is 14:05 in Tokyo."],
    ]);
    // One version of each message: the regenerated answer and the edited question beside the path are not copied.
    expect(await store.listMessages(conversationId)).toHaveLength(4);
    const runs = await store.listRuns(conversationId);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ model: "qwen3", status: "done", reason: "stop" });
    expect(path.every((m) => m.runId === runs[0]!.id)).toBe(true);
    // The run's log came along (tool call and result, reasoning), closed by its done, under the new ids.
    const events = await store.readEvents(runs[0]!.id);
    expect(events.map((e) => e.event.type)).toEqual(expect.arrayContaining(["tool-call", "tool-result", "reasoning", "done"]));
    expect(events.at(-1)?.event.type).toBe("done");
    expect(events.every((e) => e.event.runId === runs[0]!.id)).toBe(true);
    // The messages keep when they were written.
    const original = await store.listMessages("c1");
    expect(path.map((m) => m.createdAt)).toEqual(original.filter((m) => m.runId === "r1").map((m) => m.createdAt));
  });

  it("copies the active path to its end, and a question asked in the branch goes on from there, not in the original", async () => {
    const { a2 } = await exportSeed(store);
    // The original is pinned and archived: the branch is neither (it lists by its own activity, in the list), and the
    // original keeps its pin and stays archived.
    const pinned = await store.setPinned("alice", "c1", true);
    const archived = await store.setArchived("alice", "c1", true);
    const { conversationId } = await branchConversation(store, "alice", "c1", a2);
    expect(await store.getConversation("alice", conversationId)).toMatchObject({ pinnedAt: null });
    expect(await store.getConversation("alice", "c1")).toMatchObject({ pinnedAt: pinned!.pinnedAt });
    expect(await store.getConversation("alice", conversationId)).toMatchObject({ archivedAt: null });
    expect(await store.getConversation("alice", "c1")).toMatchObject({ archivedAt: archived!.archivedAt });
    expect((await store.listConversations("alice")).map((c) => c.id)).toEqual([conversationId]);
    expect((await store.listConversations("alice", { archived: true })).map((c) => c.id)).toEqual(["c1"]);
    expect((await store.activePath(conversationId)).map((m) => m.message.content)).toEqual(["What time is it in Tokyo?", "Tokyo: 14:06."]);
    // The question names the run that first answered it, the answer its regenerate: both come along, nothing else.
    expect((await store.listRuns(conversationId)).map((r) => r.model)).toEqual(["qwen3", "qwen3"]);

    await store.appendMessage({ conversationId, runId: null, message: { role: "user", content: "And in Paris?" } });
    expect((await store.activePath(conversationId)).map((m) => m.message.content)).toEqual(["What time is it in Tokyo?", "Tokyo: 14:06.", "And in Paris?"]);
    expect((await store.activePath("c1")).map((m) => m.message.content)).toEqual(["What time is it in Tokyo?", "Tokyo: 14:06."]);
  });

  it("copies the original's sampling to the branch, beside its instructions; each keeps its own from then on", async () => {
    const { a2 } = await exportSeed(store);
    const sampling = { temperature: 0.7, topP: 0.9, seed: null };
    await store.setConversationInstructions("alice", "c1", "Answer in French.");
    const set = await store.setConversationSampling("alice", "c1", sampling);
    const { conversationId } = await branchConversation(store, "alice", "c1", a2);
    expect(await store.getRunSettings("alice", conversationId)).toEqual({ user: "", conversation: "Answer in French.", sampling });
    await store.setConversationSampling("alice", conversationId, defaultSampling);
    expect(await store.getConversationSettings("alice", "c1")).toEqual(set);
    // Sampling alone comes along too; none branches into none.
    await store.setConversationInstructions("alice", "c1", "");
    const alone = await branchConversation(store, "alice", "c1", a2);
    expect(await store.getConversationSettings("alice", alone.conversationId)).toMatchObject({ instructions: "", sampling });
    await store.setConversationSampling("alice", "c1", defaultSampling);
    const plain = await branchConversation(store, "alice", "c1", a2);
    expect(await store.getConversationSettings("alice", plain.conversationId)).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
  });

  it("copies the original's instructions to the branch; each keeps its own from then on", async () => {
    const { a2 } = await exportSeed(store);
    const set = await store.setConversationInstructions("alice", "c1", "Answer in French.");
    const { conversationId } = await branchConversation(store, "alice", "c1", a2);
    expect((await store.getConversationSettings("alice", conversationId)).instructions).toBe("Answer in French.");
    expect(await store.getRunSettings("alice", conversationId)).toEqual({ user: "", conversation: "Answer in French.", sampling: defaultSampling });
    await store.setConversationInstructions("alice", conversationId, "Answer in German.");
    expect(await store.getConversationSettings("alice", "c1")).toEqual(set);
    // A conversation without instructions branches into one without.
    await store.setConversationInstructions("alice", "c1", "");
    const plain = await branchConversation(store, "alice", "c1", a2);
    expect(await store.getConversationSettings("alice", plain.conversationId)).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
  });

  it("says where a branch was made: the original, its answer, the branch's copy of it, the original's title until it is deleted", async () => {
    const { a2 } = await exportSeed(store);
    const { conversationId } = await branchConversation(store, "alice", "c1", a2);
    const copy = (await store.activePath(conversationId)).at(-1)!;
    expect(await store.branchOrigin("alice", conversationId)).toEqual({ conversationId: "c1", messageId: a2, atMessageId: copy.id, title: "Trip to Tokyo 🗼" });
    // A branch of the branch names the branch, not the first original.
    const again = await branchConversation(store, "alice", conversationId, copy.id);
    expect(await store.branchOrigin("alice", again.conversationId)).toMatchObject({ conversationId, messageId: copy.id, title: "Branch · Trip to Tokyo 🗼" });
    // No branch, another user's, none at all: nothing.
    expect(await store.branchOrigin("alice", "c1")).toBeUndefined();
    expect(await store.branchOrigin("bob", conversationId)).toBeUndefined();
    expect(await store.branchOrigin("alice", "no-such-conversation")).toBeUndefined();
    // The original renamed, then deleted: the branch still says it was one, with the title as it is now.
    await store.renameConversation("alice", "c1", "Tokyo, renamed");
    expect(await store.branchOrigin("alice", conversationId)).toMatchObject({ title: "Tokyo, renamed" });
    await store.deleteConversation("alice", "c1");
    expect(await store.branchOrigin("alice", conversationId)).toEqual({ conversationId: "c1", messageId: a2, atMessageId: copy.id, title: null });
  });

  it("refuses a branch without a head before writing anything", async () => {
    const input = {
      conversation: { id: "b1", userId: "alice", title: "t", createdAt: 1, updatedAt: 1, pinnedAt: null, archivedAt: null, branchOf: { conversationId: "c1", messageId: 3 } },
      runs: [],
      messages: [],
      head: null,
    };
    await expect(store.insertConversation(input)).rejects.toThrow(RangeError);
    expect(await store.getConversation("alice", "b1")).toBeUndefined();
  });

  it("branches from the end of an answer only: not from a question, nor from a tool call in the middle of one", async () => {
    await exportSeed(store);
    const ids = await messageIds("c1");
    const toolCall = (await store.listMessages("c1")).find((m) => m.message.role === "assistant" && m.message.toolCalls)!.id;
    for (const id of [ids.get("What time is it in Tokyo?")!, toolCall]) {
      const error = await failure(branchConversation(store, "alice", "c1", id));
      expect(error).toBeInstanceOf(BranchError);
      expect(error).toMatchObject({ reason: "not_an_answer" });
    }
    expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["c1"]);
  });

  it("does not know another user's conversation, nor a message it does not hold", async () => {
    const { a2 } = await exportSeed(store);
    expect(isStoreError(await failure(branchConversation(store, "bob", "c1", a2)), "not_found")).toBe(true);
    expect(isStoreError(await failure(branchConversation(store, "alice", "c1", a2 + 1_000)), "not_found")).toBe(true);
    await store.createConversation({ id: "c2", userId: "alice", title: "Other" });
    await store.appendMessage({ conversationId: "c2", runId: null, message: { role: "user", content: "Hi" } });
    const inC2 = (await store.appendMessage({ conversationId: "c2", runId: null, message: { role: "assistant", content: "Hello" } })).id;
    expect(isStoreError(await failure(branchConversation(store, "alice", "c1", inC2)), "not_found")).toBe(true);
    expect((await store.listConversations("bob"))).toEqual([]);
  });
});
