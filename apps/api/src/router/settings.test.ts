import { defaultSampling } from "@streamchat/core";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instructionsHeading } from "../runs/context.js";
import { collectRun, lastSystemMessage as systemMessageOf, startTestApi, type ApiClient, type TestApi } from "../test-support/harness.js";
import { maxInstructionsChars } from "./settings.js";

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

/** The model options of the last request the model server was sent. */
const lastOptions = () => (api.sim.chatRequests().at(-1)?.body as { options?: Record<string, number> }).options ?? {};

async function refusal(call: Promise<unknown>): Promise<TRPCClientError<never>> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  return error as TRPCClientError<never>;
}

describe("settings: custom instructions", () => {
  it("are empty for a user who never set any, stored trimmed, each user's own", async () => {
    expect(await bob.settings.get.query()).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
    const before = Date.now();
    const saved = await alice.settings.setInstructions.mutate({ instructions: "  Answer in French.\nBe brief.  \n" });
    expect(saved.instructions).toBe("Answer in French.\nBe brief.");
    expect(saved.updatedAt).toBeGreaterThanOrEqual(before);
    expect(await alice.settings.get.query()).toEqual(saved);
    expect(await bob.settings.get.query()).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
  });

  it("go into the system message of the user's answers started afterwards, after the server's prompt, and only theirs", async () => {
    await alice.settings.setInstructions.mutate({ instructions: "Call me Captain." });
    await answer(alice, "hi");
    expect(lastSystemMessage()).toBe(`You are the test assistant.\n\n${instructionsHeading}\n\nCall me Captain.`);

    await answer(bob, "hi");
    expect(lastSystemMessage()).toBe("You are the test assistant.");

    // Cleared: the server's prompt alone again.
    expect(await alice.settings.setInstructions.mutate({ instructions: "   " })).toMatchObject({ instructions: "" });
    await answer(alice, "hi again");
    expect(lastSystemMessage()).toBe("You are the test assistant.");
  });

  it("are read by the run, so a second process on the same data sees what the first one stored", async () => {
    const store = await api.openStore();
    try {
      await store.setInstructions("alice", "Written by another process.");
    } finally {
      await store.close();
    }
    await answer(alice, "hello");
    expect(lastSystemMessage()).toContain("\n\nWritten by another process.");
    await alice.settings.setInstructions.mutate({ instructions: "" });
  });

  it("refuse text that is too long or unstorable with a bad_request that says why, and keep what was stored", async () => {
    await alice.settings.setInstructions.mutate({ instructions: "Keep me." });
    const long = await refusal(alice.settings.setInstructions.mutate({ instructions: "x".repeat(maxInstructionsChars + 1) }));
    expect(long.data).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400, appCode: "bad_request" });
    expect(long.message).toContain(`at most ${maxInstructionsChars} characters`);
    const nul = await refusal(alice.settings.setInstructions.mutate({ instructions: "a\u0000b" }));
    expect(nul.data).toMatchObject({ code: "BAD_REQUEST", appCode: "bad_request" });
    expect(nul.message).toContain("NUL");
    // Exactly at the limit is fine.
    const atLimit = "y".repeat(maxInstructionsChars);
    expect((await alice.settings.setInstructions.mutate({ instructions: atLimit })).instructions).toBe(atLimit);
    expect((await alice.settings.get.query()).instructions).toBe(atLimit);
    await alice.settings.setInstructions.mutate({ instructions: "" });
  });

  it("are nobody's without a token", async () => {
    const anonymous = api.client();
    expect((await refusal(anonymous.settings.get.query())).data).toMatchObject({ httpStatus: 401 });
    expect((await refusal(anonymous.settings.setInstructions.mutate({ instructions: "x" }))).data).toMatchObject({ httpStatus: 401 });
  });
});

describe("settings: sampling", () => {
  it("is the model's until set; a change sets only what it names, keeps the instructions, and is each user's own", async () => {
    expect((await alice.settings.get.query()).sampling).toEqual(defaultSampling);
    await alice.settings.setInstructions.mutate({ instructions: "Be brief." });
    const saved = await alice.settings.setSampling.mutate({ sampling: { temperature: 0.3 } });
    expect(saved).toEqual({ instructions: "Be brief.", sampling: { temperature: 0.3, topP: null, seed: null }, updatedAt: expect.any(Number) });
    expect((await alice.settings.setSampling.mutate({ sampling: { seed: 5 } })).sampling).toEqual({ temperature: 0.3, topP: null, seed: 5 });
    expect(await alice.settings.get.query()).toMatchObject({ instructions: "Be brief.", sampling: { temperature: 0.3, topP: null, seed: 5 } });
    expect((await alice.settings.setInstructions.mutate({ instructions: "" })).sampling).toEqual({ temperature: 0.3, topP: null, seed: 5 });
    expect((await bob.settings.get.query()).sampling).toEqual(defaultSampling);
    await alice.settings.setSampling.mutate({ sampling: defaultSampling });
  });

  it("goes with the user's answers where the conversation sets nothing of its own, setting by setting", async () => {
    await alice.settings.setSampling.mutate({ sampling: { temperature: 0.4, seed: 9 } });
    const conversationId = await answer(alice, "hi");
    expect(lastOptions()).toEqual({ temperature: 0.4, seed: 9 });
    // The conversation's own temperature wins; its null seed is the user's.
    await alice.conversations.setSampling.mutate({ conversationId, sampling: { temperature: 1.2, topP: 0.8 } });
    const started = await alice.chat.send.mutate({ message: "again", conversationId });
    const received = await collectRun(alice, started.runId);
    expect(received[0]?.event).toMatchObject({ type: "run-start", sampling: { temperature: 1.2, topP: 0.8, seed: 9 } });
    expect(lastOptions()).toEqual({ temperature: 1.2, top_p: 0.8, seed: 9 });
    // Another user: the model's.
    await answer(bob, "hi");
    expect(lastOptions()).toEqual({});
    // Given back to the model: only the conversation's own remain.
    await alice.settings.setSampling.mutate({ sampling: { seed: null, temperature: null } });
    await answer(alice, "once more", conversationId);
    expect(lastOptions()).toEqual({ temperature: 1.2, top_p: 0.8 });
  });

  it("refuses a value out of range or an unknown setting with a bad_request, and keeps what was stored", async () => {
    await alice.settings.setSampling.mutate({ sampling: { topP: 0.7 } });
    const hot = await refusal(alice.settings.setSampling.mutate({ sampling: { temperature: 2.5 } }));
    expect(hot.data).toMatchObject({ code: "BAD_REQUEST", appCode: "bad_request" });
    const unknown = await refusal(alice.settings.setSampling.mutate({ sampling: { topK: 40 } as never }));
    expect(unknown.data).toMatchObject({ code: "BAD_REQUEST", appCode: "bad_request" });
    expect((await alice.settings.get.query()).sampling).toEqual({ temperature: null, topP: 0.7, seed: null });
    expect((await refusal(api.client().settings.setSampling.mutate({ sampling: { seed: 1 } }))).data).toMatchObject({ httpStatus: 401 });
    await alice.settings.setSampling.mutate({ sampling: defaultSampling });
  });
});
