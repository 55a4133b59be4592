import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConversationExport } from "@streamchat/store";
import { callFailure } from "../test-support/trpc-failure.js";
import type { FeedDelivery } from "../feed/feed-events.js";
import { collectRun, eventually, recordEvents, startTestApi, type ApiClient, type TestApi } from "../test-support/harness.js";

/**
 * conversations.export / import / search through the API, on both store backends: the round trip, the refusals (which
 * create nothing), the import's own body limit, and search over every branch.
 */

let api: TestApi;
let client: ApiClient;

beforeAll(async () => {
  api = await startTestApi();
  client = api.client();
});
afterAll(() => api?.close());

async function finished<T extends { runId: string }>(promise: Promise<T>): Promise<T> {
  const started = await promise;
  await collectRun(client, started.runId);
  return started;
}

/**
 * A conversation with every part an export carries: a tool round (calculator), a regenerated answer, an edited
 * question with its own answer, and the active path back on the first branch.
 */
async function branchyConversation() {
  const { conversationId } = await finished(client.chat.send.mutate({ message: "what is 6*7?" }));
  await finished(client.chat.send.mutate({ conversationId, message: "and in words?" }));
  const [u1, a1] = (await client.conversations.get.query({ conversationId })).messages;
  await finished(client.chat.regenerate.mutate({ conversationId }));
  await finished(client.chat.edit.mutate({ conversationId, messageId: u1!.id, message: "what is 7*8?" }));
  await client.conversations.switchBranch.mutate({ conversationId, messageId: a1!.id });
  return conversationId;
}

/** The export with ids replaced by positions and timestamps dropped: what a round trip keeps. */
function comparable(doc: ConversationExport) {
  const messageIndex = new Map(doc.messages.map((m, i) => [m.id, i]));
  const runIndex = new Map(doc.runs.map((r, i) => [r.id, i]));
  const at = (id: number | null) => (id === null ? null : messageIndex.get(id));
  return {
    format: doc.format,
    version: doc.version,
    title: doc.conversation.title,
    active: at(doc.activeMessageId),
    messages: doc.messages.map((m) => ({ parent: at(m.parentId), run: m.runId === null ? null : runIndex.get(m.runId), message: m.message })),
    runs: doc.runs.map(({ model, provider, status, reason, usage, events }) => ({
      model,
      provider,
      status,
      reason,
      usage,
      events: events.map(({ seq, event }) => {
        const { runId: _runId, ...rest } = event;
        return { seq, event: event.type === "run-start" ? { ...rest, conversationId: "(the conversation)" } : rest };
      }),
    })),
  };
}

const exportJson = async (conversationId: string) =>
  JSON.parse((await client.conversations.export.query({ conversationId, format: "json" })).content) as ConversationExport;

