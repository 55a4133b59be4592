import { describe, expect, it } from "vitest";
import { closingEvents, interruptedEnding } from "./closing.js";
import { chatEventSchema, emptyUsage, type ChatEvent } from "./events.js";
import { RunSummaryFold } from "./summary.js";

type Body = ChatEvent extends infer E ? (E extends ChatEvent ? Omit<E, "runId" | "at"> : never) : never;
const log = (bodies: Body[]): ChatEvent[] => bodies.map((b, i) => chatEventSchema.parse({ ...b, runId: "r1", at: 1000 + i }));
const usage = { ...emptyUsage(), promptTokens: 12, completionTokens: 5 };

function fold(events: ChatEvent[]) {
  const f = new RunSummaryFold();
  for (const event of events) f.add(event);
  return f.summary;
}

describe("RunSummaryFold", () => {
  it("folds every round's text and each call with its result, in call order", () => {
    const summary = fold(
      log([
        { type: "run-start", conversationId: "c1", model: "m", provider: "ollama" },
        { type: "reasoning", text: "hmm" },
        { type: "token", text: "Let me " },
        { type: "tool-call", callId: "k1", name: "calculator", args: { expression: "1+1" } },
        { type: "tool-call", callId: "k2", name: "lookup", args: { word: "x" } },
        // Results arrive in completion order; the summary keeps the calls' order.
        { type: "tool-result", callId: "k2", name: "lookup", ok: false, error: { code: "tool_failed", message: "nope" }, durationMs: 1 },
        { type: "tool-result", callId: "k1", name: "calculator", ok: true, result: { result: "2" }, durationMs: 3 },
        { type: "tool-result", callId: "k9", name: "stray", ok: true, result: 1, durationMs: 0 },
        { type: "token", text: "check. 2." },
        { type: "done", reason: "stop", usage },
      ]),
    );
    expect(summary).toEqual({
      text: "Let me check. 2.",
      toolCalls: [
        { callId: "k1", name: "calculator", args: { expression: "1+1" }, ok: true, result: { result: "2" } },
        { callId: "k2", name: "lookup", args: { word: "x" }, ok: false, error: { code: "tool_failed", message: "nope" } },
      ],
      usage,
      reason: "stop",
      error: null,
    });
  });

  it("keeps a call without its result as not ok, and the run's failure", () => {
    const events = log([
      { type: "token", text: "Partial" },
      { type: "tool-call", callId: "k1", name: "calculator", args: {} },
      { type: "error", code: "interrupted", message: "gone", retryable: true },
      { type: "done", reason: "interrupted", usage: emptyUsage() },
    ]);
    const summary = fold(events);
    expect(summary.toolCalls).toEqual([{ callId: "k1", name: "calculator", args: {}, ok: false }]);
    expect(summary.error).toBe(events[2]);
    expect(summary).toMatchObject({ text: "Partial", reason: "interrupted" });
  });

  it("has no reason or usage before the done", () => {
    expect(fold(log([{ type: "token", text: "so far" }]))).toMatchObject({ text: "so far", usage: null, reason: null });
  });
});

describe("closingEvents", () => {
  it("closes with the ending's error, then done", () => {
    const { error, done } = closingEvents("r1", log([{ type: "token", text: "a" }])[0], interruptedEnding, 5);
    expect(error).toEqual({ type: "error", runId: "r1", at: 5, code: "interrupted", message: interruptedEnding.message, retryable: true });
    expect(done).toEqual({ type: "done", runId: "r1", at: 5, reason: "interrupted", usage: emptyUsage() });
  });

  it("tells an error already last only once, but not another one", () => {
    const [same, other] = log([
      { type: "error", code: "interrupted", message: "earlier attempt", retryable: true },
      { type: "error", code: "internal", message: "x", retryable: false },
    ]);
    expect(closingEvents("r1", same, interruptedEnding, 5, usage)).toEqual({
      error: undefined,
      done: { type: "done", runId: "r1", at: 5, reason: "interrupted", usage },
    });
    expect(closingEvents("r1", other, interruptedEnding, 5).error).toMatchObject({ code: "interrupted" });
    expect(chatEventSchema.safeParse(closingEvents("r1", undefined, interruptedEnding, 5).error).success).toBe(true);
  });
});
