import { createMemoryStore, type StoredEvent } from "@streamchat/store";
import { describe, expect, it } from "vitest";
import { approveCall } from "./approve-call.js";
import { localDecisionSignal } from "./approvals.js";

/** A run that waits for approval of call c1 and that no process acts on: a decision's answer waits for it. */
async function waitingRun() {
  const store = createMemoryStore();
  await store.createConversation({ id: "c1", userId: "alice", title: "t" });
  await store.createRun({ id: "r1", conversationId: "c1", userId: "alice", model: "m", provider: "sim" });
  await store.appendEvent("r1", 1, {
    type: "approval-request",
    runId: "r1",
    at: 1,
    callId: "c1",
    name: "delete_file",
    args: {},
    source: "builtin",
    expiresAt: Number.MAX_SAFE_INTEGER,
  });
  await store.flush();
  return store;
}

describe("approveCall", () => {
  it("stops following the run once the caller has left, instead of waiting for the run to act", async () => {
    const store = await waitingRun();
    const follows: AbortSignal[] = [];
    // The run never acts: the follow ends only when its signal aborts.
    const follow = (_runId: string, _afterSeq: number, signal: AbortSignal): AsyncIterable<StoredEvent> => {
      follows.push(signal);
      return {
        async *[Symbol.asyncIterator]() {
          await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
        },
      };
    };
    const caller = new AbortController();
    // An hour: only the caller's leaving can end the wait within the test.
    const answer = approveCall(
      { store, signal: localDecisionSignal(), now: () => 2, follow, actWaitMs: 3_600_000, callerSignal: caller.signal },
      "alice",
      { runId: "r1", callId: "c1", approved: true },
    );
    await expect.poll(() => follows.length).toBe(1);
    expect(follows[0]!.aborted).toBe(false);
    caller.abort();
    await expect(answer).rejects.toMatchObject({ code: "TIMEOUT" });
    expect(follows[0]!.aborted).toBe(true);
    // The decision itself is kept: asking again answers from it.
    expect((await store.readEventsOfTypes("r1", ["approval-request"])).length).toBe(1);
  });
});