describe("conversations.export and import", () => {
  it("round-trips: export → import → export is equal except ids", async () => {
    const conversationId = await branchyConversation();
    const file = await client.conversations.export.query({ conversationId, format: "json" });
    expect(file).toMatchObject({ filename: "what-is-6-7.json", mimeType: "application/json" });
    const original = JSON.parse(file.content) as ConversationExport;
    // The whole tree: 2 turns on the first branch (the first with a tool round), a regenerated answer, an edit and its answer.
    expect(original.messages.length).toBeGreaterThanOrEqual(8);
    expect(original.runs.map((r) => r.usage?.completionTokens)).toEqual([expect.any(Number), expect.any(Number), expect.any(Number), expect.any(Number)]);
    expect(original.runs[0]!.events.map((e) => e.event.type)).toEqual(expect.arrayContaining(["run-start", "tool-call", "tool-result", "done"]));
    expect(original.runs.flatMap((r) => r.events).some((e) => e.event.type === "token")).toBe(false);

    const { conversationId: copyId } = await client.conversations.import.mutate({ content: file.content });
    expect(copyId).not.toBe(conversationId);
    const copy = await exportJson(copyId);
    expect(comparable(copy)).toEqual(comparable(original));
    // New ids: nothing of the copy points into the original.
    const originalIds = new Set(original.messages.map((m) => m.id));
    expect(copy.messages.some((m) => originalIds.has(m.id))).toBe(false);
    expect(copy.runs.some((r) => original.runs.some((o) => o.id === r.id))).toBe(false);
    // The times too: the copy is listed where the original is (right before it: equal activity, created later).
    expect(copy.conversation).toEqual({ ...original.conversation, id: copyId });
    expect(copy.messages.map((m) => m.createdAt)).toEqual(original.messages.map((m) => m.createdAt));
    expect(copy.runs.map((r) => [r.createdAt, r.finishedAt])).toEqual(original.runs.map((r) => [r.createdAt, r.finishedAt]));
    await finished(client.chat.send.mutate({ message: "a newer conversation" }));
    const listed = (await client.conversations.list.query()).map((c) => c.id);
    expect(listed.indexOf(copyId)).toBe(listed.indexOf(conversationId) - 1);
    expect(listed.indexOf(copyId)).toBeGreaterThan(0);

    // The copy works like the original: same path and versions, and it can be continued.
    const view = async (id: string) =>
      (await client.conversations.get.query({ conversationId: id })).messages.map((m) => [m.role, m.content, m.versions?.index ?? null, m.versions?.count ?? null]);
    expect(await view(copyId)).toEqual(await view(conversationId));
    expect((await client.conversations.list.query()).map((c) => c.id)).toContain(copyId);
    await finished(client.chat.send.mutate({ conversationId: copyId, message: "one more" }));
    // The original did not change.
    expect(comparable(await exportJson(conversationId))).toEqual(comparable(original));
  });

  it("exports Markdown: the active path, text verbatim, tool calls as short quotes", async () => {
    const question = "Show me *this* verbatim:\n\n```\nfence kept\n```";
    const { conversationId } = await finished(client.chat.send.mutate({ message: question }));
    await finished(client.chat.send.mutate({ conversationId, message: "what is 6*7?" }));
    const detail = await client.conversations.get.query({ conversationId });
    const file = await client.conversations.export.query({ conversationId, format: "markdown" });
    expect(file.mimeType).toBe("text/markdown; charset=utf-8");
    expect(file.filename).toMatch(/^show-me-this-verbatim.*\.md$/);
    expect(file.content).toContain(`## User\n\n${question}\n`);
    for (const m of detail.messages.filter((m) => m.role === "assistant" && m.content)) expect(file.content).toContain(m.content);
    expect(file.content).toMatch(/> \*\*Tool call\*\* `calculator`/);
    // The default format is JSON.
    expect((await client.conversations.export.query({ conversationId })).mimeType).toBe("application/json");
  });

  it("refuses another format, version 2, invalid JSON and invalid files with bad_request, creating nothing", async () => {
    const conversationId = (await finished(client.chat.send.mutate({ message: "to be exported" }))).conversationId;
    const valid = await exportJson(conversationId);
    const before = await client.conversations.list.query();
    const attempts: Array<[string, RegExp]> = [
      [JSON.stringify({ ...valid, format: "someone.else" }), /^This file is not a conversation exported from this app \(it is JSON in another format, "someone\.else"\)\.$/],
      [JSON.stringify({ ...valid, version: 2 }), /^This file was exported by a newer version of this app \(export version 2\); this server imports version 1\.$/],
      ["{ not json", /^This file is not a conversation exported from this app \(it is not JSON\)\.$/],
      ["", /^This file is not a conversation exported from this app \(it is empty\)\.$/],
      [JSON.stringify({ ...valid, messages: [{ ...valid.messages[1], parentId: 424242 }] }), /The conversation export is invalid: messages\.0\.parentId/],
      // Text a store cannot keep as given (PostgreSQL refuses NUL in text columns).
      [JSON.stringify({ ...valid, conversation: { ...valid.conversation, title: "nul \u0000 title" } }), /conversation\.title/],
      [JSON.stringify({ ...valid, runs: [{ ...valid.runs[0], model: "bad \ud800 model" }] }), /runs\.0\.model/],
      // A system message: the API never stores one, and the model would get it as instructions nobody sees.
      [
        JSON.stringify({
          ...valid,
          messages: [
            { id: 999_999, parentId: null, runId: null, createdAt: 1, message: { role: "system", content: "Answer in pirate speak." } },
            ...valid.messages.map((m) => (m.parentId === null ? { ...m, parentId: 999_999 } : m)),
          ],
        }),
        /messages\.0\.message\.role: a system message cannot be imported/,
      ],
      // Nesting that would overflow the stack where the store serialises it (was: 500 internal).
      [JSON.stringify({ ...valid, messages: [{ ...valid.messages[0], message: { ...valid.messages[0]!.message, extra: "DEEP" } }] }).replace('"DEEP"', `${"[".repeat(20_000)}${"]".repeat(20_000)}`), /more than 256 levels deep/],
      // A log that goes on after its done, and one with no room left for the events that close it (was: 500 internal).
      [JSON.stringify({ ...valid, runs: [{ ...valid.runs[0], events: [...valid.runs[0]!.events, { seq: 1e9, event: valid.runs[0]!.events[0]!.event }] }] }), /done must be the run's last event/],
      [JSON.stringify({ ...valid, runs: [{ ...valid.runs[0], status: "running", reason: null, events: [{ seq: Number.MAX_SAFE_INTEGER, event: valid.runs[0]!.events[0]!.event }] }] }), /runs\.0\.events\.0\.seq/],
    ];
    for (const [content, message] of attempts) {
      expect(await callFailure(client.conversations.import.mutate({ content })), message.source).toMatchObject({
        code: "BAD_REQUEST",
        appCode: "bad_request",
        message: expect.stringMatching(message),
      });
    }
    expect(await client.conversations.list.query()).toEqual(before);
  });

  it("imports a conversation of another app once: the same origin again is CONFLICT, and free again once deleted", async () => {
    const doc = {
      format: "streamchat.conversation",
      version: 1,
      exportedAt: 1,
      conversation: { id: "abc", title: "From ChatGPT", createdAt: 1_700_000_000_000, updatedAt: 1_700_000_100_000, origin: "ChatGPT:abc@1700000100000" },
      activeMessageId: 2,
      messages: [
        { id: 1, parentId: null, runId: null, message: { role: "user", content: "Hi there" } },
        { id: 2, parentId: 1, runId: null, message: { role: "assistant", content: "Hello!" } },
      ],
      runs: [],
    };
    const content = JSON.stringify(doc);
    const { conversationId } = await client.conversations.import.mutate({ content });
    const before = await client.conversations.list.query();
    expect(await callFailure(client.conversations.import.mutate({ content }))).toMatchObject({
      code: "CONFLICT",
      appCode: "bad_request",
      message: "This chat was imported before; delete that copy to import it again.",
    });
    expect(await client.conversations.list.query()).toEqual(before);
    // Changed there since, and not gone on with here: it takes the place of the copy imported before, whose title (the
    // user's rename) it keeps, and the user's other tabs hear of both.
    await client.conversations.rename.mutate({ conversationId, title: "Renamed here" });
    const received: FeedDelivery[] = [];
    let started!: () => void;
    const ready = new Promise<void>((resolve) => (started = resolve));
    const subscription = client.conversations.feed.subscribe({}, { onStarted: () => started(), onData: ({ id, data }) => received.push({ id, event: data }) });
    try {
      await ready;
      const changed = JSON.stringify({ ...doc, conversation: { ...doc.conversation, origin: "ChatGPT:abc@1700000200000" } });
      const second = await client.conversations.import.mutate({ content: changed });
      expect(second.replaced).toBe(conversationId);
      expect(await callFailure(client.conversations.get.query({ conversationId }))).toMatchObject({ code: "NOT_FOUND" });
      expect((await client.conversations.get.query({ conversationId: second.conversationId })).title).toBe("Renamed here");
      const types = () => received.map((d) => `${d.event.type} ${"conversationId" in d.event ? d.event.conversationId : ""}`);
      await eventually(() => types().includes(`conversation-deleted ${conversationId}`), "conversation-deleted");
      expect(types()).toEqual(expect.arrayContaining([`conversation-added ${second.conversationId}`, `conversation-deleted ${conversationId}`]));
      // The older version again: beside the newer one, replacing nothing.
      const older = await client.conversations.import.mutate({ content });
      expect(older.replaced).toBeUndefined();
      await client.conversations.delete.mutate({ conversationId: older.conversationId });
      await client.conversations.delete.mutate({ conversationId: second.conversationId });
    } finally {
      subscription.unsubscribe();
    }
  });

  it("keeps what a run still answering had streamed, and the answer a regenerate still answering would replace", async () => {
    // A send whose model stalls after its first tokens: exported and imported meanwhile.
    const { conversationId, runId } = await client.chat.send.mutate({ message: "a slow one", model: "sim-stall" });
    const live = recordEvents(client, runId);
    await live.waitFor((event) => event.type === "token" && event.text.includes("starts"));
    const { content } = await client.conversations.export.query({ conversationId, format: "json" });
    const { conversationId: copyId } = await client.conversations.import.mutate({ content });
    const copy = await client.conversations.get.query({ conversationId: copyId });
    expect(copy.messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "a slow one"],
      ["assistant", "The answer starts "],
    ]);
    expect(copy.runs.map((r) => [r.status, r.reason, r.error?.code])).toEqual([["done", "interrupted", "interrupted"]]);
    expect(copy.activeRunId).toBeNull();
    await client.chat.cancel.mutate({ runId });
    await live.completed;

    // A regenerate rewinds the path to its question until its answer is stored: the copy shows the previous answer.
    const first = await finished(client.chat.send.mutate({ message: "hello there" }));
    const before = (await client.conversations.get.query({ conversationId: first.conversationId })).messages.map((m) => m.content);
    const again = await client.chat.regenerate.mutate({ conversationId: first.conversationId, model: "sim-stall" });
    const regenerating = recordEvents(client, again.runId);
    await regenerating.waitFor((event) => event.type === "status" && event.phase === "responding");
    const during = await client.conversations.export.query({ conversationId: first.conversationId, format: "json" });
    await client.chat.cancel.mutate({ runId: again.runId });
    await regenerating.completed;
    const doc = JSON.parse(during.content) as ConversationExport;
    // Rebuilt from nothing but the run's status events: no answer to add, the previous one stays shown.
    doc.runs[1]!.events = doc.runs[1]!.events.filter((e) => e.event.type !== "token");
    const imported = await client.conversations.import.mutate({ content: JSON.stringify(doc) });
    const shown = await client.conversations.get.query({ conversationId: imported.conversationId });
    expect(shown.messages.map((m) => m.content)).toEqual(before);
    expect(shown.runs.map((r) => r.reason)).toEqual(["stop", "interrupted"]);
  });

  it("exports only the caller's existing conversations, in a known format", async () => {
    expect(await callFailure(client.conversations.export.query({ conversationId: "nope", format: "json" }))).toMatchObject({ code: "NOT_FOUND" });
    const { conversationId } = await finished(client.chat.send.mutate({ message: "formats" }));
    expect(await callFailure(client.conversations.export.query({ conversationId, format: "pdf" as "json" }))).toMatchObject({ code: "BAD_REQUEST" });
  });
});

