import { cutAnswerScenario } from "@streamchat/ollama-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FeedDelivery } from "../feed/feed-events.js";
import { collectRun, eventually, startTestApi, type ApiClient, type TestApi } from "../test-support/harness.js";

let api: TestApi;
let alice: ApiClient;
let bob: ApiClient;
beforeAll(async () => {
  api = await startTestApi({ env: { AUTH_TOKENS: "alice:alice-token-1,bob:bob-token-22" } });
  alice = api.client("alice-token-1");
  bob = api.client("bob-token-22");
});
afterAll(() => api?.close());

interface FeedRecorder {
  received: FeedDelivery[];
  started: Promise<void>;
  waitFor(predicate: (d: FeedDelivery) => boolean, what: string): Promise<FeedDelivery>;
  unsubscribe(): void;
  error: unknown;
  /** Errors the client reconnects after (tRPC's connection state). */
  connectionErrors: unknown[];
}

function recordFeed(client: ApiClient, lastEventId?: string): FeedRecorder {
  const received: FeedDelivery[] = [];
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const recorder: FeedRecorder = {
    received,
    started,
    error: undefined,
    connectionErrors: [],
    async waitFor(predicate, what) {
      await eventually(() => received.some(predicate), what);
      return received.find(predicate)!;
    },
    unsubscribe: () => subscription.unsubscribe(),
  };
  const subscription = client.conversations.feed.subscribe(
    { ...(lastEventId ? { lastEventId } : {}) },
    {
      onStarted: () => markStarted(),
      onData: ({ id, data }) => received.push({ id, event: data }),
      onError: (error) => (recorder.error = error),
      onConnectionStateChange: (state) => {
        if (state.error) recorder.connectionErrors.push(state.error);
      },
    },
  );
  return recorder;
}

const summary = (items: FeedDelivery[], conversationId: string) =>
  items
    .filter((d) => "conversationId" in d.event && d.event.conversationId === conversationId)
    .map((d) => (d.event.type === "message-added" ? `message-added:${d.event.role}` : d.event.type));

