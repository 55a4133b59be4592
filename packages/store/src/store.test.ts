import { beforeEach, describe, expect, it } from "vitest";
import type { ChatEvent, ChatMessage } from "@streamchat/core";
import { StoreError, isStoreError } from "./errors.js";
import { exportConversation } from "./export/export.js";
import { importConversation } from "./export/import.js";
import { containsFolded } from "./search.js";
import { allBackends, type BackendContext, type TestStore } from "./test-support/backends.js";
import { questionToRegenerate } from "./tree.js";
import { approvalRequestEvent, doneEvent, everyMessageVariant, failure, manualClock, runEvents, sampleUsage, tokenEvent } from "./test-support/fixtures.js";
import { describeEachBackend } from "./test-support/postgres.js";
import type { CreateRunInput, InsertConversationInput, InsertedMessage, InsertedRun, StartRunInput } from "./types.js";

const storeError = (code: string, reason?: string) =>
  expect.objectContaining(reason === undefined ? { name: "StoreError", code } : { name: "StoreError", code, reason });

// The one behaviour every store promises (memory, SQLite, PostgreSQL). Backend-only behaviour lives in
// sqlite.test.ts and postgres.test.ts. The database stores run with a 60 s flush interval unless a test asks for
// less: every read must see appends the timer has not committed.
describeEachBackend((backend) => `${backend.name} store`, allBackends, (backend) => {
  const ctx: BackendContext = backend.context();
  let store: TestStore;
  let clock: ReturnType<typeof manualClock>;

  beforeEach(async () => {
    clock = manualClock();
    store = await ctx.open({ now: clock.now });
  });

  function conversation(id: string, userId = "alice", title = `Title ${id}`) {
    return store.createConversation({ id, userId, title });
  }
  /** A run record as a run of alice's on model demo / provider sim is stored when it starts. */
  function runningRecord(fields: { id: string; conversationId: string; clientRequestId: string | null; owner: string | null; createdAt: number }) {
    return { userId: "alice", model: "demo", provider: "sim", status: "running", reason: null, usage: null, finishedAt: null, ...fields };
  }
  function run(id: string, conversationId: string, userId = "alice", clientRequestId?: string | null, extra: Partial<CreateRunInput> = {}) {
    return store.createRun({ id, conversationId, userId, model: "demo", provider: "sim", clientRequestId, ...extra });
  }
  /** Appends and commits now (a token's batch would otherwise wait for the 60 s timer). */
  async function commit(target: TestStore, runId: string, seq: number, event: ChatEvent): Promise<void> {
    const appended = target.appendEvent(runId, seq, event);
    await target.flush();
    await appended;
  }
  /** An append the test expects to fail: on a batched store its batch fails when committed. */
  async function appendFailure(target: TestStore, runId: string, seq: number, event: ChatEvent): Promise<unknown> {
    const appended = target.appendEvent(runId, seq, event);
    await target.flush().catch(() => {});
    return failure(appended);
  }

  /**
   * A stamp of setPinned or setArchived (`field`) set by bob on his conversation b1: `set` answers undefined for
   * alice on b1 (either way), for an unknown conversation and for bob on alice's a1, and changes none of them.
   */
  async function setsOnlyOwn(set: (userId: string, conversationId: string, on: boolean) => Promise<unknown>, field: "pinnedAt" | "archivedAt"): Promise<void> {
    clock.set(1_000);
    await conversation("b1", "bob");
    await conversation("a1");
    clock.set(2_000);
    await set("bob", "b1", true);
    expect(await set("alice", "b1", true)).toBeUndefined();
    expect(await set("alice", "b1", false)).toBeUndefined();
    expect(await set("alice", "missing", true)).toBeUndefined();
    expect(await set("bob", "a1", true)).toBeUndefined();
    expect(await store.getConversation("bob", "b1")).toMatchObject({ [field]: 2_000 });
    expect(await store.getConversation("alice", "a1")).toMatchObject({ [field]: null });
  }

  describe("conversations", () => {
    it("creates and reads back a conversation", async () => {
      clock.set(5_000);
      const created = await conversation("c1");
      const expected = { id: "c1", userId: "alice", title: "Title c1", createdAt: 5_000, updatedAt: 5_000, pinnedAt: null, archivedAt: null };
      expect(created).toEqual(expected);
      expect(await store.getConversation("alice", "c1")).toEqual(expected);
      expect(await store.getConversation("alice", "missing")).toBeUndefined();
    });

    it("refuses a duplicate id", async () => {
      await conversation("c1");
      expect(await failure(conversation("c1", "bob"))).toBeInstanceOf(StoreError);
      expect(await failure(conversation("c1", "bob"))).toEqual(storeError("conflict", "id"));
      expect(await store.getConversation("bob", "c1")).toBeUndefined();
    });

    it("keeps each user's conversations to that user", async () => {
      await conversation("a1", "alice", "Alice's");
      expect(await store.getConversation("bob", "a1")).toBeUndefined();
      expect(await store.listConversations("bob")).toEqual([]);
      expect(await store.renameConversation("bob", "a1", "hijacked")).toBeUndefined();
      expect(await store.setPinned("bob", "a1", true)).toBeUndefined();
      expect(await store.deleteConversation("bob", "a1")).toBe(false);
      expect(await store.searchMessages("bob", "Alice")).toEqual([]);
      expect(await failure(run("r1", "a1", "bob"))).toEqual(storeError("not_found"));
      expect((await store.getConversation("alice", "a1"))?.title).toBe("Alice's");
    });

    it("renames only while the title is still the one expected (ifTitle)", async () => {
      await conversation("c1", "alice", "Auto title");
      expect(await store.renameConversation("alice", "c1", "Generated", { ifTitle: "Something else" })).toBeUndefined();
      expect((await store.getConversation("alice", "c1"))?.title).toBe("Auto title");
      expect((await store.renameConversation("alice", "c1", "Generated", { ifTitle: "Auto title" }))?.title).toBe("Generated");
      expect((await store.getConversation("alice", "c1"))?.title).toBe("Generated");
      expect(await store.renameConversation("bob", "c1", "Hijacked", { ifTitle: "Generated" })).toBeUndefined();
      expect(await store.renameConversation("alice", "missing", "x", { ifTitle: "Generated" })).toBeUndefined();
    });

    it("renames without reordering", async () => {
      clock.set(1_000);
      await conversation("old");
      clock.set(2_000);
      await conversation("new");
      clock.set(3_000);
      expect(await store.renameConversation("alice", "old", "Renamed")).toEqual({
        id: "old",
        userId: "alice",
        title: "Renamed",
        createdAt: 1_000,
        updatedAt: 1_000,
        pinnedAt: null,
        archivedAt: null,
      });
      expect((await store.listConversations("alice")).map((c) => [c.id, c.title])).toEqual([
        ["new", "Title new"],
        ["old", "Renamed"],
      ]);
    });

    it("lists newest activity first; appending a message bumps updatedAt", async () => {
      for (const [i, id] of ["c1", "c2", "c3"].entries()) {
        clock.set(1_000 * (i + 1));
        await conversation(id);
      }
      await conversation("b1", "bob");
      expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["c3", "c2", "c1"]);

      clock.set(10_000);
      await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "hi" } });
      const listed = await store.listConversations("alice");
      expect(listed.map((c) => c.id)).toEqual(["c1", "c3", "c2"]);
      expect(listed[0]).toEqual({ id: "c1", userId: "alice", title: "Title c1", createdAt: 1_000, updatedAt: 10_000, pinnedAt: null, archivedAt: null });
      expect((await store.listConversations("alice", { limit: 2 })).map((c) => c.id)).toEqual(["c1", "c3"]);
      expect((await store.listConversations("bob")).map((c) => c.id)).toEqual(["b1"]);
    });

    it("breaks updatedAt ties by creation, newest first", async () => {
      await conversation("first");
      await conversation("second");
      expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["second", "first"]);
    });

    it("pages through the list after a conversation: pinned ones, then the rest, ties by creation, to the end", async () => {
      // Seven conversations: two pinned, two sharing one updatedAt (created one after the other), one of bob's.
      for (const [i, id] of ["c1", "c2", "c3", "c4", "c5"].entries()) {
        clock.set(1_000 * (i + 1));
        await conversation(id);
      }
      clock.set(3_000);
      await conversation("c3b");
      await conversation("b1", "bob");
      await store.setPinned("alice", "c2", true, 9_000);
      await store.setPinned("alice", "c4", true, 9_000);
      const whole = (await store.listConversations("alice")).map((c) => c.id);
      expect(whole).toEqual(["c4", "c2", "c5", "c3b", "c3", "c1"]);

      for (const limit of [1, 2, 4]) {
        const paged: string[] = [];
        let page = await store.listConversations("alice", { limit });
        while (page.length > 0) {
          paged.push(...page.map((c) => c.id));
          page = await store.listConversations("alice", { limit, after: page.at(-1)!.id });
        }
        expect(paged, `pages of ${limit}`).toEqual(whole);
      }
      // From where the conversation is now: new activity moves it, and the page after it with it.
      clock.set(20_000);
      await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "hi" } });
      expect((await store.listConversations("alice", { after: "c2" })).map((c) => c.id)).toEqual(["c1", "c5", "c3b", "c3"]);
      expect((await store.listConversations("alice", { after: "c3" })).map((c) => c.id)).toEqual([]);
      // Only the user's own conversation is a place in their list.
      for (const after of ["b1", "nope"]) {
        expect(isStoreError(await failure(store.listConversations("alice", { after })), "not_found"), after).toBe(true);
      }
    });

    describe("pinning", () => {
      const ids = async (options?: { limit?: number }) => (await store.listConversations("alice", options)).map((c) => c.id);

      it("pins at the store's clock (or at the time given) and unpins, as get and list then show", async () => {
        clock.set(1_000);
        await conversation("c1");
        clock.set(2_000);
        const pinned = await store.setPinned("alice", "c1", true);
        const expected = { id: "c1", userId: "alice", title: "Title c1", createdAt: 1_000, updatedAt: 1_000, pinnedAt: 2_000, archivedAt: null };
        expect(pinned).toEqual(expected);
        expect(await store.getConversation("alice", "c1")).toEqual(expected);
        expect(await store.listConversations("alice")).toEqual([expected]);

        expect(await store.setPinned("alice", "c1", false)).toEqual({ ...expected, pinnedAt: null });
        expect(await store.getConversation("alice", "c1")).toEqual({ ...expected, pinnedAt: null });
        expect(await store.listConversations("alice")).toEqual([{ ...expected, pinnedAt: null }]);
        // Unpinning what is not pinned changes nothing.
        expect(await store.setPinned("alice", "c1", false)).toEqual({ ...expected, pinnedAt: null });

        expect(await store.setPinned("alice", "c1", true, 1_500)).toEqual({ ...expected, pinnedAt: 1_500 });
        expect(await store.getConversation("alice", "c1")).toEqual({ ...expected, pinnedAt: 1_500 });
      });

      it("keeps another user's conversation as it is: undefined for it, and for an unknown one", async () => {
        await setsOnlyOwn((userId, id, on) => store.setPinned(userId, id, on), "pinnedAt");
        expect(await store.listConversations("alice")).toEqual([expect.objectContaining({ id: "a1", pinnedAt: null })]);
      });

      it("is not activity: updatedAt, the title and the order among the others stay", async () => {
        clock.set(1_000);
        await conversation("c1");
        clock.set(2_000);
        await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "hi" } });
        clock.set(3_000);
        await conversation("c2");
        clock.set(9_000);
        expect(await store.setPinned("alice", "c1", true)).toMatchObject({ createdAt: 1_000, updatedAt: 2_000, title: "Title c1", pinnedAt: 9_000 });
        clock.set(9_500);
        expect(await store.setPinned("alice", "c1", false)).toMatchObject({ updatedAt: 2_000, pinnedAt: null });
        expect(await store.getConversation("alice", "c1")).toMatchObject({ updatedAt: 2_000 });
        expect(await ids()).toEqual(["c2", "c1"]);
        // The pin stays across what is activity, and renames.
        await store.setPinned("alice", "c1", true);
        clock.set(10_000);
        await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "again" } });
        await store.renameConversation("alice", "c1", "Renamed");
        expect(await store.getConversation("alice", "c1")).toMatchObject({ title: "Renamed", updatedAt: 10_000, pinnedAt: 9_500 });
      });

      it("keeps the first pinnedAt when pinned again (another tab's pin does not reorder the pinned ones)", async () => {
        await conversation("c1");
        await conversation("c2");
        clock.set(2_000);
        await store.setPinned("alice", "c1", true);
        clock.set(3_000);
        await store.setPinned("alice", "c2", true);
        expect(await ids()).toEqual(["c2", "c1"]);
        clock.set(4_000);
        expect(await store.setPinned("alice", "c1", true)).toMatchObject({ pinnedAt: 2_000 });
        expect(await store.setPinned("alice", "c1", true, 5_000)).toMatchObject({ pinnedAt: 2_000 });
        expect(await store.getConversation("alice", "c1")).toMatchObject({ pinnedAt: 2_000 });
        expect(await ids()).toEqual(["c2", "c1"]);
      });

      it("lists the pinned first, most recently pinned first, then newest activity; the limit counts both", async () => {
        for (const [i, id] of ["c1", "c2", "c3", "c4", "c5"].entries()) {
          clock.set(1_000 * (i + 1));
          await conversation(id);
        }
        await conversation("b1", "bob");
        clock.set(10_000);
        await store.setPinned("alice", "c2", true);
        clock.set(11_000);
        await store.setPinned("alice", "c1", true);
        await store.setPinned("bob", "b1", true);
        expect(await ids()).toEqual(["c1", "c2", "c5", "c4", "c3"]);
        // Newer activity does not push a pinned conversation down, nor out of a page.
        clock.set(12_000);
        await store.appendMessage({ conversationId: "c3", runId: null, message: { role: "user", content: "hi" } });
        expect(await ids()).toEqual(["c1", "c2", "c3", "c5", "c4"]);
        expect(await ids({ limit: 3 })).toEqual(["c1", "c2", "c3"]);
        expect(await ids({ limit: 1 })).toEqual(["c1"]);
        // Activity does not reorder the pinned ones either: when they were pinned does.
        await store.appendMessage({ conversationId: "c2", runId: null, message: { role: "user", content: "hi" } });
        expect(await ids()).toEqual(["c1", "c2", "c3", "c5", "c4"]);
        // Pinned at the same moment: newest activity first, then newest created.
        clock.set(13_000);
        await store.setPinned("alice", "c4", true);
        await store.setPinned("alice", "c5", true);
        expect(await ids({ limit: 2 })).toEqual(["c5", "c4"]);
        clock.set(14_000);
        await store.appendMessage({ conversationId: "c4", runId: null, message: { role: "user", content: "hi" } });
        expect(await ids()).toEqual(["c4", "c5", "c1", "c2", "c3"]);
        // Unpinned, a conversation goes back to its place by activity.
        await store.setPinned("alice", "c4", false);
        await store.setPinned("alice", "c1", false);
        expect(await ids()).toEqual(["c5", "c2", "c4", "c3", "c1"]);
        expect((await store.listConversations("bob")).map((c) => [c.id, c.pinnedAt])).toEqual([["b1", 11_000]]);
      });

      it("deletes a pinned conversation; a new one with its id is not pinned", async () => {
        await conversation("c1");
        await conversation("keep");
        await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "pinned words" } });
        await store.setPinned("alice", "c1", true);
        await store.setPinned("alice", "keep", true);
        expect(await store.deleteConversation("alice", "c1")).toBe(true);
        expect(await store.getConversation("alice", "c1")).toBeUndefined();
        expect(await store.setPinned("alice", "c1", true)).toBeUndefined();
        expect(await ids()).toEqual(["keep"]);
        expect(await store.searchMessages("alice", "pinned")).toEqual([]);
        expect(await conversation("c1")).toMatchObject({ pinnedAt: null });
        expect((await store.listConversations("alice")).map((c) => [c.id, c.pinnedAt === null])).toEqual([
          ["keep", false],
          ["c1", true],
        ]);
      });

      it("refuses a pin time that is not a safe integer >= 0 with a RangeError, changing nothing", async () => {
        await conversation("c1");
        for (const at of [-1, 1.5, Number.NaN, 2 ** 53]) {
          expect(await failure(store.setPinned("alice", "c1", true, at)), String(at)).toBeInstanceOf(RangeError);
        }
        expect(await store.getConversation("alice", "c1")).toMatchObject({ pinnedAt: null });
      });

      it("answers with the pin on startRun of a pinned conversation", async () => {
        await conversation("c1");
        clock.set(2_000);
        await store.setPinned("alice", "c1", true);
        clock.set(3_000);
        const started = await store.startRun({ id: "r1", conversationId: "c1", userId: "alice", model: "demo", provider: "sim", question: { message: { role: "user", content: "hi" } } });
        expect(started.conversation).toEqual({ id: "c1", userId: "alice", title: "Title c1", createdAt: 1_000, updatedAt: 3_000, pinnedAt: 2_000, archivedAt: null });
        const fresh = await store.startRun({ id: "r2", conversationId: "c2", userId: "alice", model: "demo", provider: "sim", conversation: { title: "New" }, question: { message: { role: "user", content: "hi" } } });
        expect(fresh.conversation).toEqual({ id: "c2", userId: "alice", title: "New", createdAt: 3_000, updatedAt: 3_000, pinnedAt: null, archivedAt: null });
      });
    });

    describe("archiving", () => {
      const ids = async (options?: { limit?: number; after?: string; archived?: boolean }) =>
        (await store.listConversations("alice", options)).map((c) => c.id);
      const question = { message: { role: "user" as const, content: "hi" } };

      it("makes a conversation not archived: created, started with a run, or inserted without an archivedAt", async () => {
        expect(await conversation("c1")).toMatchObject({ archivedAt: null });
        expect(await store.getConversation("alice", "c1")).toMatchObject({ archivedAt: null });
        const started = await store.startRun({ id: "r1", conversationId: "c2", userId: "alice", model: "demo", provider: "sim", conversation: { title: "New" }, question });
        expect(started.conversation).toMatchObject({ archivedAt: null });
        expect(await store.getConversation("alice", "c2")).toMatchObject({ archivedAt: null });
        expect(await ids()).toEqual(["c2", "c1"]);
        expect(await ids({ archived: true })).toEqual([]);
      });

      it("archives at the store's clock (or at the time given) and brings back, as get and both lists then show", async () => {
        clock.set(1_000);
        await conversation("c1");
        clock.set(2_000);
        const archived = await store.setArchived("alice", "c1", true);
        const expected = { id: "c1", userId: "alice", title: "Title c1", createdAt: 1_000, updatedAt: 1_000, pinnedAt: null, archivedAt: 2_000 };
        expect(archived).toEqual(expected);
        expect(await store.getConversation("alice", "c1")).toEqual(expected);
        expect(await store.listConversations("alice")).toEqual([]);
        expect(await store.listConversations("alice", { archived: false })).toEqual([]);
        expect(await store.listConversations("alice", { archived: true })).toEqual([expected]);

        const back = { ...expected, archivedAt: null };
        expect(await store.setArchived("alice", "c1", false)).toEqual(back);
        expect(await store.getConversation("alice", "c1")).toEqual(back);
        expect(await store.listConversations("alice")).toEqual([back]);
        expect(await store.listConversations("alice", { archived: true })).toEqual([]);
        // Bringing back what is not archived changes nothing.
        expect(await store.setArchived("alice", "c1", false)).toEqual(back);

        expect(await store.setArchived("alice", "c1", true, 1_500)).toEqual({ ...expected, archivedAt: 1_500 });
        expect(await store.getConversation("alice", "c1")).toEqual({ ...expected, archivedAt: 1_500 });
      });

      it("keeps the first archivedAt when archived again", async () => {
        await conversation("c1");
        clock.set(2_000);
        await store.setArchived("alice", "c1", true);
        clock.set(4_000);
        expect(await store.setArchived("alice", "c1", true)).toMatchObject({ archivedAt: 2_000 });
        expect(await store.setArchived("alice", "c1", true, 5_000)).toMatchObject({ archivedAt: 2_000 });
        expect(await store.getConversation("alice", "c1")).toMatchObject({ archivedAt: 2_000 });
        // Brought back and archived again: a new time.
        await store.setArchived("alice", "c1", false);
        expect(await store.setArchived("alice", "c1", true)).toMatchObject({ archivedAt: 4_000 });
      });

      it("is not activity: updatedAt, the title and the pin stay, and the pin is there again when brought back", async () => {
        clock.set(1_000);
        await conversation("c1");
        clock.set(2_000);
        await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "hi" } });
        clock.set(3_000);
        await conversation("c2");
        await store.setPinned("alice", "c1", true, 2_500);
        clock.set(9_000);
        expect(await store.setArchived("alice", "c1", true)).toEqual({
          id: "c1",
          userId: "alice",
          title: "Title c1",
          createdAt: 1_000,
          updatedAt: 2_000,
          pinnedAt: 2_500,
          archivedAt: 9_000,
        });
        clock.set(9_500);
        expect(await store.setArchived("alice", "c1", false)).toMatchObject({ updatedAt: 2_000, pinnedAt: 2_500, archivedAt: null });
        expect(await ids()).toEqual(["c1", "c2"]);
        // The archivedAt stays across what is activity, renames and pins.
        await store.setArchived("alice", "c1", true);
        clock.set(10_000);
        await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "again" } });
        await store.renameConversation("alice", "c1", "Renamed");
        await store.setPinned("alice", "c1", false);
        expect(await store.getConversation("alice", "c1")).toMatchObject({ title: "Renamed", updatedAt: 10_000, pinnedAt: null, archivedAt: 9_500 });
        expect(await ids()).toEqual(["c2"]);
      });

      it("keeps another user's conversation as it is: undefined for it, and for an unknown one", async () => {
        await setsOnlyOwn((userId, id, on) => store.setArchived(userId, id, on), "archivedAt");
        expect(await ids()).toEqual(["a1"]);
        expect(await ids({ archived: true })).toEqual([]);
        expect((await store.listConversations("bob", { archived: true })).map((c) => c.id)).toEqual(["b1"]);
      });

      it("refuses an archive time that is not a safe integer >= 0 with a RangeError, changing nothing", async () => {
        await conversation("c1");
        for (const at of [-1, 1.5, Number.NaN, 2 ** 53]) {
          expect(await failure(store.setArchived("alice", "c1", true, at)), String(at)).toBeInstanceOf(RangeError);
        }
        expect(await store.getConversation("alice", "c1")).toMatchObject({ archivedAt: null });
      });

      it("lists the archived ones only when asked for them alone, pinned first in both lists; the limit counts the list's own", async () => {
        for (const [i, id] of ["c1", "c2", "c3", "c4", "c5", "c6"].entries()) {
          clock.set(1_000 * (i + 1));
          await conversation(id);
        }
        await conversation("b1", "bob");
        clock.set(10_000);
        await store.setPinned("alice", "c2", true);
        await store.setPinned("alice", "c5", true, 9_000);
        await store.setArchived("alice", "c3", true);
        await store.setArchived("alice", "c5", true);
        await store.setArchived("alice", "c1", true);
        await store.setArchived("bob", "b1", true);
        expect(await ids()).toEqual(["c2", "c6", "c4"]);
        expect(await ids({ archived: false })).toEqual(["c2", "c6", "c4"]);
        // The archived ones in the same order: pinned first, then by activity (not by when they were archived).
        expect(await ids({ archived: true })).toEqual(["c5", "c3", "c1"]);
        expect(await ids({ archived: true, limit: 2 })).toEqual(["c5", "c3"]);
        expect(await ids({ limit: 1 })).toEqual(["c2"]);
        clock.set(11_000);
        await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "hi" } });
        expect(await ids({ archived: true })).toEqual(["c5", "c1", "c3"]);
        // Brought back, a conversation is in the list by its pin and activity again.
        await store.setArchived("alice", "c5", false);
        await store.setArchived("alice", "c1", false);
        expect(await ids()).toEqual(["c2", "c5", "c1", "c6", "c4"]);
        expect(await ids({ archived: true })).toEqual(["c3"]);
        expect((await store.listConversations("bob")).map((c) => c.id)).toEqual([]);
      });

      it("pages through each list after a conversation of it; one archived or brought back since ends the page", async () => {
        // Eight conversations: four archived (one pinned), four not (one pinned), two sharing one updatedAt in each.
        for (const [i, id] of ["a1", "a2", "a3", "l1", "l2", "l3"].entries()) {
          clock.set(1_000 * (i + 1));
          await conversation(id);
        }
        clock.set(2_000);
        await conversation("a2b");
        clock.set(5_000);
        await conversation("l2b");
        await conversation("b1", "bob");
        for (const id of ["a1", "a2", "a3", "a2b"]) await store.setArchived("alice", id, true, 50_000);
        await store.setArchived("bob", "b1", true);
        await store.setPinned("alice", "a1", true, 9_000);
        await store.setPinned("alice", "l1", true, 9_000);
        const listed = await ids();
        const archived = await ids({ archived: true });
        expect(listed).toEqual(["l1", "l3", "l2b", "l2"]);
        expect(archived).toEqual(["a1", "a3", "a2b", "a2"]);

        for (const [kind, whole] of [[false, listed], [true, archived]] as const) {
          for (const limit of [1, 2, 3]) {
            const paged: string[] = [];
            let page = await ids({ limit, archived: kind });
            while (page.length > 0) {
              paged.push(...page);
              page = await ids({ limit, archived: kind, after: page.at(-1)! });
            }
            expect(paged, `archived: ${kind}, pages of ${limit}`).toEqual(whole);
          }
        }
        // An anchor of the other list (archived or brought back since the page before): an empty page, not an error.
        expect(await ids({ after: "a3" })).toEqual([]);
        expect(await ids({ after: "a1" })).toEqual([]);
        expect(await ids({ archived: true, after: "l3" })).toEqual([]);
        expect(await ids({ archived: true, after: "l1" })).toEqual([]);
        await store.setArchived("alice", "l3", true);
        expect(await ids({ after: "l3" })).toEqual([]);
        expect(await ids({ archived: true, after: "l3" })).toEqual(["a3", "a2b", "a2"]);
        await store.setArchived("alice", "a1", false);
        expect(await ids({ archived: true, after: "a1" })).toEqual([]);
        expect(await ids()).toEqual(["l1", "a1", "l2b", "l2"]);
        expect(await ids({ after: "a1" })).toEqual(["l2b", "l2"]);
        // Only the user's own conversation is a place in either list.
        for (const archivedList of [false, true]) {
          for (const after of ["b1", "nope"]) {
            const error = await failure(store.listConversations("alice", { after, archived: archivedList }));
            expect(isStoreError(error, "not_found"), `${after}, archived: ${archivedList}`).toBe(true);
          }
        }
      });

      it("keeps an archived conversation whole: it opens, its messages are found, a run is asked in it and it stays archived", async () => {
        await conversation("c1");
        await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "archived words" } });
        clock.set(2_000);
        await store.setArchived("alice", "c1", true);
        expect((await store.activePath("c1")).map((m) => m.message.content)).toEqual(["archived words"]);
        expect((await store.searchMessages("alice", "archived")).map((hit) => hit.conversationId)).toEqual(["c1"]);
        clock.set(3_000);
        const started = await store.startRun({ id: "r1", conversationId: "c1", userId: "alice", model: "demo", provider: "sim", question });
        expect(started.conversation).toEqual({ id: "c1", userId: "alice", title: "Title c1", createdAt: 1_000, updatedAt: 3_000, pinnedAt: null, archivedAt: 2_000 });
        expect(await ids({ archived: true })).toEqual(["c1"]);
        expect(await ids()).toEqual([]);
      });

      it("deletes an archived conversation; a new one with its id is not archived", async () => {
        await conversation("c1");
        await store.setArchived("alice", "c1", true);
        expect(await store.deleteConversation("alice", "c1")).toBe(true);
        expect(await store.setArchived("alice", "c1", false)).toBeUndefined();
        expect(await ids({ archived: true })).toEqual([]);
        expect(await conversation("c1")).toMatchObject({ archivedAt: null });
        expect(await ids()).toEqual(["c1"]);
      });
    });

    it("deletes a conversation with its messages, runs and events, queued ones included", async () => {
      await conversation("c1");
      await conversation("keep");
      await store.appendMessage({ conversationId: "c1", runId: "r1", message: { role: "user", content: "doomed" } });
      await run("r1", "c1", "alice", "req-1");
      await commit(store, "r1", 1, tokenEvent("r1", "committed"));
      const queued = store.appendEvent("r1", 2, tokenEvent("r1", "queued, not yet committed"));
      await run("r2", "keep");
      void store.appendEvent("r2", 1, tokenEvent("r2", "kept"));

      expect(await store.deleteConversation("alice", "c1")).toBe(true);
      expect(await store.getConversation("alice", "c1")).toBeUndefined();
      expect(await store.listMessages("c1")).toEqual([]);
      expect(await store.getRun("r1")).toBeUndefined();
      expect(await store.findRunByClientRequestId("alice", "req-1")).toBeUndefined();
      expect(await store.readEvents("r1")).toEqual([]);
      expect(await store.lastSeq("r1")).toBe(0);
      expect((await store.listRunningRuns()).map((r) => r.id)).toEqual(["r2"]);
      expect(await store.searchMessages("alice", "doomed")).toEqual([]);
      if (backend.batched) expect(await failure(queued)).toEqual(storeError("not_found"));
      expect(await appendFailure(store, "r1", 3, tokenEvent("r1", "late"))).toEqual(storeError("not_found"));
      expect(await store.deleteConversation("alice", "c1")).toBe(false);
      // The other conversation is untouched.
      await store.flush();
      expect((await store.readEvents("r2")).map((e) => e.seq)).toEqual([1]);
      expect(await ctx.committedSeqs("r2")).toEqual([1]);
      expect((await store.getRun("r2"))?.status).toBe("running");
      expect(await store.countRunningRuns("alice")).toBe(1);
      // Its id, run id and client request id are free again.
      await conversation("c1");
      expect(await run("r1", "c1", "alice", "req-1")).toMatchObject({ status: "running", clientRequestId: "req-1" });
      expect((await store.listRuns("c1")).map((r) => r.id)).toEqual(["r1"]);
    });
  });

  describe("messages", () => {
    it("round-trips every ChatMessage variant exactly, in order", async () => {
      await conversation("c1");
      const stored = [];
      for (const [i, message] of everyMessageVariant.entries()) {
        clock.set(2_000 + i);
        stored.push(await store.appendMessage({ conversationId: "c1", runId: i === 0 ? null : "r1", message }));
      }
      const ids = stored.map((m) => m.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(ids.length);

      const expected = everyMessageVariant.map((message, i) => ({
        id: ids[i],
        conversationId: "c1",
        parentId: i === 0 ? null : ids[i - 1],
        runId: i === 0 ? null : "r1",
        message,
        createdAt: 2_000 + i,
      }));
      expect(stored).toEqual(expected);
      expect(await store.listMessages("c1")).toEqual(expected);
      expect(await store.activePath("c1")).toEqual(expected); // one branch: the path is the whole tree, no versions
      // Exact shape: no fields gained or lost, keys in order (toEqual ignores undefined-valued keys and key order).
      expect(JSON.stringify((await store.listMessages("c1")).map((m) => m.message))).toBe(JSON.stringify(everyMessageVariant));
    });

    it("keeps text no database column type holds as is: NUL, lone surrogates, astral characters", async () => {
      await conversation("c1");
      const odd: ChatMessage[] = [
        { role: "user", content: "nul\u0000inside" },
        { role: "assistant", content: "lone \ud800 high, lone \udc00 low, pair 😀, replacement \ufffd" },
        { role: "tool", toolCallId: "t\u0000", toolName: "calculator", content: '{"x":"\\u0000"}' },
      ];
      for (const message of odd) await store.appendMessage({ conversationId: "c1", runId: null, message });
      expect((await store.listMessages("c1")).map((m) => m.message)).toEqual(odd);
    });

    it("stores a copy: later changes to the caller's object do not leak in", async () => {
      await conversation("c1");
      const message = { role: "assistant" as const, content: "v1", toolCalls: [{ id: "t", name: "calculator", args: { x: 1 } }] };
      await store.appendMessage({ conversationId: "c1", runId: null, message });
      message.content = "v2";
      message.toolCalls[0]!.args.x = 2;
      expect((await store.listMessages("c1"))[0]?.message).toEqual({
        role: "assistant",
        content: "v1",
        toolCalls: [{ id: "t", name: "calculator", args: { x: 1 } }],
      });
    });

    it("refuses a message for an unknown conversation", async () => {
      const appended = store.appendMessage({ conversationId: "nope", runId: null, message: { role: "user", content: "x" } });
      expect(await failure(appended)).toEqual(storeError("not_found"));
    });

    it("hands out increasing ids, never reused, across conversations", async () => {
      await conversation("c1");
      await conversation("c2");
      const ids = [];
      for (const [i, conversationId] of ["c1", "c2", "c1", "c2"].entries()) {
        ids.push((await store.appendMessage({ conversationId, runId: null, message: { role: "user", content: `m${i}` } })).id);
      }
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(4);
      await store.deleteConversation("alice", "c1");
      await conversation("c1");
      const next = await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "again" } });
      expect(next.id).toBeGreaterThan(Math.max(...ids));
      expect(next.parentId).toBeNull(); // the re-created conversation starts a new tree
    });
  });

  describe("message tree", () => {
    type Role = "user" | "assistant";
    /** Appends a message (under the head unless `parentId` says otherwise) and returns its id. */
    async function say(role: Role, content: string, options: { parentId?: number | null; runId?: string | null; conversationId?: string } = {}) {
      const message: ChatMessage = { role, content };
      const input = { conversationId: options.conversationId ?? "c1", runId: options.runId ?? null, message };
      return (await store.appendMessage(options.parentId === undefined ? input : { ...input, parentId: options.parentId })).id;
    }
    const contents = async (conversationId = "c1") => (await store.activePath(conversationId)).map((m) => m.message.content);
    const versions = async (conversationId = "c1") =>
      (await store.activePath(conversationId)).map((m) => (m.versions ? [m.message.content, m.versions] : m.message.content));

    beforeEach(async () => {
      await conversation("c1");
    });

    it("appends under the head: a linear conversation is a chain, and the path is all of it", async () => {
      expect(await store.activePath("c1")).toEqual([]);
      const u1 = await say("user", "u1");
      const a1 = await say("assistant", "a1");
      const u2 = await say("user", "u2");
      const tree = await store.listMessages("c1");
      expect(tree.map((m) => [m.id, m.parentId])).toEqual([
        [u1, null],
        [a1, u1],
        [u2, a1],
      ]);
      expect(await store.activePath("c1")).toEqual(tree);
      expect(await store.activePath("unknown")).toEqual([]);
    });

    it("edits a user message as a new sibling: the old branch stays, the path follows the new one", async () => {
      const u1 = await say("user", "u1");
      const a1 = await say("assistant", "a1");
      const u2 = await say("user", "u2");
      await say("assistant", "a2");
      clock.set(50_000);
      // chat.edit of u2: a sibling under u2's parent, then the new run's answer under it (the default parent).
      const edited = await store.appendMessage({ conversationId: "c1", runId: "r2", message: { role: "user", content: "u2 edited" }, parentId: a1 });
      expect(edited).toMatchObject({ parentId: a1, runId: "r2", createdAt: 50_000 });
      await say("assistant", "a2 for the edit");
      expect(await versions()).toEqual(["u1", "a1", ["u2 edited", { index: 2, count: 2, siblingIds: [u2, edited.id] }], "a2 for the edit"]);
      expect((await store.listMessages("c1")).map((m) => m.message.content)).toEqual(["u1", "a1", "u2", "a2", "u2 edited", "a2 for the edit"]);
      // The model's context is the path: the old branch is not in it.
      expect((await store.activePath("c1")).map((m) => m.parentId)).toEqual([null, u1, a1, edited.id]);
    });

    it("edits a first message as a sibling without a parent: versions on first messages too", async () => {
      const first = await say("user", "first");
      await say("assistant", "answer");
      const second = await say("user", "first, edited", { parentId: null });
      const third = await say("user", "first, edited again", { parentId: null });
      expect(await versions()).toEqual([["first, edited again", { index: 3, count: 3, siblingIds: [first, second, third] }]]);
      await store.switchBranch("c1", second);
      expect(await versions()).toEqual([["first, edited", { index: 2, count: 3, siblingIds: [first, second, third] }]]);
      await store.switchBranch("c1", first);
      expect(await versions()).toEqual([["first", { index: 1, count: 3, siblingIds: [first, second, third] }], "answer"]);
    });

    it("regenerates an answer with tool calls: the new answer is a version of the chain's first message", async () => {
      const question = await say("user", "time in Tokyo?", { runId: "r1" });
      const call = await store.appendMessage({
        conversationId: "c1",
        runId: "r1",
        message: { role: "assistant", content: "", toolCalls: [{ id: "t1", name: "current_time", args: { timeZone: "Asia/Tokyo" } }] },
      });
      await store.appendMessage({ conversationId: "c1", runId: "r1", message: { role: "tool", toolCallId: "t1", toolName: "current_time", content: "{}" } });
      const final = await say("assistant", "It is 14:05.", { runId: "r1" });
      const path = await store.activePath("c1");
      // The UI may ask to regenerate any message of the answer: the question is the user message before it.
      expect(questionToRegenerate(path, final)?.id).toBe(question);
      expect(questionToRegenerate(path, call.id)?.id).toBe(question);
      expect(questionToRegenerate(path)?.id).toBe(question);
      expect(questionToRegenerate(path, question)?.id).toBe(question);
      expect(questionToRegenerate(path, 123_456)).toBeUndefined();

      // chat.regenerate: rewind to the question (the model's context ends there), the new run's answer goes under it.
      await store.rewindActivePath("c1", question);
      expect(await contents()).toEqual(["time in Tokyo?"]);
      expect((await store.activePath("c1"))[0]?.versions).toBeUndefined();
      const again = await say("assistant", "Tokyo: 14:06.", { runId: "r2" });
      expect(await versions()).toEqual(["time in Tokyo?", ["Tokyo: 14:06.", { index: 2, count: 2, siblingIds: [call.id, again] }]]);
      // The versions navigation on the first answer message switches the whole chain.
      const back = await store.switchBranch("c1", call.id);
      expect(back.map((m) => m.message.role)).toEqual(["user", "assistant", "tool", "assistant"]);
      expect(back[1]?.versions).toEqual({ index: 1, count: 2, siblingIds: [call.id, again] });
      expect(back.slice(2).map((m) => m.versions)).toEqual([undefined, undefined]);
      expect(back.map((m) => m.runId)).toEqual(["r1", "r1", "r1", "r1"]);
    });

    it("switches through user and assistant messages, continuing down the most recently created children", async () => {
      const u1 = await say("user", "u1");
      const a1 = await say("assistant", "a1");
      const u2 = await say("user", "u2");
      const a2 = await say("assistant", "a2");
      const u3 = await say("user", "u3");
      await say("user", "u2 v2", { parentId: a1 });
      await say("assistant", "a2 for v2");
      await say("user", "u2 v3", { parentId: a1 }); // the newest version of u2, unanswered
      const u2v4 = await say("user", "u2 v4", { parentId: a1 });
      const a2v4 = await say("assistant", "a2 for v4");
      await store.rewindActivePath("c1", u2v4);
      await say("assistant", "a2 for v4, regenerated"); // newer than a2v4
      clock.set(90_000);
      const before = await store.getConversation("alice", "c1");

      // Through an assistant message high up: down the newest children (u2 v4, then its newest answer).
      const switched = await store.switchBranch("c1", a1);
      expect(switched.map((m) => m.message.content)).toEqual(["u1", "a1", "u2 v4", "a2 for v4, regenerated"]);
      expect(await store.activePath("c1")).toEqual(switched);
      // Through a user message: its own branch, down to the leaf.
      expect((await store.switchBranch("c1", u2)).map((m) => m.message.content)).toEqual(["u1", "a1", "u2", "a2", "u3"]);
      expect((await store.activePath("c1")).at(-1)?.id).toBe(u3);
      // Through the older answer of a regenerate.
      expect(await versions()).toEqual(["u1", "a1", ["u2", { index: 1, count: 4, siblingIds: expect.any(Array) }], "a2", "u3"]);
      expect((await store.switchBranch("c1", a2v4)).map((m) => m.message.content)).toEqual(["u1", "a1", "u2 v4", "a2 for v4"]);
      expect((await store.activePath("c1")).at(-1)?.versions).toMatchObject({ index: 1, count: 2 });
      // Through a leaf: the leaf itself; through the first message: everything below its newest children.
      expect((await store.switchBranch("c1", a2)).at(-1)?.id).toBe(u3);
      expect((await store.switchBranch("c1", u1)).map((m) => m.message.content)).toEqual(["u1", "a1", "u2 v4", "a2 for v4, regenerated"]);
      // Switching is not activity.
      expect(await store.getConversation("alice", "c1")).toEqual(before);
    });

    it("appends after a switch at the end of the active path", async () => {
      await say("user", "u1");
      const a1 = await say("assistant", "a1");
      const u2 = await say("user", "u2");
      const a2 = await say("assistant", "a2");
      await say("user", "u2 edited", { parentId: a1 });
      await say("assistant", "a2 edited");
      await store.switchBranch("c1", u2);
      const u3 = await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "u3" } });
      expect(u3.parentId).toBe(a2);
      expect(await contents()).toEqual(["u1", "a1", "u2", "a2", "u3"]);
    });

    it("rewinds to an empty path: the next append starts a new first message", async () => {
      const first = await say("user", "first");
      await say("assistant", "answer");
      await store.rewindActivePath("c1", null);
      expect(await store.activePath("c1")).toEqual([]);
      const other = await say("user", "another start");
      expect(await versions()).toEqual([["another start", { index: 2, count: 2, siblingIds: [first, other] }]]);
    });

    it("refuses parents, switches and rewinds outside the conversation, changing nothing", async () => {
      await conversation("c2");
      const mine = await say("user", "mine");
      const theirs = await say("user", "theirs", { conversationId: "c2" });
      const before = await store.listMessages("c1");
      expect(await failure(say("assistant", "x", { parentId: theirs }))).toEqual(storeError("not_found"));
      expect(await failure(say("assistant", "x", { parentId: theirs + 1000 }))).toEqual(storeError("not_found"));
      expect(await failure(say("assistant", "x", { conversationId: "nope", parentId: null }))).toEqual(storeError("not_found"));
      expect(await failure(store.switchBranch("c1", theirs))).toEqual(storeError("not_found"));
      expect(await failure(store.switchBranch("nope", mine))).toEqual(storeError("not_found"));
      expect(await failure(store.rewindActivePath("c1", theirs))).toEqual(storeError("not_found"));
      expect(await failure(store.rewindActivePath("nope", null))).toEqual(storeError("not_found"));
      expect(await store.listMessages("c1")).toEqual(before);
      expect((await store.activePath("c1")).map((m) => m.id)).toEqual([mine]);
      expect((await store.activePath("c2")).map((m) => m.id)).toEqual([theirs]);
    });

    it("keeps runs, events and usage attached to their messages on every branch", async () => {
      const question = await say("user", "q", { runId: "r1" });
      await run("r1", "c1");
      for (const [i, event] of runEvents("r1", "c1").entries()) void store.appendEvent("r1", i + 1, event);
      const first = await say("assistant", "first answer", { runId: "r1" });
      await store.finishRun("r1", { reason: "stop", usage: sampleUsage });

      await run("r2", "c1");
      await store.rewindActivePath("c1", question);
      void store.appendEvent("r2", 1, tokenEvent("r2", "second answer"));
      const second = await say("assistant", "second answer", { runId: "r2" });
      await store.appendEvent("r2", 2, { ...doneEvent("r2"), usage: { ...sampleUsage, completionTokens: 2 } });

      const byRun = async () => (await store.activePath("c1")).map((m) => [m.message.content, m.runId]);
      expect(await byRun()).toEqual([
        ["q", "r1"],
        ["second answer", "r2"],
      ]);
      await store.switchBranch("c1", first);
      expect(await byRun()).toEqual([
        ["q", "r1"],
        ["first answer", "r1"],
      ]);
      // Runs are per conversation: both stay, with their usage and logs, whichever branch is shown.
      expect((await store.listRuns("c1")).map((r) => [r.id, r.usage?.completionTokens])).toEqual([
        ["r1", sampleUsage.completionTokens],
        ["r2", 2],
      ]);
      expect((await store.readEvents("r1")).map((e) => e.event.type)).toEqual(runEvents("r1", "c1").map((e) => e.type));
      expect((await store.readEventsOfTypes("r1", ["tool-result"])).length).toBe(1);
      expect((await store.readEvents("r2")).map((e) => e.event.type)).toEqual(["token", "done"]);
      expect((await store.listMessages("c1")).map((m) => [m.id, m.runId])).toEqual([
        [question, "r1"],
        [first, "r1"],
        [second, "r2"],
      ]);
    });

    it("searches every branch; a hit names its message, and switching to it shows it", async () => {
      await say("user", "plan a trip");
      const a1 = await say("assistant", "Try Kyoto in autumn.");
      const u1 = (await store.activePath("c1"))[0]!.id;
      await store.rewindActivePath("c1", u1);
      await say("assistant", "Try Lisbon in spring.");
      const hits = await store.searchMessages("alice", "kyoto");
      expect(hits).toEqual([expect.objectContaining({ conversationId: "c1", messageId: a1, role: "assistant" })]);
      expect(await contents()).toEqual(["plan a trip", "Try Lisbon in spring."]);
      await store.switchBranch("c1", hits[0]!.messageId);
      expect(await contents()).toEqual(["plan a trip", "Try Kyoto in autumn."]);
    });

    it("deletes the whole tree with its conversation", async () => {
      const u1 = await say("user", "doomed question", { runId: "r1" });
      await run("r1", "c1");
      await say("assistant", "doomed answer one", { runId: "r1" });
      await store.finishRun("r1", { reason: "stop", usage: null });
      await run("r2", "c1");
      await store.rewindActivePath("c1", u1);
      await say("assistant", "doomed answer two", { runId: "r2" });
      await say("user", "doomed edit", { parentId: null });
      await store.finishRun("r2", { reason: "stop", usage: null });
      expect(await store.deleteConversation("alice", "c1")).toBe(true);
      expect(await store.listMessages("c1")).toEqual([]);
      expect(await store.activePath("c1")).toEqual([]);
      expect(await store.searchMessages("alice", "doomed")).toEqual([]);
      expect(await store.listRuns("c1")).toEqual([]);
      expect(await failure(store.switchBranch("c1", u1))).toEqual(storeError("not_found"));
      // The id can be used again, for an empty conversation: no head, no message left behind.
      await conversation("c1");
      expect(await store.activePath("c1")).toEqual([]);
      expect((await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "fresh" } })).parentId).toBeNull();
    });
  });

  describe("runs", () => {
    it("creates a running run and finds it by id, client request id, conversation and owner", async () => {
      await conversation("c1");
      clock.set(7_000);
      const created = await run("r1", "c1", "alice", "req-1", { owner: "replica-a" });
      const expected = runningRecord({ id: "r1", conversationId: "c1", clientRequestId: "req-1", owner: "replica-a", createdAt: 7_000 });
      expect(created).toEqual(expected);
      expect(await store.getRun("r1")).toEqual(expected);
      expect(await store.findRunByClientRequestId("alice", "req-1")).toEqual(expected);
      expect(await store.findRunByClientRequestId("bob", "req-1")).toBeUndefined();
      expect(await store.findRunByClientRequestId("alice", "req-2")).toBeUndefined();
      expect(await store.activeRun("c1")).toEqual(expected);
      expect(await store.listRunningRuns()).toEqual([expected]);
      expect(await store.getRun("missing")).toBeUndefined();
      await conversation("c2");
      expect((await run("r2", "c2")).owner).toBeNull();
    });

    it("makes (user, clientRequestId) unique, but only per user and only when set", async () => {
      await conversation("a", "alice");
      await conversation("a2", "alice");
      await conversation("b", "bob");
      await run("r1", "a", "alice", "req-1");
      await store.finishRun("r1", { reason: "stop", usage: null });
      expect(await failure(run("r2", "a2", "alice", "req-1"))).toEqual(storeError("conflict", "client_request_id"));
      expect(await failure(run("r1", "a2", "alice", "req-other"))).toEqual(storeError("conflict", "id"));
      expect((await run("r3", "b", "bob", "req-1")).clientRequestId).toBe("req-1");
      expect((await run("r4", "a", "alice", null)).clientRequestId).toBeNull();
      await store.finishRun("r4", { reason: "stop", usage: null });
      expect((await run("r5", "a", "alice")).clientRequestId).toBeNull();
      expect((await store.findRunByClientRequestId("alice", "req-1"))?.id).toBe("r1");
      expect((await store.findRunByClientRequestId("bob", "req-1"))?.id).toBe("r3");
    });

    it("refuses a second running run in a conversation until the first finishes", async () => {
      await conversation("c1");
      await conversation("c2");
      await run("r1", "c1");
      expect(await failure(run("r2", "c1"))).toEqual(storeError("conflict", "conversation_busy"));
      expect(await store.getRun("r2")).toBeUndefined();
      expect((await run("other", "c2")).status).toBe("running"); // other conversations are free
      expect(await store.finishRun("r1", { reason: "cancelled", usage: null })).toBe(true);
      expect((await run("r2", "c1")).status).toBe("running");
      expect((await store.activeRun("c1"))?.id).toBe("r2");
    });

    it("reports refusals in one order: not_found, client_request_id, id, conversation_busy, limit", async () => {
      await conversation("c1");
      await conversation("c2");
      await run("r1", "c1", "alice", "req-1");
      const limited = { maxRunningPerUser: 1 };
      // A retried send (same client request id) while its run is running, at the limit: the caller must find its run.
      expect(await failure(run("r9", "c1", "alice", "req-1", limited))).toEqual(storeError("conflict", "client_request_id"));
      expect(await failure(run("r1", "c1", "alice", "req-2", limited))).toEqual(storeError("conflict", "id"));
      expect(await failure(run("r9", "c1", "alice", "req-2", limited))).toEqual(storeError("conflict", "conversation_busy"));
      expect(await failure(run("r9", "c2", "alice", "req-2", limited))).toEqual(storeError("limit"));
      expect(await failure(run("r9", "missing", "alice", "req-1", limited))).toEqual(storeError("not_found"));
      expect(await failure(run("r9", "c1", "bob", "req-1", limited))).toEqual(storeError("not_found"));
    });

    it("limits running runs per user when asked, counting every running run of that user", async () => {
      for (const id of ["c1", "c2", "c3", "c4"]) await conversation(id);
      await conversation("b1", "bob");
      const max = { maxRunningPerUser: 2 };
      await run("r1", "c1", "alice", null, max);
      await run("r2", "c2"); // without a limit: counted all the same
      expect(await store.countRunningRuns("alice")).toBe(2);
      expect(await failure(run("r3", "c3", "alice", null, max))).toEqual(storeError("limit"));
      expect(await store.getRun("r3")).toBeUndefined();
      expect((await run("b", "b1", "bob", null, max)).status).toBe("running"); // per user
      await store.finishRun("r1", { reason: "stop", usage: null });
      expect(await store.countRunningRuns("alice")).toBe(1);
      expect((await run("r3", "c3", "alice", null, max)).status).toBe("running");
      expect(await failure(run("r4", "c4", "alice", null, { maxRunningPerUser: 0 }))).toEqual(storeError("limit"));
      expect(await failure(run("r4", "c4", "alice", null, { maxRunningPerUser: -1 }))).toBeInstanceOf(RangeError);
    });

    it("lets exactly maxRunningPerUser of 10 concurrent starts through", async () => {
      const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
      for (const id of ids) await conversation(id);
      const results = await Promise.allSettled(ids.map((id) => run(`r-${id}`, id, "alice", null, { maxRunningPerUser: 4 })));
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(4);
      for (const result of results.filter((r) => r.status === "rejected")) expect(result.reason).toEqual(storeError("limit"));
      expect(await store.countRunningRuns("alice")).toBe(4);
      expect(await store.listRunningRuns()).toHaveLength(4);
    });

    it("finishes a run once: status, reason, usage and finishedAt; the first finish wins", async () => {
      await conversation("c1");
      clock.set(1_000);
      await run("r1", "c1");
      clock.set(2_000);
      expect(await store.finishRun("r1", { reason: "stop", usage: sampleUsage })).toBe(true);
      const finished = await store.getRun("r1");
      expect(finished).toMatchObject({ status: "done", reason: "stop", usage: sampleUsage, createdAt: 1_000, finishedAt: 2_000 });
      expect(await store.activeRun("c1")).toBeUndefined();
      expect(await store.listRunningRuns()).toEqual([]);

      clock.set(3_000);
      expect(await store.finishRun("r1", { reason: "cancelled", usage: null })).toBe(false);
      expect(await store.getRun("r1")).toEqual(finished);
      expect(await store.finishRun("missing", { reason: "stop", usage: null })).toBe(false);
      expect(await store.getRun("missing")).toBeUndefined();
    });

    it("stores a finish without usage as null", async () => {
      await conversation("c1");
      await run("r1", "c1");
      await store.finishRun("r1", { reason: "interrupted", usage: null });
      expect(await store.getRun("r1")).toMatchObject({ status: "done", reason: "interrupted", usage: null });
    });

    it("lists running runs across conversations and users, oldest first, all or one owner's; counts per user", async () => {
      await conversation("a", "alice");
      await conversation("a2", "alice");
      await conversation("b", "bob");
      clock.set(1_000);
      await run("r1", "a", "alice", null, { owner: "p1" });
      clock.set(2_000);
      await run("r2", "b", "bob", null, { owner: "p2" });
      clock.set(3_000);
      await run("r3", "a2", "alice", null, { owner: "p1" });
      clock.set(4_000);
      await store.finishRun("r1", { reason: "stop", usage: null });
      await run("r4", "a", "alice");
      expect((await store.listRunningRuns()).map((r) => r.id)).toEqual(["r2", "r3", "r4"]);
      expect((await store.listRunningRuns({ owner: "p1" })).map((r) => r.id)).toEqual(["r3"]);
      expect((await store.listRunningRuns({ owner: "p2" })).map((r) => r.id)).toEqual(["r2"]);
      expect(await store.listRunningRuns({ owner: "nobody" })).toEqual([]);
      // Each owner once (r1 of p1 is done, r3 of p1 is not), and null for the run started without one.
      const owners = async () => (await store.runningOwners()).map((owner) => owner ?? "(none)").sort();
      expect(await owners()).toEqual(["(none)", "p1", "p2"]);
      expect(await store.countRunningRuns("alice")).toBe(2);
      expect(await store.countRunningRuns("bob")).toBe(1);
      expect(await store.countRunningRuns("carol")).toBe(0);
      expect((await store.activeRun("a"))?.id).toBe("r4");
      expect((await store.activeRun("b"))?.id).toBe("r2");
      expect(await store.activeRun("nope")).toBeUndefined();
      await store.finishRun("r2", { reason: "stop", usage: null });
      expect(await owners()).toEqual(["(none)", "p1"]);
      // Of the runs asked about, those running; finished and unknown ids are not.
      expect([...(await store.runningAmong(["r1", "r2", "r3", "r4", "nope"]))].sort()).toEqual(["r3", "r4"]);
      expect([...(await store.runningAmong([]))]).toEqual([]);
    });

    it("lists every run of a conversation, oldest first, running or done", async () => {
      await conversation("a", "alice");
      await conversation("b", "bob");
      clock.set(2_000);
      await run("r2", "a");
      await store.finishRun("r2", { reason: "stop", usage: null });
      clock.set(1_000);
      await run("r1", "a");
      await store.finishRun("r1", { reason: "error", usage: null });
      clock.set(2_000);
      await run("r3", "a"); // same createdAt as r2: creation order decides
      await run("other", "b", "bob");
      expect((await store.listRuns("a")).map((r) => [r.id, r.status])).toEqual([
        ["r1", "done"],
        ["r2", "done"],
        ["r3", "running"],
      ]);
      expect((await store.listRuns("a"))[0]).toEqual(await store.getRun("r1"));
      expect((await store.listRuns("b")).map((r) => r.id)).toEqual(["other"]);
      expect(await store.listRuns("nope")).toEqual([]);
      await store.deleteConversation("alice", "a");
      expect(await store.listRuns("a")).toEqual([]);
    });
  });

  describe("startRun: the run, its question and a new conversation in one transaction", () => {
    const question = (content: string): ChatMessage => ({ role: "user", content });
    function start(id: string, conversationId: string, options: Partial<StartRunInput> & { content?: string } = {}) {
      const { content = `question of ${id}`, ...rest } = options;
      return store.startRun({ id, conversationId, userId: "alice", model: "demo", provider: "sim", question: { message: question(content) }, ...rest });
    }
    /** Everything a refused start could have written: the users' conversations, and each one's messages and runs. */
    async function everything(userIds = ["alice", "bob"]) {
      const conversations = (await Promise.all(userIds.map((userId) => store.listConversations(userId)))).flat();
      const ids = [...conversations.map((c) => c.id), "new", "c-new"];
      return {
        conversations,
        messages: await Promise.all(ids.map((id) => store.listMessages(id))),
        runs: await Promise.all(ids.map((id) => store.listRuns(id))),
        heads: await Promise.all(ids.map((id) => store.activePath(id))),
        running: await Promise.all(userIds.map((userId) => store.countRunningRuns(userId))),
      };
    }
    /** `newRunId`: the refused run's id, when it is not taken (then no run has it afterwards either). */
    async function refusedWithoutTrace(attempt: () => Promise<unknown>, expected: unknown, newRunId?: string) {
      const before = await everything();
      expect(await failure(attempt())).toEqual(expected);
      expect(await everything()).toEqual(before);
      if (newRunId !== undefined) expect(await store.getRun(newRunId)).toBeUndefined();
    }

    it("creates the conversation, the run and the question together", async () => {
      clock.set(9_000);
      const started = await start("r1", "new", { conversation: { title: "Hello" }, clientRequestId: "req-1", owner: "p1", content: "hello there" });
      const conversation = { id: "new", userId: "alice", title: "Hello", createdAt: 9_000, updatedAt: 9_000, pinnedAt: null, archivedAt: null };
      expect(started.conversation).toEqual(conversation);
      expect(await store.getConversation("alice", "new")).toEqual(conversation);
      expect(started.run).toEqual(runningRecord({ id: "r1", conversationId: "new", clientRequestId: "req-1", owner: "p1", createdAt: 9_000 }));
      expect(await store.getRun("r1")).toEqual(started.run);
      expect(await store.activeRun("new")).toEqual(started.run);
      expect(started.question).toEqual({ id: expect.any(Number), conversationId: "new", parentId: null, runId: "r1", message: question("hello there"), createdAt: 9_000 });
      expect(await store.listMessages("new")).toEqual([started.question]);
      expect(await store.activePath("new")).toEqual([started.question]);
      expect((await store.searchMessages("alice", "THERE")).map((hit) => hit.messageId)).toEqual([started.question.id]);
    });

    it("appends a follow-up under the head and an edit under the given parent, as appendMessage does", async () => {
      clock.set(1_000);
      const first = await start("r1", "c-new", { conversation: { title: "T" }, content: "u1" });
      const answer = await store.appendMessage({ conversationId: "c-new", runId: "r1", message: { role: "assistant", content: "a1" } });
      await store.finishRun("r1", { reason: "stop", usage: null });
      await conversation("other"); // newer: the follow-up must bring c-new back to the top
      clock.set(2_000);
      const followUp = await start("r2", "c-new", { content: "u2" });
      expect(followUp.question).toMatchObject({ parentId: answer.id, runId: "r2", createdAt: 2_000 });
      expect(followUp.conversation).toEqual({ id: "c-new", userId: "alice", title: "T", createdAt: 1_000, updatedAt: 2_000, pinnedAt: null, archivedAt: null });
      expect(await store.getConversation("alice", "c-new")).toEqual(followUp.conversation);
      expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["c-new", "other"]);
      expect((await store.activePath("c-new")).map((m) => m.message.content)).toEqual(["u1", "a1", "u2"]);
      await store.finishRun("r2", { reason: "stop", usage: null });

      // chat.edit of u2 (parent: a1), then of u1 (parent: none).
      const edit = await start("r3", "c-new", { content: "u2 edited", question: { message: question("u2 edited"), parentId: answer.id } });
      expect(edit.question.parentId).toBe(answer.id);
      expect((await store.activePath("c-new")).map((m) => m.message.content)).toEqual(["u1", "a1", "u2 edited"]);
      await store.finishRun("r3", { reason: "stop", usage: null });
      const firstEdit = await start("r4", "c-new", { question: { message: question("u1 edited"), parentId: null } });
      expect(firstEdit.question.parentId).toBeNull();
      const path = await store.activePath("c-new");
      expect(path.map((m) => [m.message.content, m.versions?.siblingIds])).toEqual([["u1 edited", [first.question.id, firstEdit.question.id]]]);
      expect((await store.listRuns("c-new")).map((r) => r.id)).toEqual(["r1", "r2", "r3", "r4"]);
    });

    it("refuses a new conversation at the limit and leaves no empty conversation behind", async () => {
      await conversation("c1");
      await run("r1", "c1", "alice", "req-1");
      await refusedWithoutTrace(() => start("r2", "new", { conversation: { title: "T" }, maxRunningPerUser: 1 }), storeError("limit"), "r2");
      expect(await store.getConversation("alice", "new")).toBeUndefined();
      await refusedWithoutTrace(() => start("r2", "new", { conversation: { title: "T" }, maxRunningPerUser: 0 }), storeError("limit"), "r2");
      // Below the limit it starts.
      expect((await start("r2", "new", { conversation: { title: "T" }, maxRunningPerUser: 2 })).run.status).toBe("running");
    });

    it("refuses a new conversation's taken client request id, run id or conversation id, writing nothing", async () => {
      await conversation("c1");
      await conversation("b1", "bob");
      await run("r1", "c1", "alice", "req-1");
      await store.finishRun("r1", { reason: "stop", usage: null });
      const fresh = { conversation: { title: "T" } };
      await refusedWithoutTrace(() => start("r2", "new", { ...fresh, clientRequestId: "req-1" }), storeError("conflict", "client_request_id"), "r2");
      await refusedWithoutTrace(() => start("r1", "new", fresh), storeError("conflict", "id"));
      expect(await store.getRun("r1")).toMatchObject({ conversationId: "c1", status: "done" }); // untouched
      // Another user's conversation id: refused, and that conversation is not touched.
      const bobs = await store.getConversation("bob", "b1");
      await refusedWithoutTrace(() => start("r2", "b1", fresh), storeError("conflict", "id"), "r2");
      expect(await store.getConversation("bob", "b1")).toEqual(bobs);
      expect(await store.listMessages("b1")).toEqual([]);
      // A retried send at the limit still learns it is a retry (client_request_id comes before id and limit).
      await refusedWithoutTrace(
        () => start("r1", "c1", { ...fresh, clientRequestId: "req-1", maxRunningPerUser: 0 }),
        storeError("conflict", "client_request_id"),
      );
    });

    it("refuses an existing conversation that is busy, unknown or another user's, writing nothing", async () => {
      await conversation("c1");
      await conversation("b1", "bob");
      await store.appendMessage({ conversationId: "b1", runId: null, message: question("bob's") });
      const first = await start("r1", "c1", { clientRequestId: "req-1" });
      await refusedWithoutTrace(() => start("r2", "c1"), storeError("conflict", "conversation_busy"), "r2");
      expect(await store.listMessages("c1")).toEqual([first.question]);
      await refusedWithoutTrace(() => start("r2", "missing"), storeError("not_found"), "r2");
      await refusedWithoutTrace(() => start("r2", "b1"), storeError("not_found"), "r2");
      // The contract's order: not_found, client_request_id, id, conversation_busy, limit.
      await refusedWithoutTrace(() => start("r2", "b1", { clientRequestId: "req-1" }), storeError("not_found"), "r2");
      await refusedWithoutTrace(() => start("r9", "c1", { clientRequestId: "req-1", maxRunningPerUser: 0 }), storeError("conflict", "client_request_id"), "r9");
      await refusedWithoutTrace(() => start("r1", "c1", { maxRunningPerUser: 0 }), storeError("conflict", "id"));
      await refusedWithoutTrace(() => start("r2", "c1", { maxRunningPerUser: 0 }), storeError("conflict", "conversation_busy"), "r2");
      await store.finishRun("r1", { reason: "stop", usage: null });
      await refusedWithoutTrace(() => start("r2", "c1", { maxRunningPerUser: 0 }), storeError("limit"), "r2");
      await refusedWithoutTrace(() => start("r2", "c1", { maxRunningPerUser: -1 }), expect.any(RangeError), "r2");
    });

    it("refuses a parent that is not a message of the conversation, without starting the run", async () => {
      await conversation("c1");
      await conversation("c2");
      const elsewhere = await store.appendMessage({ conversationId: "c2", runId: null, message: question("in c2") });
      await refusedWithoutTrace(() => start("r1", "c1", { question: { message: question("q"), parentId: elsewhere.id } }), storeError("not_found"), "r1");
      await refusedWithoutTrace(
        () => start("r1", "new", { conversation: { title: "T" }, question: { message: question("q"), parentId: elsewhere.id } }),
        storeError("not_found"),
        "r1",
      );
      expect(await store.activeRun("c1")).toBeUndefined();
      expect(await store.getConversation("alice", "new")).toBeUndefined();
    });
  });

  describe("insertConversation: a whole conversation in one transaction", () => {
    const say = (content: string, role: "user" | "assistant" = "user"): ChatMessage => ({ role, content });
    /**
     * u1 (r1) ─ a1 (r1)          ← u1 has two answers: a1, and a2 (r2), the head
     *         └ a2 (r2)
     * u1' (a first message, no run)
     */
    function input(overrides: Partial<InsertConversationInput> = {}): InsertConversationInput {
      return {
        conversation: { id: "imp", userId: "alice", title: "Imported", createdAt: 100, updatedAt: 500, pinnedAt: null, archivedAt: null },
        runs: [
          { id: "r1", model: "demo", provider: "sim", owner: "p1", reason: "stop", usage: sampleUsage, createdAt: 110, finishedAt: 150, events: [{ seq: 1, event: doneEvent("r1") }] },
          { id: "r2", model: "demo", provider: "sim", owner: null, reason: "error", usage: null, createdAt: 200, finishedAt: 250, events: runEvents("r2", "imp").map((event, i) => ({ seq: 2 * i + 1, event })) },
        ],
        messages: [
          { parent: null, runId: "r1", message: say("the imported question"), createdAt: 120 },
          { parent: 0, runId: "r1", message: say("first answer", "assistant"), createdAt: 140 },
          { parent: 0, runId: "r2", message: say("second answer", "assistant"), createdAt: 240 },
          { parent: null, runId: null, message: everyMessageVariant[1]!, createdAt: 300 },
        ],
        head: 2,
        ...overrides,
      };
    }
    /** Everything a refused insert could have written. */
    async function everything() {
      return {
        conversations: await store.listConversations("alice"),
        messages: await store.listMessages("imp"),
        runs: await Promise.all(["r1", "r2", "r-other"].map((id) => store.getRun(id))),
        events: await Promise.all(["r1", "r2", "r-other"].map((id) => store.readEvents(id))),
      };
    }

    it("writes the conversation with its times, its finished runs with their logs, its tree and its head", async () => {
      clock.set(9_000);
      await conversation("older"); // created and active at 9 000: after the import's 500
      const { conversation: written, messageIds } = await store.insertConversation(input());
      const imported = { id: "imp", userId: "alice", title: "Imported", createdAt: 100, updatedAt: 500, pinnedAt: null, archivedAt: null };
      expect(written).toEqual(imported);
      expect(await store.getConversation("alice", "imp")).toEqual(imported);
      expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["older", "imp"]);
      expect(messageIds).toHaveLength(4);
      expect([...messageIds].sort((a, b) => a - b)).toEqual(messageIds);
      const [u1, a1, a2, u1b] = messageIds as [number, number, number, number];
      expect((await store.listMessages("imp")).map((m) => [m.id, m.parentId, m.runId, m.message, m.createdAt])).toEqual([
        [u1, null, "r1", say("the imported question"), 120],
        [a1, u1, "r1", say("first answer", "assistant"), 140],
        [a2, u1, "r2", say("second answer", "assistant"), 240],
        [u1b, null, null, everyMessageVariant[1], 300],
      ]);
      expect((await store.activePath("imp")).map((m) => [m.id, m.versions?.index ?? null])).toEqual([
        [u1, 1],
        [a2, 2],
      ]);
      expect(await store.listRuns("imp")).toEqual([
        { id: "r1", conversationId: "imp", userId: "alice", model: "demo", provider: "sim", clientRequestId: null, status: "done", reason: "stop", usage: sampleUsage, owner: "p1", createdAt: 110, finishedAt: 150 },
        { id: "r2", conversationId: "imp", userId: "alice", model: "demo", provider: "sim", clientRequestId: null, status: "done", reason: "error", usage: null, owner: null, createdAt: 200, finishedAt: 250 },
      ]);
      expect(await store.readEvents("r2")).toEqual(runEvents("r2", "imp").map((event, i) => ({ seq: 2 * i + 1, event })));
      expect(await store.readEventsOfTypes("r2", ["error", "done"])).toEqual([
        { seq: 17, event: runEvents("r2", "imp")[8] },
        { seq: 19, event: runEvents("r2", "imp")[9] },
      ]);
      expect(await store.lastSeq("r2")).toBe(19);
      expect(await store.activeRun("imp")).toBeUndefined();
      expect(await store.countRunningRuns("alice")).toBe(0);
      expect((await store.searchMessages("alice", "ANSWER")).map((hit) => [hit.messageId, hit.createdAt])).toEqual([
        [a2, 240],
        [a1, 140],
      ]);

      // It goes on like any conversation: an append under the head, a new run, a delete of all of it.
      clock.set(10_000);
      const next = await store.appendMessage({ conversationId: "imp", runId: null, message: say("and then?") });
      expect(next.parentId).toBe(a2);
      expect(next.id).toBeGreaterThan(u1b);
      expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["imp", "older"]);
      await run("r3", "imp");
      expect(await store.deleteConversation("alice", "imp")).toBe(true);
      expect(await everything()).toEqual({ conversations: [await store.getConversation("alice", "older")], messages: [], runs: [undefined, undefined, undefined], events: [[], [], []] });
    });

    it("keeps a pinnedAt given (an import gives null): the conversation sorts among the pinned ones", async () => {
      clock.set(9_000);
      await conversation("newer");
      await store.setPinned("alice", "newer", true, 700);
      const { conversation: written } = await store.insertConversation(input({ conversation: { ...input().conversation, pinnedAt: 600 } }));
      expect(written).toEqual({ id: "imp", userId: "alice", title: "Imported", createdAt: 100, updatedAt: 500, pinnedAt: 600, archivedAt: null });
      expect(await store.getConversation("alice", "imp")).toEqual(written);
      await conversation("unpinned");
      expect((await store.listConversations("alice")).map((c) => [c.id, c.pinnedAt])).toEqual([
        ["newer", 700],
        ["imp", 600],
        ["unpinned", null],
      ]);
    });

    it("keeps an archivedAt given: the conversation is listed among the archived ones, by its pin and activity", async () => {
      clock.set(9_000);
      await conversation("newer");
      await store.setArchived("alice", "newer", true, 700);
      const archivedAt = 600;
      const { conversation: written } = await store.insertConversation(input({ conversation: { ...input().conversation, archivedAt, pinnedAt: 650 } }));
      expect(written).toEqual({ id: "imp", userId: "alice", title: "Imported", createdAt: 100, updatedAt: 500, pinnedAt: 650, archivedAt: 600 });
      expect(await store.getConversation("alice", "imp")).toEqual(written);
      await conversation("listed");
      expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["listed"]);
      expect((await store.listConversations("alice", { archived: true })).map((c) => [c.id, c.archivedAt])).toEqual([
        ["imp", 600],
        ["newer", 700],
      ]);
    });

    it("writes a large conversation whole: thousands of messages and events, parents and seqs kept", async () => {
      const messages = Array.from({ length: 6_001 }, (_, i) => ({ parent: i === 0 ? null : i - 1, runId: "r1", message: say(`m${i}`), createdAt: 1_000 + i }));
      const events = Array.from({ length: 12_001 }, (_, i) => ({ seq: 2 * i + 1, event: tokenEvent("r1", `t${i}`) }));
      const [r1] = input().runs as [InsertedRun];
      const { messageIds } = await store.insertConversation(input({ runs: [{ ...r1, events }], messages, head: 6_000 }));
      const stored = await store.listMessages("imp");
      expect(stored.map((m) => m.id)).toEqual(messageIds);
      expect(stored.every((m, i) => m.parentId === (i === 0 ? null : messageIds[i - 1]) && m.message.content === `m${i}` && m.createdAt === 1_000 + i)).toBe(true);
      expect((await store.activePath("imp")).length).toBe(6_001);
      expect(await store.readEvents("r1")).toEqual(events);
    });

    it("writes an empty conversation, and an empty path over messages", async () => {
      await store.insertConversation(input({ runs: [], messages: [], head: null }));
      expect(await store.listMessages("imp")).toEqual([]);
      expect(await store.activePath("imp")).toEqual([]);
      await store.insertConversation(input({ conversation: { id: "imp2", userId: "alice", title: "T", createdAt: 1, updatedAt: 1, pinnedAt: null, archivedAt: null }, runs: [], head: null, messages: input().messages.map((m) => ({ ...m, runId: null })) }));
      expect(await store.activePath("imp2")).toEqual([]);
      expect(await store.listMessages("imp2")).toHaveLength(4);
      // The next append starts a new first message.
      expect((await store.appendMessage({ conversationId: "imp2", runId: null, message: say("fresh") })).parentId).toBeNull();
    });

    it("refuses a taken conversation id or run id, writing nothing", async () => {
      await conversation("other", "bob");
      await conversation("c-other");
      await run("r-other", "c-other");
      const before = await everything();
      const taken = input({ conversation: { id: "other", userId: "alice", title: "T", createdAt: 1, updatedAt: 1, pinnedAt: null, archivedAt: null } });
      expect(await failure(store.insertConversation(taken))).toEqual(storeError("conflict", "id"));
      expect(await everything()).toEqual(before);
      expect(await store.getConversation("bob", "other")).toMatchObject({ title: "Title other" });
      // The last run's id is taken: refused after the conversation and the first run are written, in its transaction.
      const runTaken = input({ runs: [input().runs[0]!, { ...input().runs[1]!, id: "r-other" }], messages: [], head: null });
      expect(await failure(store.insertConversation(runTaken))).toEqual(storeError("conflict", "id"));
      expect(await everything()).toEqual(before);
      expect(await store.getRun("r-other")).toMatchObject({ conversationId: "c-other", status: "running" });
    });

    describe("origin: at most one conversation per user and origin", () => {
      const origin = "ChatGPT:abc-123@1700000000";
      /** The input as imp's (or another id's), with `origin`, its runs renamed so that several can be written. */
      function imported(id: string, userId = "alice", from: string | null | undefined = origin): InsertConversationInput {
        const base = input();
        return {
          ...base,
          conversation: { ...base.conversation, id, userId, origin: from },
          runs: base.runs.map((r) => ({ ...r, id: `${id}-${r.id}` })),
          messages: base.messages.map((m) => ({ ...m, runId: m.runId === null ? null : `${id}-${m.runId}` })),
        };
      }
      /** What an insert could write, across both users and every id these tests use. */
      async function written() {
        const ids = ["imp", "imp2", "imp3", "bobs"];
        return {
          conversations: [...(await store.listConversations("alice")), ...(await store.listConversations("bob"))].map((c) => c.id).sort(),
          messages: (await Promise.all(ids.map((id) => store.listMessages(id)))).map((list) => list.length),
          runs: (await Promise.all(ids.map((id) => store.listRuns(id)))).map((list) => list.length),
          events: (await Promise.all(ids.flatMap((id) => [`${id}-r1`, `${id}-r2`]).map((runId) => store.readEvents(runId)))).map((list) => list.length),
        };
      }

      it("writes a conversation with an origin; the same origin again for the user is refused whole, another user's is not", async () => {
        const { conversation: first } = await store.insertConversation(imported("imp"));
        // The origin is kept by the store for the check alone: the conversation reads as any other.
        expect(first).toEqual({ id: "imp", userId: "alice", title: "Imported", createdAt: 100, updatedAt: 500, pinnedAt: null, archivedAt: null });
        expect(await store.getConversation("alice", "imp")).toEqual(first);
        const before = await written();
        expect(before).toEqual({ conversations: ["imp"], messages: [4, 0, 0, 0], runs: [2, 0, 0, 0], events: [1, 10, 0, 0, 0, 0, 0, 0] });

        expect(await failure(store.insertConversation(imported("imp2")))).toEqual(storeError("conflict", "origin"));
        expect(await written()).toEqual(before);
        expect(await store.getConversation("alice", "imp2")).toBeUndefined();
        expect(await store.getRun("imp2-r1")).toBeUndefined();

        // Another user may have the same origin.
        await store.insertConversation(imported("bobs", "bob"));
        expect((await store.listConversations("bob")).map((c) => c.id)).toEqual(["bobs"]);
        expect(await store.listMessages("bobs")).toHaveLength(4);
        // Another origin of the same user is free.
        await store.insertConversation(imported("imp3", "alice", `${origin}-newer`));
        expect((await store.listConversations("alice")).map((c) => c.id).sort()).toEqual(["imp", "imp3"]);
      });

      it("reports a taken conversation id before a taken origin", async () => {
        await store.insertConversation(imported("imp"));
        expect(await failure(store.insertConversation({ ...imported("imp2"), conversation: { ...imported("imp2").conversation, id: "imp" } }))).toEqual(
          storeError("conflict", "id"),
        );
      });

      it("never refuses conversations without an origin (null or absent), however many", async () => {
        await store.insertConversation(imported("imp", "alice", null));
        const unset = imported("imp2", "alice", null);
        await store.insertConversation({ ...unset, conversation: { ...unset.conversation, origin: undefined } });
        const { origin: _origin, ...plain } = imported("imp3", "alice", null).conversation;
        await store.insertConversation({ ...imported("imp3"), conversation: plain });
        await conversation("created-here");
        expect((await store.listConversations("alice")).map((c) => c.id).sort()).toEqual(["created-here", "imp", "imp2", "imp3"]);
        // And one with an origin among them.
        await store.insertConversation(imported("bobs", "alice"));
      });

      it("frees the origin when the conversation is deleted", async () => {
        await store.insertConversation(imported("imp"));
        expect(await store.deleteConversation("alice", "imp")).toBe(true);
        await store.insertConversation(imported("imp2"));
        expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["imp2"]);
        expect(await failure(store.insertConversation(imported("imp3")))).toEqual(storeError("conflict", "origin"));
      });

      it("writes one of two concurrent inserts of one origin, from two processes on a shared database", async () => {
        const other = backend.shared ? await ctx.open({ now: clock.now }) : store;
        const outcomes = await Promise.allSettled([store.insertConversation(imported("imp")), other.insertConversation(imported("imp2"))]);
        expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
        const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
        expect(refused?.reason).toEqual(storeError("conflict", "origin"));
        const left = await written();
        expect(left.conversations).toHaveLength(1);
        expect(left.messages.reduce((a, b) => a + b)).toBe(4);
        expect(left.runs.reduce((a, b) => a + b)).toBe(2);
      });
    });

    it("refuses an input that does not hold together with a RangeError, writing nothing", async () => {
      const before = await everything();
      const [r1, r2] = input().runs as [InsertedRun, InsertedRun];
      const [m0, m1] = input().messages as [InsertedMessage, InsertedMessage];
      const broken: InsertConversationInput[] = [
        input({ messages: [{ ...m0, parent: 1 }, m1], head: null }),
        input({ messages: [{ ...m0, parent: 0 }], head: null }),
        input({ messages: [m0, { ...m1, parent: 0.5 }], head: null }),
        input({ head: 4 }),
        input({ head: -1 }),
        input({ runs: [r1, { ...r2, id: "r1" }] }),
        input({ runs: [{ ...r1, events: [{ seq: 2, event: doneEvent("r1") }, { seq: 2, event: doneEvent("r1") }] }, r2] }),
        input({ runs: [{ ...r1, events: [{ seq: 0, event: doneEvent("r1") }] }, r2] }),
        input({ runs: [{ ...r1, createdAt: 1.5 }, r2] }),
        input({ runs: [r1, { ...r2, finishedAt: -1 }] }),
        input({ messages: [m0, { ...m1, createdAt: Number.NaN }] }),
        input({ conversation: { ...input().conversation, updatedAt: 2 ** 53 } }),
        input({ conversation: { ...input().conversation, pinnedAt: -1 } }),
        input({ conversation: { ...input().conversation, pinnedAt: 1.5 } }),
        input({ conversation: { ...input().conversation, archivedAt: -1 } }),
        input({ conversation: { ...input().conversation, archivedAt: 1.5 } }),
        input({ conversation: { ...input().conversation, archivedAt: 2 ** 53 } }),
      ];
      for (const attempt of broken) {
        expect(await failure(store.insertConversation(attempt))).toBeInstanceOf(RangeError);
      }
      expect(await everything()).toEqual(before);
    });
  });

  describe("the event log", () => {
    beforeEach(async () => {
      await conversation("c1");
      await conversation("c2");
      await run("r1", "c1");
      await run("r2", "c2");
    });

    it("pruneTokenEvents: finished runs lose their token events and keep the rest; a walk stops at the first run not due and resumes after the last it pruned", async () => {
      await conversation("c3");
      await conversation("c4");
      await run("r3", "c3");
      await run("r4", "c4");
      /** Appends the events as seqs `from`… and commits them at `at` (a done finishes its run then). */
      const commitAt = async (at: number, runId: string, events: ChatEvent[], from = 1) => {
        clock.set(at);
        const appended = events.map((event, i) => store.appendEvent(runId, from + i, event));
        await store.flush();
        await Promise.all(appended);
      };
      // runEvents: a whole log, `done` last.
      await commitAt(10_000, "r1", runEvents("r1", "c1"));
      await commitAt(20_000, "r2", runEvents("r2", "c2"));
      await commitAt(20_000, "r3", runEvents("r3", "c3").slice(0, -1)); // still running
      await commitAt(10_000, "r4", runEvents("r4", "c4"));
      const withoutTokens = (runId: string, conversationId: string) =>
        runEvents(runId, conversationId)
          .map((event, i) => ({ seq: i + 1, event }))
          .filter(({ event }) => event.type !== "token");
      const tokensOf = async (runId: string) => (await store.readEvents(runId)).filter(({ event }) => event.type === "token").length;

      // Nothing finished before 5 s: the walk stops at r1 and has pruned nothing.
      expect(await store.pruneTokenEvents({ afterRunId: null, finishedBefore: 5_000, maxRuns: 10 })).toEqual({ deleted: 0, lastRunId: null, caughtUp: true });
      expect(await store.readEvents("r1")).toHaveLength(10);

      // Before 25 s: r1, then (from where that walk ended) r2; r3 runs, so r4 waits although it is due.
      expect(await store.pruneTokenEvents({ afterRunId: null, finishedBefore: 25_000, maxRuns: 1 })).toEqual({ deleted: 2, lastRunId: "r1", caughtUp: false });
      expect(await store.pruneTokenEvents({ afterRunId: "r1", finishedBefore: 25_000, maxRuns: 10 })).toEqual({ deleted: 2, lastRunId: "r2", caughtUp: true });
      expect(await store.readEvents("r1")).toEqual(withoutTokens("r1", "c1"));
      expect(await store.readEvents("r2")).toEqual(withoutTokens("r2", "c2"));
      expect([await tokensOf("r3"), await tokensOf("r4")]).toEqual([2, 2]);

      // r3 ends at 30 s: not due before 25 s, due before 40 s, and r4 with it.
      await commitAt(30_000, "r3", runEvents("r3", "c3").slice(-1), 10);
      expect(await store.pruneTokenEvents({ afterRunId: "r2", finishedBefore: 25_000, maxRuns: 10 })).toEqual({ deleted: 0, lastRunId: "r2", caughtUp: true });
      expect(await store.pruneTokenEvents({ afterRunId: "r2", finishedBefore: 40_000, maxRuns: 10 })).toEqual({ deleted: 4, lastRunId: "r4", caughtUp: true });
      expect(await store.readEvents("r3")).toEqual(withoutTokens("r3", "c3"));
      expect(await store.readEvents("r4")).toEqual(withoutTokens("r4", "c4"));

      // A walk from the first run again: nothing left to delete, through to the last run.
      expect(await store.pruneTokenEvents({ afterRunId: null, finishedBefore: 40_000, maxRuns: 10 })).toEqual({ deleted: 0, lastRunId: "r4", caughtUp: true });
      expect(await store.getRun("r1")).toMatchObject({ status: "done", finishedAt: 10_000 });
    });

    it("keeps each event under the seq its caller gave, and reads them back exactly", async () => {
      const events = runEvents("r1", "c1");
      const appended = events.map((event, i) => store.appendEvent("r1", i + 1, event));
      await commit(store, "r2", 1, tokenEvent("r2", "other run"));
      await Promise.all(appended);

      expect(await store.readEvents("r1")).toEqual(events.map((event, i) => ({ seq: i + 1, event })));
      expect(await store.readEvents("r1", 0)).toEqual(await store.readEvents("r1"));
      expect(await store.readEvents("r1", 7)).toEqual([
        { seq: 8, event: events[7] },
        { seq: 9, event: events[8] },
        { seq: 10, event: events[9] },
      ]);
      expect(await store.readEvents("r1", 10)).toEqual([]);
      expect(await store.readEvents("r1", 99)).toEqual([]);
      expect(await store.lastSeq("r1")).toBe(10);
      expect(await store.readEvents("r2")).toEqual([{ seq: 1, event: tokenEvent("r2", "other run") }]);
      expect(await store.lastSeq("r2")).toBe(1);
    });

    it("sees queued appends before any commit, and keeps reading the same after one", async () => {
      for (let seq = 1; seq <= 5; seq++) void store.appendEvent("r1", seq, tokenEvent("r1", `t${seq}`));
      expect((await store.readEvents("r1", 3)).map((e) => e.seq)).toEqual([4, 5]);
      expect(await store.lastSeq("r1")).toBe(5);
      if (backend.batched) expect(await ctx.committedSeqs("r1")).toEqual([]);
      await store.flush();
      expect(await ctx.committedSeqs("r1")).toEqual([1, 2, 3, 4, 5]);
      void store.appendEvent("r1", 6, tokenEvent("r1", "queued again"));
      expect((await store.readEvents("r1", 3)).map((e) => e.seq)).toEqual([4, 5, 6]);
      await store.appendEvent("r1", 7, doneEvent("r1"));
      // An append after done (recovery writing to a finished run) continues the log.
      await commit(store, "r1", 8, tokenEvent("r1", "after"));
      expect((await store.readEvents("r1")).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    });

    it("pages with a limit across committed and queued events", async () => {
      for (let seq = 1; seq <= 8; seq++) void store.appendEvent("r1", seq, tokenEvent("r1", `t${seq}`));
      await store.flush();
      for (let seq = 9; seq <= 10; seq++) void store.appendEvent("r1", seq, tokenEvent("r1", `t${seq}`)); // queued
      const seqs = async (after: number, limit?: number) => (await store.readEvents("r1", after, limit)).map((e) => e.seq);
      expect(await seqs(0, 3)).toEqual([1, 2, 3]);
      expect(await seqs(3, 3)).toEqual([4, 5, 6]);
      expect(await seqs(6, 3)).toEqual([7, 8, 9]);
      expect(await seqs(9, 3)).toEqual([10]);
      expect(await seqs(10, 3)).toEqual([]);
      expect(await seqs(7, 0)).toEqual([]);
      expect(await seqs(5)).toEqual([6, 7, 8, 9, 10]);
      const paged = [];
      for (let after = 0, page = await store.readEvents("r1", 0, 4); page.length > 0; page = await store.readEvents("r1", after, 4)) {
        paged.push(...page);
        after = page.at(-1)?.seq ?? after;
      }
      expect(paged).toEqual(await store.readEvents("r1"));
      await store.appendEvent("r1", 11, doneEvent("r1"));
      expect((await store.readEvents("r1", 10, 5)).map((e) => e.event.type)).toEqual(["done"]);
    });

    it("keeps a gap in the seqs (the crash-recovery gap) and reads and pages across it", async () => {
      void store.appendEvent("r1", 1, tokenEvent("r1", "a"));
      await store.flush();
      void store.appendEvent("r1", 100, tokenEvent("r1", "b"));
      void store.appendEvent("r1", 101, tokenEvent("r1", "c"));
      await store.appendEvent("r1", 102, doneEvent("r1"));
      expect(await store.lastSeq("r1")).toBe(102);
      expect((await store.readEvents("r1")).map((e) => e.seq)).toEqual([1, 100, 101, 102]);
      expect((await store.readEvents("r1", 1)).map((e) => e.seq)).toEqual([100, 101, 102]);
      expect((await store.readEvents("r1", 50, 2)).map((e) => e.seq)).toEqual([100, 101]);
      expect((await store.readEvents("r1", 101)).map((e) => e.event.type)).toEqual(["done"]);
    });

    it("refuses a seq that is not above the run's last one, and keeps the log as it was", async () => {
      void store.appendEvent("r1", 1, tokenEvent("r1", "a"));
      void store.appendEvent("r1", 2, tokenEvent("r1", "b"));
      expect(await failure(store.appendEvent("r1", 2, tokenEvent("r1", "again")))).toEqual(storeError("conflict", "seq"));
      expect(await failure(store.appendEvent("r1", 1, tokenEvent("r1", "back")))).toEqual(storeError("conflict", "seq"));
      expect(await failure(store.appendEvent("r1", 0, tokenEvent("r1", "zero")))).toBeInstanceOf(RangeError);
      expect(await failure(store.appendEvent("r1", 2.5, tokenEvent("r1", "half")))).toBeInstanceOf(RangeError);
      await store.appendEvent("r1", 3, doneEvent("r1"));
      // After `done` the run's seqs are only in the log: a used seq is refused there.
      expect(await appendFailure(store, "r1", 2, tokenEvent("r1", "late duplicate"))).toEqual(storeError("conflict", "seq"));
      expect((await store.readEvents("r1")).map((e) => [e.seq, e.event.type === "token" ? e.event.text : e.event.type])).toEqual([
        [1, "a"],
        [2, "b"],
        [3, "done"],
      ]);
      expect(await ctx.committedSeqs("r1")).toEqual([1, 2, 3]);
    });

    it("finishes the run with its committed done, in the same commit: reason, usage, finishedAt; the first finish wins", async () => {
      clock.set(5_000);
      await commit(store, "r1", 1, tokenEvent("r1", "a"));
      expect(await store.getRun("r1")).toMatchObject({ status: "running" });
      await store.appendEvent("r1", 2, doneEvent("r1", "length"));
      // No finishRun call: a log that ends with done never shows its run running.
      expect(await store.getRun("r1")).toMatchObject({ status: "done", reason: "length", usage: sampleUsage, finishedAt: 5_000 });
      expect(await store.activeRun("c1")).toBeUndefined();
      expect(await store.finishRun("r1", { reason: "cancelled", usage: null })).toBe(false);

      // A run finished before its done (a closer won) keeps that finish.
      expect(await store.finishRun("r2", { reason: "interrupted", usage: null })).toBe(true);
      clock.set(6_000);
      await store.appendEvent("r2", 1, doneEvent("r2", "stop"));
      expect(await store.getRun("r2")).toMatchObject({ status: "done", reason: "interrupted", usage: null, finishedAt: 5_000 });
    });

    describe("appendDone: a run's answer with its done", () => {
      // A tool round's chain: the assistant's calls, their results, the final answer.
      const answer = everyMessageVariant.slice(2, 6);

      it("stores the answer under the head and ends the log; resolves with the messages as stored", async () => {
        clock.set(5_000);
        const question = await store.appendMessage({ conversationId: "c1", runId: "r1", message: { role: "user", content: "time?" } });
        void store.appendEvent("r1", 1, tokenEvent("r1", "It is 14:00"));
        clock.set(6_000);
        const stored = await store.appendDone("r1", 2, doneEvent("r1"), { conversationId: "c1", messages: answer });

        expect(stored.map((m) => m.message)).toEqual(answer);
        expect(stored.map((m) => [m.runId, m.conversationId, m.createdAt])).toEqual(answer.map(() => ["r1", "c1", 6_000]));
        expect(stored[0]!.parentId).toBe(question.id);
        expect(stored.slice(1).map((m) => m.parentId)).toEqual(stored.slice(0, -1).map((m) => m.id));
        const path = await store.activePath("c1");
        expect(path.map((m) => m.id)).toEqual([question.id, ...stored.map((m) => m.id)]);
        expect(await store.listMessages("c1")).toEqual([question, ...stored]);
        expect((await store.readEvents("r1")).map((e) => [e.seq, e.event.type])).toEqual([
          [1, "token"],
          [2, "done"],
        ]);
        expect(await store.getRun("r1")).toMatchObject({ status: "done", reason: "stop", finishedAt: 6_000 });
        expect((await store.getConversation("alice", "c1"))?.updatedAt).toBe(6_000);
      });

      it("is read only once committed: whoever reads the done finds the run finished and its answer stored", async () => {
        // A client that sees its run end sends the next message at once: the run must not still count as running
        // (conversation_busy, rate_limited), and the answer must be there. PostgreSQL commits a round trip later,
        // SQLite before appendDone returns (unless a commit is running), memory at once.
        await conversation("c3");
        await run("r3", "c3");
        // r1's whole log is queued (read without a query), r3's first event committed (read from the database too).
        await commit(store, "r3", 1, tokenEvent("r3", "It is 14:00"));
        void store.appendEvent("r1", 1, tokenEvent("r1", "It is 14:00"));
        for (const [runId, conversationId] of [["r1", "c1"], ["r3", "c3"]] as const) {
          const committed = store.appendDone(runId, 2, doneEvent(runId), { conversationId, messages: answer });
          const reads = [
            await store.readEvents(runId),
            await store.readEvents(runId, 1, 5),
            await store.readEventsOfTypes(runId, ["token", "done"]),
          ];
          // Read after the events: a commit in between can only make the run look more finished, not less.
          const record = await store.getRun(runId);
          const stored = (await store.listMessages(conversationId)).length;
          for (const read of reads) {
            if (read.at(-1)?.event.type !== "done") continue;
            expect({ status: record?.status, stored }).toEqual({ status: "done", stored: answer.length });
          }
          // Whatever the commit's state, every read is a prefix of the log: seq 1, then the done once it is committed.
          expect([[1], [1, 2]]).toContainEqual(reads[0]!.map((e) => e.seq));
          expect([[], [2]]).toContainEqual(reads[1]!.map((e) => e.seq));
          await committed;
          expect((await store.readEvents(runId)).map((e) => e.seq)).toEqual([1, 2]);
          expect((await store.readEventsOfTypes(runId, ["done"])).map((e) => e.seq)).toEqual([2]);
        }
      });

      it("ends the log alone when the run produced no message", async () => {
        expect(await store.appendDone("r1", 1, doneEvent("r1", "error"), { conversationId: "c1", messages: [] })).toEqual([]);
        expect(await store.listMessages("c1")).toEqual([]);
        expect(await store.getRun("r1")).toMatchObject({ status: "done", reason: "error" });
      });

      it("refuses an unknown conversation with not_found; the run stays running", async () => {
        const refused = await failure(store.appendDone("r1", 1, doneEvent("r1"), { conversationId: "gone", messages: answer }));
        expect(refused).toEqual(storeError("not_found"));
        expect(await store.getRun("r1")).toMatchObject({ status: "running" });
      });

      it("stores nothing when the done is refused: the answer and the done are one commit", async () => {
        const refused = await failure(store.appendDone("nope", 1, doneEvent("nope"), { conversationId: "c1", messages: answer }));
        expect(refused).toEqual(storeError("not_found"));
        expect(await store.listMessages("c1")).toEqual([]);
        expect(await store.activePath("c1")).toEqual([]);
      });
    });

    it("reads an approval request only once committed (the API shows it only once durable)", async () => {
      void store.appendEvent("r1", 1, tokenEvent("r1", "Let me check"));
      const request = approvalRequestEvent("r1");
      const committed = store.appendEvent("r1", 2, request);
      const reads = [await store.readEvents("r1"), await store.readEvents("r1", 1)];
      // Shown only from the database: a prefix of the log, with the request once it is committed.
      expect([[1], [1, 2]]).toContainEqual(reads[0]!.map((e) => e.seq));
      expect([[], [2]]).toContainEqual(reads[1]!.map((e) => e.seq));
      await committed;
      expect((await store.readEvents("r1")).map((e) => e.event.type)).toEqual(["token", "approval-request"]);
      expect(await store.readEventsOfTypes("r1", ["approval-request"])).toEqual([{ seq: 2, event: request }]);
    });

    it("reads only the events of the asked types, in order, committed and queued", async () => {
      const events = runEvents("r1", "c1");
      for (const [i, event] of events.slice(0, 6).entries()) void store.appendEvent("r1", i + 1, event);
      await store.flush();
      for (const [i, event] of events.slice(6, -1).entries()) void store.appendEvent("r1", i + 7, event); // queued
      const types = async (...wanted: ChatEvent["type"][]) =>
        (await store.readEventsOfTypes("r1", wanted)).map((e) => [e.seq, e.event.type]);
      // The `done` is read only once committed (the API publishes it only once durable); the others while queued too.
      const done = store.appendEvent("r1", 10, events[9]!);
      const tokens = [
        [7, "token"],
        [8, "token"],
      ];
      expect([tokens, [...tokens, [10, "done"]]]).toContainEqual(await types("token", "done"));
      await done;
      expect(await types("error", "tool-result")).toEqual([
        [6, "tool-result"],
        [9, "error"],
      ]);
      expect(await types("token")).toEqual([
        [7, "token"],
        [8, "token"],
      ]);
      expect(await types("status", "token", "done")).toEqual([
        [2, "status"],
        [5, "status"],
        [7, "token"],
        [8, "token"],
        [10, "done"],
      ]);
      expect(await types()).toEqual([]);
      expect(await store.readEventsOfTypes("r1", ["tool-result"])).toEqual([{ seq: 6, event: events[5] }]);
      expect(await store.readEventsOfTypes("r2", ["error"])).toEqual([]);
      expect(await store.readEventsOfTypes("nope", ["error"])).toEqual([]);
    });

    describe("readEventsOfTypesForRuns", () => {
      it("reads each run's events of the asked types in seq order, committed and queued, as readEventsOfTypes does", async () => {
        const events = runEvents("r1", "c1");
        for (const [i, event] of events.slice(0, 6).entries()) void store.appendEvent("r1", i + 1, event);
        await commit(store, "r2", 1, tokenEvent("r2", "other run"));
        await commit(store, "r2", 2, { type: "status", runId: "r2", at: 2, phase: "thinking", message: "Thinking" });
        await store.flush();
        for (const [i, event] of events.slice(6, -1).entries()) void store.appendEvent("r1", i + 7, event); // queued
        // The `done` is read only once committed (readEventsOfTypes above); the others while queued too.
        const done = store.appendEvent("r1", 10, events[9]!);
        const read = async (runIds: string[], ...wanted: ChatEvent["type"][]) =>
          Object.fromEntries([...(await store.readEventsOfTypesForRuns(runIds, wanted))].map(([id, found]) => [id, found.map((e) => [e.seq, e.event.type])]));

        expect(await read(["r1", "r2"], "status", "tool-result", "error")).toEqual({
          r1: [
            [2, "status"],
            [5, "status"],
            [6, "tool-result"],
            [9, "error"],
          ],
          r2: [[2, "status"]],
        });
        await done;
        // Streamed types too (without the not-streamed index), queued ones included.
        expect(await read(["r2", "r1"], "token", "done")).toEqual({
          r2: [[1, "token"]],
          r1: [
            [7, "token"],
            [8, "token"],
            [10, "done"],
          ],
        });
        // Unknown runs and runs without such events are there, empty; an id asked twice is read once.
        expect(await read(["nope", "r2", "r2"], "error")).toEqual({ nope: [], r2: [] });
        expect(await read(["r1"])).toEqual({ r1: [] });
        expect(await read([], "error")).toEqual({});
        // The very events readEventsOfTypes gives, run by run.
        const wanted: ChatEvent["type"][] = ["error", "tool-result", "status", "done"];
        const both = await store.readEventsOfTypesForRuns(["r1", "r2"], wanted);
        expect(both.get("r1")).toEqual(await store.readEventsOfTypes("r1", wanted));
        expect(both.get("r2")).toEqual(await store.readEventsOfTypes("r2", wanted));
      });

      it("reads more runs than one query asks for (500), each with its own events", async () => {
        const count = 1_201;
        const ids = Array.from({ length: count }, (_, i) => `many-${String(i).padStart(4, "0")}`);
        await store.insertConversation({
          conversation: { id: "many", userId: "alice", title: "Many runs", createdAt: 1, updatedAt: 1, pinnedAt: null, archivedAt: null },
          runs: ids.map((id, i) => ({
            id,
            model: "demo",
            provider: "sim",
            owner: null,
            reason: "stop",
            usage: null,
            createdAt: i + 1,
            finishedAt: i + 1,
            events: [
              { seq: 1, event: tokenEvent(id, `answer ${i}`) },
              { seq: 2, event: { type: "status", runId: id, at: 2, phase: "thinking", message: `run ${i}` } },
              { seq: 3, event: doneEvent(id) },
            ],
          })),
          messages: [],
          head: null,
        });
        const found = await store.readEventsOfTypesForRuns([...ids, "nope"].reverse(), ["status", "done"]);
        expect(found.size).toBe(count + 1);
        expect(found.get("nope")).toEqual([]);
        for (const [i, id] of ids.entries()) {
          const events = found.get(id) ?? [];
          expect(events.map((e) => [e.seq, e.event.type, e.event.runId])).toEqual([
            [2, "status", id],
            [3, "done", id],
          ]);
          expect(events[0]?.event).toMatchObject({ message: `run ${i}` });
        }
      });
    });

    it("stores a copy of each event", async () => {
      const event = { type: "tool-call" as const, runId: "r1", at: 1, callId: "c", name: "calculator", args: { expression: "1+1" } };
      void store.appendEvent("r1", 1, event);
      event.args.expression = "changed";
      expect((await store.readEvents("r1"))[0]?.event).toMatchObject({ args: { expression: "1+1" } });
      await store.flush();
      expect((await store.readEvents("r1"))[0]?.event).toMatchObject({ args: { expression: "1+1" } });
    });

    it("answers an unknown run with nothing and refuses appends to it", async () => {
      expect(await store.readEvents("nope")).toEqual([]);
      expect(await store.lastSeq("nope")).toBe(0);
      expect(await appendFailure(store, "nope", 1, tokenEvent("nope", "x"))).toEqual(storeError("not_found"));
      expect(await store.readEvents("nope")).toEqual([]);
    });
  });

  describe.runIf(backend.batched)("batched commits", () => {
    beforeEach(async () => {
      await conversation("c1");
      await conversation("c2");
      await run("r1", "c1");
      await run("r2", "c2");
    });

    it("commits a burst of appends in a few transactions of up to maxBatch, one promise per batch", async () => {
      const batched = await ctx.open({ maxBatch: 256 });
      const n = 1000;
      const promises = Array.from({ length: n }, (_, i) => batched.appendEvent("r1", i + 1, tokenEvent("r1", `tok${i + 1}`)));
      // Readable at once, committed or not.
      expect((await batched.readEvents("r1", 990)).map((e) => e.seq)).toEqual([991, 992, 993, 994, 995, 996, 997, 998, 999, 1000]);
      expect(await batched.lastSeq("r1")).toBe(n);
      // Events of one batch share its promise: far fewer promises than events.
      expect(new Set(promises).size).toBeLessThanOrEqual(Math.ceil(n / 256) + 2);
      expect(promises[0]).toBe(promises[1]);
      await batched.flush();
      await Promise.all(promises);
      const { commits, pendingEvents, flushErrors } = batched.stats!();
      expect({ pendingEvents, flushErrors }).toEqual({ pendingEvents: 0, flushErrors: 0 });
      expect(commits).toBeGreaterThanOrEqual(2);
      expect(commits).toBeLessThanOrEqual(Math.ceil(n / 256) + 1);
      expect(await ctx.committedSeqs("r1")).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      const read = await batched.readEvents("r1");
      expect(read[n - 1]?.event).toEqual(tokenEvent("r1", `tok${n}`));
      await batched.flush(); // nothing queued: no empty transaction
      expect(batched.stats!().commits).toBe(commits);
    });

    it("commits a done event, with everything queued before it, at once and in one transaction", async () => {
      const before = store.stats!().commits;
      const a = store.appendEvent("r1", 1, tokenEvent("r1", "a"));
      const other = store.appendEvent("r2", 1, tokenEvent("r2", "other run"));
      const b = store.appendEvent("r1", 2, tokenEvent("r1", "b"));
      expect(await ctx.committedSeqs("r1")).toEqual([]);
      const done = store.appendEvent("r1", 3, doneEvent("r1"));
      expect(a).toBe(done); // one batch, one promise
      expect(b).toBe(done);
      await done; // the flush interval is 60 s: only the done's own commit can resolve it
      expect(store.stats!()).toMatchObject({ commits: before + 1, pendingEvents: 0 });
      expect(await ctx.committedSeqs("r1")).toEqual([1, 2, 3]);
      await other; // the other run's events rode in the same transaction
      expect(await ctx.committedSeqs("r2")).toEqual([1]);
    });

    it("commits on the timer without any further call", async () => {
      const timed = await ctx.open({ flushIntervalMs: 5 });
      const first = timed.appendEvent("r1", 1, tokenEvent("r1", "a"));
      const second = timed.appendEvent("r1", 2, tokenEvent("r1", "b"));
      expect(second).toBe(first);
      await first;
      expect(timed.stats!()).toMatchObject({ commits: 1, pendingEvents: 0 });
      expect(await ctx.committedSeqs("r1")).toEqual([1, 2]);
    });

    it("commits what is queued on close", async () => {
      void store.appendEvent("r1", 1, tokenEvent("r1", "a"));
      void store.appendEvent("r1", 2, tokenEvent("r1", "b"));
      await store.close();
      expect(await ctx.committedSeqs("r1")).toEqual([1, 2]);
      expect(await failure(store.appendEvent("r1", 3, tokenEvent("r1", "c")))).toEqual(storeError("closed"));
    });
  });

  describe.runIf(backend.shared)("two processes on one database", () => {
    let other: TestStore;
    beforeEach(async () => {
      other = await ctx.open({ now: clock.now });
      for (let i = 0; i < 10; i++) await conversation(`c${i}`);
    });

    it("lets exactly maxRunningPerUser of concurrent starts on both through", async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 === 0 ? store : other).createRun({ id: `r${i}`, conversationId: `c${i}`, userId: "alice", model: "m", provider: "p", maxRunningPerUser: 4 }),
        ),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(4);
      for (const result of results.filter((r) => r.status === "rejected")) expect(result.reason).toEqual(storeError("limit"));
      expect(await other.countRunningRuns("alice")).toBe(4);
    });

    it("shows one process's pin to the other; of two pins at once, one pinnedAt is kept and both answer with it", async () => {
      clock.set(2_000);
      await store.setPinned("alice", "c1", true);
      expect(await other.getConversation("alice", "c1")).toMatchObject({ pinnedAt: 2_000 });
      expect((await other.listConversations("alice"))[0]?.id).toBe("c1");
      const both = await Promise.all([store.setPinned("alice", "c2", true, 3_000), other.setPinned("alice", "c2", true, 4_000)]);
      const kept = both[0]?.pinnedAt;
      expect([3_000, 4_000]).toContain(kept);
      expect(both[1]?.pinnedAt).toBe(kept);
      expect(await other.getConversation("alice", "c2")).toMatchObject({ pinnedAt: kept });
      await other.setPinned("alice", "c1", false);
      expect((await store.listConversations("alice")).slice(0, 2).map((c) => [c.id, c.pinnedAt])).toEqual([
        ["c2", kept],
        ["c9", null],
      ]);
    });

    it("chains concurrent appends under the head from both: never two siblings", async () => {
      const appended = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 === 0 ? store : other).appendMessage({ conversationId: "c0", runId: null, message: { role: "user", content: `m${i}` } }),
        ),
      );
      const tree = await other.listMessages("c0");
      expect(tree).toHaveLength(12);
      expect(tree.map((m) => m.parentId)).toEqual([null, ...tree.slice(0, -1).map((m) => m.id)]);
      expect((await store.activePath("c0")).map((m) => m.id)).toEqual(tree.map((m) => m.id));
      expect(appended.map((m) => m.parentId).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(tree.map((m) => m.parentId));
    });

    it("leaves the run running when its done is refused by the log (a seq another process committed)", async () => {
      await run("r1", "c0");
      await commit(other, "r1", 1, tokenEvent("r1", "from the other process"));
      expect(await appendFailure(store, "r1", 1, doneEvent("r1"))).toEqual(storeError("conflict", "seq"));
      expect(await other.getRun("r1")).toMatchObject({ status: "running", reason: null });
      await store.appendEvent("r1", 2, doneEvent("r1", "cancelled"));
      expect(await other.getRun("r1")).toMatchObject({ status: "done", reason: "cancelled" });
    });

    it("starts one run of a conversation when both try at once", async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 === 0 ? store : other).createRun({ id: `r${i}`, conversationId: "c0", userId: "alice", model: "m", provider: "p" }),
        ),
      );
      const started = results.filter((r) => r.status === "fulfilled");
      expect(started).toHaveLength(1);
      for (const result of results.filter((r) => r.status === "rejected")) {
        expect(result.reason).toEqual(storeError("conflict", "conversation_busy"));
      }
      expect((await other.activeRun("c0"))?.id).toBe(started[0]!.value.id);
    });

    it("starts one run for one client request id sent to both", async () => {
      const results = await Promise.allSettled(
        [store, other, store, other].map((target, i) =>
          target.createRun({ id: `r${i}`, conversationId: `c${i}`, userId: "alice", model: "m", provider: "p", clientRequestId: "req" }),
        ),
      );
      const started = results.filter((r) => r.status === "fulfilled");
      expect(started).toHaveLength(1);
      for (const result of results.filter((r) => r.status === "rejected")) {
        expect(result.reason).toEqual(storeError("conflict", "client_request_id"));
      }
      expect((await other.findRunByClientRequestId("alice", "req"))?.id).toBe(started[0]!.value.id);
    });

    it("starts exactly maxRunningPerUser new conversations from both at once; the refused leave none behind", async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 === 0 ? store : other).startRun({
            id: `r${i}`,
            conversationId: `new-${i}`,
            userId: "bob",
            model: "m",
            provider: "p",
            maxRunningPerUser: 3,
            conversation: { title: `T${i}` },
            question: { message: { role: "user", content: `q${i}` } },
          }),
        ),
      );
      const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      expect(started).toHaveLength(3);
      for (const result of results.filter((r) => r.status === "rejected")) expect(result.reason).toEqual(storeError("limit"));
      const conversations = await other.listConversations("bob");
      expect(conversations.map((c) => c.id).sort()).toEqual(started.map((s) => s.conversation.id).sort());
      for (const { conversation: c, question } of started) expect(await other.listMessages(c.id)).toEqual([question]);
    });

    it("starts one run with its question when both start in one conversation at once", async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 === 0 ? store : other).startRun({
            id: `r${i}`,
            conversationId: "c0",
            userId: "alice",
            model: "m",
            provider: "p",
            question: { message: { role: "user", content: `q${i}` } },
          }),
        ),
      );
      const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      expect(started).toHaveLength(1);
      for (const result of results.filter((r) => r.status === "rejected")) {
        expect(result.reason).toEqual(storeError("conflict", "conversation_busy"));
      }
      expect(await other.listMessages("c0")).toEqual([started[0]!.question]);
    });

    it("refuses a seq another process committed; the run's later events are refused, except its error and done", async () => {
      await run("r1", "c1");
      await run("r2", "c2");
      await commit(store, "r1", 1, tokenEvent("r1", "mine"));
      await commit(other, "r1", 2, tokenEvent("r1", "theirs")); // e.g. another process took the run over
      // One batch with a row of each run: the duplicate costs r2 nothing.
      const mine = store.appendEvent("r1", 2, tokenEvent("r1", "mine too"));
      const unrelated = store.appendEvent("r2", 1, tokenEvent("r2", "unrelated"));
      expect(await failure(store.flush())).toEqual(storeError("conflict", "seq"));
      expect(await failure(mine)).toEqual(storeError("conflict", "seq"));
      await unrelated;
      expect(await ctx.committedSeqs("r2")).toEqual([1]);
      // The log lost r1's seq 2 of this process: tokens after it would hide the hole, the run's end would not.
      expect(await failure(store.appendEvent("r1", 3, tokenEvent("r1", "more")))).toEqual(storeError("conflict", "seq"));
      await commit(store, "r1", 10, { type: "error", runId: "r1", at: 1, code: "internal", message: "log conflict", retryable: true });
      await store.appendEvent("r1", 11, doneEvent("r1", "error"));
      expect(await ctx.committedSeqs("r1")).toEqual([1, 2, 10, 11]);
      expect((await other.readEvents("r1")).map((e) => e.event.type === "token" ? e.event.text : e.event.type)).toEqual([
        "mine",
        "theirs",
        "error",
        "done",
      ]);
      // A committed done clears the run's state: the next append is judged by the log alone.
      expect(await appendFailure(store, "r1", 11, tokenEvent("r1", "x"))).toEqual(storeError("conflict", "seq"));
      await store.appendEvent("r1", 12, doneEvent("r1"));
    });
  });

  describe("searchMessages", () => {
    beforeEach(async () => {
      await conversation("c1", "alice", "Trip planning");
      await conversation("c2", "alice", "Maths");
      await conversation("b1", "bob", "Bob's");
      const add = async (conversationId: string, at: number, message: ChatMessage) => {
        clock.set(at);
        await store.appendMessage({ conversationId, runId: null, message });
      };
      await add("c1", 1_000, { role: "system", content: "System prompt mentions Tokyo" });
      await add("c1", 2_000, { role: "user", content: "What time is it in TOKYO?" });
      await add("c1", 3_000, { role: "tool", toolCallId: "x", toolName: "current_time", content: "tokyo tool output" });
      await add("c1", 4_000, { role: "assistant", content: "It is 14:05 in Tokyo.", thinking: "secret thoughts" });
      await add("c2", 5_000, { role: "user", content: "What is 50% of 80? Use snake_case." });
      await add("c2", 6_000, { role: "assistant", content: "40. Backslash \\ here. ÉMILE says hi." });
      await add("b1", 7_000, { role: "user", content: "Bob also asks about Tokyo and 100%" });
    });

    it("matches case-insensitively in the user's user and assistant messages, newest first", async () => {
      const c1 = (await store.listMessages("c1")).map((m) => m.id);
      expect(await store.searchMessages("alice", "tokyo")).toEqual([
        { conversationId: "c1", messageId: c1[3], title: "Trip planning", role: "assistant", snippet: "It is 14:05 in Tokyo.", createdAt: 4_000, archivedAt: null },
        { conversationId: "c1", messageId: c1[1], title: "Trip planning", role: "user", snippet: "What time is it in TOKYO?", createdAt: 2_000, archivedAt: null },
      ]);
      expect((await store.searchMessages("alice", "tokyo", { limit: 1 })).map((h) => h.createdAt)).toEqual([4_000]);
      expect(await store.searchMessages("alice", "secret")).toEqual([]); // thinking is not searched
      expect((await store.searchMessages("bob", "tokyo")).map((h) => h.conversationId)).toEqual(["b1"]);
    });

    it("finds messages of archived conversations too, and says when each was archived", async () => {
      await store.setArchived("alice", "c1", true, 9_000);
      const hits = await store.searchMessages("alice", "tokyo");
      expect(hits.map((h) => [h.conversationId, h.archivedAt])).toEqual([
        ["c1", 9_000],
        ["c1", 9_000],
      ]);
      // The scan (for a query LIKE cannot answer: U+FFFD) says so as well.
      await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "Tokyo \uFFFD" } });
      expect((await store.searchMessages("alice", "tokyo \uFFFD")).map((h) => h.archivedAt)).toEqual([9_000]);
      await store.setArchived("alice", "c1", false);
      expect((await store.searchMessages("alice", "tokyo")).map((h) => h.archivedAt)).toEqual([null, null, null]);
    });

    it("folds non-ASCII case too", async () => {
      expect((await store.searchMessages("alice", "émile")).map((h) => h.createdAt)).toEqual([6_000]);
    });

    it("finds a question by the names of its files, not by their text; an imported conversation's too", async () => {
      clock.set(8_000);
      const files = [{ type: "file" as const, name: "Budget-2026.csv", text: "item,cost\nrent,1200\n" }];
      await store.appendMessage({ conversationId: "c2", runId: null, message: { role: "user", content: "Sum the costs", files } });
      const hits = await store.searchMessages("alice", "budget-2026");
      expect(hits).toEqual([expect.objectContaining({ conversationId: "c2", role: "user", snippet: "Sum the costs Budget-2026.csv", createdAt: 8_000 })]);
      expect(await store.searchMessages("alice", "rent,1200")).toEqual([]);
      // The scan for the queries LIKE cannot answer (a lone surrogate here) reads the names too.
      expect(await store.searchMessages("alice", "budget-2026.csv\uD800")).toEqual([]);
      const exported = await exportConversation(store, "alice", "c2", "json");
      const { conversationId } = await importConversation(store, "alice", exported.content);
      expect((await store.searchMessages("alice", "BUDGET-2026")).map((h) => h.conversationId).sort()).toEqual(["c2", conversationId].sort());
    });

    it("treats LIKE wildcards and the escape character literally", async () => {
      const at = async (query: string) => (await store.searchMessages("alice", query)).map((h) => h.createdAt);
      expect(await at("%")).toEqual([5_000]);
      expect(await at("_")).toEqual([5_000]);
      expect(await at("0%")).toEqual([5_000]);
      expect(await at("\\")).toEqual([6_000]);
      expect(await at("T_kyo")).toEqual([]);
      expect(await at("%tokyo%")).toEqual([]);
    });

    it("finds nothing for an empty query or a zero limit", async () => {
      expect(await store.searchMessages("alice", "")).toEqual([]);
      expect(await store.searchMessages("alice", "tokyo", { limit: 0 })).toEqual([]);
    });

    it("folds case exactly as JavaScript's toLowerCase does, where SQL's lower() differs", async () => {
      await conversation("u1", "carol", "Unicode");
      const texts = [
        "İstanbul in winter", // İ → i̇ (two code units)
        "ΟΔΟΣ ends in a final sigma", // → οδος with ς
        "It is 5 \u212A outside", // KELVIN SIGN → k
        "GROSSE STRAẞE", // ẞ → ß
        "ǅemal, a title-case digraph", // ǅ → ǆ
        "ＦＵＬＬＷＩＤＴＨ letters",
        "Ǆ and ǆ", // the other digraph cases
      ];
      for (const [i, content] of texts.entries()) {
        clock.set(10_000 + i);
        await store.appendMessage({ conversationId: "u1", runId: null, message: { role: "user", content } });
      }
      const queries = ["i̇stanbul", "istanbul", "İSTANBUL", "οδος", "οδοσ", "ΟΔΟΣ", "5 k", "5 K", "straße", "STRASSE", "ǆemal", "ǅEMAL", "ｆｕｌｌ", "ǆ and ǆ"];
      for (const query of queries) {
        const expected = texts
          .map((content, i) => ({ content, at: 10_000 + i }))
          .filter(({ content }) => containsFolded(content, query))
          .map(({ at }) => at)
          .reverse();
        expect((await store.searchMessages("carol", query)).map((h) => h.createdAt), query).toEqual(expected);
      }
      // The reference itself, so the loop above cannot pass by finding nothing everywhere.
      const hits = async (query: string) => (await store.searchMessages("carol", query)).length;
      expect(await hits("5 k")).toBe(1);
      expect(await hits("οδος")).toBe(1);
      expect(await hits("οδοσ")).toBe(0);
      expect(await hits("istanbul")).toBe(0);
      expect(await hits("i̇stanbul")).toBe(1);
      expect(await hits("ǆ and ǆ")).toBe(1);
    });

    it("finds NUL, lone surrogates and U+FFFD exactly, and text after a NUL", async () => {
      await conversation("u2", "dave", "Odd");
      const texts = ["nul\u0000here", "lone \ud800 surrogate", "real \ufffd replacement", "pair 😀 emoji"];
      for (const [i, content] of texts.entries()) {
        clock.set(20_000 + i);
        await store.appendMessage({ conversationId: "u2", runId: null, message: { role: "assistant", content } });
      }
      const at = async (query: string) => (await store.searchMessages("dave", query)).map((h) => h.createdAt);
      expect(await at("here")).toEqual([20_000]);
      expect(await at("\u0000")).toEqual([20_000]);
      expect(await at("L\u0000H")).toEqual([20_000]);
      expect(await at("\ud800")).toEqual([20_001]);
      expect(await at("\ufffd")).toEqual([20_002]);
      expect(await at("😀")).toEqual([20_003]);
      expect(await at("\ud83d")).toEqual([20_003]); // half of the pair: a code-unit substring, as in JavaScript
      expect((await store.searchMessages("dave", "here"))[0]?.snippet).toBe("nul\u0000here");
    });

    it("answers a query too long for SQLite's LIKE as the other stores do", async () => {
      await conversation("u3", "erin", "Long");
      // 25 001 two-byte characters: a LIKE pattern over SQLite's 50 000 bytes.
      const long = "é".repeat(25_001);
      clock.set(30_000);
      await store.appendMessage({ conversationId: "u3", runId: null, message: { role: "user", content: `${long} and more` } });
      clock.set(30_001);
      await store.appendMessage({ conversationId: "u3", runId: null, message: { role: "assistant", content: "short" } });
      const at = async (query: string) => (await store.searchMessages("erin", query)).map((h) => h.createdAt);
      expect(await at(long.toUpperCase())).toEqual([30_000]);
      expect(await at(`${long}_`)).toEqual([]);
      expect(await at("%".repeat(50_000))).toEqual([]);
    });
  });

  it("answers ping until closed, then refuses calls", async () => {
    expect(await store.ping()).toBe(true);
    await store.close();
    expect(await store.ping()).toBe(false);
    expect(await failure(store.listConversations("alice"))).toEqual(storeError("closed"));
    expect(await failure(store.setPinned("alice", "c1", true))).toEqual(storeError("closed"));
    await store.close(); // idempotent (afterEach closes again)
  });
});