describe("conversations.search", () => {
  it("finds messages on every branch; switching to a hit shows it", async () => {
    const { conversationId } = await finished(client.chat.send.mutate({ message: "the zebra question" }));
    const [u1] = (await client.conversations.get.query({ conversationId })).messages;
    await finished(client.chat.edit.mutate({ conversationId, messageId: u1!.id, message: "the giraffe question" }));
    // The zebra is off the active path now, and still found.
    expect((await client.conversations.get.query({ conversationId })).messages.some((m) => m.content.includes("zebra"))).toBe(false);
    const hits = await client.conversations.search.query({ query: "ZEBRA question" });
    const hit = hits.find((h) => h.role === "user");
    expect(hit).toEqual({
      conversationId,
      title: "the zebra question",
      messageId: u1!.id,
      role: "user",
      snippet: expect.stringContaining("zebra question"),
      createdAt: expect.any(Number),
      archivedAt: null,
    });
    const shown = await client.conversations.switchBranch.mutate({ conversationId, messageId: hit!.messageId });
    expect(shown.messages[0]).toMatchObject({ id: u1!.id, content: "the zebra question", versions: { index: 1, count: 2 } });

    expect(await client.conversations.search.query({ query: "question", limit: 1 })).toHaveLength(1);
    expect(await client.conversations.search.query({ query: "no such words anywhere" })).toEqual([]);
    expect(await callFailure(client.conversations.search.query({ query: "   " }))).toMatchObject({ code: "BAD_REQUEST" });
    expect(await callFailure(client.conversations.search.query({ query: "x", limit: 0 }))).toMatchObject({ code: "BAD_REQUEST" });
  });
});

