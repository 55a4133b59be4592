import { defaultSampling, samplingLimits } from "@streamchat/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callFailure } from "../test-support/trpc-failure.js";
import { collectRun, startTestApi, type ApiClient, type TestApi } from "../test-support/harness.js";

/** conversations.settings / setSampling through the API: stored per chat, sent with its answers, copied and carried. */

let api: TestApi;
let alice: ApiClient;
let bob: ApiClient;
beforeAll(async () => {
  api = await startTestApi({ env: { AUTH_TOKENS: "alice:alice-token-1,bob:bob-token-22" } });
  alice = api.client("alice-token-1");
  bob = api.client("bob-token-22");
});
afterAll(() => api?.close());

/** The model options of the last request the model server was sent. */
const lastOptions = () => (api.sim.chatRequests().at(-1)?.body as { options?: Record<string, number> }).options ?? {};

async function answer(client: ApiClient, message: string, conversationId?: string): Promise<string> {
  const started = await client.chat.send.mutate({ message, ...(conversationId === undefined ? {} : { conversationId }) });
  const received = await collectRun(client, started.runId);
  expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
  return started.conversationId;
}

const sampling = { temperature: 0.2, topP: 0.9, seed: 42 };

describe("conversations.setSampling", () => {
  it("is the model's own until set, each conversation's own, kept beside its instructions, and not activity", async () => {
    const first = await answer(alice, "hello");
    const second = await answer(alice, "hello again");
    expect(await alice.conversations.settings.query({ conversationId: first })).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });

    await alice.conversations.setInstructions.mutate({ conversationId: first, instructions: "Be brief." });
    const before = Date.now();
    const saved = await alice.conversations.setSampling.mutate({ conversationId: first, sampling });
    expect(saved).toEqual({ instructions: "Be brief.", sampling, updatedAt: expect.any(Number) });
    expect(saved.updatedAt).toBeGreaterThanOrEqual(before);
    expect(await alice.conversations.settings.query({ conversationId: first })).toEqual(saved);
    // The older name reads the same settings.
    expect(await alice.conversations.instructions.query({ conversationId: first })).toEqual(saved);
    expect((await alice.conversations.settings.query({ conversationId: second })).sampling).toEqual(defaultSampling);
    // Instructions set afterwards leave the sampling as it was.
    expect((await alice.conversations.setInstructions.mutate({ conversationId: first, instructions: "" })).sampling).toEqual(sampling);
    // Not activity: the chat answered last stays first in the list.
    expect((await alice.conversations.list.query())[0]?.id).toBe(second);
  });

  it("goes with every answer in the chat, tool rounds included, and only what was chosen", async () => {
    const conversationId = await answer(alice, "hi");
    expect(lastOptions()).toEqual({});
    await alice.conversations.setSampling.mutate({ conversationId, sampling });
    const count = api.sim.chatRequests().length;
    const started = await alice.chat.send.mutate({ message: "What is 6*7? Use the calculator.", conversationId });
    const received = await collectRun(alice, started.runId);
    // Its start says how it is sampled, in the log (a replay gives it again).
    expect(received[0]?.event).toMatchObject({ type: "run-start", sampling: { temperature: 0.2, topP: 0.9, seed: 42 } });
    expect((await collectRun(alice, started.runId))[0]?.event).toMatchObject({ sampling: { seed: 42 } });
    const rounds = api.sim.chatRequests().slice(count);
    expect(rounds.length).toBe(2);
    for (const round of rounds) expect((round.body as { options?: unknown }).options).toEqual({ temperature: 0.2, top_p: 0.9, seed: 42 });

    // Another chat of the same user: the model's defaults.
    await answer(alice, "a new chat");
    expect(lastOptions()).toEqual({});

    // One setting back to the model's, then all.
    await alice.conversations.setSampling.mutate({ conversationId, sampling: { ...sampling, topP: null } });
    await answer(alice, "again", conversationId);
    expect(lastOptions()).toEqual({ temperature: 0.2, seed: 42 });
    await alice.conversations.setSampling.mutate({ conversationId, sampling: defaultSampling });
    await answer(alice, "once more", conversationId);
    expect(lastOptions()).toEqual({});
  });

  it("is read by each run, so what another process stored reaches the next answer", async () => {
    const conversationId = await answer(alice, "hello");
    const store = await api.openStore();
    try {
      await store.setConversationSampling("alice", conversationId, { temperature: 1.5, topP: null, seed: null });
    } finally {
      await store.close();
    }
    await answer(alice, "hello", conversationId);
    expect(lastOptions()).toEqual({ temperature: 1.5 });
  });

  it("sets only the settings named, the others kept: two clients changing different ones at once both keep theirs", async () => {
    const conversationId = await answer(alice, "partly");
    expect((await alice.conversations.setSampling.mutate({ conversationId, sampling: { seed: 7 } })).sampling).toEqual({ temperature: null, topP: null, seed: 7 });
    // The web app in one tab and the CLI at once, each naming its own.
    const [web, cli] = [api.client("alice-token-1"), api.client("alice-token-1")];
    await Promise.all([
      web.conversations.setSampling.mutate({ conversationId, sampling: { temperature: 0.3 } }),
      cli.conversations.setSampling.mutate({ conversationId, sampling: { topP: 0.6 } }),
    ]);
    expect((await alice.conversations.settings.query({ conversationId })).sampling).toEqual({ temperature: 0.3, topP: 0.6, seed: 7 });
    // Null named: that one back to the model's.
    await alice.conversations.setSampling.mutate({ conversationId, sampling: { seed: null } });
    await answer(alice, "sampled", conversationId);
    expect(lastOptions()).toEqual({ temperature: 0.3, top_p: 0.6 });
  });

  it("is refused for another user's conversation or an unknown one, and out of range, with nothing stored", async () => {
    const conversationId = await answer(alice, "mine");
    await alice.conversations.setSampling.mutate({ conversationId, sampling });
    expect(await callFailure(bob.conversations.settings.query({ conversationId }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await callFailure(bob.conversations.setSampling.mutate({ conversationId, sampling: defaultSampling }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await callFailure(alice.conversations.setSampling.mutate({ conversationId: "no-such-chat", sampling }))).toMatchObject({ code: "NOT_FOUND" });
    const refused = [
      { ...sampling, temperature: samplingLimits.temperature.max + 0.1 },
      { ...sampling, temperature: -1 },
      { ...sampling, topP: 0 },
      { ...sampling, topP: 1.01 },
      { ...sampling, seed: 1.5 },
      { ...sampling, seed: samplingLimits.seed.max + 1 },
      { temperature: 0.5, topK: 40 },
      { seed: "42" },
      { topP: 2 },
    ];
    for (const bad of refused) {
      const failure = await callFailure(alice.conversations.setSampling.mutate({ conversationId, sampling: bad as typeof sampling }));
      expect(failure, JSON.stringify(bad)).toMatchObject({ code: "BAD_REQUEST" });
    }
    expect((await alice.conversations.settings.query({ conversationId })).sampling).toEqual(sampling);
  });

  it("comes with a new conversation's first message (chat.send, chat.complete), which its first answer already gets", async () => {
    const started = await alice.chat.send.mutate({ message: "Pick a number", sampling: { temperature: 0, topP: null, seed: 3 } });
    await collectRun(alice, started.runId);
    expect(lastOptions()).toEqual({ temperature: 0, seed: 3 });
    expect((await alice.conversations.settings.query({ conversationId: started.conversationId })).sampling).toEqual({ temperature: 0, topP: null, seed: 3 });
    const completed = await alice.chat.complete.mutate({ message: "Another", instructions: "Be brief.", sampling });
    expect(lastOptions()).toEqual({ temperature: 0.2, top_p: 0.9, seed: 42 });
    expect(await alice.conversations.settings.query({ conversationId: completed.conversationId })).toMatchObject({ instructions: "Be brief.", sampling });

    // Not for a conversation that exists (setSampling changes its own), nor out of range: refused, nothing stored or asked.
    const count = api.sim.chatRequests().length;
    const existing = await callFailure(alice.chat.send.mutate({ conversationId: started.conversationId, message: "more", sampling }));
    expect(existing).toMatchObject({ code: "BAD_REQUEST", appCode: "bad_request" });
    expect(existing.message).toContain("conversations.setSampling");
    expect(await callFailure(alice.chat.send.mutate({ message: "hot", sampling: { ...sampling, temperature: 5 } }))).toMatchObject({ code: "BAD_REQUEST" });
    expect(api.sim.chatRequests()).toHaveLength(count);
    expect((await alice.conversations.settings.query({ conversationId: started.conversationId })).sampling).toEqual({ temperature: 0, topP: null, seed: 3 });
  });

  it("is copied by a branch and carried by an export into its import", async () => {
    const conversationId = await answer(alice, "tell me something");
    await alice.conversations.setSampling.mutate({ conversationId, sampling: { temperature: 0, topP: null, seed: 7 } });
    const answerId = (await alice.conversations.get.query({ conversationId })).messages.at(-1)!.id;

    const branched = await alice.conversations.branch.mutate({ conversationId, messageId: answerId });
    expect((await alice.conversations.settings.query({ conversationId: branched.conversationId })).sampling).toEqual({ temperature: 0, topP: null, seed: 7 });
    await answer(alice, "go on", branched.conversationId);
    expect(lastOptions()).toEqual({ temperature: 0, seed: 7 });

    const exported = await alice.conversations.export.query({ conversationId, format: "json" });
    expect(JSON.parse(exported.content)).toMatchObject({ conversation: { sampling: { temperature: 0, seed: 7 } } });
    const imported = await bob.conversations.import.mutate({ content: exported.content });
    expect((await bob.conversations.settings.query({ conversationId: imported.conversationId })).sampling).toEqual({ temperature: 0, topP: null, seed: 7 });
  });
});
