import { describe, expect, it, vi } from "vitest";
import { createMemoryStore, type ChatStore } from "@streamchat/store";
import { failingStore } from "../test-support/failing-store.js";
import { RunStarter } from "./start-run.js";

/** A real memory store whose method calls are listed by name. */
function countedStore(): { store: ChatStore; calls: string[] } {
  const calls: string[] = [];
  const inner = createMemoryStore();
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push(String(key));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls };
}

function starter(store: ChatStore, launched: string[]) {
  return new RunStarter({
    store,
    limits: { maxMessageChars: 1000, maxRunsPerUser: 2 },
    defaultModel: "m",
    provider: "p",
    replicaId: "replica",
    launch: (record) => launched.push(record.id),
  });
}

describe("RunStarter.start with a clientRequestId", () => {
  it("starts without looking the id up first; a repeated send reads the run that has it and launches nothing", async () => {
    const { store, calls } = countedStore();
    const launched: string[] = [];
    const runs = starter(store, launched);
    const first = await runs.start({ userId: "u", message: "hello", clientRequestId: "req-1" });
    expect(calls).toEqual(["startRun"]);

    calls.length = 0;
    expect(await runs.start({ userId: "u", message: "hello", clientRequestId: "req-1" })).toEqual(first);
    expect(calls).toEqual(["startRun", "findRunByClientRequestId"]);
    // Into the first run's conversation, which it still holds: the same run, not "still answering".
    expect(await runs.start({ userId: "u", conversationId: first.conversationId, message: "hello", clientRequestId: "req-1" })).toEqual(first);
    expect(launched).toEqual([first.runId]);
    expect(await store.listConversations("u")).toHaveLength(1);
  });

  it("returns the run of a repeated send once it has finished, and at the user's limit", async () => {
    const { store } = countedStore();
    const launched: string[] = [];
    const runs = starter(store, launched);
    const first = await runs.start({ userId: "u", message: "one", clientRequestId: "req-1" });
    await store.finishRun(first.runId, { reason: "stop", usage: null });
    expect(await runs.start({ userId: "u", message: "one", clientRequestId: "req-1" })).toEqual(first);
    const second = await runs.start({ userId: "u", message: "two", clientRequestId: "req-2" });
    await runs.start({ userId: "u", message: "three", clientRequestId: "req-3" }); // the limit (2) is reached
    expect(await runs.start({ userId: "u", message: "two", clientRequestId: "req-2" })).toEqual(second);
    await expect(runs.start({ userId: "u", message: "four", clientRequestId: "req-4" })).rejects.toMatchObject({ appCode: "rate_limited" });
    expect(launched).toHaveLength(3);
  });
});

describe("RunStarter.regenerate when the store fails before the run is launched", () => {
  it("marks the run finished once the store takes it again, instead of leaving it running (its conversation busy)", async () => {
    const { store: inner } = countedStore();
    const failing = failingStore(inner);
    const launched: string[] = [];
    const runs = new RunStarter({
      store: failing.store,
      limits: { maxMessageChars: 1000, maxRunsPerUser: 2 },
      defaultModel: "m",
      provider: "p",
      replicaId: "replica",
      launch: (record) => launched.push(record.id),
      finishRetryMs: 10,
    });
    const first = await runs.start({ userId: "u", message: "hello" });
    await inner.finishRun(first.runId, { reason: "stop", usage: null });
    // The path's rewind fails, and so do the first attempts to mark the new run finished: the store is down a while.
    let finishes = 0;
    failing.failWhen((method) => method === "rewindActivePath" || (method === "finishRun" && ++finishes <= 3));
    await expect(runs.regenerate({ userId: "u", conversationId: first.conversationId })).rejects.toThrow();
    expect(launched).toEqual([first.runId]);
    await vi.waitFor(async () => expect(await inner.activeRun(first.conversationId)).toBeUndefined(), { timeout: 10_000 });
    expect(finishes).toBeGreaterThan(3);
  });
});
