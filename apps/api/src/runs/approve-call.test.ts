import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TRPCError } from "@trpc/server";
import type { ChatEvent } from "@streamchat/core";
import { createMemoryStore, openSqliteStore, type ChatStore, type StoredEvent } from "@streamchat/store";
import { describe, expect, it } from "vitest";
import { ApprovalConflictError, type ApprovalConflict } from "../errors.js";
import { approveCall } from "./approve-call.js";
import { localDecisionSignal } from "./approvals.js";

/** Alice's run r1 in conversation c1, waiting for approval of `callId`, in `store`. */
async function seedWaitingRun<S extends ChatStore>(store: S, callId: string, expiresAt = Number.MAX_SAFE_INTEGER): Promise<S> {
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
    expiresAt,
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
    await expect(approveCall(deps, "alice", { runId: "r1", callId: "c1", approved: true })).rejects.toMatchObject({
      code: "CONFLICT",
      conflict: "answered",
      message: "This call no longer waits for approval: the run answered it without a decision.",
    });
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

describe("approveCall's CONFLICT", () => {
  const decide = (store: ChatStore, approved: boolean, now = 2) =>
    approveCall({ store, signal: localDecisionSignal(), now: () => now }, "alice", { runId: "r1", callId: "c1", approved }).then(
      () => undefined,
      (e: unknown) => e,
    );
  const refused = (conflict: ApprovalConflict, message: string) => ({ code: "CONFLICT", appCode: "bad_request", conflict, message });
  const result = (approved: boolean, timedOut = false): ChatEvent => ({ type: "approval-result", runId: "r1", at: 2, callId: "c1", name: "delete_file", approved, timedOut });
  const toolResult: ChatEvent = { type: "tool-result", runId: "r1", at: 2, callId: "c1", name: "delete_file", ok: true, result: {}, durationMs: 1 };

  it("says which decision won, in a field a client reads (error.data.conflict), not only in its message", async () => {
    const cases: Array<[string, (store: ChatStore) => Promise<unknown>, boolean, ReturnType<typeof refused>]> = [
      ["approved in the log", (store) => store.appendEvent("r1", 2, result(true)), false, refused("approved", "This call was already approved.")],
      ["denied in the log", (store) => store.appendEvent("r1", 2, result(false)), true, refused("denied", "This call was already denied.")],
      ["timed out in the log", (store) => store.appendEvent("r1", 2, result(false, true)), true, refused("timed_out", "This call's approval timed out: it was denied.")],
      // Decided by another request whose run has not logged it yet: the stored decision wins.
      ["approved, not yet logged", (store) => store.recordApprovalDecision({ runId: "r1", callId: "c1", approved: true }), false, refused("approved", "This call was already approved.")],
      ["denied, not yet logged", (store) => store.recordApprovalDecision({ runId: "r1", callId: "c1", approved: false }), true, refused("denied", "This call was already denied.")],
      ["answered without a decision", (store) => store.appendEvent("r1", 2, toolResult), true, refused("answered", "This call no longer waits for approval: the run answered it without a decision.")],
      ["its run ended", (store) => store.finishRun("r1", { reason: "cancelled", usage: null }), true, refused("ended", "The run has ended: the call no longer waits for approval.")],
    ];
    for (const [name, before, approved, expected] of cases) {
      const store = await waitingRun();
      await before(store);
      const error = await decide(store, approved);
      expect(error, name).toBeInstanceOf(ApprovalConflictError);
      expect(error, name).toMatchObject(expected);
    }
  });

  it("says timed_out for a decision after the deadline the run has not logged yet", async () => {
    const store = await seedWaitingRun(createMemoryStore(), "c1", 10);
    expect(await decide(store, true, 10)).toMatchObject(refused("timed_out", "This call's approval timed out: it was denied."));
    expect(await store.getApprovalDecision("r1", "c1")).toBeUndefined();
  });
});
