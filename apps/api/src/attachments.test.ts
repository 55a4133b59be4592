import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageAttachment } from "@streamchat/core";
import { collectRun, startTestApi, tokenText, types, type ApiClient, type TestApi } from "./test-support/harness.js";
import { jpegHeader, solidPng } from "@streamchat/ollama-sim";

/**
 * Images on messages (DESIGN §9, issue 14): checked at the edge, stored with the message, sent to Ollama exactly as
 * received on that message's `images`, returned by conversations.get; refusals start nothing.
 */

const redPng = solidPng(3, 2, [255, 0, 0]).toString("base64");
const bluePng = solidPng(5, 4, [0, 0, 255]).toString("base64");
const png = (data: string): ImageAttachment => ({ type: "image", mimeType: "image/png", data });

type SentMessage = { role: string; content: string; images?: string[] };
type SentBody = { model: string; messages: SentMessage[]; think?: unknown; keep_alive?: unknown };

function appCodeOf(promise: Promise<unknown>) {
  return promise.then(
    () => ({ code: "none", appCode: "none", message: "" }),
    (error: { data?: { code?: string; appCode?: string }; message: string }) => ({
      code: error.data?.code,
      appCode: error.data?.appCode,
      message: error.message,
    }),
  );
}

let api: TestApi;
let client: ApiClient;
beforeAll(async () => {
  api = await startTestApi({ env: { MAX_IMAGE_BYTES: "4096" } });
  client = api.client();
});
afterAll(() => api?.close());

const lastChatBody = () => api.sim.chatRequests().at(-1)?.body as SentBody;

