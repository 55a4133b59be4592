import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FeedDelivery } from "../feed/feed-events.js";
import { callFailure } from "../test-support/trpc-failure.js";
import { collectRun, eventually, startTestApi, type ApiClient, type TestApi } from "../test-support/harness.js";

/** conversations.branch through the API: what the copy holds, that it goes on by itself, its refusals, and the feed. */

let api: TestApi;
let alice: ApiClient;
let bob: ApiClient;

beforeAll(async () => {
  api = await startTestApi({ env: { AUTH_TOKENS: "alice:alice-token-1,bob:bob-token-22" } });
  alice = api.client("alice-token-1");
  bob = api.client("bob-token-22");
});
afterAll(() => api?.close());

async function finished<T extends { runId: string }>(client: ApiClient, promise: Promise<T>): Promise<T> {
  const started = await promise;
  await collectRun(client, started.runId);
  return started;
}

/** Two turns, the first with a tool round (the calculator): q1, its tool call, the tool's result, a1; q2, a2. */
async function twoTurns(client: ApiClient) {
  const { conversationId } = await finished(client, client.chat.send.mutate({ message: "what is 6*7?" }));
  await finished(client, client.chat.send.mutate({ conversationId, message: "and in words?" }));
  await client.conversations.rename.mutate({ conversationId, title: "Sums" });
  return conversationId;
}

const texts = (messages: ReadonlyArray<{ role: string; content: string }>) => messages.map((m) => `${m.role}: ${m.content}`);

describe("conversations.branch", () => {
  it("copies the conversation up to an answer into a new one that goes on by itself; the original is as it was", async () => {
    const conversationId = await twoTurns(alice);
    const original = await alice.conversations.get.query({ conversationId });
    const firstAnswer = original.messages.filter((m) => m.role === "assistant" && m.content !== "")[0]!;
    expect(original.messages.length).toBeGreaterThan(4);

    const branched = await alice.conversations.branch.mutate({ conversationId, messageId: firstAnswer.id });
    expect(branched.conversationId).not.toBe(conversationId);

    const branch = await alice.conversations.get.query({ conversationId: branched.conversationId });
    expect(branch.title).toBe("Branch · Sums");
    // The way back: the original, its answer, the branch's copy of it (the last message copied), the original's title.
    expect(branch.branchedFrom).toEqual({ conversationId, messageId: firstAnswer.id, atMessageId: branch.messages.at(-1)!.id, title: "Sums" });
    expect(original.branchedFrom).toBeNull();
    const upToFirstAnswer = original.messages.slice(0, original.messages.indexOf(firstAnswer) + 1);
    expect(texts(branch.messages)).toEqual(texts(upToFirstAnswer));
    // The first answer's run came along: its usage and tool result show on the branch as on the original.
    const runOf = (detail: typeof original, runId: string | null) => detail.runs.find((run) => run.id === runId);
    const copiedRun = runOf(branch, branch.messages.at(-1)!.runId)!;
    const originalRun = runOf(original, firstAnswer.runId)!;
    expect(copiedRun.usage).toEqual(originalRun.usage);
    expect(copiedRun.toolResults.map((r) => r.name)).toEqual(["calculator"]);
    expect((await alice.conversations.list.query())[0]?.id).toBe(branched.conversationId);

    // Going on in the branch: the model answers from the branch's history, and the original does not change.
    await finished(alice, alice.chat.send.mutate({ conversationId: branched.conversationId, message: "and times two?" }));
    const grown = await alice.conversations.get.query({ conversationId: branched.conversationId });
    expect(texts(grown.messages).slice(0, upToFirstAnswer.length)).toEqual(texts(upToFirstAnswer));
    expect(grown.messages.at(-2)).toMatchObject({ role: "user", content: "and times two?" });
    expect(grown.messages.at(-1)?.role).toBe("assistant");
    expect(texts((await alice.conversations.get.query({ conversationId })).messages)).toEqual(texts(original.messages));

    // The original deleted: the branch still says it is one, without a title to name or a chat to open.
    await alice.conversations.delete.mutate({ conversationId });
    expect((await alice.conversations.get.query({ conversationId: branched.conversationId })).branchedFrom).toMatchObject({ conversationId, title: null });
  });

  it("refuses a question or a tool call in the middle of an answer (bad_request), and what the caller does not have (NOT_FOUND)", async () => {
    const conversationId = await twoTurns(alice);
    const { messages } = await alice.conversations.get.query({ conversationId });
    const question = messages.find((m) => m.role === "user")!;
    const toolCall = messages.find((m) => m.role === "assistant" && m.content === "")!;
    const before = (await alice.conversations.list.query()).length;
    for (const messageId of [question.id, toolCall.id]) {
      expect(await callFailure(alice.conversations.branch.mutate({ conversationId, messageId }))).toMatchObject({
        code: "BAD_REQUEST",
        appCode: "bad_request",
        message: "A conversation branches from the end of an answer; this message is not one.",
      });
    }
    const answer = messages.at(-1)!;
    expect(await callFailure(bob.conversations.branch.mutate({ conversationId, messageId: answer.id }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await callFailure(alice.conversations.branch.mutate({ conversationId, messageId: answer.id + 10_000 }))).toMatchObject({
      code: "NOT_FOUND",
      message: expect.stringMatching(/^Message/),
    });
    expect(await callFailure(alice.conversations.branch.mutate({ conversationId: "nope", messageId: answer.id }))).toMatchObject({
      code: "NOT_FOUND",
      message: expect.stringMatching(/^Conversation/),
    });
    expect((await alice.conversations.list.query()).length).toBe(before);
    expect((await bob.conversations.list.query())).toEqual([]);
  });

  it("tells the user's other tabs of a branch and of an import (conversation-added), and no one else", async () => {
    const conversationId = await twoTurns(alice);
    const answer = (await alice.conversations.get.query({ conversationId })).messages.at(-1)!;
    const received: FeedDelivery[] = [];
    const bobs: FeedDelivery[] = [];
    let started!: () => void;
    const ready = new Promise<void>((resolve) => (started = resolve));
    const subscription = alice.conversations.feed.subscribe({}, { onStarted: () => started(), onData: ({ id, data }) => received.push({ id, event: data }) });
    const bobSubscription = bob.conversations.feed.subscribe({}, { onData: ({ id, data }) => bobs.push({ id, event: data }) });
    try {
      await ready;
      const branched = await alice.conversations.branch.mutate({ conversationId, messageId: answer.id });
      const file = await alice.conversations.export.query({ conversationId });
      const imported = await alice.conversations.import.mutate({ content: file.content });
      const added = () => received.flatMap((d) => (d.event.type === "conversation-added" ? [d.event.conversationId] : []));
      await eventually(() => added().length === 2, "two conversation-added events");
      expect(added()).toEqual([branched.conversationId, imported.conversationId]);
      expect(bobs.filter((d) => d.event.type === "conversation-added")).toEqual([]);
    } finally {
      subscription.unsubscribe();
      bobSubscription.unsubscribe();
    }
  });
});
