import { describe, expect, it } from "vitest";
import { emptyUsage, type ChatEvent } from "@streamchat/core";
import type { StoredEvent } from "@streamchat/store";
import { messagesFromEvents, summarize } from "./transcript.js";
import { titleFrom } from "./context.js";

const at = 0;
const runId = "r1";
type Body<E = ChatEvent> = E extends ChatEvent ? Omit<E, "runId" | "at"> : never;
const log = (events: Body[]): StoredEvent[] =>
  events.map((event, i) => ({ seq: i + 1, event: { runId, at, ...event } as ChatEvent }));

const toolRun = log([
  { type: "run-start", conversationId: "c", model: "demo", provider: "ollama" },
  { type: "status", phase: "thinking", message: "…" },
  { type: "reasoning", text: "hmm" },
  { type: "tool-call", callId: "k1", name: "current_time", args: { timeZone: "Asia/Tokyo" } },
  { type: "tool-result", callId: "k1", name: "current_time", ok: true, result: { iso: "x" }, durationMs: 1 },
  { type: "token", text: "It is " },
  { type: "token", text: "noon." },
]);

describe("messagesFromEvents", () => {
  it("rebuilds assistant, tool and partial answer messages", () => {
    expect(messagesFromEvents(toolRun)).toEqual([
      {
        role: "assistant",
        content: "",
        thinking: "hmm",
        toolCalls: [{ id: "k1", name: "current_time", args: { timeZone: "Asia/Tokyo" } }],
      },
      { role: "tool", toolCallId: "k1", toolName: "current_time", content: '{"iso":"x"}' },
      { role: "assistant", content: "It is noon." },
    ]);
  });

  it("answers tool calls whose results never came, right after the results that did", () => {
    const calls = log([
      { type: "token", text: "Let me check." },
      { type: "tool-call", callId: "a", name: "current_time", args: {} },
      { type: "tool-call", callId: "b", name: "calculator", args: { expression: "1+1" } },
      { type: "tool-call", callId: "c", name: "calculator", args: { expression: "2+2" } },
      { type: "tool-result", callId: "b", name: "calculator", ok: true, result: "2", durationMs: 3 },
    ]);
    const interrupted = '{"error":{"code":"interrupted","message":"The server restarted while answering."}}';
    expect(messagesFromEvents(calls)).toEqual([
      {
        role: "assistant",
        content: "Let me check.",
        toolCalls: [
          { id: "a", name: "current_time", args: {} },
          { id: "b", name: "calculator", args: { expression: "1+1" } },
          { id: "c", name: "calculator", args: { expression: "2+2" } },
        ],
      },
      // The content the engine itself stores for a tool result (toolResultContent), so both paths agree.
      { role: "tool", toolCallId: "b", toolName: "calculator", content: "2" },
      { role: "tool", toolCallId: "a", toolName: "current_time", content: interrupted },
      { role: "tool", toolCallId: "c", toolName: "calculator", content: interrupted },
    ]);
    // No result at all, and a custom failure (a run closed after a store failure).
    expect(messagesFromEvents(calls.slice(0, 2), { code: "internal", message: "boom" })).toEqual([
      { role: "assistant", content: "Let me check.", toolCalls: [{ id: "a", name: "current_time", args: {} }] },
      { role: "tool", toolCallId: "a", toolName: "current_time", content: '{"error":{"code":"internal","message":"boom"}}' },
    ]);
  });

  it("closes a round cut short before the model went on (a log with events missing)", () => {
    const gap = log([
      { type: "tool-call", callId: "a", name: "current_time", args: {} },
      { type: "tool-call", callId: "b", name: "current_time", args: {} },
      { type: "tool-result", callId: "a", name: "current_time", ok: false, error: { code: "tool_timeout", message: "slow" }, durationMs: 9 },
      { type: "token", text: "Next round." },
    ]);
    expect(messagesFromEvents(gap).map((m) => (m.role === "tool" ? [m.role, m.toolCallId] : [m.role, m.content]))).toEqual([
      ["assistant", ""],
      ["tool", "a"],
      ["tool", "b"],
      ["assistant", "Next round."],
    ]);
    expect(messagesFromEvents(gap)[1]).toMatchObject({ content: '{"error":{"code":"tool_timeout","message":"slow"}}' });
  });

  it("is empty for a run that produced nothing", () => {
    expect(messagesFromEvents(toolRun.slice(0, 2))).toEqual([]);
  });
});

describe("summarize", () => {
  async function* iterate(events: StoredEvent[]) {
    yield* events;
  }

  it("folds tokens, tool calls and the final usage", async () => {
    const usage = { ...emptyUsage(), completionTokens: 2 };
    const summary = await summarize(iterate([...toolRun, ...log([{ type: "done", reason: "stop", usage }])]));
    expect(summary).toEqual({
      text: "It is noon.",
      toolCalls: [{ callId: "k1", name: "current_time", args: { timeZone: "Asia/Tokyo" }, ok: true, result: { iso: "x" } }],
      usage,
      reason: "stop",
      error: null,
    });
  });
});

describe("titleFrom", () => {
  it("uses the first line, collapsed and capped", () => {
    expect(titleFrom("  hello   world \nsecond line")).toBe("hello world");
    expect(titleFrom("x".repeat(100))).toHaveLength(60);
    expect(titleFrom("x".repeat(100)).endsWith("…")).toBe(true);
    expect(titleFrom("   ")).toBe("New conversation");
  });
});
