import type { ChatEvent } from "@streamchat/core/browser";
import { describe, expect, it } from "vitest";
import { applyEvents, emptyMessageState, type SeqEvent } from "./reducer.js";

// The approval events in the answer's state: the card's data comes from approval-request, its outcome from
// approval-result; a replay (reload) rebuilds the same state.

const runId = "run_1";
const record = (events: ChatEvent[]): SeqEvent[] => events.map((event, i) => ({ seq: i + 1, event }));

const asked: ChatEvent[] = [
  { type: "run-start", runId, at: 1000, conversationId: "c1", model: "demo", provider: "sim" },
  { type: "tool-call", runId, at: 1100, callId: "k1", name: "files__write", args: { path: "a.txt" } },
  { type: "approval-request", runId, at: 1101, callId: "k1", name: "files__write", args: { path: "a.txt" }, source: "files", description: "Writes", expiresAt: 61_101 },
  { type: "status", runId, at: 1102, phase: "waiting", message: "Waiting for approval…" },
];

describe("approval events", () => {
  it("attach a waiting approval to the call's card, with its server, description and deadline", () => {
    const state = applyEvents(emptyMessageState(), record(asked));
    expect(state.tools).toEqual([
      {
        callId: "k1",
        name: "files__write",
        args: { path: "a.txt" },
        state: "running",
        approval: { source: "files", description: "Writes", expiresAt: 61_101, decision: "waiting" },
      },
    ]);
    expect(state.steps).toEqual([{ kind: "tool", callId: "k1" }]);
  });

  it("record a denial with its reason, then the tool_denied result", () => {
    const state = applyEvents(
      emptyMessageState(),
      record([
        ...asked,
        { type: "approval-result", runId, at: 2000, callId: "k1", name: "files__write", approved: false, reason: "no", timedOut: false },
        { type: "tool-result", runId, at: 2001, callId: "k1", name: "files__write", ok: false, error: { code: "tool_denied", message: "denied" }, durationMs: 0 },
      ]),
    );
    expect(state.tools[0]).toMatchObject({ state: "error", error: { code: "tool_denied" }, approval: { decision: "denied", reason: "no" } });
  });

  it("tell a timeout from a denial, and an approval from both", () => {
    const timedOut = applyEvents(
      emptyMessageState(),
      record([...asked, { type: "approval-result", runId, at: 2000, callId: "k1", name: "files__write", approved: false, timedOut: true }]),
    );
    expect(timedOut.tools[0]?.approval?.decision).toBe("timed-out");
    const approved = applyEvents(
      emptyMessageState(),
      record([...asked, { type: "approval-result", runId, at: 2000, callId: "k1", name: "files__write", approved: true, timedOut: false }]),
    );
    expect(approved.tools[0]?.approval?.decision).toBe("approved");
  });

  it("makes a card for a request whose tool-call was not seen (a resumed log)", () => {
    const state = applyEvents(emptyMessageState(), record([asked[0]!, asked[2]!]));
    expect(state.tools[0]).toMatchObject({ callId: "k1", name: "files__write", args: { path: "a.txt" }, approval: { decision: "waiting" } });
  });
});
