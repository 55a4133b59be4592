import { describe, expect, it } from "vitest";
import { createMemoryStore, type ChatStore } from "@streamchat/store";
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
