import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConversationExport } from "@streamchat/store";
import { exportAllFilename } from "./export-all-route.js";
import { collectRun, startTestApi, type ApiClient, type TestApi } from "./test-support/harness.js";

/** GET /api/export: every conversation of the caller as JSON Lines, each line what conversations.import reads back. */

let api: TestApi;
let alice: ApiClient;
let bob: ApiClient;

beforeAll(async () => {
  api = await startTestApi({ env: { AUTH_TOKENS: "alice:alice-token-1,bob:bob-token-22" } });
  alice = api.client("alice-token-1");
  bob = api.client("bob-token-22");
});
afterAll(() => api?.close());

const exportAll = (token?: string) => fetch(`${api.url}/api/export`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
const linesOf = (body: string) => body.split("\n").filter((line) => line !== "");

describe("GET /api/export", () => {
  it("gives each of the caller's conversations as one line, in the list's order, that imports back whole", async () => {
    const first = await alice.chat.send.mutate({ message: "what is 6*7?" });
    await collectRun(alice, first.runId);
    const second = await alice.chat.send.mutate({ message: "Explain server-sent events in a short list" });
    await collectRun(alice, second.runId);
    await alice.conversations.rename.mutate({ conversationId: second.conversationId, title: "SSE\nnotes" });
    await alice.conversations.pin.mutate({ conversationId: first.conversationId, pinned: true });
    const bobs = await bob.chat.send.mutate({ message: "bob's own question" });
    await collectRun(bob, bobs.runId);

    const response = await exportAll("alice-token-1");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    expect(response.headers.get("content-disposition")).toMatch(/^attachment; filename="streamchat-conversations-\d{4}-\d{2}-\d{2}\.jsonl"$/);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const lines = linesOf(await response.text());
    const docs = lines.map((line) => JSON.parse(line) as ConversationExport);
    // Pinned first, as the list shows them; bob's is not in alice's file.
    expect(docs.map((doc) => doc.conversation.id)).toEqual([first.conversationId, second.conversationId]);
    // Each line is the conversation's own export, field for field.
    for (const doc of docs) {
      const single = JSON.parse((await alice.conversations.export.query({ conversationId: doc.conversation.id })).content) as ConversationExport;
      expect({ ...doc, exportedAt: 0 }).toEqual({ ...single, exportedAt: 0 });
    }
    // And imports back: a new conversation with the same messages for each line.
    for (const [i, line] of lines.entries()) {
      const { conversationId } = await alice.conversations.import.mutate({ content: line });
      const copy = await alice.conversations.get.query({ conversationId });
      const original = await alice.conversations.get.query({ conversationId: docs[i]!.conversation.id });
      expect(copy.messages.map((m) => [m.role, m.content])).toEqual(original.messages.map((m) => [m.role, m.content]));
      expect(copy.title).toBe(original.title);
      // The pin comes along: the file moved to another server lists as it did.
      expect(copy.pinnedAt).toBe(original.pinnedAt);
    }
    expect(docs[0]!.conversation.pinnedAt).toEqual(expect.any(Number));
  });

  it("writes the archived conversations too, after the others, each marked archived, and they import back archived", async () => {
    const carol = api.client("alice-token-1");
    const kept = await carol.chat.send.mutate({ message: "a chat to keep in the list" });
    await collectRun(carol, kept.runId);
    const old = await carol.chat.send.mutate({ message: "an old chat to archive" });
    await collectRun(carol, old.runId);
    await carol.conversations.archive.mutate({ conversationId: old.conversationId, archived: true });
    const docs = linesOf(await (await exportAll("alice-token-1")).text()).map((line) => JSON.parse(line) as ConversationExport);
    const ids = docs.map((doc) => doc.conversation.id);
    expect(ids.at(-1)).toBe(old.conversationId);
    expect(ids).toContain(kept.conversationId);
    expect(docs.at(-1)!.conversation.archivedAt).toEqual(expect.any(Number));
    expect(docs.find((doc) => doc.conversation.id === kept.conversationId)!.conversation).not.toHaveProperty("archivedAt");
    const { conversationId } = await carol.conversations.import.mutate({ content: JSON.stringify(docs.at(-1)) });
    expect((await carol.conversations.get.query({ conversationId })).archivedAt).toBe(docs.at(-1)!.conversation.archivedAt);
    expect((await carol.conversations.list.query({ archived: true })).map((c) => c.id)).toContain(conversationId);
  });

  it("reads past the list's largest page: every conversation, once", async () => {
    const { conversationId } = await bob.chat.send.mutate({ message: "one to copy" });
    const file = await bob.conversations.export.query({ conversationId });
    for (let i = 0; i < 520; i++) await bob.conversations.import.mutate({ content: file.content });
    const listed = await bob.conversations.list.query({ limit: 500 });
    const lines = linesOf(await (await exportAll("bob-token-22")).text());
    const ids = lines.map((line) => (JSON.parse(line) as ConversationExport).conversation.id);
    expect(ids.length).toBeGreaterThan(521);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice(0, 500)).toEqual(listed.map((c) => c.id));
  });

  it("refuses a caller without a valid token (401), and gives an empty file to one without conversations", async () => {
    for (const token of [undefined, "wrong-token"]) {
      const response = await exportAll(token);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: "unauthorized" });
    }
    const empty = await startTestApi();
    try {
      const response = await fetch(`${empty.url}/api/export`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("");
    } finally {
      await empty.close();
    }
  });

  it("names the file after the day it was made (UTC)", () => {
    expect(exportAllFilename(Date.UTC(2026, 11, 6, 23, 59))).toBe("streamchat-conversations-2026-12-06.jsonl");
  });
});
