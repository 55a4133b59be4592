import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  defineTool,
  emptyUsage,
  errorCodeMessages,
  runChat,
  type ChatEvent,
  type ChatMessage,
  type ChatModel,
  type ModelChunk,
  type RunResult,
} from "@streamchat/core";
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

  it("answers tool calls whose results never came, in the place of their calls", () => {
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
      { role: "tool", toolCallId: "a", toolName: "current_time", content: interrupted },
      // The content the engine itself stores for a tool result (toolResultContent), so both paths agree.
      { role: "tool", toolCallId: "b", toolName: "calculator", content: "2" },
      { role: "tool", toolCallId: "c", toolName: "calculator", content: interrupted },
    ]);
    // No result at all, and a custom failure (a run closed after a store failure).
    expect(messagesFromEvents(calls.slice(0, 2), { code: "internal", message: "boom" })).toEqual([
      { role: "assistant", content: "Let me check.", toolCalls: [{ id: "a", name: "current_time", args: {} }] },
      { role: "tool", toolCallId: "a", toolName: "current_time", content: '{"error":{"code":"internal","message":"boom"}}' },
    ]);
  });

  it("writes a round's tool messages in the order of its calls, not in the order they finished", () => {
    const round = log([
      { type: "tool-call", callId: "a", name: "current_time", args: {} },
      { type: "tool-call", callId: "b", name: "calculator", args: { expression: "1+1" } },
      { type: "tool-call", callId: "c", name: "calculator", args: { expression: "2+2" } },
      // Parallel calls: the last one finished first.
      { type: "tool-result", callId: "c", name: "calculator", ok: true, result: "4", durationMs: 1 },
      { type: "tool-result", callId: "a", name: "current_time", ok: false, error: { code: "tool_timeout", message: "slow" }, durationMs: 9 },
      { type: "tool-result", callId: "b", name: "calculator", ok: true, result: "2", durationMs: 3 },
      // One tool message per call, as the engine writes (the first result counts, as in runSnapshotOf).
      { type: "tool-result", callId: "b", name: "calculator", ok: true, result: "again", durationMs: 3 },
      { type: "tool-call", callId: "d", name: "calculator", args: { expression: "3+3" } },
      { type: "tool-call", callId: "e", name: "calculator", args: { expression: "4+4" } },
      { type: "tool-result", callId: "e", name: "calculator", ok: true, result: "8", durationMs: 1 },
      // A result for no call of the round (a log with events missing) stays after the round's own.
      { type: "tool-result", callId: "x", name: "calculator", ok: true, result: "?", durationMs: 1 },
      { type: "tool-result", callId: "d", name: "calculator", ok: true, result: "6", durationMs: 2 },
      { type: "token", text: "Done." },
    ]);
    const shape = (m: ChatMessage) => (m.role === "tool" ? `tool ${m.toolCallId}: ${m.content}` : `${m.role}: ${m.content}`);
    expect(messagesFromEvents(round).map(shape)).toEqual([
      "assistant: ",
      'tool a: {"error":{"code":"tool_timeout","message":"slow"}}',
      "tool b: 2",
      "tool c: 4",
      "assistant: ",
      "tool d: 6",
      "tool e: 8",
      "tool x: ?",
      "assistant: Done.",
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

describe("messagesFromEvents against the engine's own messages", () => {
  /** A model answering each request with the next round of chunks. */
  function scriptedModel(rounds: ModelChunk[][]): ChatModel {
    let request = 0;
    return {
      provider: "ollama",
      async *stream() {
        yield* rounds[request++] ?? [];
      },
    };
  }
  const finish: ModelChunk = { type: "finish", reason: "stop", metrics: {} };
  const callOf = (id: string, name: string): ModelChunk => ({ type: "tool-call", call: { id, name, args: {} } });

  /**
   * Runs the engine over `rounds`, whose tools are `slow` (answers once the test has seen fast's result), `hang` (never
   * answers) and `fast`; `onFastResult` runs at fast's result. Returns the run's log and the messages it returned.
   */
  async function runRound(opts: { rounds: ModelChunk[][]; onFastResult?: (abort: () => void) => void }) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const input = z.object({});
    const tools = [
      defineTool({ name: "slow", description: "Answers after fast", input, execute: async () => (await released, "slow done") }),
      defineTool({ name: "hang", description: "Never answers", input, execute: () => new Promise<string>(() => {}) }),
      defineTool({ name: "fast", description: "Answers at once", input, execute: () => ({ fast: true }) }),
    ];
    const controller = new AbortController();
    const run = runChat({
      model: scriptedModel(opts.rounds),
      modelName: "demo",
      conversationId: "c",
      runId,
      messages: [{ role: "user", content: "go" }],
      tools,
      signal: controller.signal,
    });
    const events: ChatEvent[] = [];
    let result: RunResult;
    for (;;) {
      const next = await run.next();
      if (next.done) {
        result = next.value;
        break;
      }
      events.push(next.value);
      if (next.value.type === "tool-result" && next.value.name === "fast") {
        release();
        opts.onFastResult?.(() => controller.abort());
      }
    }
    return { log: events.map((event, i): StoredEvent => ({ seq: i + 1, event })), result };
  }

  it("a round whose calls finished out of order, then the answer", async () => {
    const { log: stored, result } = await runRound({
      rounds: [[{ type: "text", text: "Checking." }, callOf("k1", "slow"), callOf("k2", "fast"), finish], [{ type: "text", text: "All done." }, finish]],
    });
    const results = stored.filter(({ event }) => event.type === "tool-result").map(({ event }) => (event.type === "tool-result" ? event.callId : ""));
    expect(results).toEqual(["k2", "k1"]);
    expect(result.reason).toBe("stop");
    expect(messagesFromEvents(stored)).toEqual(result.messages);
    expect(result.messages.map((m) => (m.role === "tool" ? m.toolCallId : m.role))).toEqual(["assistant", "k1", "k2", "assistant"]);
  });

  it("a round cancelled after its second call answered: the first is answered as the engine answers it", async () => {
    const { log: stored, result } = await runRound({
      rounds: [[callOf("k1", "hang"), callOf("k2", "fast"), finish]],
      onFastResult: (abort) => abort(),
    });
    expect(result.reason).toBe("cancelled");
    const cancelled = { code: "cancelled" as const, message: errorCodeMessages.cancelled };
    expect(messagesFromEvents(stored, cancelled)).toEqual(result.messages);
    expect(result.messages.map((m) => (m.role === "tool" ? m.toolCallId : m.role))).toEqual(["assistant", "k1", "k2"]);
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
