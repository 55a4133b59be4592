import { beforeEach, describe, expect, it } from "vitest";
import { allBackends, type BackendContext, type TestStore } from "./test-support/backends.js";
import { failure, manualClock, oneQuestionInput } from "./test-support/fixtures.js";
import { describeEachBackend } from "./test-support/postgres.js";

const notFound = expect.objectContaining({ name: "StoreError", code: "not_found" });
const defaults = { instructions: "", updatedAt: null };

// A conversation's own instructions (schema v12) on every store (memory, SQLite, PostgreSQL): set and read by the
// conversation's user only, not activity, read with the user's by every run, gone with the conversation.
// The tables themselves (rows left after a delete, types, plans) are checked in sqlite.test.ts and postgres.test.ts.
describeEachBackend((backend) => `${backend.name} store: conversation settings`, allBackends, (backend) => {
  const ctx: BackendContext = backend.context();
  let store: TestStore;
  let clock: ReturnType<typeof manualClock>;
  const instructions = "Answer in French.\nYou review TypeScript: \"strict\" 🙂, 50% \\ _when_ unsure.";

  beforeEach(async () => {
    clock = manualClock();
    store = await ctx.open({ now: clock.now });
    await store.createConversation({ id: "c1", userId: "alice", title: "First" });
    await store.createConversation({ id: "c2", userId: "alice", title: "Second" });
    await store.createConversation({ id: "b1", userId: "bob", title: "Bob's" });
  });

  it("has the defaults for a conversation whose instructions were never set", async () => {
    expect(await store.getConversationSettings("alice", "c1")).toEqual(defaults);
    expect(await store.getRunInstructions("alice", "c1")).toEqual({ user: "", conversation: "" });
  });

  it("stores the instructions as given, at the store's clock, and reads them back; a later set replaces them", async () => {
    clock.set(2_000);
    expect(await store.setConversationInstructions("alice", "c1", instructions)).toEqual({ instructions, updatedAt: 2_000 });
    expect(await store.getConversationSettings("alice", "c1")).toEqual({ instructions, updatedAt: 2_000 });
    clock.set(3_000);
    expect(await store.setConversationInstructions("alice", "c1", "Be brief.")).toEqual({ instructions: "Be brief.", updatedAt: 3_000 });
    expect(await store.getConversationSettings("alice", "c1")).toEqual({ instructions: "Be brief.", updatedAt: 3_000 });
    // Each conversation's own: the user's other conversation has none.
    expect(await store.getConversationSettings("alice", "c2")).toEqual(defaults);
  });

  it("clears them with \"\", which still records when they changed", async () => {
    clock.set(2_000);
    await store.setConversationInstructions("alice", "c1", instructions);
    clock.set(4_000);
    expect(await store.setConversationInstructions("alice", "c1", "")).toEqual({ instructions: "", updatedAt: 4_000 });
    expect(await store.getConversationSettings("alice", "c1")).toEqual({ instructions: "", updatedAt: 4_000 });
    expect((await store.getRunInstructions("alice", "c1")).conversation).toBe("");
    // Cleared without ever having set any: stored, not the never-set default.
    expect(await store.setConversationInstructions("alice", "c2", "")).toEqual({ instructions: "", updatedAt: 4_000 });
    expect(await store.getConversationSettings("alice", "c2")).toEqual({ instructions: "", updatedAt: 4_000 });
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
    expect(await store.getConversationSettings("bob", "b1")).toEqual({ instructions: "Bob's rules.", updatedAt: 2_000 });
    expect(await store.getConversationSettings("alice", "c1")).toEqual(defaults);
    // Nothing was written for the missing one: a conversation made with its id has none.
    await store.createConversation({ id: "missing", userId: "alice", title: "Now here" });
    expect(await store.getConversationSettings("alice", "missing")).toEqual(defaults);
    expect((await store.getRunInstructions("alice", "missing")).conversation).toBe("");
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
    expect(await store.getRunInstructions("alice", "c1")).toEqual({ user: "", conversation: "" });
    await store.setConversationInstructions("alice", "c1", instructions);
    expect(await store.getRunInstructions("alice", "c1")).toEqual({ user: "", conversation: instructions });
    await store.setInstructions("alice", "Call me Al.");
    expect(await store.getRunInstructions("alice", "c1")).toEqual({ user: "Call me Al.", conversation: instructions });
    // A conversation without settings: the user's alone.
    expect(await store.getRunInstructions("alice", "c2")).toEqual({ user: "Call me Al.", conversation: "" });
    // Another user's instructions are not alice's, and a conversation that is not there has none.
    await store.setInstructions("bob", "Bob's way.");
    expect(await store.getRunInstructions("alice", "c2")).toEqual({ user: "Call me Al.", conversation: "" });
    expect(await store.getRunInstructions("carol", "nowhere")).toEqual({ user: "", conversation: "" });
    expect(await store.getRunInstructions("bob", "b1")).toEqual({ user: "Bob's way.", conversation: "" });
  });

  it("deletes the settings with their conversation: a new conversation with its id has none", async () => {
    clock.set(2_000);
    await store.setConversationInstructions("alice", "c1", instructions);
    await store.setConversationInstructions("alice", "c2", "Be brief.");
    await store.setInstructions("alice", "Call me Al.");
    expect(await store.deleteConversation("alice", "c1")).toBe(true);
    expect(await failure(store.getConversationSettings("alice", "c1"))).toEqual(notFound);
    expect(await store.getRunInstructions("alice", "c1")).toEqual({ user: "Call me Al.", conversation: "" });
    // Made again, by the same user or another one, it starts without any.
    await store.createConversation({ id: "c1", userId: "alice", title: "Again" });
    expect(await store.getConversationSettings("alice", "c1")).toEqual(defaults);
    expect(await store.getRunInstructions("alice", "c1")).toEqual({ user: "Call me Al.", conversation: "" });
    // The other conversation's and the user's stay.
    expect(await store.getConversationSettings("alice", "c2")).toEqual({ instructions: "Be brief.", updatedAt: 2_000 });
    expect(await store.getUserSettings("alice")).toEqual({ instructions: "Call me Al.", updatedAt: 2_000 });
  });

  it("deletes the settings of the copy an insert replaces", async () => {
    await store.insertConversation(oneQuestionInput("old"));
    await store.setConversationInstructions("alice", "old", "Old rules.");
    expect((await store.insertConversation({ ...oneQuestionInput("new"), replaces: "old" })).replaced).toBe(true);
    expect(await store.getRunInstructions("alice", "old")).toEqual({ user: "", conversation: "" });
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
    const run = await store.getRunInstructions("alice", "c1");
    run.conversation = "not stored either";
    expect(await store.getConversationSettings("alice", "c1")).toEqual({ instructions: "Be brief.", updatedAt: 1_000 });
    expect(await store.getConversationSettings("alice", "c2")).toEqual(defaults);
    expect(await store.getRunInstructions("alice", "c1")).toEqual({ user: "", conversation: "Be brief." });
  });

  it("are written with a new conversation its first run starts, in that start, and a refused start writes none", async () => {
    const question = { message: { role: "user" as const, content: "Plan a week in Kyoto" } };
    const start = { model: "demo", provider: "sim", userId: "alice", question };
    clock.set(5_000);
    await store.startRun({ ...start, id: "r1", conversationId: "n1", conversation: { title: "Kyoto", instructions: "We travel in April." } });
    expect(await store.getConversationSettings("alice", "n1")).toEqual({ instructions: "We travel in April.", updatedAt: 5_000 });
    expect(await store.getRunInstructions("alice", "n1")).toEqual({ user: "", conversation: "We travel in April." });
    // None given, or "": none stored.
    await store.startRun({ ...start, id: "r2", conversationId: "n2", conversation: { title: "Plain" } });
    await store.startRun({ ...start, id: "r3", conversationId: "n3", conversation: { title: "Blank", instructions: "" } });
    expect(await store.getConversationSettings("alice", "n2")).toEqual(defaults);
    expect(await store.getConversationSettings("alice", "n3")).toEqual(defaults);
    // Refused (the run's id is taken): no conversation, so no instructions either.
    expect(await failure(store.startRun({ ...start, id: "r1", conversationId: "n4", conversation: { title: "Again", instructions: "Never stored." } }))).toEqual(
      expect.objectContaining({ name: "StoreError" }),
    );
    expect(await store.getConversation("alice", "n4")).toBeUndefined();
    expect(await store.getRunInstructions("alice", "n4")).toEqual({ user: "", conversation: "" });
  });

  it("refuses the three calls once the store is closed, and writes nothing", async () => {
    await store.setConversationInstructions("alice", "c1", "Be brief.");
    await store.close();
    const closed = expect.objectContaining({ name: "StoreError", code: "closed" });
    expect(await failure(store.getConversationSettings("alice", "c1"))).toEqual(closed);
    expect(await failure(store.setConversationInstructions("alice", "c1", "Changed."))).toEqual(closed);
    expect(await failure(store.getRunInstructions("alice", "c1"))).toEqual(closed);
    if (backend.shared) expect(await (await ctx.open()).getConversationSettings("alice", "c1")).toEqual({ instructions: "Be brief.", updatedAt: 1_000 });
  });

  describe.runIf(backend.shared)("two processes on one database", () => {
    it("shows one process's instructions to the other; of two sets at once, one is stored whole", async () => {
      const other = await ctx.open({ now: clock.now });
      clock.set(2_000);
      await store.setConversationInstructions("alice", "c1", "From the first.");
      expect(await other.getConversationSettings("alice", "c1")).toEqual({ instructions: "From the first.", updatedAt: 2_000 });
      expect(await other.getRunInstructions("alice", "c1")).toEqual({ user: "", conversation: "From the first." });
      clock.set(3_000);
      await Promise.all([store.setConversationInstructions("alice", "c1", "A"), other.setConversationInstructions("alice", "c1", "B")]);
      const settings = await store.getConversationSettings("alice", "c1");
      expect(["A", "B"]).toContain(settings.instructions);
      expect(settings.updatedAt).toBe(3_000);
      expect(await other.getConversationSettings("alice", "c1")).toEqual(settings);
      // Deleted by one process: the other's set is refused, and leaves nothing.
      expect(await other.deleteConversation("alice", "c1")).toBe(true);
      expect(await failure(store.setConversationInstructions("alice", "c1", "Too late."))).toEqual(notFound);
      expect(await store.getRunInstructions("alice", "c1")).toEqual({ user: "", conversation: "" });
    });
  });
});
