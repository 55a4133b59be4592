import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Attachment, FileAttachment } from "@streamchat/core";
import { solidPng } from "@streamchat/ollama-sim";
import { collectRun, startTestApi, type ApiClient, type TestApi } from "./test-support/harness.js";

/**
 * Text files on messages (DESIGN §9): checked at the edge, stored with the message apart from what the user typed,
 * read by the model before the question, returned by conversations.get, kept by an edit, exported and imported.
 * Refusals start nothing.
 */

const notes: FileAttachment = { type: "file", name: "notes.md", text: "# Plan\n\n- ship it\n" };
const table: FileAttachment = { type: "file", name: "prices.csv", text: "item,price\ntea,3" };
const notesBlock = '<file name="notes.md">\n# Plan\n\n- ship it\n</file>\n\n';
const tableBlock = '<file name="prices.csv">\nitem,price\ntea,3\n</file>\n\n';
const redPng = solidPng(3, 2, [255, 0, 0]).toString("base64");

type SentBody = { model: string; messages: Array<{ role: string; content: string; images?: string[] }> };

let api: TestApi;
let client: ApiClient;
beforeAll(async () => {
  api = await startTestApi({ env: { MAX_FILE_CHARS: "1000" } });
  client = api.client();
});
afterAll(() => api?.close());

const lastChatBody = () => api.sim.chatRequests().at(-1)?.body as SentBody;

function failure(promise: Promise<unknown>) {
  return promise.then(
    () => ({ code: "none", appCode: "none", message: "" }),
    (error: { data?: { code?: string; appCode?: string }; message: string }) => ({ code: error.data?.code, appCode: error.data?.appCode, message: error.message }),
  );
}

