import { emptyUsage, type ChatEvent } from "@streamchat/core/browser";
import { describe, expect, it } from "vitest";
import { answerFromStored, answerRunId, buildTurns, type RunView, type StoredMessageView } from "./history.js";
import { applyEvents, emptyMessageState } from "./reducer.js";

let nextId = 1;
function msg(fields: Partial<StoredMessageView> & Pick<StoredMessageView, "role" | "content">): StoredMessageView {
  return { id: nextId++, runId: null, createdAt: 0, ...fields } as StoredMessageView;
}

const toolConversation: StoredMessageView[] = [
  msg({ role: "system", content: "You are helpful." }),
  msg({ role: "user", content: "What time is it in Tokyo?", runId: "r1" }),
  msg({
    role: "assistant",
    content: "",
    runId: "r1",
    toolCalls: [{ id: "call_1", name: "current_time", args: { timeZone: "Asia/Tokyo" } }],
  }),
  msg({
    role: "tool",
    content: '{"timeZone":"Asia/Tokyo","formatted":"21:05"}',
    toolCallId: "call_1",
    toolName: "current_time",
    runId: "r1",
  }),
  msg({ role: "assistant", content: "It is 21:05 in Tokyo.", runId: "r1" }),
  msg({ role: "user", content: "Thanks!", runId: "r2" }),
  msg({ role: "assistant", content: "You're welcome.", runId: "r3", thinking: "Be polite." }),
];

describe("buildTurns", () => {
  it("groups answers under the user message before them and skips system messages", () => {
    const turns = buildTurns(toolConversation);
    expect(turns.map((t) => [t.user.content, t.answers.length, t.runIds])).toEqual([
      ["What time is it in Tokyo?", 3, ["r1"]],
      ["Thanks!", 1, ["r2", "r3"]],
    ]);
    expect(turns.map(answerRunId)).toEqual(["r1", "r3"]);
  });

  it("uses the question's run for a turn without an answer yet", () => {
    const [turn] = buildTurns([msg({ role: "user", content: "Hi", runId: "r9" })]);
    expect(turn!.answers).toEqual([]);
    expect(answerRunId(turn!)).toBe("r9");
  });
});

