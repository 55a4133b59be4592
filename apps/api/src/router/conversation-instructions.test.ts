import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultSampling } from "@streamchat/core";
import { conversationInstructionsHeading, instructionsHeading } from "../runs/context.js";
import { callFailure } from "../test-support/trpc-failure.js";
import { collectRun, lastSystemMessage as systemMessageOf, startTestApi, type ApiClient, type TestApi } from "../test-support/harness.js";
import { maxInstructionsChars } from "./settings.js";

/** conversations.instructions / setInstructions through the API: stored per chat, given to its runs, copied and carried. */

let api: TestApi;
let alice: ApiClient;
let bob: ApiClient;
beforeAll(async () => {
  api = await startTestApi({ env: { AUTH_TOKENS: "alice:alice-token-1,bob:bob-token-22", SYSTEM_PROMPT: "You are the test assistant." } });
  alice = api.client("alice-token-1");
  bob = api.client("bob-token-22");
});
afterAll(() => api?.close());

const lastSystemMessage = () => systemMessageOf(api.sim);

async function answer(client: ApiClient, message: string, conversationId?: string): Promise<string> {
  const started = await client.chat.send.mutate({ message, ...(conversationId === undefined ? {} : { conversationId }) });
  const received = await collectRun(client, started.runId);
  expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
  return started.conversationId;
}