describe("text files", () => {
  it("round trip: a model without vision reads them before the question; conversations.get and attachment return them", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "What is in these?", model: "llama3.2", attachments: [notes, table] });
    expect((await collectRun(client, runId)).at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(lastChatBody().messages.filter((m) => m.role === "user")).toEqual([{ role: "user", content: `${notesBlock}${tableBlock}What is in these?` }]);

    const question = (await client.conversations.get.query({ conversationId })).messages.find((m) => m.role === "user")!;
    expect(question.content).toBe("What is in these?");
    expect(question.attachments).toEqual([
      { type: "file", name: "notes.md", chars: notes.text.length, text: notes.text },
      { type: "file", name: "prices.csv", chars: table.text.length, text: table.text },
    ]);
    const light = await client.conversations.get.query({ conversationId, attachmentData: false });
    expect(light.messages.find((m) => m.role === "user")?.attachments).toEqual([
      { type: "file", name: "notes.md", chars: notes.text.length },
      { type: "file", name: "prices.csv", chars: table.text.length },
    ]);
    expect(await client.conversations.attachment.query({ conversationId, messageId: question.id, index: 1 })).toEqual({ type: "file", name: "prices.csv", text: table.text });
    expect(await failure(client.conversations.attachment.query({ conversationId, messageId: question.id, index: 2 }))).toMatchObject({ code: "NOT_FOUND" });
    // Search finds the question by a file's name (not by the file's text).
    expect(await client.conversations.search.query({ query: "PRICES.CSV" })).toContainEqual(
      expect.objectContaining({ conversationId, messageId: question.id, role: "user", snippet: "What is in these? notes.md prices.csv" }),
    );
    expect(await client.conversations.search.query({ query: "tea,3" })).toEqual([]);

    // The next turn goes on with the files in the history, on their own message.
    const next = await client.chat.send.mutate({ conversationId, message: "And the price of tea?", model: "llama3.2" });
    await collectRun(client, next.runId);
    expect(lastChatBody().messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual([`${notesBlock}${tableBlock}What is in these?`, "And the price of tea?"]);
  });

  it("beside images on a vision model: images go as images, files as text; views list images first, then files", async () => {
    const attachments: Attachment[] = [notes, { type: "image", mimeType: "image/png", data: redPng }];
    const { conversationId, runId } = await client.chat.send.mutate({ message: "Both?", model: "demo-vision", attachments });
    await collectRun(client, runId);
    expect(lastChatBody().messages.at(-1)).toEqual({ role: "user", content: `${notesBlock}Both?`, images: [redPng] });
    const question = (await client.conversations.get.query({ conversationId })).messages[0]!;
    expect(question.attachments?.map((a) => a.type)).toEqual(["image", "file"]);
    expect(await client.conversations.attachment.query({ conversationId, messageId: question.id, index: 1 })).toMatchObject({ type: "file", name: "notes.md" });
  });

  it("an edit without attachments keeps the question's files (and images); [] removes them", async () => {
    const done = await client.chat.complete.mutate({ message: "Summarize", model: "llama3.2", attachments: [notes] });
    const { conversationId } = done;
    const question = () => client.conversations.get.query({ conversationId }).then((c) => c.messages.find((m) => m.role === "user")!);
    const kept = await client.chat.edit.mutate({ conversationId, messageId: (await question()).id, message: "Summarize briefly" });
    await collectRun(client, kept.runId);
    expect(lastChatBody().messages.at(-1)).toEqual({ role: "user", content: `${notesBlock}Summarize briefly` });
    expect((await question()).attachments).toEqual([{ type: "file", name: "notes.md", chars: notes.text.length, text: notes.text }]);

    const replaced = await client.chat.edit.mutate({ conversationId, messageId: (await question()).id, message: "And this?", attachments: [table] });
    await collectRun(client, replaced.runId);
    expect(lastChatBody().messages.at(-1)?.content).toBe(`${tableBlock}And this?`);

    const removed = await client.chat.edit.mutate({ conversationId, messageId: (await question()).id, message: "Nothing now", attachments: [] });
    await collectRun(client, removed.runId);
    expect(lastChatBody().messages.at(-1)).toEqual({ role: "user", content: "Nothing now" });
    expect((await question()).attachments).toBeUndefined();
  });

  describe("refused before anything is stored or started, with a sentence naming the file and the limit", () => {
    const file = (name: string, text: string): FileAttachment => ({ type: "file", name, text });
    const cases: Array<[string, Attachment[], RegExp]> = [
      ["9 files", Array.from({ length: 9 }, (_, i) => file(`f${i}.txt`, "x")), /Too many files: at most 8 per message, got 9/],
      ["a file over MAX_FILE_CHARS", [file("big.log", "x".repeat(1001))], /The file \(big\.log\) is 1,001 characters long; each file may be at most 1,000/],
      ["an empty file", [notes, file("empty.txt", "")], /File 2 \(empty\.txt\) is empty/],
      ["a binary file", [file("photo.png", "\u0089PNG\r\n\u001a\n\0\0")], /The file \(photo\.png\) is not a text file/],
      ["a file without a name", [file(" ", "x")], /The file has no name/],
    ];

    it.each(cases)("%s (chat.send, chat.complete, chat.edit, REST)", async (_name, attachments, expected) => {
      const conversations = (await client.conversations.list.query()).length;
      const requests = api.sim.chatRequests().length;
      for (const call of [client.chat.send.mutate({ message: "look", attachments }), client.chat.complete.mutate({ message: "look", attachments })]) {
        const refused = await failure(call);
        expect(refused).toMatchObject({ code: "BAD_REQUEST", appCode: "bad_request" });
        expect(refused.message).toMatch(expected);
      }
      const rest = await fetch(`${api.url}/api/chat`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ message: "look", attachments }) });
      expect(rest.status).toBe(400);
      expect(await rest.json()).toMatchObject({ code: "bad_request", error: expect.stringMatching(expected) });
      expect((await client.conversations.list.query()).length).toBe(conversations);
      expect(api.sim.chatRequests().length).toBe(requests);
    });

    it("a file of exactly MAX_FILE_CHARS is taken", async () => {
      const result = await client.chat.complete.mutate({ message: "ok?", model: "llama3.2", attachments: [file("full.txt", "y".repeat(1000))] });
      expect(result.text.length).toBeGreaterThan(0);
      expect(lastChatBody().messages.at(-1)?.content).toContain(`${"y".repeat(1000)}\n</file>`);
    });
  });

  it("REST /api/chat/stream takes files too", async () => {
    const response = await fetch(`${api.url}/api/chat/stream`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ message: "Read it", model: "llama3.2", attachments: [table] }) });
    expect(response.status).toBe(200);
    await response.text();
    expect(lastChatBody().messages.at(-1)?.content).toBe(`${tableBlock}Read it`);
  });

  it("health tells a signed-in client the file limits", async () => {
    const health = await client.health.query();
    expect(health).toMatchObject({ limits: { maxFileChars: 1000, maxFilesPerMessage: 8 } });
  });

  it("export and import keep the files; Markdown writes each whole in a fence longer than its backticks", async () => {
    const code: FileAttachment = { type: "file", name: "README.md", text: "Run:\n```sh\npnpm start\n```\n" };
    const { conversationId } = await client.chat.complete.mutate({ message: "Explain", model: "llama3.2", attachments: [code] });
    const json = await client.conversations.export.query({ conversationId, format: "json" });
    const imported = await client.conversations.import.mutate({ content: json.content });
    const question = (await client.conversations.get.query({ conversationId: imported.conversationId })).messages[0]!;
    expect(question.attachments).toEqual([{ type: "file", name: "README.md", chars: code.text.length, text: code.text }]);
    const markdown = await client.conversations.export.query({ conversationId, format: "markdown" });
    expect(markdown.content).toContain("> **File** `README.md`\n\n````\nRun:\n```sh\npnpm start\n```\n````\n\nExplain");

    // An export whose file breaks the server's limit is refused, saying which message.
    const doc = JSON.parse(json.content) as { messages: Array<{ message: { files?: FileAttachment[] } }> };
    doc.messages[0]!.message.files = [{ type: "file", name: "big.txt", text: "z".repeat(1001) }];
    const refused = await failure(client.conversations.import.mutate({ content: JSON.stringify(doc) }));
    expect(refused.message).toMatch(/messages\.0\.message\.files: The file \(big\.txt\) is 1,001 characters long/);
  });
});
