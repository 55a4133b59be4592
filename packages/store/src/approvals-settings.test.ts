import { beforeEach, describe, expect, it } from "vitest";
import { defaultSampling } from "@streamchat/core";
import { allBackends, type BackendContext, type TestStore } from "./test-support/backends.js";
import { manualClock } from "./test-support/fixtures.js";
import { describeEachBackend } from "./test-support/postgres.js";

// The approval flow's and the tools panel's part of the shared behaviour (memory, SQLite, PostgreSQL): decisions
// kept for a waiting run (first one wins, across processes too), taking over a run (claimRun), per-user MCP
// server switches and the user's settings (custom instructions, sampling).
describeEachBackend((backend) => `${backend.name} store: approvals, run takeover, tool settings`, allBackends, (backend) => {
  const ctx: BackendContext = backend.context();
  let store: TestStore;
  let clock: ReturnType<typeof manualClock>;

  beforeEach(async () => {
    clock = manualClock();
    store = await ctx.open({ now: clock.now });
    await store.createConversation({ id: "c1", userId: "alice", title: "t" });
    await store.createRun({ id: "r1", conversationId: "c1", userId: "alice", model: "m", provider: "p", owner: "old" });
  });

  async function failure(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => undefined,
      (error: unknown) => error,
    );
  }

  describe("approval decisions", () => {
    it("keeps the first decision on a call; a later one changes nothing and gets the first back", async () => {
      clock.set(5_000);
      const first = await store.recordApprovalDecision({ runId: "r1", callId: "call_1", approved: false, reason: "not that folder" });
      expect(first).toEqual({
        recorded: true,
        decision: { runId: "r1", callId: "call_1", approved: false, reason: "not that folder", decidedAt: 5_000 },
      });
      clock.set(6_000);
      const second = await store.recordApprovalDecision({ runId: "r1", callId: "call_1", approved: true });
      expect(second).toEqual({ recorded: false, decision: first.decision });
      expect(await store.getApprovalDecision("r1", "call_1")).toEqual(first.decision);
    });

    it("keeps calls apart, stores no reason as null, and answers undefined for a call without one", async () => {
      await store.recordApprovalDecision({ runId: "r1", callId: "a", approved: true });
      expect(await store.getApprovalDecision("r1", "a")).toEqual({ runId: "r1", callId: "a", approved: true, reason: null, decidedAt: 1_000 });
      expect(await store.getApprovalDecision("r1", "b")).toBeUndefined();
      expect(await store.getApprovalDecision("unknown", "a")).toBeUndefined();
    });

    it("refuses a decision for an unknown run", async () => {
      expect(await failure(store.recordApprovalDecision({ runId: "nope", callId: "a", approved: true }))).toEqual(
        expect.objectContaining({ name: "StoreError", code: "not_found" }),
      );
    });

    it("deletes a run's decisions with its conversation", async () => {
      await store.recordApprovalDecision({ runId: "r1", callId: "a", approved: true });
      expect(await store.deleteConversation("alice", "c1")).toBe(true);
      expect(await store.getApprovalDecision("r1", "a")).toBeUndefined();
    });
  });

  describe("claimRun", () => {
    it("hands a running run to a new owner only from the owner it names", async () => {
      expect(await store.claimRun("r1", { from: "someone-else", to: "new" })).toBe(false);
      expect((await store.getRun("r1"))?.owner).toBe("old");
      expect(await store.claimRun("r1", { from: "old", to: "new" })).toBe(true);
      expect((await store.getRun("r1"))?.owner).toBe("new");
      expect((await store.listRunningRuns({ owner: "new" })).map((r) => r.id)).toEqual(["r1"]);
      // Taken already: the second claimer loses.
      expect(await store.claimRun("r1", { from: "old", to: "third" })).toBe(false);
      expect((await store.getRun("r1"))?.owner).toBe("new");
    });

    it("claims a run recorded without an owner from null, and never a finished or unknown one", async () => {
      await store.createConversation({ id: "c2", userId: "alice", title: "t" });
      await store.createRun({ id: "r2", conversationId: "c2", userId: "alice", model: "m", provider: "p" });
      expect(await store.claimRun("r2", { from: null, to: "new" })).toBe(true);
      expect((await store.getRun("r2"))?.owner).toBe("new");
      await store.finishRun("r1", { reason: "stop", usage: null });
      expect(await store.claimRun("r1", { from: "old", to: "new" })).toBe(false);
      expect((await store.getRun("r1"))?.owner).toBe("old");
      expect(await store.claimRun("missing", { from: null, to: "new" })).toBe(false);
    });
  });

  describe("tool server settings", () => {
    it("has none until a switch is used; then keeps each user's switches apart, updated in place, by name", async () => {
      expect(await store.listToolServerSettings("alice")).toEqual([]);
      clock.set(2_000);
      expect(await store.setToolServerEnabled("alice", "files", false)).toEqual({ server: "files", enabled: false, updatedAt: 2_000 });
      await store.setToolServerEnabled("alice", "Zeta", true);
      await store.setToolServerEnabled("bob", "files", true);
      clock.set(3_000);
      await store.setToolServerEnabled("alice", "files", true);
      expect(await store.listToolServerSettings("alice")).toEqual([
        { server: "Zeta", enabled: true, updatedAt: 2_000 },
        { server: "files", enabled: true, updatedAt: 3_000 },
      ]);
      expect(await store.listToolServerSettings("bob")).toEqual([{ server: "files", enabled: true, updatedAt: 2_000 }]);
    });
  });

  describe("user settings (custom instructions, sampling)", () => {
    const instructions = "Answer in French.\nKeep it short: \"bullet points\" 🙂, and say 50% \\ _when_ unsure.";

    it("has the defaults for a user who never set any", async () => {
      expect(await store.getUserSettings("alice")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
      expect(await store.getUserSettings("nobody")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
    });

    it("stores the instructions as given, at the store's clock, and reads them back", async () => {
      clock.set(2_000);
      expect(await store.setInstructions("alice", instructions)).toEqual({ instructions, sampling: defaultSampling, updatedAt: 2_000 });
      expect(await store.getUserSettings("alice")).toEqual({ instructions, sampling: defaultSampling, updatedAt: 2_000 });
    });

    it("replaces them on a later set and moves updatedAt", async () => {
      clock.set(2_000);
      await store.setInstructions("alice", instructions);
      clock.set(3_000);
      expect(await store.setInstructions("alice", "Be brief.")).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 3_000 });
      expect(await store.getUserSettings("alice")).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 3_000 });
    });

    it("clears them with \"\", which still records when they changed", async () => {
      clock.set(2_000);
      await store.setInstructions("alice", instructions);
      clock.set(4_000);
      expect(await store.setInstructions("alice", "")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: 4_000 });
      expect(await store.getUserSettings("alice")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: 4_000 });
      // Cleared without ever having set any: stored, not the never-set default.
      expect(await store.setInstructions("bob", "")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: 4_000 });
      expect(await store.getUserSettings("bob")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: 4_000 });
    });

    it("keeps each user's settings apart", async () => {
      clock.set(2_000);
      await store.setInstructions("alice", "Alice's rules.");
      expect(await store.getUserSettings("bob")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
      clock.set(3_000);
      await store.setInstructions("bob", "Bob's rules.");
      expect(await store.getUserSettings("alice")).toEqual({ instructions: "Alice's rules.", sampling: defaultSampling, updatedAt: 2_000 });
      expect(await store.getUserSettings("bob")).toEqual({ instructions: "Bob's rules.", sampling: defaultSampling, updatedAt: 3_000 });
    });

    it("sets only the sampling settings a change names, the others and the instructions kept", async () => {
      clock.set(2_000);
      expect(await store.setUserSampling("alice", { temperature: 0.3 })).toEqual({
        instructions: "",
        sampling: { temperature: 0.3, topP: null, seed: null },
        updatedAt: 2_000,
      });
      await store.setInstructions("alice", "Be brief.");
      clock.set(3_000);
      expect(await store.setUserSampling("alice", { seed: 42, topP: 0.9 })).toEqual({
        instructions: "Be brief.",
        sampling: { temperature: 0.3, topP: 0.9, seed: 42 },
        updatedAt: 3_000,
      });
      // null gives a setting back to the model; an empty change only moves updatedAt.
      clock.set(4_000);
      expect((await store.setUserSampling("alice", { temperature: null })).sampling).toEqual({ temperature: null, topP: 0.9, seed: 42 });
      expect(await store.setUserSampling("alice", {})).toEqual({ instructions: "Be brief.", sampling: { temperature: null, topP: 0.9, seed: 42 }, updatedAt: 4_000 });
      // Setting the instructions keeps the sampling.
      expect((await store.setInstructions("alice", "Be thorough.")).sampling).toEqual({ temperature: null, topP: 0.9, seed: 42 });
      expect(await store.getUserSettings("alice")).toEqual({ instructions: "Be thorough.", sampling: { temperature: null, topP: 0.9, seed: 42 }, updatedAt: 4_000 });
      expect(await store.getUserSettings("bob")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
    });

    it("gives a run each setting of the conversation's sampling, else the user's, else the model's (null)", async () => {
      await store.createConversation({ id: "s1", userId: "alice", title: "One" });
      await store.setUserSampling("alice", { temperature: 0.2, seed: 7 });
      expect((await store.getRunSettings("alice", "s1")).sampling).toEqual({ temperature: 0.2, topP: null, seed: 7 });
      await store.setConversationSampling("alice", "s1", { temperature: 1.1, topP: 0.5 });
      expect((await store.getRunSettings("alice", "s1")).sampling).toEqual({ temperature: 1.1, topP: 0.5, seed: 7 });
      // A conversation's null is not "the model's": it is the user's, where they have one.
      await store.setConversationSampling("alice", "s1", { temperature: null });
      expect((await store.getRunSettings("alice", "s1")).sampling).toEqual({ temperature: 0.2, topP: 0.5, seed: 7 });
      // Another user, or no conversation: the user's own alone.
      expect((await store.getRunSettings("bob", "s1")).sampling).toEqual({ temperature: null, topP: 0.5, seed: null });
      expect((await store.getRunSettings("alice", "missing")).sampling).toEqual({ temperature: 0.2, topP: null, seed: 7 });
      expect(await store.getConversationSettings("alice", "s1")).toMatchObject({ sampling: { temperature: null, topP: 0.5, seed: null } });
    });

    it("hands out copies: changing a returned record changes nothing stored", async () => {
      const set = await store.setInstructions("alice", "Be brief.");
      set.instructions = "changed";
      const read = await store.getUserSettings("alice");
      read.instructions = "changed too";
      const fresh = await store.getUserSettings("nobody");
      fresh.instructions = "not stored";
      expect(await store.getUserSettings("alice")).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 1_000 });
      expect(await store.getUserSettings("nobody")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
    });

    it("refuses both calls once the store is closed, as every other call, and writes nothing", async () => {
      await store.setInstructions("alice", "Be brief.");
      await store.close();
      const closed = expect.objectContaining({ name: "StoreError", code: "closed" });
      expect(await failure(store.setToolServerEnabled("alice", "files", false))).toEqual(closed);
      expect(await failure(store.getUserSettings("alice"))).toEqual(closed);
      expect(await failure(store.setInstructions("alice", "Changed."))).toEqual(closed);
      expect(await failure(store.setUserSampling("alice", { temperature: 1 }))).toEqual(closed);
      if (backend.shared) expect(await (await ctx.open()).getUserSettings("alice")).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 1_000 });
    });
  });

  describe.runIf(backend.shared)("two processes on one database", () => {
    let other: TestStore;
    beforeEach(async () => {
      other = await ctx.open({ now: clock.now });
    });

    it("records one decision when both decide the same call at once", async () => {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 === 0 ? store : other).recordApprovalDecision({ runId: "r1", callId: "call", approved: i % 3 === 0, reason: `client ${i}` }),
        ),
      );
      const recorded = results.filter((r) => r.recorded);
      expect(recorded).toHaveLength(1);
      for (const result of results) expect(result.decision).toEqual(recorded[0]!.decision);
      expect(await other.getApprovalDecision("r1", "call")).toEqual(recorded[0]!.decision);
    });

    it("shows one process's instructions to the other; of two sets at once, one is stored whole", async () => {
      clock.set(2_000);
      await store.setInstructions("alice", "From the first.");
      expect(await other.getUserSettings("alice")).toEqual({ instructions: "From the first.", sampling: defaultSampling, updatedAt: 2_000 });
      clock.set(3_000);
      await Promise.all([store.setInstructions("alice", "A"), other.setInstructions("alice", "B")]);
      const settings = await store.getUserSettings("alice");
      expect(["A", "B"]).toContain(settings.instructions);
      expect(settings.updatedAt).toBe(3_000);
      expect(await other.getUserSettings("alice")).toEqual(settings);
    });

    it("keeps both of two processes' changes of different sampling settings made at once", async () => {
      await Promise.all([store.setUserSampling("alice", { temperature: 0.4 }), other.setUserSampling("alice", { seed: 9 })]);
      expect((await store.getUserSettings("alice")).sampling).toEqual({ temperature: 0.4, topP: null, seed: 9 });
      expect((await other.getUserSettings("alice")).sampling).toEqual({ temperature: 0.4, topP: null, seed: 9 });
    });

    it("lets one of two processes claim an orphaned run", async () => {
      const results = await Promise.all([store.claimRun("r1", { from: "old", to: "a" }), other.claimRun("r1", { from: "old", to: "b" })]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await other.getRun("r1"))?.owner).toBe(results[0] ? "a" : "b");
    });
  });
});
