import { beforeEach, describe, expect, it } from "vitest";
import { defaultSampling, formatFileSize, type ChatEvent, type ChatMessage } from "@streamchat/core";
import { allBackends, type BackendContext, type TestStore } from "../test-support/backends.js";
import { exportSeed as seed, withImage } from "../test-support/export-seed.js";
import { failure, manualClock, oneQuestionInput, sampleUsage } from "../test-support/fixtures.js";
import { describeEachBackend } from "../test-support/postgres.js";
import type { ChatStore } from "../types.js";
import { branchConversation } from "./branch.js";
import { ImportError } from "./errors.js";
import { buildConversationExport, exportConversation, filenameBase } from "./export.js";
import { importConversation, parseConversationExport } from "./import.js";
import { conversationExportSchema, type ConversationExport } from "./schema.js";

/** The export with every id replaced by its position and every timestamp dropped: what a round trip must keep. */
function comparable(doc: ConversationExport) {
  const messageIndex = new Map(doc.messages.map((m, i) => [m.id, i]));
  const runIndex = new Map(doc.runs.map((r, i) => [r.id, `run${i}`]));
  const message = (id: number | null) => (id === null ? null : messageIndex.get(id));
  return {
    format: doc.format,
    version: doc.version,
    title: doc.conversation.title,
    activeMessage: message(doc.activeMessageId),
    messages: doc.messages.map((m) => ({
      parent: message(m.parentId),
      run: m.runId === null ? null : runIndex.get(m.runId),
      message: JSON.stringify(m.message), // exact: key order and every field
    })),
    runs: doc.runs.map(({ id, createdAt: _c, finishedAt: _f, events, ...run }) => ({
      ...run,
      events: events.map(({ seq, event }) => ({
        seq,
        // An import validates events with core's schema, which writes their keys in its own order.
        event: {
          ...event,
          runId: runIndex.get(event.runId) ?? `unknown ${event.runId}`,
          ...(event.type === "run-start" ? { conversationId: "the conversation" } : {}),
        },
      })),
    })),
  };
}