describe("answerFromStored", () => {
  it("rebuilds text, tool cards and usage of a finished run", () => {
    const [turn] = buildTurns(toolConversation);
    const usage = { ...emptyUsage(), ttftMs: 80, tokensPerSecond: 30 };
    const run = { id: "r1", status: "done", reason: "stop", usage, model: "demo" } as RunView;
    const state = answerFromStored(turn!.answers, run);
    expect(state).toMatchObject({
      runId: "r1",
      model: "demo",
      text: "It is 21:05 in Tokyo.",
      done: { reason: "stop", usage },
      error: null,
    });
    expect(state.tools).toEqual([
      {
        callId: "call_1",
        name: "current_time",
        args: { timeZone: "Asia/Tokyo" },
        state: "ok",
        result: { timeZone: "Asia/Tokyo", formatted: "21:05" },
      },
    ]);
    expect(state.steps).toEqual([{ kind: "tool", callId: "call_1" }]);
  });

  it("keeps each round's reasoning apart, in order with its tool calls", () => {
    const state = answerFromStored(
      [
        msg({ role: "assistant", content: "", thinking: "Ask the clock.", runId: "r", toolCalls: [{ id: "c", name: "current_time", args: {} }] }),
        msg({ role: "tool", content: '{"formatted":"21:05"}', toolCallId: "c", toolName: "current_time", runId: "r" }),
        msg({ role: "assistant", content: "It is 21:05.", thinking: "The tool answered.", runId: "r" }),
      ],
      undefined,
    );
    expect(state.steps.map((s) => (s.kind === "tool" ? `tool:${s.callId}` : `reasoning:${s.text}`))).toEqual([
      "reasoning:Ask the clock.",
      "tool:c",
      "reasoning:The tool answered.",
    ]);
  });

  it("reads the same as the live answer of the same run: text of rounds around a tool call apart", () => {
    const stored = answerFromStored(
      [
        msg({ role: "assistant", content: "Let me check the clock.", runId: "r", toolCalls: [{ id: "c", name: "current_time", args: {} }] }),
        msg({ role: "tool", content: '{"formatted":"12:00"}', toolCallId: "c", toolName: "current_time", runId: "r" }),
        msg({ role: "assistant", content: "It is noon.", runId: "r" }),
      ],
      undefined,
    );
    const at = 1000;
    const events: ChatEvent[] = [
      { type: "token", runId: "r", at, text: "Let me check the clock." },
      { type: "tool-call", runId: "r", at, callId: "c", name: "current_time", args: {} },
      { type: "tool-result", runId: "r", at, callId: "c", name: "current_time", ok: true, result: { formatted: "12:00" }, durationMs: 1 },
      { type: "token", runId: "r", at, text: "It is noon." },
      { type: "done", runId: "r", at, reason: "stop", usage: emptyUsage() },
    ];
    const live = applyEvents(emptyMessageState(), events.map((event, i) => ({ seq: i + 1, event })));
    expect(live.text).toBe(stored.text);
    expect(stored.text).toBe("Let me check the clock.\n\nIt is noon.");
  });

  it("keeps the note that the model answered without tools, as the live answer showed it (a reload loses nothing)", () => {
    const refused = '"gemma3" does not support tools: answering without them.';
    const answer = [msg({ role: "assistant", content: "84.", runId: "r" })];
    const run = { id: "r", status: "done", reason: "stop", usage: emptyUsage(), model: "gemma3", unsupportedFeatures: [{ feature: "tools", message: refused }] } as RunView;
    const stored = answerFromStored(answer, run);
    const at = 1000;
    const events: ChatEvent[] = [
      { type: "status", runId: "r", at, phase: "thinking", message: refused, unsupportedFeature: "tools" },
      { type: "token", runId: "r", at, text: "84." },
      { type: "done", runId: "r", at, reason: "stop", usage: emptyUsage() },
    ];
    const live = applyEvents(emptyMessageState(), events.map((event, i) => ({ seq: i + 1, event })));
    expect(stored.notes).toEqual([refused]);
    expect(stored.notes).toEqual(live.notes);
    // A run that refused nothing (or an older server that does not say) has no note.
    expect(answerFromStored(answer, { ...run, unsupportedFeatures: [] }).notes).toEqual([]);
    expect(answerFromStored(answer, undefined).notes).toEqual([]);
  });

  it("keeps the reasoning and marks a stopped run", () => {
    const turns = buildTurns(toolConversation);
    const run = { id: "r3", status: "done", reason: "cancelled", usage: null, model: "demo" } as RunView;
    const state = answerFromStored(turns[1]!.answers, run);
    expect(state).toMatchObject({ text: "You're welcome.", done: { reason: "cancelled" } });
    expect(state.steps).toEqual([{ kind: "reasoning", text: "Be polite.", startedAt: null, endedAt: null }]);
  });

  it("takes the run's error and tool durations from the run (no replay of its log needed)", () => {
    const [turn] = buildTurns(toolConversation);
    const run: RunView = {
      id: "r1",
      status: "done",
      reason: "error",
      usage: emptyUsage(),
      model: "demo",
      createdAt: 1,
      error: { code: "provider_error", message: "an error was encountered while running the model" },
      toolResults: [{ callId: "call_1", name: "current_time", ok: true, durationMs: 12.5, error: null }],
      continued: false,
      unsupportedFeatures: [],
    };
    const state = answerFromStored(turn!.answers, run);
    expect(state.error).toEqual({
      code: "provider_error",
      message: "an error was encountered while running the model",
      retryable: true,
    });
    expect(state.tools).toEqual([expect.objectContaining({ callId: "call_1", state: "ok", durationMs: 12.5 })]);

    const failedTool: RunView = {
      ...run,
      reason: "stop",
      error: null,
      toolResults: [
        { callId: "call_1", name: "current_time", ok: false, durationMs: 15000, error: { code: "tool_timeout", message: "Tool timed out." } },
      ],
    };
    expect(answerFromStored(turn!.answers, failedTool).tools).toEqual([
      expect.objectContaining({ state: "error", durationMs: 15000, error: { code: "tool_timeout", message: "Tool timed out." } }),
    ]);
    expect(answerFromStored(turn!.answers, failedTool).error).toBeNull();
  });

  it("shows a failed tool result as an error card", () => {
    const state = answerFromStored(
      [
        msg({ role: "assistant", content: "", runId: "r", toolCalls: [{ id: "c", name: "calculator", args: {} }] }),
        msg({ role: "tool", content: '{"error":"division by zero"}', toolCallId: "c", toolName: "calculator", runId: "r" }),
      ],
      undefined,
    );
    expect(state.tools).toEqual([
      {
        callId: "c",
        name: "calculator",
        args: {},
        state: "error",
        error: { code: "tool_failed", message: "division by zero" },
      },
    ]);
  });
});
