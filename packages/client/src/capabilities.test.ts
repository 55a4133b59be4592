import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatClient, type ChatClient } from "./client.js";
import { ChatClientError } from "./errors.js";
import { startApi, type TestApi } from "./test-support/api.js";
import { solidPng } from "@streamchat/ollama-sim";

/** Images, think levels and model capabilities through the typed client, against the real API on loopback. */
describe("client: images, think, models", () => {
  let api: TestApi;
  let client: ChatClient;
  beforeAll(async () => {
    api = await startApi();
    client = createChatClient({ url: api.url });
  });
  afterAll(() => api?.close());

  it("complete() and stream() carry attachments and think to the model; the conversation keeps the image", async () => {
    const data = solidPng(10, 20, [0, 128, 0]).toString("base64");
    const answer = await client.complete("what is this?", { model: "demo-vision", attachments: [{ type: "image", mimeType: "image/png", data }] });
    expect(answer.text).toContain("10×20");
    expect((api.sim.chatRequests().at(-1)?.body as { messages: Array<{ images?: string[] }> }).messages.at(-1)?.images).toEqual([data]);
    const stored = await client.conversations.get(answer.conversationId);
    expect(stored.messages[0]?.attachments).toMatchObject([{ type: "image", mimeType: "image/png" }]);

    const events = [];
    for await (const event of client.stream("explain streams", { model: "gpt-oss", think: "medium" })) events.push(event.type);
    expect(events).toContain("reasoning");
    expect((api.sim.chatRequests().at(-1)?.body as { think?: unknown }).think).toBe("medium");
  });

  it("an image for a model without vision fails with model_unsupported and starts nothing", async () => {
    const before = api.sim.chatRequests().length;
    const data = solidPng(2, 2, [1, 2, 3]).toString("base64");
    const error = await client.send("hi", { model: "gemma3", attachments: [{ type: "image", mimeType: "image/png", data }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatClientError);
    expect(error).toMatchObject({ code: "model_unsupported" });
    expect(api.sim.chatRequests().length).toBe(before);
  });

  it("models() lists capabilities (in words too), context length and loaded state", async () => {
    const { models } = await client.models({ refresh: true });
    expect(models.find((m) => m.name === "gpt-oss")).toMatchObject({
      capabilities: expect.arrayContaining(["thinking"]),
      capabilitiesInWords: expect.arrayContaining(["thinks (low, medium, high)", "128K context"]),
      thinkLevels: ["low", "medium", "high"],
      contextLength: 131_072,
      loaded: true,
    });
    expect(models.find((m) => m.name === "llava")?.capabilitiesInWords).toEqual(["sees images", "4K context"]);
  });
});
