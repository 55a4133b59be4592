import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatClient, type ChatClient } from "./client.js";
import { startApi, type TestApi } from "./test-support/api.js";
import { drain } from "./test-support/events.js";

/** Versions, search over branches, export and import through the typed client, against the real API. */
describe("versions, search, export and import through the client", () => {
  let api: TestApi;
  let client: ChatClient;
  let answers = 0;

  beforeAll(async () => {
    // The smallest body limit the API takes: an import must still get through, alone on its own route.
    api = await startApi({ MAX_BODY_BYTES: "1024" });
    client = createChatClient({ url: api.url });
    // Every answer differs, so versions can be told apart.
    api.sim.addScenario({
      name: "numbered answers",
      match: { lastUserIncludes: "#" },
      respond: () => [{ content: `Answer number ${++answers}` }, { done: true }],
    });
  });
  afterAll(() => api?.close());

  it("switchBranch shows an earlier answer; search finds a question on a branch that is not shown", async () => {
    const { conversationId } = await client.complete("#colours of the sky");
    const regenerated = await client.trpc.chat.regenerate.mutate({ conversationId });
    await drain(client.events(regenerated.runId));
    const now = await client.conversations.get(conversationId);
    const answer = now.messages[1]!;
    expect(answer.versions).toMatchObject({ index: 2, count: 2 });

    const first = await client.conversations.switchBranch(conversationId, answer.versions!.siblingIds[0]!);
    expect(first.messages[1]).toMatchObject({ content: "Answer number 1", versions: { index: 1, count: 2 } });
    expect(await client.conversations.get(conversationId)).toEqual(first);

    // An edited question: the original stays on the other branch, and search still finds it.
    const question = first.messages[0]!;
    const edited = await client.trpc.chat.edit.mutate({ conversationId, messageId: question.id, message: "#colours of the sea" });
    await drain(client.events(edited.runId));
    expect((await client.conversations.get(conversationId)).messages[0]).toMatchObject({ content: "#colours of the sea", versions: { index: 2, count: 2 } });
    const hits = await client.conversations.search("OF THE SKY");
    expect(hits).toEqual([expect.objectContaining({ conversationId, messageId: question.id, role: "user" })]);
    // Back to that question: down its most recent answer (the regenerated one).
    const back = await client.conversations.switchBranch(conversationId, hits[0]!.messageId);
    expect(back.messages.map((m) => m.content)).toEqual(["#colours of the sky", "Answer number 2"]);

    await expect(client.conversations.switchBranch(conversationId, 999_999)).rejects.toMatchObject({ trpcCode: "NOT_FOUND", message: "Message not found" });
  });

  it("imports a file larger than MAX_BODY_BYTES even when two are sent at once", async () => {
    const { conversationId } = await client.complete("#a long one");
    const file = await client.conversations.export(conversationId);
    expect(file).toMatchObject({ mimeType: "application/json", filename: expect.stringMatching(/\.json$/) });
    const doc = JSON.parse(file.content) as { messages: Array<{ message: { content: string } }> };
    doc.messages[0]!.message.content = `#a long one ${"x".repeat(4000)}`;
    const content = JSON.stringify(doc);
    expect(Buffer.byteLength(content)).toBeGreaterThan(2 * 1024);

    // Called in the same tick: a batching link would put both in one request, over the body limit.
    const [imported, twice] = await Promise.all([client.conversations.import(content), client.conversations.import(content)]);
    expect(twice.conversationId).not.toBe(imported.conversationId);
    const copy = await client.conversations.get(imported.conversationId);
    expect(copy.messages.map((m) => m.content)).toEqual(doc.messages.map((m) => m.message.content));

    const markdown = await client.conversations.export(imported.conversationId, { format: "markdown" });
    expect(markdown.mimeType).toMatch(/^text\/markdown/);
    expect(markdown.content).toContain(doc.messages[1]!.message.content);
  });
});
