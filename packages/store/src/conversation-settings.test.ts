import { defaultSampling, type Sampling } from "@streamchat/core";
import { beforeEach, describe, expect, it } from "vitest";
import { allBackends, type BackendContext, type TestStore } from "./test-support/backends.js";
import { failure, manualClock, oneQuestionInput } from "./test-support/fixtures.js";
import { describeEachBackend } from "./test-support/postgres.js";

const notFound = expect.objectContaining({ name: "StoreError", code: "not_found" });
const defaults = { instructions: "", sampling: defaultSampling, updatedAt: null };

// A conversation's own instructions (schema v12) and sampling (v13) on every store (memory, SQLite, PostgreSQL): set
// and read by the conversation's user only, each without the other, not activity, read with the user's instructions
// by every run, gone with the conversation.
// The tables themselves (rows left after a delete, types, plans) are checked in sqlite.test.ts and postgres.test.ts.
describeEachBackend((backend) => `${backend.name} store: conversation settings`, allBackends, (backend) => {
  const ctx: BackendContext = backend.context();
  let store: TestStore;
  let clock: ReturnType<typeof manualClock>;
  const instructions = "Answer in French.\nYou review TypeScript: \"strict\" 🙂, 50% \\ _when_ unsure.";
  const sampling = { temperature: 0.2, topP: 0.9, seed: 42 };

  beforeEach(async () => {
    clock = manualClock();
    store = await ctx.open({ now: clock.now });
    await store.createConversation({ id: "c1", userId: "alice", title: "First" });
    await store.createConversation({ id: "c2", userId: "alice", title: "Second" });
    await store.createConversation({ id: "b1", userId: "bob", title: "Bob's" });
  });

  it("has the defaults for a conversation whose instructions were never set", async () => {
    expect(await store.getConversationSettings("alice", "c1")).toEqual(defaults);
    expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "", conversation: "", sampling: defaultSampling });
  });

  it("stores the instructions as given, at the store's clock, and reads them back; a later set replaces them", async () => {
    clock.set(2_000);
    expect(await store.setConversationInstructions("alice", "c1", instructions)).toEqual({ instructions, sampling: defaultSampling, updatedAt: 2_000 });
    expect(await store.getConversationSettings("alice", "c1")).toEqual({ instructions, sampling: defaultSampling, updatedAt: 2_000 });
    clock.set(3_000);
    expect(await store.setConversationInstructions("alice", "c1", "Be brief.")).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 3_000 });
    expect(await store.getConversationSettings("alice", "c1")).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 3_000 });
    // Each conversation's own: the user's other conversation has none.
    expect(await store.getConversationSettings("alice", "c2")).toEqual(defaults);
  });

  it("clears them with \"\", which still records when they changed", async () => {
    clock.set(2_000);
    await store.setConversationInstructions("alice", "c1", instructions);
    clock.set(4_000);
    expect(await store.setConversationInstructions("alice", "c1", "")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: 4_000 });
    expect(await store.getConversationSettings("alice", "c1")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: 4_000 });
    expect((await store.getRunSettings("alice", "c1")).conversation).toBe("");
    // Cleared without ever having set any: stored, not the never-set default.
    expect(await store.setConversationInstructions("alice", "c2", "")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: 4_000 });
    expect(await store.getConversationSettings("alice", "c2")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: 4_000 });
  });

  it("refuses another user's conversation and a missing one with not_found, for both calls, changing nothing", async () => {
    clock.set(2_000);
    await store.setConversationInstructions("bob", "b1", "Bob's rules.");
    clock.set(3_000);
    expect(await failure(store.getConversationSettings("alice", "b1"))).toEqual(notFound);
    expect(await failure(store.setConversationInstructions("alice", "b1", "Alice's rules."))).toEqual(notFound);
    expect(await failure(store.getConversationSettings("bob", "c1"))).toEqual(notFound);
    expect(await failure(store.setConversationInstructions("bob", "c1", "Bob's rules."))).toEqual(notFound);
    expect(await failure(store.getConversationSettings("alice", "missing"))).toEqual(notFound);
    expect(await failure(store.setConversationInstructions("alice", "missing", "x"))).toEqual(notFound);
    expect(await store.getConversationSettings("bob", "b1")).toEqual({ instructions: "Bob's rules.", sampling: defaultSampling, updatedAt: 2_000 });
    expect(await store.getConversationSettings("alice", "c1")).toEqual(defaults);
    // Nothing was written for the missing one: a conversation made with its id has none.
    await store.createConversation({ id: "missing", userId: "alice", title: "Now here" });
    expect(await store.getConversationSettings("alice", "missing")).toEqual(defaults);
    expect((await store.getRunSettings("alice", "missing")).conversation).toBe("");
  });

  it("is not activity: the conversation keeps its updatedAt, title, pin and place in the list", async () => {
    clock.set(2_000);
    await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "hi" } });
    clock.set(3_000);
    await store.appendMessage({ conversationId: "c2", runId: null, message: { role: "user", content: "hi" } });
    await store.setPinned("alice", "c2", true, 3_500);
    const before = await store.listConversations("alice");
    expect(before.map((c) => c.id)).toEqual(["c2", "c1"]);
    clock.set(9_000);
    await store.setConversationInstructions("alice", "c1", instructions);
    await store.setConversationInstructions("alice", "c2", "Be brief.");
    expect(await store.getConversation("alice", "c1")).toEqual({ ...before[1], updatedAt: 2_000 });
    expect(await store.listConversations("alice")).toEqual(before);
  });

  it("gives a run the user's instructions and the conversation's: both, either alone, or none", async () => {
    expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "", conversation: "", sampling: defaultSampling });
    await store.setConversationInstructions("alice", "c1", instructions);
    expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "", conversation: instructions, sampling: defaultSampling });
    await store.setInstructions("alice", "Call me Al.");
    expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "Call me Al.", conversation: instructions, sampling: defaultSampling });
    // A conversation without settings: the user's alone.
    expect(await store.getRunSettings("alice", "c2")).toEqual({ user: "Call me Al.", conversation: "", sampling: defaultSampling });
    // Another user's instructions are not alice's, and a conversation that is not there has none.
    await store.setInstructions("bob", "Bob's way.");
    expect(await store.getRunSettings("alice", "c2")).toEqual({ user: "Call me Al.", conversation: "", sampling: defaultSampling });
    expect(await store.getRunSettings("carol", "nowhere")).toEqual({ user: "", conversation: "", sampling: defaultSampling });
    expect(await store.getRunSettings("bob", "b1")).toEqual({ user: "Bob's way.", conversation: "", sampling: defaultSampling });
  });

  it("deletes the settings with their conversation: a new conversation with its id has none", async () => {
    clock.set(2_000);
    await store.setConversationInstructions("alice", "c1", instructions);
    await store.setConversationInstructions("alice", "c2", "Be brief.");
    await store.setInstructions("alice", "Call me Al.");
    expect(await store.deleteConversation("alice", "c1")).toBe(true);
    expect(await failure(store.getConversationSettings("alice", "c1"))).toEqual(notFound);
    expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "Call me Al.", conversation: "", sampling: defaultSampling });
    // Made again, by the same user or another one, it starts without any.
    await store.createConversation({ id: "c1", userId: "alice", title: "Again" });
    expect(await store.getConversationSettings("alice", "c1")).toEqual(defaults);
    expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "Call me Al.", conversation: "", sampling: defaultSampling });
    // The other conversation's and the user's stay.
    expect(await store.getConversationSettings("alice", "c2")).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 2_000 });
    expect(await store.getUserSettings("alice")).toEqual({ instructions: "Call me Al.", sampling: defaultSampling, updatedAt: 2_000 });
  });

  it("deletes the settings of the copy an insert replaces", async () => {
    await store.insertConversation(oneQuestionInput("old"));
    await store.setConversationInstructions("alice", "old", "Old rules.");
    await store.setConversationSampling("alice", "old", sampling);
    expect((await store.insertConversation({ ...oneQuestionInput("new"), replaces: "old" })).replaced).toBe(true);
    expect(await store.getRunSettings("alice", "old")).toEqual({ user: "", conversation: "", sampling: defaultSampling });
    expect(await store.getConversationSettings("alice", "new")).toEqual(defaults);
    await store.createConversation({ id: "old", userId: "alice", title: "Again" });
    expect(await store.getConversationSettings("alice", "old")).toEqual(defaults);
  });

  it("hands out copies: changing a returned record changes nothing stored", async () => {
    const set = await store.setConversationInstructions("alice", "c1", "Be brief.");
    set.instructions = "changed";
    const read = await store.getConversationSettings("alice", "c1");
    read.instructions = "changed too";
    const fresh = await store.getConversationSettings("alice", "c2");
    fresh.instructions = "not stored";
    const run = await store.getRunSettings("alice", "c1");
    run.conversation = "not stored either";
    expect(await store.getConversationSettings("alice", "c1")).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 1_000 });
    expect(await store.getConversationSettings("alice", "c2")).toEqual(defaults);
    expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "", conversation: "Be brief.", sampling: defaultSampling });
  });

  it("stores the sampling as given, at the store's clock, and reads it back; a later set replaces all three, null clearing one", async () => {
    clock.set(2_000);
    expect(await store.setConversationSampling("alice", "c1", sampling)).toEqual({ instructions: "", sampling, updatedAt: 2_000 });
    expect(await store.getConversationSettings("alice", "c1")).toEqual({ instructions: "", sampling, updatedAt: 2_000 });
    // The ends of each range, and a fraction no decimal writes exactly, come back as the same numbers.
    const edges = { temperature: 0.1 + 0.2, topP: 1, seed: 2_147_483_647 };
    expect(await store.setConversationSampling("alice", "c2", edges)).toEqual({ instructions: "", sampling: edges, updatedAt: 2_000 });
    expect((await store.getConversationSettings("alice", "c2")).sampling).toEqual(edges);
    expect(await store.setConversationSampling("alice", "c2", { temperature: 0, topP: Number.MIN_VALUE, seed: 0 })).toMatchObject({
      sampling: { temperature: 0, topP: Number.MIN_VALUE, seed: 0 },
    });
    // Partly: the others are left to the model, whatever they were.
    clock.set(3_000);
    const partial = { temperature: null, topP: 0.5, seed: null };
    expect(await store.setConversationSampling("alice", "c1", partial)).toEqual({ instructions: "", sampling: partial, updatedAt: 3_000 });
    expect(await store.getConversationSettings("alice", "c1")).toEqual({ instructions: "", sampling: partial, updatedAt: 3_000 });
    // All cleared: the defaults, with the time they changed.
    clock.set(4_000);
    expect(await store.setConversationSampling("alice", "c1", defaultSampling)).toEqual({ ...defaults, updatedAt: 4_000 });
    expect(await store.getConversationSettings("alice", "c1")).toEqual({ ...defaults, updatedAt: 4_000 });
    expect(await store.getConversationSettings("bob", "b1")).toEqual(defaults);
  });

  it("sets only the settings a change names, the others kept as stored (the model's when none were)", async () => {
    clock.set(2_000);
    // None stored yet: the named one, the others the model's.
    expect(await store.setConversationSampling("alice", "c1", { seed: 7 })).toEqual({
      instructions: "",
      sampling: { temperature: null, topP: null, seed: 7 },
      updatedAt: 2_000,
    });
    clock.set(3_000);
    expect(await store.setConversationSampling("alice", "c1", { temperature: 0.4, topP: 0.8 })).toEqual({
      instructions: "",
      sampling: { temperature: 0.4, topP: 0.8, seed: 7 },
      updatedAt: 3_000,
    });
    // Null named: that one back to the model's; the others stay. A key given as undefined names nothing.
    clock.set(4_000);
    expect((await store.setConversationSampling("alice", "c1", { topP: null, seed: undefined })).sampling).toEqual({ temperature: 0.4, topP: null, seed: 7 });
    // None named: nothing changes but when they were last set.
    clock.set(5_000);
    expect(await store.setConversationSampling("alice", "c1", {})).toEqual({ instructions: "", sampling: { temperature: 0.4, topP: null, seed: 7 }, updatedAt: 5_000 });
    expect((await store.getRunSettings("alice", "c1")).sampling).toEqual({ temperature: 0.4, topP: null, seed: 7 });
    // Another user's conversation: refused as before, changing nothing.
    expect(await failure(store.setConversationSampling("bob", "c1", { seed: 1 }))).toEqual(notFound);
    expect((await store.getConversationSettings("alice", "c1")).sampling.seed).toBe(7);
  });

  it("keeps instructions and sampling apart: setting either keeps the other as stored", async () => {
    clock.set(2_000);
    await store.setConversationInstructions("alice", "c1", instructions);
    clock.set(3_000);
    expect(await store.setConversationSampling("alice", "c1", sampling)).toEqual({ instructions, sampling, updatedAt: 3_000 });
    clock.set(4_000);
    expect(await store.setConversationInstructions("alice", "c1", "Be brief.")).toEqual({ instructions: "Be brief.", sampling, updatedAt: 4_000 });
    expect(await store.setConversationInstructions("alice", "c1", "")).toEqual({ instructions: "", sampling, updatedAt: 4_000 });
    expect(await store.getConversationSettings("alice", "c1")).toEqual({ instructions: "", sampling, updatedAt: 4_000 });
    // Sampling first, then instructions: the same.
    await store.setConversationSampling("alice", "c2", { temperature: 1.5, topP: null, seed: 7 });
    expect(await store.setConversationInstructions("alice", "c2", "Be brief.")).toEqual({
      instructions: "Be brief.",
      sampling: { temperature: 1.5, topP: null, seed: 7 },
      updatedAt: 4_000,
    });
    expect(await store.setConversationSampling("alice", "c2", defaultSampling)).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 4_000 });
  });

  it("refuses the sampling of another user's conversation and of a missing one with not_found, changing nothing", async () => {
    clock.set(2_000);
    await store.setConversationSampling("bob", "b1", sampling);
    clock.set(3_000);
    expect(await failure(store.setConversationSampling("alice", "b1", defaultSampling))).toEqual(notFound);
    expect(await failure(store.setConversationSampling("bob", "c1", sampling))).toEqual(notFound);
    expect(await failure(store.setConversationSampling("alice", "missing", sampling))).toEqual(notFound);
    expect(await store.getConversationSettings("bob", "b1")).toEqual({ instructions: "", sampling, updatedAt: 2_000 });
    expect(await store.getConversationSettings("alice", "c1")).toEqual(defaults);
    await store.createConversation({ id: "missing", userId: "alice", title: "Now here" });
    expect(await store.getConversationSettings("alice", "missing")).toEqual(defaults);
    expect(await store.getRunSettings("alice", "missing")).toEqual({ user: "", conversation: "", sampling: defaultSampling });
  });

  it("is not activity either when the sampling changes", async () => {
    clock.set(2_000);
    await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "hi" } });
    clock.set(3_000);
    await store.appendMessage({ conversationId: "c2", runId: null, message: { role: "user", content: "hi" } });
    const before = await store.listConversations("alice");
    clock.set(9_000);
    await store.setConversationSampling("alice", "c1", sampling);
    await store.setConversationSampling("alice", "c2", defaultSampling);
    expect(await store.listConversations("alice")).toEqual(before);
  });

  it("gives a run the conversation's sampling with the instructions, in one read; none for another or a missing conversation", async () => {
    await store.setConversationSampling("alice", "c1", sampling);
    expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "", conversation: "", sampling });
    await store.setInstructions("alice", "Call me Al.");
    await store.setConversationInstructions("alice", "c1", instructions);
    expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "Call me Al.", conversation: instructions, sampling });
    await store.setConversationSampling("alice", "c1", { temperature: null, topP: null, seed: 3 });
    expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "Call me Al.", conversation: instructions, sampling: { temperature: null, topP: null, seed: 3 } });
    expect(await store.getRunSettings("alice", "c2")).toEqual({ user: "Call me Al.", conversation: "", sampling: defaultSampling });
    expect(await store.getRunSettings("carol", "nowhere")).toEqual({ user: "", conversation: "", sampling: defaultSampling });
  });

  it("deletes the sampling with its conversation: a new conversation with its id has none", async () => {
    await store.setConversationSampling("alice", "c1", sampling);
    await store.setConversationSampling("alice", "c2", sampling);
    expect(await store.deleteConversation("alice", "c1")).toBe(true);
    expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "", conversation: "", sampling: defaultSampling });
    await store.createConversation({ id: "c1", userId: "alice", title: "Again" });
    expect(await store.getConversationSettings("alice", "c1")).toEqual(defaults);
    expect((await store.getConversationSettings("alice", "c2")).sampling).toEqual(sampling);
  });

  it("are written with a conversation an insert writes, in its transaction: instructions, sampling, both, or no row", async () => {
    const insert = (id: string, settings: { instructions?: string; sampling?: Sampling }) => {
      const input = oneQuestionInput(id);
      return store.insertConversation({ ...input, conversation: { ...input.conversation, ...settings } });
    };
    clock.set(6_000);
    await insert("i1", { sampling });
    await insert("i2", { instructions: "Be brief.", sampling: { temperature: null, topP: 0.8, seed: null } });
    await insert("i3", { instructions: "Be brief." });
    await insert("i4", { instructions: "", sampling: defaultSampling });
    expect(await store.getConversationSettings("alice", "i1")).toEqual({ instructions: "", sampling, updatedAt: 6_000 });
    expect(await store.getConversationSettings("alice", "i2")).toEqual({ instructions: "Be brief.", sampling: { temperature: null, topP: 0.8, seed: null }, updatedAt: 6_000 });
    expect(await store.getConversationSettings("alice", "i3")).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 6_000 });
    expect(await store.getConversationSettings("alice", "i4")).toEqual(defaults);
    expect(await store.getRunSettings("alice", "i1")).toEqual({ user: "", conversation: "", sampling });
    // Refused (the id is taken): nothing of it is written, its settings neither.
    expect(await failure(insert("i1", { sampling: defaultSampling }))).toEqual(expect.objectContaining({ name: "StoreError", code: "conflict" }));
    expect(await store.getConversationSettings("alice", "i1")).toEqual({ instructions: "", sampling, updatedAt: 6_000 });
  });

  it("hands out copies of the sampling: changing a returned one changes nothing stored", async () => {
    (await store.setConversationSampling("alice", "c1", sampling)).sampling.seed = 1;
    (await store.getConversationSettings("alice", "c1")).sampling.seed = 2;
    (await store.getConversationSettings("alice", "c2")).sampling.seed = 3;
    (await store.getRunSettings("alice", "c1")).sampling.seed = 4;
    (await store.getRunSettings("alice", "c2")).sampling.seed = 5;
    expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "", conversation: "", sampling });
    expect(await store.getRunSettings("alice", "c2")).toEqual({ user: "", conversation: "", sampling: defaultSampling });
    expect(await store.getConversationSettings("alice", "c2")).toEqual(defaults);
  });

  it("are written with a new conversation its first run starts, in that start, and a refused start writes none", async () => {
    const question = { message: { role: "user" as const, content: "Plan a week in Kyoto" } };
    const start = { model: "demo", provider: "sim", userId: "alice", question };
    clock.set(5_000);
    await store.startRun({ ...start, id: "r1", conversationId: "n1", conversation: { title: "Kyoto", instructions: "We travel in April." } });
    expect(await store.getConversationSettings("alice", "n1")).toEqual({ instructions: "We travel in April.", sampling: defaultSampling, updatedAt: 5_000 });
    expect(await store.getRunSettings("alice", "n1")).toEqual({ user: "", conversation: "We travel in April.", sampling: defaultSampling });
    // Sampling alone, or with instructions: in the same start.
    await store.startRun({ ...start, id: "r5", conversationId: "n5", conversation: { title: "Cold", sampling: { temperature: 0, topP: null, seed: 7 } } });
    expect(await store.getRunSettings("alice", "n5")).toEqual({ user: "", conversation: "", sampling: { temperature: 0, topP: null, seed: 7 } });
    await store.startRun({ ...start, id: "r6", conversationId: "n6", conversation: { title: "Both", instructions: "Be brief.", sampling } });
    expect(await store.getConversationSettings("alice", "n6")).toEqual({ instructions: "Be brief.", sampling, updatedAt: 5_000 });
    // None given, or "": none stored.
    await store.startRun({ ...start, id: "r2", conversationId: "n2", conversation: { title: "Plain" } });
    await store.startRun({ ...start, id: "r3", conversationId: "n3", conversation: { title: "Blank", instructions: "" } });
    await store.startRun({ ...start, id: "r7", conversationId: "n7", conversation: { title: "Defaults", instructions: "", sampling: defaultSampling } });
    expect(await store.getConversationSettings("alice", "n7")).toEqual(defaults);
    expect(await store.getConversationSettings("alice", "n2")).toEqual(defaults);
    expect(await store.getConversationSettings("alice", "n3")).toEqual(defaults);
    // Refused (the run's id is taken): no conversation, so no instructions either.
    expect(await failure(store.startRun({ ...start, id: "r1", conversationId: "n4", conversation: { title: "Again", instructions: "Never stored.", sampling } }))).toEqual(
      expect.objectContaining({ name: "StoreError" }),
    );
    expect(await store.getConversation("alice", "n4")).toBeUndefined();
    expect(await store.getRunSettings("alice", "n4")).toEqual({ user: "", conversation: "", sampling: defaultSampling });
  });

  it("refuses the four calls once the store is closed, and writes nothing", async () => {
    await store.setConversationInstructions("alice", "c1", "Be brief.");
    await store.close();
    const closed = expect.objectContaining({ name: "StoreError", code: "closed" });
    expect(await failure(store.getConversationSettings("alice", "c1"))).toEqual(closed);
    expect(await failure(store.setConversationInstructions("alice", "c1", "Changed."))).toEqual(closed);
    expect(await failure(store.setConversationSampling("alice", "c1", sampling))).toEqual(closed);
    expect(await failure(store.getRunSettings("alice", "c1"))).toEqual(closed);
    if (backend.shared) expect(await (await ctx.open()).getConversationSettings("alice", "c1")).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 1_000 });
  });

  describe.runIf(backend.shared)("two processes on one database", () => {
    it("shows one process's instructions to the other; of two sets at once, one is stored whole", async () => {
      const other = await ctx.open({ now: clock.now });
      clock.set(2_000);
      await store.setConversationInstructions("alice", "c1", "From the first.");
      expect(await other.getConversationSettings("alice", "c1")).toEqual({ instructions: "From the first.", sampling: defaultSampling, updatedAt: 2_000 });
      expect(await other.getRunSettings("alice", "c1")).toEqual({ user: "", conversation: "From the first.", sampling: defaultSampling });
      clock.set(3_000);
      await Promise.all([store.setConversationInstructions("alice", "c1", "A"), other.setConversationInstructions("alice", "c1", "B")]);
      const settings = await store.getConversationSettings("alice", "c1");
      expect(["A", "B"]).toContain(settings.instructions);
      expect(settings.updatedAt).toBe(3_000);
      expect(await other.getConversationSettings("alice", "c1")).toEqual(settings);
      // Deleted by one process: the other's set is refused, and leaves nothing.
      expect(await other.deleteConversation("alice", "c1")).toBe(true);
      expect(await failure(store.setConversationInstructions("alice", "c1", "Too late."))).toEqual(notFound);
      expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "", conversation: "", sampling: defaultSampling });
    });

    it("shows one process's sampling to the other; instructions and sampling set at once by the two are both kept", async () => {
      const other = await ctx.open({ now: clock.now });
      clock.set(2_000);
      await store.setConversationSampling("alice", "c1", sampling);
      expect(await other.getConversationSettings("alice", "c1")).toEqual({ instructions: "", sampling, updatedAt: 2_000 });
      expect(await other.getRunSettings("alice", "c1")).toEqual({ user: "", conversation: "", sampling });
      // Each set writes its own columns only: neither undoes the other, whichever comes first.
      clock.set(3_000);
      const partial = { temperature: 1, topP: null, seed: null };
      await Promise.all([store.setConversationInstructions("alice", "c2", "Be brief."), other.setConversationSampling("alice", "c2", partial)]);
      expect(await store.getConversationSettings("alice", "c2")).toEqual({ instructions: "Be brief.", sampling: partial, updatedAt: 3_000 });
      // Two processes changing different settings at once: both kept, whichever comes first.
      clock.set(4_000);
      await Promise.all([store.setConversationSampling("alice", "c2", { seed: 42 }), other.setConversationSampling("alice", "c2", { topP: 0.7 })]);
      expect((await store.getConversationSettings("alice", "c2")).sampling).toEqual({ temperature: 1, topP: 0.7, seed: 42 });
      // Deleted by one process: the other's set is refused, and leaves nothing.
      expect(await other.deleteConversation("alice", "c1")).toBe(true);
      expect(await failure(store.setConversationSampling("alice", "c1", sampling))).toEqual(notFound);
      expect(await store.getRunSettings("alice", "c1")).toEqual({ user: "", conversation: "", sampling: defaultSampling });
    });
  });
});