describe("conversations.instructions", () => {
  it("are empty until set, stored trimmed, each conversation's own, and not activity", async () => {
    const first = await answer(alice, "hello");
    const second = await answer(alice, "hello again");
    expect(await alice.conversations.instructions.query({ conversationId: first })).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });

    const before = Date.now();
    const saved = await alice.conversations.setInstructions.mutate({ conversationId: first, instructions: "  Answer in French.\n" });
    expect(saved.instructions).toBe("Answer in French.");
    expect(saved.updatedAt).toBeGreaterThanOrEqual(before);
    expect(await alice.conversations.instructions.query({ conversationId: first })).toEqual(saved);
    expect(await alice.conversations.instructions.query({ conversationId: second })).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
    // Not activity: the chat answered last stays first in the list.
    expect((await alice.conversations.list.query())[0]?.id).toBe(second);
    // The user's own instructions are another thing.
    expect((await alice.settings.get.query()).instructions).toBe("");
  });

  it("go into the system message of the chat's answers after the user's custom instructions, and only that chat's", async () => {
    const conversationId = await answer(alice, "hi");
    await alice.settings.setInstructions.mutate({ instructions: "Call me Captain." });
    await alice.conversations.setInstructions.mutate({ conversationId, instructions: "Reply in haiku." });
    await answer(alice, "and now?", conversationId);
    expect(lastSystemMessage()).toBe(
      `You are the test assistant.\n\n${instructionsHeading}\n\nCall me Captain.\n\n${conversationInstructionsHeading}\n\nReply in haiku.`,
    );

    // Another chat of the same user: the user's instructions alone.
    await answer(alice, "a new chat");
    expect(lastSystemMessage()).toBe(`You are the test assistant.\n\n${instructionsHeading}\n\nCall me Captain.`);

    // The chat's alone, once the user's are cleared; then cleared too: the server's prompt alone.
    await alice.settings.setInstructions.mutate({ instructions: "" });
    await answer(alice, "again", conversationId);
    expect(lastSystemMessage()).toBe(`You are the test assistant.\n\n${conversationInstructionsHeading}\n\nReply in haiku.`);
    expect(await alice.conversations.setInstructions.mutate({ conversationId, instructions: " " })).toMatchObject({ instructions: "" });
    await answer(alice, "once more", conversationId);
    expect(lastSystemMessage()).toBe("You are the test assistant.");
  });

  it("are read by each run, so what another process stored reaches the next answer", async () => {
    const conversationId = await answer(alice, "hello");
    const store = await api.openStore();
    try {
      await store.setConversationInstructions("alice", conversationId, "Written by another process.");
    } finally {
      await store.close();
    }
    await answer(alice, "hello", conversationId);
    expect(lastSystemMessage()).toContain(`${conversationInstructionsHeading}\n\nWritten by another process.`);
  });

  it("are refused for another user's conversation or an unknown one, and for text too long or unstorable", async () => {
    const conversationId = await answer(alice, "mine");
    await alice.conversations.setInstructions.mutate({ conversationId, instructions: "Keep me." });
    expect(await callFailure(bob.conversations.instructions.query({ conversationId }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await callFailure(bob.conversations.setInstructions.mutate({ conversationId, instructions: "Mine now." }))).toMatchObject({
      code: "NOT_FOUND",
    });
    expect(await callFailure(alice.conversations.instructions.query({ conversationId: "no-such-chat" }))).toMatchObject({ code: "NOT_FOUND" });
    const long = await callFailure(alice.conversations.setInstructions.mutate({ conversationId, instructions: "x".repeat(maxInstructionsChars + 1) }));
    expect(long).toMatchObject({ code: "BAD_REQUEST" });
    expect(long.message).toContain(`at most ${maxInstructionsChars} characters`);
    expect(await callFailure(alice.conversations.setInstructions.mutate({ conversationId, instructions: "a\u0000b" }))).toMatchObject({
      code: "BAD_REQUEST",
    });
    // Bob's answer in his own chat never saw Alice's; hers are as they were.
    await answer(bob, "mine too");
    expect(lastSystemMessage()).toBe("You are the test assistant.");
    expect((await alice.conversations.instructions.query({ conversationId })).instructions).toBe("Keep me.");
  });

  it("are copied by a branch and carried by an export into its import", async () => {
    const conversationId = await answer(alice, "tell me something");
    await alice.conversations.setInstructions.mutate({ conversationId, instructions: "Be terse." });
    const answerId = (await alice.conversations.get.query({ conversationId })).messages.at(-1)!.id;

    const branched = await alice.conversations.branch.mutate({ conversationId, messageId: answerId });
    expect((await alice.conversations.instructions.query({ conversationId: branched.conversationId })).instructions).toBe("Be terse.");
    await answer(alice, "go on", branched.conversationId);
    expect(lastSystemMessage()).toContain(`${conversationInstructionsHeading}\n\nBe terse.`);

    const exported = await alice.conversations.export.query({ conversationId, format: "json" });
    expect(JSON.parse(exported.content)).toMatchObject({ conversation: { instructions: "Be terse." } });
    const imported = await bob.conversations.import.mutate({ content: exported.content });
    expect((await bob.conversations.instructions.query({ conversationId: imported.conversationId })).instructions).toBe("Be terse.");
  });

  it("come with a new conversation's first message (chat.send), which its first answer already gets", async () => {
    await alice.settings.setInstructions.mutate({ instructions: "" });
    const started = await alice.chat.send.mutate({ message: "Plan a week in Kyoto", instructions: "  We travel in April.\n" });
    await collectRun(alice, started.runId);
    expect(lastSystemMessage()).toBe(`You are the test assistant.\n\n${conversationInstructionsHeading}\n\nWe travel in April.`);
    expect((await alice.conversations.instructions.query({ conversationId: started.conversationId })).instructions).toBe("We travel in April.");
    // Blank: none.
    const plain = await alice.chat.send.mutate({ message: "Another chat", instructions: "   " });
    await collectRun(alice, plain.runId);
    expect(lastSystemMessage()).toBe("You are the test assistant.");
    expect(await alice.conversations.instructions.query({ conversationId: plain.conversationId })).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });

    // Not for a conversation that exists (its own are set with setInstructions), nor too long: refused, nothing stored.
    const count = api.sim.chatRequests().length;
    const existing = await callFailure(alice.chat.send.mutate({ conversationId: started.conversationId, message: "more", instructions: "Other." }));
    expect(existing).toMatchObject({ code: "BAD_REQUEST", appCode: "bad_request" });
    expect(existing.message).toContain("conversations.setInstructions");
    const long = await callFailure(alice.chat.send.mutate({ message: "long", instructions: "x".repeat(maxInstructionsChars + 1) }));
    expect(long).toMatchObject({ code: "BAD_REQUEST" });
    expect(api.sim.chatRequests()).toHaveLength(count);
    expect((await alice.conversations.get.query({ conversationId: started.conversationId })).messages).toHaveLength(2);
    expect((await alice.conversations.instructions.query({ conversationId: started.conversationId })).instructions).toBe("We travel in April.");
  });

  it("count in models.room for that conversation, and another user's conversation has none to count", async () => {
    const conversationId = await answer(alice, "room");
    const plain = await alice.models.room.query({ model: "llama3.2", conversationId });
    expect(plain.fixedTokens).toBe((await alice.models.room.query({ model: "llama3.2" })).fixedTokens);
    const instructions = "Explain every step of the reasoning in detail. ".repeat(20);
    await alice.conversations.setInstructions.mutate({ conversationId, instructions });
    const instructed = await alice.models.room.query({ model: "llama3.2", conversationId });
    expect(instructed.fixedTokens - plain.fixedTokens).toBeGreaterThanOrEqual(Math.floor(instructions.trim().length / 4));
    expect(instructed.room).toBe(plain.room! - (instructed.fixedTokens - plain.fixedTokens));
    expect(await callFailure(bob.models.room.query({ model: "llama3.2", conversationId }))).toMatchObject({ code: "NOT_FOUND" });

    // A new chat's instructions, before its first message takes them along: they count as they will then.
    const newChat = await alice.models.room.query({ model: "llama3.2", instructions });
    expect(newChat.fixedTokens).toBe(instructed.fixedTokens);
    expect(await callFailure(alice.models.room.query({ model: "llama3.2", conversationId, instructions }))).toMatchObject({ code: "BAD_REQUEST" });
  });
});
