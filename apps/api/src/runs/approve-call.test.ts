import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TRPCError } from "@trpc/server";
import type { ChatEvent } from "@streamchat/core";
import { createMemoryStore, openSqliteStore, type ChatStore, type StoredEvent } from "@streamchat/store";
import { describe, expect, it } from "vitest";
import { approveCall } from "./approve-call.js";
import { localDecisionSignal } from "./approvals.js";

/** Alice's run r1 in conversation c1, waiting for approval of `callId`, in `store`. */
async function seedWaitingRun<S extends ChatStore>(store: S, callId: string): Promise<S> {
  await store.createConversation({ id: "c1", userId: "alice", title: "t" });
  await store.createRun({ id: "r1", conversationId: "c1", userId: "alice", model: "m", provider: "sim" });
  await store.appendEvent("r1", 1, {
    type: "approval-request",
    runId: "r1",
    at: 1,
    callId,
    name: "delete_file",
    args: {},
    source: "builtin",
    expiresAt: Number.MAX_SAFE_INTEGER,
  });
  await store.flush();
  return store;
}

/** A run that waits for approval of call c1 and that no process acts on: a decision's answer waits for it. */
const waitingRun = () => seedWaitingRun(createMemoryStore(), "c1");

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

describe("approveCall on a call the run answers without a decision", () => {
  it("answers CONFLICT when the call's tool-result comes before any approval-result (a continued run whose tool is gone)", async () => {
    const store = await waitingRun();
    // What the run logs after the decision was stored: the call answered without it, then the run goes on.
    const follow = (): AsyncIterable<StoredEvent> => ({
      async *[Symbol.asyncIterator]() {
        yield {
          seq: 2,
          event: {
            type: "tool-result",
            runId: "r1",
            at: 3,
            callId: "c1",
            name: "delete_file",
            ok: false,
            error: { code: "invalid_tool_args", message: "Unknown tool delete_file." },
            durationMs: 0,
          },
        };
        yield { seq: 3, event: { type: "token", runId: "r1", at: 4, text: "I could not" } };
      },
    });
    const deps = { store, signal: localDecisionSignal(), now: () => 2, follow, actWaitMs: 3_600_000 };
    await expect(approveCall(deps, "alice", { runId: "r1", callId: "c1", approved: true })).rejects.toMatchObject({ code: "CONFLICT", message: "This call no longer waits for approval: the run answered it without a decision." });
  });
});

describe("approveCall on a run deleted meanwhile", () => {
  it("answers NOT_FOUND, not an internal error, when the conversation is deleted between the reads and the decision", async () => {
    const dir = mkdtempSync(join(tmpdir(), "streamchat-approve-"));
    const store = openSqliteStore({ path: join(dir, "chat.db") });
    try {
      await seedWaitingRun(store, "call_1");
      // Another tab deletes the conversation right after this request read the run's approval events.
      const racing: ChatStore = Object.assign(Object.create(store) as ChatStore, {
        readEventsOfTypes: async (runId: string, types: readonly ChatEvent["type"][]) => {
          const events = await store.readEventsOfTypes(runId, types);
          expect(await store.deleteConversation("alice", "c1")).toBe(true);
          return events;
        },
      });
      const error = await approveCall({ store: racing, signal: localDecisionSignal(), now: () => 2 }, "alice", {
        runId: "r1",
        callId: "call_1",
        approved: true,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TRPCError);
      expect(error).toMatchObject({ code: "NOT_FOUND", message: "Run not found" });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