describeEachBackend((backend) => `export and import on the ${backend.name} store`, allBackends, (backend) => {
  const ctx: BackendContext = backend.context();
  let store: TestStore;
  let clock: ReturnType<typeof manualClock>;

  beforeEach(async () => {
    clock = manualClock(1_700_000_000_000);
    store = await ctx.open({ now: () => (clock.set(clock.now() + 1_000), clock.now()) });
  });

  const exportJson = async (conversationId: string) =>
    JSON.parse((await exportConversation(store, "alice", conversationId, "json")).content) as ConversationExport;

  it("exports the whole tree, the active path's end, every run's usage and events without tokens", async () => {
    const { a2 } = await seed(store);
    const file = await exportConversation(store, "alice", "c1", "json", { now: () => 1_800_000_000_000 });
    expect(file).toMatchObject({ filename: "trip-to-tokyo.json", mimeType: "application/json" });
    const doc = JSON.parse(file.content) as ConversationExport;
    expect(conversationExportSchema.parse(doc)).toEqual(doc); // the file is valid for the schema, field for field
    expect(doc).toMatchObject({ format: "streamchat.conversation", version: 1, exportedAt: 1_800_000_000_000, activeMessageId: a2 });
    expect(doc.conversation).toMatchObject({ id: "c1", title: "Trip to Tokyo 🗼" });
    expect(doc.messages.map((m) => m.message.content)).toEqual([
      "What time is it in Tokyo?",
      "",
      '{"iso":"2026-01-01T05:05:00Z"}',
      "It is 14:05 in Tokyo.",
      "Tokyo: 14:06.",
      withImage.content,
      "A tower.",
    ]);
    expect(doc.messages.map((m) => m.message)).toEqual((await store.listMessages("c1")).map((m) => m.message));
    expect(doc.messages[5]?.message).toEqual(withImage); // attachments come along
    expect(doc.messages.map((m) => m.parentId)).toEqual((await store.listMessages("c1")).map((m) => m.parentId));

    expect(doc.runs.map((r) => [r.id, r.model, r.status, r.reason, r.usage])).toEqual([
      ["r1", "qwen3", "done", "stop", sampleUsage],
      ["r2", "qwen3", "done", "stop", { ...sampleUsage, completionTokens: 3 }],
      ["r3", "llava", "done", "length", sampleUsage],
    ]);
    // Tokens left out; each span of reasoning chunks joined at its first chunk's seq.
    const events = (i: number) => doc.runs[i]!.events.map(({ seq, event }) => [seq, event.type, "text" in event ? event.text : undefined]);
    expect(events(0)).toEqual([
      [1, "run-start", undefined],
      [2, "status", undefined],
      [3, "reasoning", "The user wants the time."],
      [6, "tool-call", undefined],
      [7, "tool-result", undefined],
      [10, "done", undefined],
    ]);
    expect(events(1)).toEqual([
      [3, "reasoning", "Again: check the clock."],
      [7, "error", undefined],
      [8, "done", undefined],
    ]);
    expect(doc.runs[0]!.events[4]?.event).toMatchObject({ result: { iso: "2026-01-01T05:05:00Z" }, durationMs: 4 });
    expect(events(2)).toEqual([[1, "done", undefined]]);
  });

  it("round-trips: export → import → export is equal except ids and timestamps", async () => {
    await seed(store);
    const first = await exportConversation(store, "alice", "c1", "json");
    const { conversationId } = await importConversation(store, "alice", first.content);
    expect(conversationId).not.toBe("c1");
    const original = JSON.parse(first.content) as ConversationExport;
    const copy = await exportJson(conversationId);
    expect(comparable(copy)).toEqual(comparable(original));

    // New ids everywhere: nothing of the copy points into the original.
    expect(copy.conversation.id).toBe(conversationId);
    const originalIds = new Set(original.messages.map((m) => m.id));
    expect(copy.messages.filter((m) => originalIds.has(m.id))).toEqual([]);
    expect(copy.runs.map((r) => r.id).filter((id) => ["r1", "r2", "r3"].includes(id))).toEqual([]);
    for (const run of copy.runs) {
      for (const { event } of run.events) {
        expect(event.runId).toBe(run.id);
        if (event.type === "run-start") expect(event.conversationId).toBe(conversationId);
      }
    }
    // The imported conversation works like the original: same path, versions, runs.
    const shape = async (id: string) =>
      (await store.activePath(id)).map((m) => [m.message.content, m.versions ? [m.versions.index, m.versions.count] : null]);
    expect(await shape(conversationId)).toEqual(await shape("c1"));
    expect(await shape(conversationId)).toEqual([
      ["What time is it in Tokyo?", [1, 2]],
      ["Tokyo: 14:06.", [2, 2]],
    ]);
    expect((await store.listRuns(conversationId)).map((r) => [r.status, r.reason, r.usage, r.clientRequestId])).toEqual([
      ["done", "stop", sampleUsage, null],
      ["done", "stop", { ...sampleUsage, completionTokens: 3 }, null],
      ["done", "length", sampleUsage, null],
    ]);
    // And again: a copy of the copy is the same.
    const again = await importConversation(store, "alice", JSON.stringify(copy));
    expect(comparable(await exportJson(again.conversationId))).toEqual(comparable(original));
    // The Markdown of the copy reads the same.
    const markdown = async (id: string) =>
      (await exportConversation(store, "alice", id, "markdown")).content.replace(/^_Exported from .*$/m, "");
    expect(await markdown(conversationId)).toEqual(await markdown("c1"));
  });

  it("imports as a new conversation every time, never changing the original", async () => {
    await seed(store);
    const snapshot = async () => ({
      conversation: await store.getConversation("alice", "c1"),
      tree: await store.listMessages("c1"),
      path: await store.activePath("c1"),
      runs: await store.listRuns("c1"),
      events: await Promise.all(["r1", "r2", "r3"].map((id) => store.readEvents(id))),
    });
    const before = await snapshot();
    const { content } = await exportConversation(store, "alice", "c1", "json");
    const one = await importConversation(store, "alice", content);
    const two = await importConversation(store, "alice", content);
    expect(one.conversationId).not.toBe(two.conversationId);
    expect(await snapshot()).toEqual(before);
    expect((await store.listConversations("alice")).map((c) => c.id).sort()).toEqual(["c1", one.conversationId, two.conversationId].sort());
    // Into another user's account: theirs alone.
    const bobs = await importConversation(store, "bob", content);
    expect((await store.listConversations("bob")).map((c) => c.id)).toEqual([bobs.conversationId]);
    expect((await store.listRuns(bobs.conversationId)).every((run) => run.userId === "bob")).toBe(true);
    expect(await store.getConversation("alice", bobs.conversationId)).toBeUndefined();
  });

  it("imports a chat with an origin once per user: again is already_imported (conflict), until that copy is deleted", async () => {
    await seed(store);
    const origin = "ChatGPT:6650a1b2-aaaa-bbbb@1717000000.5";
    const doc = { ...(await exportJson("c1")), conversation: { ...(await exportJson("c1")).conversation, origin } };
    const content = JSON.stringify(doc);
    const counts = async () => {
      const ids = [...(await store.listConversations("alice")), ...(await store.listConversations("bob"))].map((c) => c.id);
      const messages = await Promise.all(ids.map((id) => store.listMessages(id)));
      const runs = await Promise.all(ids.map((id) => store.listRuns(id)));
      return { conversations: ids.length, messages: messages.flat().length, runs: runs.flat().length };
    };

    const first = await importConversation(store, "alice", content);
    const before = await counts();
    expect(before.conversations).toBe(2);
    const error = await failure(importConversation(store, "alice", content));
    expect(error).toBeInstanceOf(ImportError);
    expect(error).toMatchObject({ name: "ImportError", code: "bad_request", reason: "already_imported" });
    expect((error as Error).message).toBe("This chat was imported before; delete that copy to import it again.");
    expect((error as Error).cause).toMatchObject({ name: "StoreError", code: "conflict", reason: "origin" });
    expect(await counts()).toEqual(before);

    // Another user imports it freely.
    const bobs = await importConversation(store, "bob", content);
    expect((await store.listConversations("bob")).map((c) => c.id)).toEqual([bobs.conversationId]);

    // This app's export of the imported copy carries no origin: imported again, it is a new conversation.
    const exported = await exportJson(first.conversationId);
    expect(exported.conversation).not.toHaveProperty("origin");
    const { content: copyContent } = await exportConversation(store, "alice", first.conversationId, "json");
    expect(copyContent).not.toContain(origin);
    const copy = await importConversation(store, "alice", copyContent);
    expect(copy.conversationId).not.toBe(first.conversationId);

    // A branch of it is a new conversation too.
    const answer = (await store.activePath(first.conversationId)).at(-1)!;
    const branch = await branchConversation(store, "alice", first.conversationId, answer.id);
    expect(await store.getConversation("alice", branch.conversationId)).toMatchObject({ title: expect.stringMatching(/^Branch · /) });
    expect((await exportJson(branch.conversationId)).conversation).not.toHaveProperty("origin");
    // ... and neither the copy nor the branch holds the origin: the original still does.
    expect(await failure(importConversation(store, "alice", content))).toMatchObject({ reason: "already_imported" });

    // Deleting the imported copy frees its origin.
    expect(await store.deleteConversation("alice", first.conversationId)).toBe(true);
    const again = await importConversation(store, "alice", content);
    expect(await store.listMessages(again.conversationId)).toHaveLength(doc.messages.length);
    expect(await failure(importConversation(store, "alice", content))).toMatchObject({ code: "bad_request", reason: "already_imported" });
  });

  it("brings another app's chat up to date: a newer version takes the place of the copy not gone on with here, keeping its title and pin", async () => {
    /** Another app's chat as its reader makes it: questions and answers without runs, at a version of that app's. */
    const chat = (origin: string, answers: string[]) =>
      JSON.stringify({
        format: "streamchat.conversation",
        version: 1,
        exportedAt: 1,
        conversation: { id: "x", title: "Trip", createdAt: 1_000, updatedAt: 2_000, origin },
        activeMessageId: answers.length * 2,
        messages: answers.flatMap((answer, i) => [
          { id: i * 2 + 1, parentId: i === 0 ? null : i * 2, runId: null, createdAt: 1_000 + i, message: { role: "user", content: `Q${i}` } },
          { id: i * 2 + 2, parentId: i * 2 + 1, runId: null, createdAt: 1_000 + i, message: { role: "assistant", content: answer } },
        ]),
        runs: [],
      });
    const texts = async (conversationId: string) => (await store.activePath(conversationId)).map((m) => m.message.content);
    const first = await importConversation(store, "alice", chat("ChatGPT:abc@100", ["A0"]));
    expect(first.replaced).toBeUndefined();
    await store.renameConversation("alice", first.conversationId, "My trip");
    await store.setPinned("alice", first.conversationId, true, 5_000);
    // Another chat whose id starts the same, and another user's copy of this one: neither is this user's copy.
    const other = await importConversation(store, "alice", chat("ChatGPT:abcd@50", ["B0"]));
    const bobs = await importConversation(store, "bob", chat("ChatGPT:abc@100", ["A0"]));

    const second = await importConversation(store, "alice", chat("ChatGPT:abc@200", ["A0", "A1"]));
    expect(second.replaced).toBe(first.conversationId);
    expect(await store.getConversation("alice", first.conversationId)).toBeUndefined();
    expect(await store.getConversation("alice", second.conversationId)).toMatchObject({ title: "My trip", pinnedAt: 5_000 });
    expect(await texts(second.conversationId)).toEqual(["Q0", "A0", "Q1", "A1"]);
    expect(await store.getConversation("alice", other.conversationId)).toBeDefined();
    expect(await store.getConversation("bob", bobs.conversationId)).toBeDefined();

    // The same version again is imported already; an older one comes beside the newer copy, replacing nothing.
    expect(await failure(importConversation(store, "alice", chat("ChatGPT:abc@200", ["A0", "A1"])))).toMatchObject({ reason: "already_imported" });
    const older = await importConversation(store, "alice", chat("ChatGPT:abc@150", ["A0"]));
    expect(older.replaced).toBeUndefined();
    expect(await store.getConversation("alice", second.conversationId)).toBeDefined();
    await store.deleteConversation("alice", older.conversationId);

    // Gone on with here (a run in it): the newer version comes beside it, and it stays.
    await store.createRun({ id: "asked-here", conversationId: second.conversationId, userId: "alice", model: "m", provider: "p" });
    const third = await importConversation(store, "alice", chat("ChatGPT:abc@300", ["A0", "A1", "A2"]));
    expect(third.replaced).toBeUndefined();
    expect(await store.getConversation("alice", second.conversationId)).toBeDefined();
    expect(await store.getConversation("alice", third.conversationId)).toMatchObject({ title: "Trip", pinnedAt: null });
    // An origin without a version to compare replaces nothing.
    expect((await importConversation(store, "alice", chat("ChatGPT:abc@", ["A0"]))).replaced).toBeUndefined();
  });

  it("deletes the conversation an insert replaces in the same transaction, only the user's and only without runs", async () => {
    const insert = (id: string, replaces?: string) =>
      store.insertConversation({ ...oneQuestionInput(id), ...(replaces === undefined ? {} : { replaces }) });
    await insert("old");
    expect((await insert("new", "old")).replaced).toBe(true);
    expect(await store.getConversation("alice", "old")).toBeUndefined();
    expect(await store.listMessages("old")).toEqual([]);
    // A question asked in it (a run) keeps it; so does another user's, and one that is not there.
    await store.createRun({ id: "asked", conversationId: "new", userId: "alice", model: "m", provider: "p" });
    expect((await insert("newer", "new")).replaced).toBe(false);
    expect(await store.getConversation("alice", "new")).toBeDefined();
    await store.createConversation({ id: "bobs", userId: "bob", title: "Bob's" });
    expect((await insert("third", "bobs")).replaced).toBe(false);
    expect(await store.getConversation("bob", "bobs")).toBeDefined();
    expect((await insert("fourth", "gone")).replaced).toBe(false);
    expect((await store.listConversations("alice")).map((c) => c.id).sort()).toEqual(["fourth", "new", "newer", "third"]);
  });

  it("holds an origin to plain storable text of at most 500 characters", async () => {
    await seed(store);
    const valid = await exportJson("c1");
    const withOrigin = (origin: unknown) => JSON.stringify({ ...valid, conversation: { ...valid.conversation, origin } });
    for (const origin of ["x".repeat(501), "a\u0000b", "\uD800", 42, null]) {
      const error = await failure(importConversation(store, "alice", withOrigin(origin)));
      expect(error, String(origin)).toMatchObject({ name: "ImportError", code: "bad_request", reason: "invalid" });
      expect((error as Error).message).toMatch(/conversation\.origin/);
    }
    expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["c1"]);
    const { conversationId } = await importConversation(store, "alice", withOrigin("x".repeat(500)));
    expect(await store.getConversation("alice", conversationId)).toMatchObject({ title: valid.conversation.title });
  });

  it("exports a pinned conversation with its pin: the import is pinned at the same time, the original stays pinned", async () => {
    await seed(store);
    await store.createConversation({ id: "c2", userId: "alice", title: "Newer one" });
    const pinned = await store.setPinned("alice", "c1", true, 1_700_000_000_000);
    const { content } = await exportConversation(store, "alice", "c1", "json");
    expect((JSON.parse(content) as ConversationExport).conversation.pinnedAt).toBe(1_700_000_000_000);
    const { conversationId } = await importConversation(store, "alice", content);
    expect(await store.getConversation("alice", conversationId)).toMatchObject({ pinnedAt: 1_700_000_000_000 });
    expect(await store.getConversation("alice", "c1")).toEqual(pinned);
    // Pinned ones first (the copy's pin is as old as the original's: it was made after it), then the rest.
    expect((await store.listConversations("alice")).map((c) => c.id)).toEqual([conversationId, "c1", "c2"]);
    // An unpinned chat's file says nothing of pins, as before; null reads as not pinned; a pin time the import does
    // not keep becomes the import's.
    expect((await exportConversation(store, "alice", "c2", "json")).content).not.toMatch(/pinned/i);
    const doc = JSON.parse(content) as ConversationExport;
    const withPin = (pinnedAt: number | null) => JSON.stringify({ ...doc, conversation: { ...doc.conversation, pinnedAt } });
    const unpinned = await importConversation(store, "alice", withPin(null));
    expect(await store.getConversation("alice", unpinned.conversationId)).toMatchObject({ pinnedAt: null });
    const importedAt = clock.now() + 1_000;
    const odd = await importConversation(store, "alice", withPin(-5), { now: () => importedAt });
    expect(await store.getConversation("alice", odd.conversationId)).toMatchObject({ pinnedAt: importedAt });
  });

  it("exports an archived conversation with its archivedAt: the import is archived at the same time, the original stays archived", async () => {
    await seed(store);
    await store.createConversation({ id: "c2", userId: "alice", title: "Newer one" });
    await store.setPinned("alice", "c1", true, 1_600_000_000_000);
    const archived = await store.setArchived("alice", "c1", true, 1_700_000_000_000);
    const { content } = await exportConversation(store, "alice", "c1", "json");
    const doc = JSON.parse(content) as ConversationExport;
    expect(doc.conversation).toMatchObject({ archivedAt: 1_700_000_000_000, pinnedAt: 1_600_000_000_000 });
    const { conversationId } = await importConversation(store, "alice", content);
    expect(await store.getConversation("alice", conversationId)).toMatchObject({ archivedAt: 1_700_000_000_000, pinnedAt: 1_600_000_000_000 });
    expect(await store.getConversation("alice", "c1")).toEqual(archived);
    expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["c2"]);
    expect((await store.listConversations("alice", { archived: true })).map((c) => c.id)).toEqual([conversationId, "c1"]);
    // A chat in the list says nothing of archiving, as before, also once archived and brought back; null reads as
    // not archived.
    expect((await exportConversation(store, "alice", "c2", "json")).content).not.toMatch(/archived/i);
    await store.setArchived("alice", "c2", true);
    await store.setArchived("alice", "c2", false);
    expect((await exportConversation(store, "alice", "c2", "json")).content).not.toMatch(/archived/i);
    const withArchivedAt = (archivedAt: unknown) => JSON.stringify({ ...doc, conversation: { ...doc.conversation, archivedAt } });
    const listed = await importConversation(store, "alice", withArchivedAt(null));
    expect(await store.getConversation("alice", listed.conversationId)).toMatchObject({ archivedAt: null });
    const { archivedAt: _archivedAt, ...withoutArchivedAt } = doc.conversation;
    const absent = await importConversation(store, "alice", JSON.stringify({ ...doc, conversation: withoutArchivedAt }));
    expect(await store.getConversation("alice", absent.conversationId)).toMatchObject({ archivedAt: null });
    // A time a store does not keep is refused (no file of this app's has one), nothing created.
    const before = (await store.listConversations("alice")).map((c) => c.id);
    for (const odd of [-5, 1.5, 2 ** 53, "1700000000000", true]) {
      const error = await failure(importConversation(store, "alice", withArchivedAt(odd)));
      expect(error, String(odd)).toMatchObject({ name: "ImportError", code: "bad_request", reason: "invalid" });
      expect((error as Error).message, String(odd)).toMatch(/conversation\.archivedAt/);
    }
    expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(before);
    expect((await store.listConversations("alice", { archived: true })).map((c) => c.id)).toEqual([conversationId, "c1"]);
  });

  it("brings an archived copy of another app's chat up to date archived: the copy's archivedAt wins, a copy in the list takes the file's", async () => {
    const chat = (origin: string, archivedAt?: number) =>
      JSON.stringify({
        format: "streamchat.conversation",
        version: 1,
        exportedAt: 1,
        conversation: { id: "x", title: "Trip", createdAt: 1_000, updatedAt: 2_000, origin, ...(archivedAt === undefined ? {} : { archivedAt }) },
        activeMessageId: 2,
        messages: [
          { id: 1, parentId: null, runId: null, createdAt: 1_000, message: { role: "user", content: "Q0" } },
          { id: 2, parentId: 1, runId: null, createdAt: 1_000, message: { role: "assistant", content: "A0" } },
        ],
        runs: [],
      });
    const archivedAt = async (conversationId: string) => (await store.getConversation("alice", conversationId))?.archivedAt;
    const first = await importConversation(store, "alice", chat("ChatGPT:abc@100"));
    expect(await archivedAt(first.conversationId)).toBeNull();
    await store.setArchived("alice", first.conversationId, true, 5_000);
    // Archived here: the newer version stays archived at the copy's time, whatever the file says.
    const second = await importConversation(store, "alice", chat("ChatGPT:abc@200", 7_000));
    expect(second.replaced).toBe(first.conversationId);
    expect(await archivedAt(second.conversationId)).toBe(5_000);
    const third = await importConversation(store, "alice", chat("ChatGPT:abc@300"));
    expect(third.replaced).toBe(second.conversationId);
    expect(await archivedAt(third.conversationId)).toBe(5_000);
    expect((await store.listConversations("alice", { archived: true })).map((c) => c.id)).toEqual([third.conversationId]);
    // In the list here: the newer version takes the file's.
    await store.setArchived("alice", third.conversationId, false);
    const fourth = await importConversation(store, "alice", chat("ChatGPT:abc@400", 8_000));
    expect(fourth.replaced).toBe(third.conversationId);
    expect(await archivedAt(fourth.conversationId)).toBe(8_000);
    await store.setArchived("alice", fourth.conversationId, false);
    const fifth = await importConversation(store, "alice", chat("ChatGPT:abc@500"));
    expect(fifth.replaced).toBe(fourth.conversationId);
    expect(await archivedAt(fifth.conversationId)).toBeNull();
    expect((await store.listConversations("alice")).map((c) => c.id)).toEqual([fifth.conversationId]);
  });

  it("exports a conversation's instructions: the import has them, the original keeps them; a chat without any says nothing of them", async () => {
    await seed(store);
    const instructions = "Answer in French.\nYou review TypeScript: \"strict\" 🙂";
    const set = await store.setConversationInstructions("alice", "c1", instructions);
    const { content } = await exportConversation(store, "alice", "c1", "json");
    const doc = JSON.parse(content) as ConversationExport;
    expect(doc.conversation.instructions).toBe(instructions);
    const { conversationId } = await importConversation(store, "alice", content);
    expect(await store.getConversationSettings("alice", conversationId)).toEqual({ instructions, sampling: defaultSampling, updatedAt: expect.any(Number) });
    expect(await store.getRunSettings("alice", conversationId)).toEqual({ user: "", conversation: instructions, sampling: defaultSampling });
    expect(await store.getConversationSettings("alice", "c1")).toEqual(set);
    // The copy exports them again: a round trip keeps them.
    expect((await exportJson(conversationId)).conversation).toEqual({ ...doc.conversation, id: conversationId });

    // Never set, or cleared: the file is as it always was, and its import has none.
    await store.createConversation({ id: "c2", userId: "alice", title: "Plain" });
    expect((await exportConversation(store, "alice", "c2", "json")).content).not.toMatch(/instructions/i);
    await store.setConversationInstructions("alice", "c1", "");
    const cleared = (await exportConversation(store, "alice", "c1", "json")).content;
    expect(cleared).not.toMatch(/instructions/i);
    const plain = await importConversation(store, "alice", cleared);
    expect(await store.getConversationSettings("alice", plain.conversationId)).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
    // "" reads as none; blanks around them are trimmed as the API trims what a user sets, and blanks alone are none.
    const withInstructions = (value: unknown) => JSON.stringify({ ...doc, conversation: { ...doc.conversation, instructions: value } });
    for (const blank of ["", "  \n "]) {
      const imported = await importConversation(store, "alice", withInstructions(blank));
      expect(await store.getConversationSettings("alice", imported.conversationId), JSON.stringify(blank)).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
    }
    const padded = await importConversation(store, "alice", withInstructions("  Be brief.\n"));
    expect((await store.getConversationSettings("alice", padded.conversationId)).instructions).toBe("Be brief.");
  });

  it("holds instructions to storable text of at most 4,000 characters, refusing the file otherwise and creating nothing", async () => {
    await seed(store);
    const valid = await exportJson("c1");
    const withInstructions = (instructions: unknown) => JSON.stringify({ ...valid, conversation: { ...valid.conversation, instructions } });
    for (const odd of ["x".repeat(4_001), "a\u0000b", "\uD800", 42, null]) {
      const error = await failure(importConversation(store, "alice", withInstructions(odd)));
      expect(error, String(odd).slice(0, 20)).toMatchObject({ name: "ImportError", code: "bad_request", reason: "invalid" });
      expect((error as Error).message).toMatch(/conversation\.instructions/);
    }
    expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["c1"]);
    const { conversationId } = await importConversation(store, "alice", withInstructions("x".repeat(4_000)));
    expect((await store.getConversationSettings("alice", conversationId)).instructions).toBe("x".repeat(4_000));
  });

  it("brings another app's chat up to date with the file's instructions and sampling, keeping the copy's own where the file has none", async () => {
    const chat = (origin: string, settings: Pick<ConversationExport["conversation"], "instructions" | "sampling"> = {}) =>
      JSON.stringify({
        format: "streamchat.conversation",
        version: 1,
        exportedAt: 1,
        conversation: { id: "x", title: "Trip", createdAt: 1_000, updatedAt: 2_000, origin, ...settings },
        activeMessageId: 2,
        messages: [
          { id: 1, parentId: null, runId: null, createdAt: 1_000, message: { role: "user", content: "Q0" } },
          { id: 2, parentId: 1, runId: null, createdAt: 1_000, message: { role: "assistant", content: "A0" } },
        ],
        runs: [],
      });
    const instructionsOf = async (conversationId: string) => (await store.getConversationSettings("alice", conversationId)).instructions;
    const first = await importConversation(store, "alice", chat("ChatGPT:abc@100"));
    expect(await instructionsOf(first.conversationId)).toBe("");
    await store.setConversationInstructions("alice", first.conversationId, "Mine, set here.");
    // The file has none: the newer version keeps the ones the user gave the copy.
    const second = await importConversation(store, "alice", chat("ChatGPT:abc@200"));
    expect(second.replaced).toBe(first.conversationId);
    expect(await instructionsOf(second.conversationId)).toBe("Mine, set here.");
    expect(await store.getRunSettings("alice", first.conversationId)).toEqual({ user: "", conversation: "", sampling: defaultSampling });
    // The file has some: the newer version takes them.
    const third = await importConversation(store, "alice", chat("ChatGPT:abc@300", { instructions: "From the file." }));
    expect(third.replaced).toBe(second.conversationId);
    expect(await instructionsOf(third.conversationId)).toBe("From the file.");
    expect(await store.getRunSettings("alice", second.conversationId)).toEqual({ user: "", conversation: "", sampling: defaultSampling });

    // The sampling likewise, each apart from the instructions: the copy's when the file has none (or only defaults)...
    const mine = { temperature: 0.4, topP: null, seed: 9 };
    await store.setConversationSampling("alice", third.conversationId, mine);
    const fourth = await importConversation(store, "alice", chat("ChatGPT:abc@400", { instructions: "Newer.", sampling: { seed: null } }));
    expect(fourth.replaced).toBe(third.conversationId);
    expect(await store.getConversationSettings("alice", fourth.conversationId)).toMatchObject({ instructions: "Newer.", sampling: mine });
    // ... the file's, whole, when it has some; and the copy's instructions stay when the file has none.
    const fifth = await importConversation(store, "alice", chat("ChatGPT:abc@500", { sampling: { topP: 0.7 } }));
    expect(fifth.replaced).toBe(fourth.conversationId);
    expect(await store.getConversationSettings("alice", fifth.conversationId)).toMatchObject({
      instructions: "Newer.",
      sampling: { temperature: null, topP: 0.7, seed: null },
    });
  });

  it("exports a conversation's sampling, the settings chosen only: the import has them; a chat without any says nothing of it", async () => {
    await seed(store);
    const sampling = { temperature: 0.2, topP: null, seed: 42 };
    await store.setConversationSampling("alice", "c1", sampling);
    const doc = await exportJson("c1");
    expect(doc.conversation.sampling).toStrictEqual({ temperature: 0.2, seed: 42 });
    expect(doc.conversation.instructions).toBeUndefined();
    const { conversationId } = await importConversation(store, "alice", JSON.stringify(doc));
    expect(await store.getConversationSettings("alice", conversationId)).toEqual({ instructions: "", sampling, updatedAt: expect.any(Number) });
    expect(await store.getRunSettings("alice", conversationId)).toEqual({ user: "", conversation: "", sampling });
    // A round trip keeps them, with the instructions beside them.
    expect((await exportJson(conversationId)).conversation).toEqual({ ...doc.conversation, id: conversationId });
    const all = { temperature: 2, topP: 1, seed: 0 };
    await store.setConversationSampling("alice", "c1", all);
    await store.setConversationInstructions("alice", "c1", "Be brief.");
    const both = await importConversation(store, "alice", (await exportConversation(store, "alice", "c1", "json")).content);
    expect(await store.getConversationSettings("alice", both.conversationId)).toMatchObject({ instructions: "Be brief.", sampling: all });

    // Never set, or every one cleared: the file is as it always was, and its import has none.
    await store.createConversation({ id: "c2", userId: "alice", title: "Plain" });
    expect((await exportConversation(store, "alice", "c2", "json")).content).not.toMatch(/sampling/i);
    await store.setConversationSampling("alice", "c1", defaultSampling);
    const cleared = (await exportConversation(store, "alice", "c1", "json")).content;
    expect(cleared).not.toMatch(/sampling/i);
    const plain = await importConversation(store, "alice", cleared);
    expect((await store.getConversationSettings("alice", plain.conversationId)).sampling).toEqual(defaultSampling);
    // A file may say so itself: {} and nulls are the model's defaults.
    const valid = await exportJson("c2");
    for (const none of [{}, { temperature: null, topP: null, seed: null }]) {
      const imported = await importConversation(store, "alice", JSON.stringify({ ...valid, conversation: { ...valid.conversation, sampling: none } }));
      expect(await store.getConversationSettings("alice", imported.conversationId), JSON.stringify(none)).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
    }
  });

  it("holds the sampling to the API's ranges, refusing the file otherwise and creating nothing", async () => {
    await seed(store);
    const valid = await exportJson("c1");
    const withSampling = (sampling: unknown) => JSON.stringify({ ...valid, conversation: { ...valid.conversation, sampling } });
    const odd: unknown[] = [
      { temperature: -0.1 },
      { temperature: 2.01 },
      { topP: 0 },
      { topP: 1.5 },
      { seed: 1.5 },
      { seed: -1 },
      { seed: 2_147_483_648 },
      { temperature: "0.5" },
      { minP: 0.1 },
      "hot",
      [0.5],
      null,
    ];
    for (const sampling of odd) {
      const error = await failure(importConversation(store, "alice", withSampling(sampling)));
      expect(error, JSON.stringify(sampling)).toMatchObject({ name: "ImportError", code: "bad_request", reason: "invalid" });
      expect((error as Error).message).toMatch(/conversation\.sampling/);
    }
    expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["c1"]);
  });

  it("round-trips an empty conversation and an empty active path", async () => {
    await store.createConversation({ id: "empty", userId: "alice", title: "Nothing yet" });
    const empty = await exportJson("empty");
    expect(empty).toMatchObject({ activeMessageId: null, messages: [], runs: [] });
    const { conversationId } = await importConversation(store, "alice", JSON.stringify(empty));
    expect(comparable(await exportJson(conversationId))).toEqual(comparable(empty));

    // A hand-made title with blanks around it is trimmed, as a rename trims it.
    const padded = await importConversation(store, "alice", JSON.stringify({ ...empty, conversation: { ...empty.conversation, title: "  Padded \n" } }));
    expect((await store.getConversation("alice", padded.conversationId))?.title).toBe("Padded");

    await store.createConversation({ id: "rewound", userId: "alice", title: "Rewound" });
    await store.appendMessage({ conversationId: "rewound", runId: null, message: { role: "user", content: "hidden" } });
    await store.rewindActivePath("rewound", null);
    const rewound = await exportJson("rewound");
    const copy = await importConversation(store, "alice", JSON.stringify(rewound));
    expect(await store.activePath(copy.conversationId)).toEqual([]);
    expect((await store.listMessages(copy.conversationId)).map((m) => m.message.content)).toEqual(["hidden"]);
  });

  it("imports a run exported while it was running as interrupted", async () => {
    await store.createConversation({ id: "c1", userId: "alice", title: "Busy" });
    await store.createRun({ id: "r1", conversationId: "c1", userId: "alice", model: "m", provider: "p" });
    await store.appendMessage({ conversationId: "c1", runId: "r1", message: { role: "user", content: "still answering" } });
    const doc = await buildConversationExport(store, "alice", "c1");
    expect(doc.runs.map((r) => [r.status, r.reason])).toEqual([["running", null]]);
    const { conversationId } = await importConversation(store, "alice", JSON.stringify(doc), { now: () => 42 });
    const [run] = await store.listRuns(conversationId);
    expect([run?.status, run?.reason]).toEqual(["done", "interrupted"]);
    expect(await store.activeRun(conversationId)).toBeUndefined();
    // Its log ends as a run closed after a crash does: a subscriber replaying it reaches `done`.
    expect((await store.readEvents(run!.id)).map(({ seq, event }) => ({ seq, event }))).toEqual([
      { seq: 1, event: { type: "error", runId: run!.id, at: 42, code: "interrupted", message: "The server restarted while answering.", retryable: true } },
      { seq: 2, event: { type: "done", runId: run!.id, at: 42, reason: "interrupted", usage: expect.objectContaining({ promptTokens: 0 }) } },
    ]);
  });

  it("imports a regenerate exported while it answered with the previous answer shown, as the server leaves it", async () => {
    await store.createConversation({ id: "c1", userId: "alice", title: "Again" });
    await store.createRun({ id: "r1", conversationId: "c1", userId: "alice", model: "m", provider: "p" });
    const u1 = await store.appendMessage({ conversationId: "c1", runId: "r1", message: { role: "user", content: "hi" } });
    await store.appendMessage({ conversationId: "c1", runId: "r1", message: { role: "assistant", content: "Hello!" } });
    await store.appendEvent("r1", 1, { type: "done", runId: "r1", at: 1, reason: "stop", usage: sampleUsage });
    // The regenerate: rewound to the question, its answer not stored yet.
    await store.createRun({ id: "r2", conversationId: "c1", userId: "alice", model: "m", provider: "p" });
    await store.rewindActivePath("c1", u1.id);
    const doc = await exportJson("c1");
    expect(doc.activeMessageId).toBe(u1.id);
    const { conversationId } = await importConversation(store, "alice", JSON.stringify(doc));
    expect((await store.listRuns(conversationId)).map((r) => r.reason)).toEqual(["stop", "interrupted"]);
    const path = await store.activePath(conversationId);
    expect(path.map((m) => m.message.content)).toEqual(["hi", "Hello!"]);
    // A question without an answer stays the end of the path.
    await store.createConversation({ id: "c2", userId: "alice", title: "First" });
    await store.createRun({ id: "r3", conversationId: "c2", userId: "alice", model: "m", provider: "p" });
    await store.appendMessage({ conversationId: "c2", runId: "r3", message: { role: "user", content: "first" } });
    const first = await importConversation(store, "alice", JSON.stringify(await exportJson("c2")));
    expect((await store.activePath(first.conversationId)).map((m) => m.message.content)).toEqual(["first"]);
  });

  it("keeps what a run still answering had streamed: its tokens in the file, its answer rebuilt by the import", async () => {
    await store.createConversation({ id: "c1", userId: "alice", title: "Busy" });
    await store.createRun({ id: "r1", conversationId: "c1", userId: "alice", model: "m", provider: "p" });
    await store.appendMessage({ conversationId: "c1", runId: "r1", message: { role: "user", content: "tell me" } });
    const events: Array<Record<string, unknown> & { type: ChatEvent["type"] }> = [
      { type: "run-start", conversationId: "c1", model: "m", provider: "p" },
      { type: "reasoning", text: "Let me " },
      { type: "reasoning", text: "think." },
      { type: "token", text: "The answer " },
      { type: "token", text: "starts" },
    ];
    for (const [i, event] of events.entries()) void store.appendEvent("r1", i + 1, { runId: "r1", at: i, ...event } as ChatEvent);
    await store.flush();
    const doc = await exportJson("c1");
    expect(doc.runs[0]!.events.map(({ seq, event }) => [seq, event.type, "text" in event ? event.text : null])).toEqual([
      [1, "run-start", null],
      [2, "reasoning", "Let me think."],
      [4, "token", "The answer starts"],
    ]);
    const seen: unknown[] = [];
    const { conversationId } = await importConversation(store, "alice", JSON.stringify(doc), {
      rebuildMessages: (log) => {
        seen.push(log.map((e) => e.event.type));
        const text = log.flatMap(({ event }) => (event.type === "token" ? [event.text] : [])).join("");
        return [{ role: "assistant", content: text }];
      },
    });
    // The file's log as it was, before the import closed it.
    expect(seen).toEqual([["run-start", "reasoning", "token"]]);
    const [run] = await store.listRuns(conversationId);
    expect(run?.reason).toBe("interrupted");
    expect((await store.activePath(conversationId)).map((m) => [m.message.role, m.message.content, m.runId])).toEqual([
      ["user", "tell me", run!.id],
      ["assistant", "The answer starts", run!.id],
    ]);
  });

  it("writes the runs finished, owned by the importing replica: none is ever running, for a sweep or a limit to see", async () => {
    await seed(store);
    const { content } = await exportConversation(store, "alice", "c1", "json");
    // What a sweep on any replica, or chat.send's per-user limit, would find while the import writes.
    const seen: Array<{ owners: Array<string | null>; running: number }> = [];
    const watched: ChatStore = {
      ...store,
      async insertConversation(input) {
        const inserted = await store.insertConversation(input);
        seen.push({ owners: await store.runningOwners(), running: await store.countRunningRuns("alice") });
        return inserted;
      },
    };
    const { conversationId } = await importConversation(watched, "alice", content, { owner: "replica-a" });
    expect(seen).toEqual([{ owners: [], running: 0 }]);
    expect((await store.listRuns(conversationId)).map((r) => [r.status, r.owner])).toEqual([
      ["done", "replica-a"],
      ["done", "replica-a"],
      ["done", "replica-a"],
    ]);
  });

  it("keeps the file's times: the copy sorts where the original did, its messages and runs keep theirs", async () => {
    await seed(store);
    await store.createConversation({ id: "newer", userId: "alice", title: "Newer" });
    await store.appendMessage({ conversationId: "newer", runId: null, message: { role: "user", content: "later on" } });
    const original = await exportJson("c1");
    const { conversationId } = await importConversation(store, "alice", JSON.stringify(original));
    const copy = await exportJson(conversationId);
    expect(copy.conversation).toEqual({ ...original.conversation, id: conversationId });
    expect(copy.messages.map((m) => m.createdAt)).toEqual(original.messages.map((m) => m.createdAt));
    expect(copy.runs.map((r) => [r.createdAt, r.finishedAt])).toEqual(original.runs.map((r) => [r.createdAt, r.finishedAt]));
    // Below the conversation active since, next to its original (equal updatedAt: the newer created first).
    expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["newer", conversationId, "c1"]);
    // Search orders hits by their messages' times: the copy's keep theirs.
    const hits = await store.searchMessages("alice", "tokyo");
    expect(hits.filter((h) => h.conversationId === conversationId).map((h) => h.createdAt)).toEqual(
      hits.filter((h) => h.conversationId === "c1").map((h) => h.createdAt),
    );
  });

  it("gives the import's time to every time the file lacks or has wrong, keeping the others", async () => {
    await seed(store);
    const valid = await exportJson("c1");
    const importedAt = clock.now() + 1_000_000;
    const [m0, m1, m2, ...restOfMessages] = valid.messages;
    const [r1, r2, r3] = valid.runs;
    const { createdAt: _createdAt, ...r2WithoutCreatedAt } = r2!;
    const edited = {
      ...valid,
      conversation: { id: "c1", title: valid.conversation.title, updatedAt: 1.5 },
      messages: [{ ...m0, createdAt: -1 }, { ...m1, createdAt: importedAt + 1 }, { ...m2, createdAt: 12_345 }, ...restOfMessages],
      runs: [{ ...r1, finishedAt: null }, r2WithoutCreatedAt, { ...r3, createdAt: 2 ** 53, finishedAt: Number.MAX_VALUE }],
    };
    const { conversationId } = await importConversation(store, "alice", JSON.stringify(edited), { now: () => importedAt });
    const copy = await exportJson(conversationId);
    expect([copy.conversation.createdAt, copy.conversation.updatedAt]).toEqual([importedAt, importedAt]);
    expect(copy.messages.slice(0, 4).map((m) => m.createdAt)).toEqual([importedAt, importedAt, 12_345, valid.messages[3]!.createdAt]);
    expect(copy.runs.map((r) => [r.createdAt, r.finishedAt])).toEqual([
      [r1!.createdAt, importedAt],
      [importedAt, importedAt], // never finished before it started
      [importedAt, importedAt],
    ]);
    // A file whose last activity is older than its creation: created then.
    const older = { ...valid, conversation: { ...valid.conversation, createdAt: 5_000, updatedAt: 4_000 } };
    const again = await importConversation(store, "alice", JSON.stringify(older), { now: () => importedAt });
    expect(await store.getConversation("alice", again.conversationId)).toMatchObject({ createdAt: 4_000, updatedAt: 4_000 });
  });

  it("refuses a log that is no run's log and a file nested too deep with an ImportError, creating nothing", async () => {
    await seed(store);
    const valid = await exportJson("c1");
    const r1 = valid.runs[0]!;
    const done = r1.events.at(-1)!;
    const withR1 = (events: ConversationExport["runs"][number]["events"], extra: Partial<ConversationExport["runs"][number]> = {}) =>
      JSON.stringify({ ...valid, runs: [{ ...r1, ...extra, events }, ...valid.runs.slice(1)] });
    const deep = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const withDeepArgs = (depth: number) =>
      withR1([{ seq: 1, event: { type: "tool-call", runId: r1.id, at: 1, callId: "c", name: "calculator", args: { expression: "DEEP" } } }, { ...done, seq: 2 }]).replace(
        '"DEEP"',
        deep(depth),
      );
    const attempts: Array<[string, RegExp]> = [
      // A done before other events, and two of them: a subscriber replaying the log would stop at the first.
      [withR1([{ ...done, seq: 1 }, ...r1.events.slice(0, -1).map((e, i) => ({ ...e, seq: i + 2 }))]), /runs\.0\.events\.0\.event: done must be the run's last event/],
      [withR1([...r1.events, { seq: done.seq + 1, event: { ...done.event } }]), /done must be the run's last event/],
      // No room for the events that close an unfinished log.
      [withR1([{ ...r1.events[0]!, seq: Number.MAX_SAFE_INTEGER }], { status: "running", reason: null }), /runs\.0\.events\.0\.seq/],
      // Nesting past the limit, in a tool call's args and in a message field kept as it is.
      [withDeepArgs(5_000), /nests arrays and objects more than 256 levels deep/],
      [
        JSON.stringify({ ...valid, messages: valid.messages.map((m, i) => (i === 0 ? { ...m, message: { ...m.message, extra: "DEEP" } } : m)) }).replace('"DEEP"', deep(100_000)),
        /more than 256 levels deep/,
      ],
    ];
    for (const [content, message] of attempts) {
      const error = await failure(importConversation(store, "alice", content));
      expect(error, String(message)).toBeInstanceOf(ImportError);
      expect(error, String(message)).toMatchObject({ name: "ImportError", code: "bad_request", reason: "invalid" });
      expect((error as Error).message).toMatch(message);
    }
    expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["c1"]);
    expect(await store.listRunningRuns()).toEqual([]);
    // Nesting a real tool can use is kept.
    const { conversationId } = await importConversation(store, "alice", withDeepArgs(200));
    const [copied] = await store.listRuns(conversationId);
    expect((await store.readEvents(copied!.id))[0]!.event).toMatchObject({ type: "tool-call" });
  });

  it("ends every imported log with done, taken from the log over the file's status when they disagree", async () => {
    await seed(store);
    const valid = await exportJson("c1");
    const [r1, r2, r3] = valid.runs as [ConversationExport["runs"][number], ConversationExport["runs"][number], ConversationExport["runs"][number]];
    const logged = r1.events.at(-1)!;
    expect(logged.event.type).toBe("done");
    const edited: ConversationExport = {
      ...valid,
      runs: [
        // Called running, but its log has its done{stop}: the log wins.
        { ...r1, status: "running", reason: null },
        // A finished run whose log was left out: closed with a done of its own reason and usage, after the last seq.
        { ...r2, events: r2.events.filter((e) => e.event.type !== "done") },
        { ...r3, events: [] },
      ],
    };
    const { conversationId } = await importConversation(store, "alice", JSON.stringify(edited), { now: () => 7 });
    const runs = await store.listRuns(conversationId);
    expect(runs.map((r) => [r.status, r.reason])).toEqual([
      ["done", "stop"],
      ["done", "stop"],
      ["done", "length"],
    ]);
    const lastOf = async (i: number) => (await store.readEvents(runs[i]!.id)).at(-1);
    expect(await lastOf(0)).toMatchObject({ seq: logged.seq, event: { type: "done", reason: "stop" } });
    const r2Last = r2.events.filter((e) => e.event.type !== "done").at(-1)!.seq;
    expect(await lastOf(1)).toMatchObject({ seq: r2Last + 1, event: { type: "done", reason: "stop", at: 7, usage: r2.usage } });
    expect(await store.readEvents(runs[2]!.id)).toMatchObject([{ seq: 1, event: { type: "done", reason: "length", usage: r3.usage } }]);
  });

  it("holds images to chat.send's rules: type, count, size and content; an image without type gets it", async () => {
    await seed(store);
    const valid = await exportJson("c1");
    const index = valid.messages.findIndex((m) => m.message.role === "user" && "images" in m.message);
    const withImages = (images: unknown[]) =>
      JSON.stringify({ ...valid, messages: valid.messages.map((m, i) => (i === index ? { ...m, message: { ...m.message, images } } : m)) });
    const png = { type: "image", mimeType: "image/png", data: "iVBORw0KGgo=" };
    const html = Buffer.from("<html><script>x</script></html>").toString("base64");
    const refused: Array<[unknown[], RegExp]> = [
      [[{ ...png, mimeType: "text/html", data: html }], /images\.0\.mimeType/],
      [[{ ...png, data: html }], /The image is not a PNG, JPEG, WebP or GIF image/],
      [[{ ...png, mimeType: "image/jpeg" }], /declared image\/jpeg but its content is a PNG image/],
      [[png, png, png, png, png], /Too many images: at most 4 per message, got 5/],
      [[{ ...png, type: "file" }], /images\.0\.type/],
    ];
    for (const [images, message] of refused) {
      const error = await failure(importConversation(store, "alice", withImages(images)));
      expect(error, String(message)).toMatchObject({ name: "ImportError", reason: "invalid" });
      expect((error as Error).message).toMatch(message);
    }
    const big = { ...png, data: Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.alloc(1024)]).toString("base64") };
    expect(await failure(importConversation(store, "alice", withImages([big]), { imageLimits: { maxBytes: 1024 } }))).toMatchObject({
      reason: "invalid",
      message: expect.stringMatching(/each image may be at most 1 KiB/),
    });
    expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["c1"]);

    const { conversationId } = await importConversation(store, "alice", withImages([{ mimeType: "image/png", data: png.data }, big]));
    const imported = (await store.listMessages(conversationId)).find((m) => m.message.role === "user" && m.message.images);
    expect(imported?.message).toMatchObject({ images: [png, big] });
  });

  it("holds user messages to chat.send's length limit, not answers", async () => {
    await seed(store);
    const valid = await exportJson("c1");
    const chars = (i: number) => (valid.messages[i]!.message as { content: string }).content.length;
    const questions = valid.messages.flatMap((m, i) => (m.message.role === "user" ? [i] : []));
    const longestQuestion = Math.max(...questions.map(chars));
    const first = questions.find((i) => chars(i) === longestQuestion)!;
    const error = await failure(importConversation(store, "alice", JSON.stringify(valid), { maxMessageChars: longestQuestion - 1 }));
    expect(error).toMatchObject({ name: "ImportError", code: "bad_request", reason: "invalid" });
    expect((error as Error).message).toBe(
      `The conversation export is invalid: messages.${first}.message.content: ${longestQuestion} characters; this server takes messages of at most ${longestQuestion - 1}.`,
    );
    expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["c1"]);
    // An answer over the limit is imported: a model may write more than a person may send.
    const answer = valid.messages.findIndex((m) => m.message.role === "assistant");
    const long = "x".repeat(longestQuestion + 10);
    const longAnswer = { ...valid, messages: valid.messages.map((m, i) => (i === answer ? { ...m, message: { ...m.message, content: long } } : m)) };
    const { conversationId } = await importConversation(store, "alice", JSON.stringify(longAnswer), { maxMessageChars: longestQuestion });
    expect((await store.listMessages(conversationId)).some((m) => m.message.role === "assistant" && m.message.content === long)).toBe(true);
  });

  it("refuses content that is not a valid version-1 export with a bad_request ImportError, creating nothing", async () => {
    await seed(store);
    const valid = await exportJson("c1");
    const attempts: Array<[string, string, RegExp]> = [
      ["not_json", "# Trip to Tokyo\n\nnot json", /^This file is not a conversation exported from this app \(it is not JSON\)\.$/],
      [
        "wrong_format",
        JSON.stringify({ ...valid, format: "librechat.conversation" }),
        /^This file is not a conversation exported from this app \(it is JSON in another format, "librechat\.conversation"\)\.$/,
      ],
      ["wrong_format", JSON.stringify([1, 2]), /^This file is not a conversation exported from this app \(it is JSON, but not in the format this app exports\)\.$/],
      ["unsupported_version", JSON.stringify({ ...valid, version: 2 }), /^This file was exported by a newer version of this app \(export version 2\); this server imports version 1\.$/],
      ["unsupported_version", JSON.stringify({ ...valid, version: "1" }), /^This file is a conversation export of a version this server cannot import \("1"\); it imports version 1\.$/],
      ["invalid", JSON.stringify({ ...valid, messages: [{ ...valid.messages[0], message: { role: "robot", content: "x" } }] }), /messages\.0\.message/],
      ["invalid", JSON.stringify({ ...valid, messages: valid.messages.slice(1) }), /parent \d+ is not a message listed before this one/],
      ["invalid", JSON.stringify({ ...valid, messages: [...valid.messages].reverse() }), /is not a message listed before/],
      ["invalid", JSON.stringify({ ...valid, runs: valid.runs.slice(1) }), /run "r1" is not in runs/],
      ["invalid", JSON.stringify({ ...valid, activeMessageId: 999_999 }), /activeMessageId: message 999999 is not in messages/],
      ["invalid", JSON.stringify({ ...valid, runs: [{ ...valid.runs[0], events: [...valid.runs[0]!.events].reverse() }, ...valid.runs.slice(1)] }), /seqs must increase/],
      ["invalid", JSON.stringify({ ...valid, runs: [{ ...valid.runs[0], events: [{ seq: 1, event: { type: "telepathy" } }] }, ...valid.runs.slice(1)] }), /runs\.0\.events\.0\.event/],
      ["invalid", JSON.stringify({ ...valid, conversation: { ...valid.conversation, title: "" } }), /conversation\.title/],
      ["invalid", JSON.stringify({ ...valid, conversation: { ...valid.conversation, title: " \n " } }), /conversation\.title: must not be blank/],
    ];
    for (const [reason, content, message] of attempts) {
      const error = await failure(importConversation(store, "alice", content));
      expect(error, reason).toBeInstanceOf(ImportError);
      expect(error, reason).toMatchObject({ name: "ImportError", code: "bad_request", reason });
      expect((error as Error).message, reason).toMatch(message);
    }
    expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["c1"]);
  });

  it("refuses content over the size limit before reading it", async () => {
    await seed(store);
    const { content } = await exportConversation(store, "alice", "c1", "json");
    const bytes = Buffer.byteLength(content);
    const error = await failure(importConversation(store, "alice", content, { maxBytes: bytes - 1 }));
    expect(error).toMatchObject({ name: "ImportError", code: "bad_request", reason: "too_large" });
    // Only just over: both round to the same size, so the sentence says "a little over" rather than "3.2 KB; at most 3.2 KB".
    expect((error as Error).message).toBe(`This file is a little over ${formatFileSize(bytes - 1)}; the server imports files of at most ${formatFileSize(bytes - 1)}.`);
    expect((await failure(importConversation(store, "alice", content, { maxBytes: 1024 }))) as Error).toHaveProperty(
      "message",
      `This file is ${formatFileSize(bytes)}; the server imports files of at most 1 KB.`,
    );
    // Multi-byte text counts in UTF-8 bytes, not characters.
    expect(await failure(importConversation(store, "alice", "🗼".repeat(10), { maxBytes: 39 }))).toMatchObject({ reason: "too_large" });
    expect((await importConversation(store, "alice", content, { maxBytes: bytes })).conversationId).toEqual(expect.any(String));
  });

  it("writes nothing when the store fails half-way: one transaction", async () => {
    await seed(store);
    const { content } = await exportConversation(store, "alice", "c1", "json");
    const before = { runs: await store.listRuns("c1"), events: await store.readEvents("r2") };
    // The second run's id is taken: refused once the conversation and the first run (with its log) are written.
    const ids = ["copy", "copy-r1", "r2", "copy-r3"];
    const error = await failure(importConversation(store, "alice", content, { newId: () => ids.shift()! }));
    expect(error).toMatchObject({ name: "StoreError", code: "conflict", reason: "id" });
    expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["c1"]);
    expect(await store.getConversation("alice", "copy")).toBeUndefined();
    expect(await store.listMessages("copy")).toEqual([]);
    expect(await store.listRuns("copy")).toEqual([]);
    expect(await store.getRun("copy-r1")).toBeUndefined();
    expect(await store.readEvents("copy-r1")).toEqual([]);
    expect(await store.listRunningRuns()).toEqual([]);
    // The run whose id was taken is untouched.
    expect({ runs: await store.listRuns("c1"), events: await store.readEvents("r2") }).toEqual(before);
    // And the same file imports once the ids are free.
    expect((await importConversation(store, "alice", content)).conversationId).toEqual(expect.any(String));
  });

  it("exports only the user's own conversation", async () => {
    await seed(store);
    expect(await failure(exportConversation(store, "bob", "c1", "json"))).toMatchObject({ name: "StoreError", code: "not_found" });
    expect(await failure(exportConversation(store, "alice", "nope", "markdown"))).toMatchObject({ name: "StoreError", code: "not_found" });
  });
});