describe("attachments", () => {
  it("round trip: Ollama gets exactly the base64 on that user message, the answer is about the image, conversations.get returns it", async () => {
    const { conversationId, runId } = await client.chat.send.mutate({ message: "What is this?", model: "demo-vision", attachments: [png(redPng)] });
    const received = await collectRun(client, runId);
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    const answer = tokenText(received);
    expect(answer).toContain("3×2");
    expect(answer.toLowerCase()).toContain("red");

    const sent = lastChatBody();
    expect(sent.model).toBe("demo-vision");
    const users = sent.messages.filter((m) => m.role === "user");
    expect(users).toEqual([{ role: "user", content: "What is this?", images: [redPng] }]);

    const conversation = await client.conversations.get.query({ conversationId });
    const question = conversation.messages.find((m) => m.role === "user");
    expect(question?.attachments).toEqual([{ type: "image", mimeType: "image/png", data: redPng }]);
    // Without the data: each image's size instead, fetched one at a time.
    const light = await client.conversations.get.query({ conversationId, attachmentData: false });
    const bytes = Buffer.from(redPng, "base64").length;
    expect(light.messages.find((m) => m.role === "user")?.attachments).toEqual([{ type: "image", mimeType: "image/png", bytes }]);
    expect(JSON.stringify(light)).not.toContain(redPng);
    expect(await client.conversations.attachment.query({ conversationId, messageId: question!.id, index: 0 })).toEqual({
      type: "image",
      mimeType: "image/png",
      data: redPng,
    });
    expect(await appCodeOf(client.conversations.attachment.query({ conversationId, messageId: question!.id, index: 1 }))).toMatchObject({
      code: "NOT_FOUND",
    });

    // A later turn keeps the image in the context, on its own message; the new question has none.
    const next = await client.chat.send.mutate({ conversationId, message: "And now?", model: "demo-vision" });
    await collectRun(client, next.runId);
    const later = lastChatBody().messages.filter((m) => m.role === "user");
    expect(later).toEqual([
      { role: "user", content: "What is this?", images: [redPng] },
      { role: "user", content: "And now?" },
    ]);

    // A model without vision can go on with the conversation: the earlier image is left out for it.
    const text = await client.chat.send.mutate({ conversationId, message: "Summarise", model: "llama3.2" });
    expect((await collectRun(client, text.runId)).at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(lastChatBody().messages.some((m) => m.images !== undefined)).toBe(false);
  });

  it("several images: each on the message, in order, answered one by one", async () => {
    const { runId } = await client.chat.send.mutate({
      message: "Compare",
      model: "llava",
      attachments: [png(redPng), png(bluePng), { type: "image", mimeType: "image/jpeg", data: jpegHeader(7, 9).toString("base64") }],
    });
    const answer = tokenText(await collectRun(client, runId));
    expect(answer).toContain("3×2");
    expect(answer).toContain("5×4");
    expect(answer).toContain("7×9");
    expect(lastChatBody().messages.at(-1)?.images).toEqual([redPng, bluePng, jpegHeader(7, 9).toString("base64")]);
  });

  describe("refusals fail the mutation and start nothing: no conversation, no run, no model request", async () => {
    const tooBig = solidPng(2, 2, [0, 255, 0], { bytes: 4097 }).toString("base64");
    const cases: Array<[string, { model?: string; attachments: ImageAttachment[] }, { appCode: string; message: RegExp }]> = [
      ["a model without vision", { model: "llama3.2", attachments: [png(redPng)] }, { appCode: "model_unsupported", message: /"llama3\.2" does not support images/ }],
      ["5 images", { model: "demo-vision", attachments: Array.from({ length: 5 }, () => png(redPng)) }, { appCode: "bad_request", message: /at most 4 per message, got 5/ }],
      ["a PNG declared as JPEG", { model: "demo-vision", attachments: [{ type: "image", mimeType: "image/jpeg", data: redPng }] }, { appCode: "bad_request", message: /declared image\/jpeg but its content is a PNG/ }],
      ["garbage", { model: "demo-vision", attachments: [png(Buffer.from("not an image at all").toString("base64"))] }, { appCode: "bad_request", message: /not a PNG, JPEG, WebP or GIF/ }],
      ["not base64", { model: "demo-vision", attachments: [png("@@@@")] }, { appCode: "bad_request", message: /not valid base64/ }],
      ["a data: URL", { model: "demo-vision", attachments: [png(`data:image/png;base64,${redPng}`)] }, { appCode: "bad_request", message: /without the "data:/ }],
      ["an image over MAX_IMAGE_BYTES", { model: "demo-vision", attachments: [png(tooBig)] }, { appCode: "bad_request", message: /is 4 KiB \(4097 bytes\); each image may be at most 4 KiB \(4096 bytes\)/ }],
    ];

    const snapshot = async (conversationId?: string) => ({
      conversations: (await client.conversations.list.query()).map((c) => c.id),
      runs: conversationId ? (await api.server.store.listRuns(conversationId)).length : 0,
      messages: conversationId ? (await api.server.store.listMessages(conversationId)).length : 0,
      chatRequests: api.sim.chatRequests().length,
    });

    it.each(cases)("%s (chat.send, chat.complete; new and existing conversation)", async (_name, input, expected) => {
      const before = await snapshot();
      for (const call of [client.chat.send.mutate({ message: "look", ...input }), client.chat.complete.mutate({ message: "look", ...input })]) {
        const refused = await appCodeOf(call);
        expect(refused).toMatchObject({ code: "BAD_REQUEST", appCode: expected.appCode });
        expect(refused.message).toMatch(expected.message);
      }
      expect(await snapshot()).toEqual(before);

      const existing = await client.chat.send.mutate({ message: "hello" });
      await collectRun(client, existing.runId);
      const withOne = await snapshot(existing.conversationId);
      expect(await appCodeOf(client.chat.send.mutate({ conversationId: existing.conversationId, message: "look", ...input }))).toMatchObject({
        appCode: expected.appCode,
      });
      const user = (await client.conversations.get.query({ conversationId: existing.conversationId })).messages[0]!;
      expect(
        await appCodeOf(client.chat.edit.mutate({ conversationId: existing.conversationId, messageId: user.id, message: "look", ...input })),
      ).toMatchObject({ appCode: expected.appCode });
      expect(await snapshot(existing.conversationId)).toEqual(withOne);
    });
  });

  it("an image of exactly MAX_IMAGE_BYTES is taken", async () => {
    const atLimit = solidPng(2, 2, [0, 255, 0], { bytes: 4096 }).toString("base64");
    const result = await client.chat.complete.mutate({ message: "size?", model: "demo-vision", attachments: [png(atLimit)] });
    expect(result.text).toContain("2×2");
    expect(result.text.toLowerCase()).toContain("green");
  });

  it("chat.complete and chat.edit take attachments; an edit without attachments keeps the message's images, [] removes them", async () => {
    const done = await client.chat.complete.mutate({ message: "What is this?", model: "demo-vision", attachments: [png(redPng)] });
    expect(done.text).toContain("3×2");
    expect(lastChatBody().messages.at(-1)).toEqual({ role: "user", content: "What is this?", images: [redPng] });
    const { conversationId } = done;
    const question = () => client.conversations.get.query({ conversationId }).then((c) => c.messages.find((m) => m.role === "user")!);

    const replaced = await client.chat.edit.mutate({ conversationId, messageId: (await question()).id, message: "And this?", model: "demo-vision", attachments: [png(bluePng)] });
    expect(tokenText(await collectRun(client, replaced.runId))).toContain("5×4");
    expect(lastChatBody().messages.at(-1)).toEqual({ role: "user", content: "And this?", images: [bluePng] });
    expect((await question()).attachments).toEqual([{ type: "image", mimeType: "image/png", data: bluePng }]);

    const kept = await client.chat.edit.mutate({ conversationId, messageId: (await question()).id, message: "Once more?", model: "demo-vision" });
    await collectRun(client, kept.runId);
    expect(lastChatBody().messages.at(-1)).toEqual({ role: "user", content: "Once more?", images: [bluePng] });
    expect((await question()).attachments).toEqual([{ type: "image", mimeType: "image/png", data: bluePng }]);

    const removed = await client.chat.edit.mutate({ conversationId, messageId: (await question()).id, message: "No image now", model: "demo-vision", attachments: [] });
    await collectRun(client, removed.runId);
    expect(lastChatBody().messages.at(-1)).toEqual({ role: "user", content: "No image now" });
    expect((await question()).attachments).toBeUndefined();
  });

  it("a regenerate without a model answers again with the model of the answer it replaces, not the default", async () => {
    const { conversationId } = await client.chat.complete.mutate({ message: "What is this?", model: "demo-vision", attachments: [png(redPng)] });
    const again = await client.chat.regenerate.mutate({ conversationId });
    const received = await collectRun(client, again.runId);
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(tokenText(received)).toContain("3×2");
    expect(lastChatBody().model).toBe("demo-vision");
    // Named by the question (an older version's answer is another run): the newest answer's model.
    const detail = await client.conversations.get.query({ conversationId });
    const question = detail.messages.find((m) => m.role === "user")!;
    const byQuestion = await client.chat.regenerate.mutate({ conversationId, messageId: question.id });
    await collectRun(client, byQuestion.runId);
    expect(lastChatBody().model).toBe("demo-vision");
    // A model named wins, as before (this one cannot see images: the run says so).
    const named = await client.chat.regenerate.mutate({ conversationId, model: "llama3.2" });
    expect(types(await collectRun(client, named.runId))).toContain("error");
  });

  it("REST /api/chat and /api/chat/stream: the same attachments and the same refusals", async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${api.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const ok = await post("/api/chat", { message: "What is this?", model: "demo-vision", attachments: [png(redPng)] });
    expect(ok.status).toBe(200);
    const json = (await ok.json()) as { response: string; conversationId: string };
    expect(json.response).toContain("3×2");
    expect(lastChatBody().messages.at(-1)).toEqual({ role: "user", content: "What is this?", images: [redPng] });
    const stored = await client.conversations.get.query({ conversationId: json.conversationId });
    expect(stored.messages[0]?.attachments).toEqual([{ type: "image", mimeType: "image/png", data: redPng }]);

    const stream = await post("/api/chat/stream", { message: "What is this?", model: "demo-vision", attachments: [png(bluePng)] });
    expect(stream.status).toBe(200);
    expect(await stream.text()).toContain("5×4");
    expect(lastChatBody().messages.at(-1)?.images).toEqual([bluePng]);

    const conversations = (await client.conversations.list.query()).length;
    const requests = api.sim.chatRequests().length;
    for (const path of ["/api/chat", "/api/chat/stream"]) {
      const refused = await post(path, { message: "look", model: "llama3.2", attachments: [png(redPng)] });
      expect(refused.status, path).toBe(400);
      expect(await refused.json()).toEqual({ error: '"llama3.2" does not support images. Pick a vision model to send images.', code: "model_unsupported" });
      const garbage = await post(path, { message: "look", model: "demo-vision", attachments: [{ type: "image", mimeType: "image/gif", data: redPng }] });
      expect(garbage.status, path).toBe(400);
      expect(await garbage.json()).toMatchObject({ code: "bad_request", error: expect.stringContaining("declared image/gif") });
      const shape = await post(path, { message: "look", attachments: [{ type: "image", mimeType: "image/bmp", data: redPng }] });
      expect(shape.status, path).toBe(400);
      expect(await shape.json()).toMatchObject({ code: "bad_request", error: expect.stringMatching(/^attachments\.0\.mimeType: /) });
    }
    expect((await client.conversations.list.query()).length).toBe(conversations);
    expect(api.sim.chatRequests().length).toBe(requests);
  });
});

describe("attachments on an OpenAI-compatible server (it does not say which models see)", () => {
  let openai: TestApi;
  let oc: ApiClient;
  beforeAll(async () => {
    openai = await startTestApi({ env: (sim) => ({ CHAT_PROVIDER: "openai", OPENAI_BASE_URL: `${sim.url}/v1`, CHAT_MODEL: "llama3.2" }) });
    oc = openai.client();
  });
  afterAll(() => openai?.close());

  it("offers images for every model, sends them, and knows a model cannot see once the server refused them", async () => {
    const listed = async (name: string) => (await oc.models.list.query({ refresh: true })).models.find((m) => m.name === name);
    expect(await listed("llama3.2")).toMatchObject({ unknownCapabilities: ["vision"] });

    const seen = await oc.chat.send.mutate({ message: "What is this?", model: "demo-vision", attachments: [png(redPng)] });
    expect(tokenText(await collectRun(oc, seen.runId))).toContain("3×2");

    // The server refuses the picture for a model without vision: the run says so, naming images.
    const refused = await oc.chat.send.mutate({ message: "And this?", model: "llama3.2", attachments: [png(bluePng)] });
    const events = await collectRun(oc, refused.runId);
    expect(events.map((r) => r.event).find((e) => e.type === "error")).toMatchObject({ code: "model_unsupported", message: expect.stringMatching(/does not support images/) });
    expect(events.at(-1)?.event).toMatchObject({ type: "done", reason: "error" });

    // Now known: the list says nothing unknown of it, and the next picture is refused before any model request.
    expect((await listed("llama3.2"))?.unknownCapabilities).toBeUndefined();
    const requests = openai.sim.chatRequests().length;
    expect(await appCodeOf(oc.chat.send.mutate({ message: "Again", model: "llama3.2", attachments: [png(bluePng)] }))).toMatchObject({
      appCode: "model_unsupported",
    });
    expect(openai.sim.chatRequests()).toHaveLength(requests);

    // The conversation goes on in text with that model: its earlier picture is left out for it.
    const text = await oc.chat.send.mutate({ conversationId: seen.conversationId, message: "Summarise", model: "llama3.2" });
    expect((await collectRun(oc, text.runId)).at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    const sent = openai.sim.chatRequests().at(-1)?.body as { messages: Array<{ content: unknown }> };
    expect(JSON.stringify(sent.messages)).not.toContain("image_url");

    // A model not yet known not to see, asked on in that conversation: the server refuses the earlier picture, and the
    // round goes again without it (a status says so) instead of failing.
    const other = await oc.chat.send.mutate({ conversationId: seen.conversationId, message: "Anything else?", model: "gemma2" });
    const otherEvents = (await collectRun(oc, other.runId)).map((r) => r.event);
    expect(otherEvents).toContainEqual(expect.objectContaining({ type: "status", message: '"gemma2" cannot see images: answering without the earlier pictures.' }));
    expect(otherEvents.at(-1)).toMatchObject({ type: "done", reason: "stop" });
    expect(openai.sim.chatRequests().slice(-2).map((r) => JSON.stringify(r.body).includes("image_url"))).toEqual([true, false]);
  });
});
