import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emptyUsage, type ChatEvent } from "@streamchat/core";
import { createChatClient } from "./client.js";
import { eventIdOf, followRun } from "./follow.js";
import { startApi, type TestApi } from "./test-support/api.js";
import { drain, readUntil, seqs, types } from "./test-support/events.js";
import { startCuttingProxy, type CuttingProxy } from "./test-support/proxy.js";

// A subscription the server ends without `done` (the run executes nowhere and its end is not in its log yet:
// a store that failed to close the run, a server going down) is a dropped stream, not a finished run.

describe("a subscription that ends without done", () => {
  let api: TestApi;
  let proxy: CuttingProxy;
  let runs = 0;

  beforeAll(async () => {
    api = await startApi();
    proxy = await startCuttingProxy(api.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await api?.close();
  });

  /**
   * A run the store holds as finished whose log lacks its end, executing nowhere: its subscription ends after
   * the log. (A run still marked running is followed until its end appears: the server waits for it instead.)
   */
  async function runWithoutEnd(): Promise<string> {
    const store = api.server.store;
    const id = `open-${++runs}`;
    const conversation = await store.createConversation({ id: `conversation-${id}`, userId: "local", title: "t" });
    await store.createRun({ id, conversationId: conversation.id, userId: "local", model: "demo", provider: "sim" });
    const events: ChatEvent[] = [
      { type: "run-start", runId: id, at: 1, conversationId: conversation.id, model: "demo", provider: "sim" },
      { type: "status", runId: id, at: 2, phase: "thinking", message: "…" },
      { type: "token", runId: id, at: 3, text: "partial" },
    ];
    events.forEach((event, i) => void store.appendEvent(id, i + 1, event));
    await store.flush();
    await store.finishRun(id, { reason: "error", usage: null });
    return id;
  }

  const subscriptionsTo = (runId: string) =>
    proxy.sseRequests.filter((r) => (r.input as { runId?: string } | undefined)?.runId === runId);

  it("resumes from the last id and finishes once the run's end is in the log", async () => {
    const runId = await runWithoutEnd();
    const client = createChatClient({ url: proxy.url });
    const stream = followRun(client.trpc, runId, { maxRetries: 5 });
    const events = await readUntil(stream, (e) => e.type === "token");
    // Pulling on: the first subscription has ended; the client must come back for more instead of stopping.
    const rest = drain(stream);
    await waitFor(() => subscriptionsTo(runId).length >= 2);
    await api.server.store.appendEvent(runId, 4, { type: "done", runId, at: 4, reason: "error", usage: emptyUsage() });
    events.push(...(await rest));

    expect(types(events)).toEqual(["run-start", "status", "token", "done"]);
    expect(seqs(events)).toEqual([1, 2, 3, 4]);
    expect(subscriptionsTo(runId)[1]?.input).toMatchObject({ lastEventId: "3" });
  });

  it("fails with unreachable after maxRetries subscriptions in a row without a new event", async () => {
    const runId = await runWithoutEnd();
    const client = createChatClient({ url: proxy.url });
    const events: ChatEvent[] = [];
    const failure = (async () => {
      for await (const event of followRun(client.trpc, runId, { maxRetries: 2 })) events.push(event);
    })();
    await expect(failure).rejects.toMatchObject({ name: "ChatClientError", code: "unreachable", retryable: true });
    expect(types(events)).toEqual(["run-start", "status", "token"]);
    // The first subscription plus two resumes, each from the last id seen.
    expect(subscriptionsTo(runId).map((r) => (r.input as { lastEventId?: unknown }).lastEventId ?? null)).toEqual([null, "3", "3"]);
  });

  it("resumes from the run's last event, not knowing it was done: no events, and no retries", async () => {
    const client = createChatClient({ url: proxy.url });
    const { runId } = await client.send("Hello");
    const all = await drain(client.events(runId));
    const before = subscriptionsTo(runId).length;

    expect(await drain(client.events(runId, { lastEventId: eventIdOf(all.at(-1)!) }))).toEqual([]);
    // The resume, then one look at the event it resumed from (from just before it).
    const doneId = seqs(all).at(-1)!;
    expect(subscriptionsTo(runId).slice(before).map((r) => (r.input as { lastEventId?: unknown }).lastEventId)).toEqual([
      String(doneId),
      String(doneId - 1),
    ]);
  });

  it("still counts a resume from an event that is not done as a stream cut short", async () => {
    const runId = await runWithoutEnd();
    const client = createChatClient({ url: proxy.url });
    await expect(drain(followRun(client.trpc, runId, { lastEventId: "3", maxRetries: 1 }))).rejects.toMatchObject({
      code: "unreachable",
    });
    expect(subscriptionsTo(runId).map((r) => (r.input as { lastEventId?: unknown }).lastEventId)).toEqual(["3", "2", "3"]);
  });
});

describe("a server that is not there", () => {
  it("fails with unreachable naming the socket's code, not a connection lost that never was", async () => {
    const closed = await startApi();
    await closed.close();
    const client = createChatClient({ url: closed.url });
    await expect(drain(followRun(client.trpc, "any-run", { maxRetries: 1 }))).rejects.toMatchObject({
      name: "ChatClientError",
      code: "unreachable",
      message: "Cannot reach the chat server (ECONNREFUSED).",
    });
  });
});

async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