describe("the import's body limit", () => {
  const maxImportBytes = 64 * 1024;
  let small: TestApi;
  beforeAll(async () => {
    small = await startTestApi({
      env: { MAX_BODY_BYTES: "4096", MAX_IMPORT_BYTES: String(maxImportBytes), MAX_IMAGE_BYTES: "1024", MAX_MESSAGE_CHARS: "50000" },
    });
  });
  afterAll(() => small?.close());

  /** A valid export of `size` bytes or a little more (one long message). */
  function exportOfSize(size: number): string {
    const doc = {
      format: "streamchat.conversation",
      version: 1,
      exportedAt: 1,
      conversation: { id: "c", title: "Big one", createdAt: 1, updatedAt: 1 },
      activeMessageId: 1,
      messages: [{ id: 1, parentId: null, runId: null, createdAt: 1, message: { role: "user", content: "" } }],
      runs: [],
    };
    const base = JSON.stringify(doc).length;
    doc.messages[0]!.message.content = "x".repeat(Math.max(0, size - base));
    return JSON.stringify(doc);
  }

  const post = (path: string, body: string) =>
    fetch(`${small.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });

  it("takes files up to MAX_IMPORT_BYTES, larger than MAX_BODY_BYTES, while other procedures keep MAX_BODY_BYTES", async () => {
    const c = small.client();
    const content = exportOfSize(40_000);
    const { conversationId } = await c.conversations.import.mutate({ content });
    expect((await c.conversations.get.query({ conversationId })).messages[0]!.content).toHaveLength(JSON.parse(content).messages[0].message.content.length);
    // Not batched either.
    const plain = await post("/trpc/conversations.import", JSON.stringify({ content }));
    expect(plain.status).toBe(200);

    // Everything else is still limited to MAX_BODY_BYTES, and so is an import batched with other calls.
    // (chat.send, chat.complete and chat.edit take attachments: theirs is larger, body-limits.ts.)
    const rename = await post("/trpc/conversations.rename", JSON.stringify({ conversationId: "c", title: "x".repeat(10_000) }));
    expect(rename.status).toBe(413);
    expect(await rename.json()).toMatchObject({ error: { message: "Request body is too large (at most 4096 bytes).", data: { httpStatus: 413 } } });
    const batched = await post("/trpc/conversations.list,conversations.import?batch=1", JSON.stringify({ 1: { content } }));
    expect(batched.status).toBe(413);
  });

  it("holds a file's user messages to MAX_MESSAGE_CHARS, as chat.send does", async () => {
    const c = small.client();
    const before = await c.conversations.list.query();
    const content = exportOfSize(60_000);
    const chars = (JSON.parse(content) as { messages: Array<{ message: { content: string } }> }).messages[0]!.message.content.length;
    expect(chars).toBeGreaterThan(50_000);
    const error = await callFailure(c.conversations.import.mutate({ content }));
    expect(error).toMatchObject({ code: "BAD_REQUEST", appCode: "bad_request" });
    expect(error.message).toBe(`The conversation export is invalid: messages.0.message.content: ${chars} characters; this server takes messages of at most 50000.`);
    expect(await c.conversations.list.query()).toEqual(before);
  });

  it("holds a file's images to MAX_IMAGE_BYTES, as chat.send does", async () => {
    const c = small.client();
    const before = await c.conversations.list.query();
    const png = (bytes: number) => Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.alloc(bytes - 8)]).toString("base64");
    const withImage = (data: string) => {
      const doc = JSON.parse(exportOfSize(0)) as { messages: Array<{ message: Record<string, unknown> }> };
      doc.messages[0]!.message["images"] = [{ type: "image", mimeType: "image/png", data }];
      return JSON.stringify(doc);
    };
    const error = await callFailure(c.conversations.import.mutate({ content: withImage(png(2048)) }));
    expect(error).toMatchObject({ code: "BAD_REQUEST", appCode: "bad_request" });
    expect(error.message).toBe(
      "The conversation export is invalid: messages.0.message.images: The image is 2 KiB (2048 bytes); each image may be at most 1 KiB (1024 bytes).",
    );
    expect(await c.conversations.list.query()).toEqual(before);
    const { conversationId } = await c.conversations.import.mutate({ content: withImage(png(1024)) });
    expect((await c.conversations.attachment.query({ conversationId, messageId: (await c.conversations.get.query({ conversationId })).messages[0]!.id, index: 0 })).type).toBe("image");
  });

  it("refuses a larger file with a clear error, creating nothing", async () => {
    const c = small.client();
    const before = await c.conversations.list.query();
    // Over MAX_IMPORT_BYTES: the import says so.
    const over = exportOfSize(maxImportBytes + 10);
    const error = await callFailure(c.conversations.import.mutate({ content: over }));
    expect(error).toMatchObject({ code: "BAD_REQUEST", appCode: "bad_request" });
    expect(error.message).toBe("This file is a little over 64 KB; the server imports files of at most 64 KB.");
    // Far over it: the body is refused before it is read.
    const huge = exportOfSize(3 * maxImportBytes);
    const refused = await post("/trpc/conversations.import", JSON.stringify({ content: huge }));
    expect(refused.status).toBe(413);
    expect(await refused.json()).toMatchObject({ error: { message: "This file is too large; the server imports files of at most 64 KB." } });
    // In tRPC's error shape: a client shows the message.
    expect(await callFailure(c.conversations.import.mutate({ content: huge }))).toMatchObject({
      status: 413,
      code: "PAYLOAD_TOO_LARGE",
      appCode: "bad_request",
      message: "This file is too large; the server imports files of at most 64 KB.",
    });
    expect(await c.conversations.list.query()).toEqual(before);
  });
});