describe("parseConversationExport", () => {
  it("names at most three problems, with their place", () => {
    const doc = {
      format: "streamchat.conversation",
      version: 1,
      exportedAt: 1,
      conversation: { id: "c", title: "t", createdAt: 1, updatedAt: 1 },
      activeMessageId: null,
      messages: [1, 2, 3, 4, 5].map((id) => ({ id, parentId: null, runId: null, createdAt: "yesterday", message: { role: "user", content: "x" } })),
      runs: [],
    };
    const error = (() => {
      try {
        parseConversationExport(JSON.stringify(doc));
      } catch (e) {
        return e as ImportError;
      }
      return undefined;
    })();
    expect(error?.reason).toBe("invalid");
    expect(error?.message).toMatch(/^The conversation export is invalid: messages\.0\.createdAt: .*; messages\.1\.createdAt: .*; messages\.2\.createdAt: .* \(and 2 more\)\.$/);
  });

  it("reads a file saved with a byte order mark, as editors save one", () => {
    const doc = {
      format: "streamchat.conversation",
      version: 1,
      exportedAt: 1,
      conversation: { id: "c", title: "t", createdAt: 1, updatedAt: 1 },
      activeMessageId: 1,
      messages: [{ id: 1, parentId: null, runId: null, createdAt: 1, message: { role: "user", content: "x" } }],
      runs: [],
    };
    expect(parseConversationExport(`\uFEFF${JSON.stringify(doc, null, 2)}\n`).messages).toHaveLength(1);
    // Only as the first character: anywhere else it is not JSON.
    expect(() => parseConversationExport(`\uFEFF\uFEFF${JSON.stringify(doc)}`)).toThrow(ImportError);
  });

  it("keeps message fields it does not know, and checks the ones it does", () => {
    const doc = {
      format: "streamchat.conversation",
      version: 1,
      exportedAt: 1,
      conversation: { id: "c", title: "t", createdAt: 1, updatedAt: 1 },
      activeMessageId: 1,
      messages: [{ id: 1, parentId: null, runId: null, createdAt: 1, message: { role: "user", content: "x", lang: "fr", images: [] } }],
      runs: [],
    };
    expect(parseConversationExport(JSON.stringify(doc)).messages[0]?.message).toEqual({ role: "user", content: "x", lang: "fr", images: [] });
    const badImage = { ...doc, messages: [{ ...doc.messages[0], message: { role: "user", content: "x", images: [{ mimeType: "image/png" }] } }] };
    expect(() => parseConversationExport(JSON.stringify(badImage))).toThrow(/messages\.0\.message\.images\.0\.data/);
  });
});

describe("filenameBase", () => {
  it("makes a short ASCII slug of the title", () => {
    expect(filenameBase("Trip to Tokyo 🗼")).toBe("trip-to-tokyo");
    expect(filenameBase("Émile's café — notes")).toBe("emile-s-cafe-notes");
    expect(filenameBase("🗼🗼")).toBe("conversation");
    expect(filenameBase("../../etc/passwd")).toBe("etc-passwd");
    expect(filenameBase("a".repeat(100))).toHaveLength(60);
  });
});