describe("conversations.feed", () => {
  it("tells every tab of the user what changes in their conversations, in order, and nothing of other users'", async () => {
    const tab1 = recordFeed(alice);
    const tab2 = recordFeed(alice);
    const bobs = recordFeed(bob);
    await Promise.all([tab1.started, tab2.started, bobs.started]);

    const { conversationId, runId } = await alice.chat.send.mutate({ message: "hello there" });
    await collectRun(alice, runId);
    await tab1.waitFor((d) => d.event.type === "run-finished", "run-finished");
    await alice.conversations.rename.mutate({ conversationId, title: "Greetings" });
    await alice.conversations.pin.mutate({ conversationId, pinned: true });
    await alice.conversations.pin.mutate({ conversationId, pinned: false });
    await alice.conversations.archive.mutate({ conversationId, archived: true });
    await alice.conversations.archive.mutate({ conversationId, archived: false });
    await alice.conversations.setInstructions.mutate({ conversationId, instructions: "Be brief." });
    await alice.conversations.setSampling.mutate({ conversationId, sampling: { temperature: 0.2, topP: null, seed: null } });
    await alice.conversations.delete.mutate({ conversationId });
    await tab2.waitFor((d) => d.event.type === "conversation-deleted", "conversation-deleted");
    await tab1.waitFor((d) => d.event.type === "conversation-deleted", "conversation-deleted");

    const expected = [
      "message-added:user",
      "run-started",
      "message-added:assistant",
      "run-finished",
      "title-changed",
      "pin-changed",
      "pin-changed",
      "archive-changed",
      "archive-changed",
      "instructions-changed",
      "sampling-changed",
      "conversation-deleted",
    ];
    expect(summary(tab1.received, conversationId)).toEqual(expected);
    expect(summary(tab2.received, conversationId)).toEqual(expected);
    const started = tab1.received.find((d) => d.event.type === "run-started")!.event;
    expect(started).toMatchObject({ conversationId, runId, at: expect.any(Number) });
    expect(started).not.toHaveProperty("continues");
    expect(tab1.received.find((d) => d.event.type === "run-finished")!.event).toMatchObject({ runId, reason: "stop" });
    expect(tab1.received.find((d) => d.event.type === "title-changed")!.event).toMatchObject({ title: "Greetings" });
    const pins = tab1.received.flatMap((d) => (d.event.type === "pin-changed" ? [d.event.pinnedAt] : []));
    expect(pins).toEqual([expect.any(Number), null]);
    const archives = tab1.received.flatMap((d) => (d.event.type === "archive-changed" ? [d.event.archivedAt] : []));
    expect(archives).toEqual([expect.any(Number), null]);
    expect(tab1.received.map((d) => d.id)).toEqual(tab2.received.map((d) => d.id));

    // Bob's own change reaches Bob; nothing of Alice's ever did.
    const own = await bob.chat.send.mutate({ message: "bob here" });
    await bobs.waitFor((d) => d.event.type === "run-started", "bob's run-started");
    expect(bobs.received.every((d) => "conversationId" in d.event && d.event.conversationId === own.conversationId)).toBe(true);
    await collectRun(bob, own.runId);
    for (const r of [tab1, tab2, bobs]) r.unsubscribe();
    expect(tab1.error).toBeUndefined();
  });

  it("says a run that writes on from the last answer (chat.continue) continues it", async () => {
    api.sim.addScenario(
      cutAnswerScenario({ name: "feed's cut answers", lastUserIncludes: "#feed-cut", first: "Part one. ", rest: [{ content: "Part two." }, { done: true }] }),
    );
    const tab = recordFeed(alice);
    await tab.started;
    const first = await alice.chat.send.mutate({ message: "#feed-cut tell me" });
    await collectRun(alice, first.runId);
    const next = await alice.chat.continue.mutate({ conversationId: first.conversationId });
    await collectRun(alice, next.runId);
    const started = await tab.waitFor((d) => d.event.type === "run-started" && d.event.runId === next.runId, "the continue's run-started");
    expect(started.event).toMatchObject({ conversationId: first.conversationId, runId: next.runId, continues: true });
    const answered = tab.received.find((d) => d.event.type === "run-started" && d.event.runId === first.runId);
    expect(answered?.event).not.toHaveProperty("continues");
    tab.unsubscribe();
  });

  it("tells every tab of the user that their own settings changed (instructions, sampling), and no other user", async () => {
    const tab = recordFeed(alice);
    const bobs = recordFeed(bob);
    await Promise.all([tab.started, bobs.started]);
    await alice.settings.setInstructions.mutate({ instructions: "Be brief." });
    await alice.settings.setSampling.mutate({ sampling: { temperature: 0.4 } });
    await eventually(() => tab.received.filter((d) => d.event.type === "settings-changed").length === 2, "two settings-changed");
    expect(tab.received.filter((d) => d.event.type === "settings-changed").map((d) => d.event)).toEqual([
      { type: "settings-changed", at: expect.any(Number) },
      { type: "settings-changed", at: expect.any(Number) },
    ]);
    // A refused change tells nobody.
    await expect(alice.settings.setSampling.mutate({ sampling: { temperature: 9 } })).rejects.toThrow();
    // Bob's own change reaches Bob alone; nothing of Alice's did.
    await bob.settings.setSampling.mutate({ sampling: { seed: 1 } });
    await bobs.waitFor((d) => d.event.type === "settings-changed", "bob's settings-changed");
    expect(bobs.received.map((d) => d.event.type)).toEqual(["settings-changed"]);
    expect(tab.received.filter((d) => d.event.type === "settings-changed")).toHaveLength(2);
    for (const r of [tab, bobs]) r.unsubscribe();
    await alice.settings.setInstructions.mutate({ instructions: "" });
    await alice.settings.setSampling.mutate({ sampling: { temperature: null } });
    await bob.settings.setSampling.mutate({ sampling: { seed: null } });
  });

  it("tells a tab that a run started in the conversation it shows before the answer ends (to follow it live)", async () => {
    const tab = recordFeed(alice);
    await tab.started;
    const first = await alice.chat.send.mutate({ message: "first" });
    await collectRun(alice, first.runId);
    const control = api.sim.control();
    const { runId } = await alice.chat.send.mutate({ conversationId: first.conversationId, message: "second" });
    await control.connected;
    await tab.waitFor((d) => d.event.type === "run-started" && d.event.runId === runId, "run-started of the held run");
    // The conversation shows the new user message and the running run while the model still answers.
    const shown = await alice.conversations.get.query({ conversationId: first.conversationId });
    expect(shown.activeRunId).toBe(runId);
    expect(shown.messages.at(-1)).toMatchObject({ role: "user", content: "second" });
    expect(tab.received.some((d) => d.event.type === "run-finished" && d.event.runId === runId)).toBe(false);
    await control.push({ content: "ok" });
    await control.push({ done: true, doneReason: "stop" });
    await collectRun(alice, runId);
    await tab.waitFor((d) => d.event.type === "run-finished" && d.event.runId === runId, "run-finished");
    tab.unsubscribe();
  });

  it("resumes after the last id a client got: what it missed, then live; resync for an id it cannot resume from", async () => {
    const first = recordFeed(alice);
    await first.started;
    const a = await alice.chat.send.mutate({ message: "resume one" });
    await collectRun(alice, a.runId);
    const last = await first.waitFor((d) => d.event.type === "run-finished" && d.event.runId === a.runId, "first run-finished");
    first.unsubscribe();

    // Changes while no tab of Alice's is connected.
    await alice.conversations.rename.mutate({ conversationId: a.conversationId, title: "While away" });
    await alice.conversations.delete.mutate({ conversationId: a.conversationId });

    const again = recordFeed(alice, last.id);
    await again.waitFor((d) => d.event.type === "conversation-deleted", "missed deletion");
    expect(again.received.map((d) => d.event.type)).toEqual(["title-changed", "conversation-deleted"]);
    const b = await alice.chat.send.mutate({ message: "resume two" });
    await again.waitFor((d) => d.event.type === "run-started" && d.event.runId === b.runId, "live run-started");
    await collectRun(alice, b.runId);
    again.unsubscribe();

    // An id from another process (or an earlier start of this one).
    const foreign = recordFeed(alice, "0badbeef-12");
    const marker = await foreign.waitFor(() => true, "first delivery");
    expect(marker.event.type).toBe("resync");
    foreign.unsubscribe();
  });

  it("refuses an over-long lastEventId with BAD_REQUEST, which clients do not retry", async () => {
    const bad = recordFeed(alice, "x".repeat(500));
    await eventually(() => bad.error !== undefined, "an error");
    expect(bad.error).toMatchObject({ data: { code: "BAD_REQUEST" } });
    bad.unsubscribe();
  });

  it("refuses a client without a valid token", async () => {
    const anonymous = recordFeed(api.client());
    await eventually(() => anonymous.error !== undefined, "an error");
    expect(anonymous.error).toMatchObject({ data: { code: "UNAUTHORIZED" } });
    anonymous.unsubscribe();
  });

  it("ends feed streams when the server closes, with an error that makes clients reconnect", async () => {
    const own = await startTestApi();
    try {
      const tab = recordFeed(own.client());
      await tab.started;
      expect(own.server.feed.stats().subscribers).toBe(1);
      const closed = own.close();
      await eventually(() => own.server.feed.stats().subscribers === 0, "feed subscribers gone");
      // Told to come back (not cut off): the client reconnects on its own, resuming after its last id.
      await eventually(() => tab.connectionErrors.length > 0, "the client told to reconnect");
      expect(tab.connectionErrors[0]).toMatchObject({ data: { code: "SERVICE_UNAVAILABLE" } });
      expect(tab.error).toBeUndefined();
      await closed;
      tab.unsubscribe();
    } finally {
      await own.close().catch(() => {});
    }
  });
});
