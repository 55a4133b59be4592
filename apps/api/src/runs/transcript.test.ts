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
