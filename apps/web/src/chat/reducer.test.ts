import { emptyUsage, type ChatEvent } from "@streamchat/core/browser";
import { describe, expect, it } from "vitest";
import { applyEvent, applyEvents, behindContinued, continuingState, emptyMessageState, liveTtftMs, reasoningText, type SeqEvent } from "./reducer.js";

const runId = "run_1";
const usage = { ...emptyUsage(), completionTokens: 3, ttftMs: 120, durationMs: 900, tokensPerSecond: 42.5 };

/** Numbers a recorded run the way `chat.events` does: seq 1, 2, 3… */
function record(events: ChatEvent[]): SeqEvent[] {
  return events.map((event, i) => ({ seq: i + 1, event }));
}

const start: ChatEvent[] = [
  { type: "run-start", runId, at: 1000, conversationId: "c1", model: "demo", provider: "sim" },
  { type: "status", runId, at: 1001, phase: "thinking", message: "Processing your question…" },
];

const plainAnswer = record([
  ...start,
  { type: "token", runId, at: 1120, text: "Hello" },
  { type: "token", runId, at: 1130, text: ", " },
  { type: "token", runId, at: 1140, text: "world." },
  { type: "done", runId, at: 1900, reason: "stop", usage },
]);

const toolRoundTrip = record([
  ...start,
  { type: "tool-call", runId, at: 1100, callId: "call_1", name: "current_time", args: { timeZone: "Asia/Tokyo" } },
  { type: "status", runId, at: 1101, phase: "tool", message: "Using tool: current_time…" },
  {
    type: "tool-result",
    runId,
    at: 1150,
    callId: "call_1",
    name: "current_time",
    ok: true,
    result: { timeZone: "Asia/Tokyo", iso: "2026-11-29T21:05:00+09:00", formatted: "21:05" },
    durationMs: 49,
  },
  { type: "token", runId, at: 1300, text: "It is 21:05 in Tokyo." },
  { type: "done", runId, at: 1400, reason: "stop", usage },
]);

describe("applyEvent", () => {
  it("accumulates a streamed answer and ends on done", () => {
    const states = [emptyMessageState()];
    for (const e of plainAnswer) states.push(applyEvent(states.at(-1)!, e));

    expect(states[2]!.status).toEqual({ phase: "thinking", message: "Processing your question…" });
    expect(states.map((s) => s.text)).toEqual(["", "", "", "Hello", "Hello, ", "Hello, world.", "Hello, world."]);
    const final = states.at(-1)!;
    expect(final).toMatchObject({
      runId,
      model: "demo",
      status: null,
      error: null,
      done: { reason: "stop", usage },
      lastSeq: 6,
    });
  });

  it("clears the status line at the first token and reports live TTFT from event timestamps", () => {
    const beforeToken = applyEvents(emptyMessageState(), plainAnswer.slice(0, 2));
    expect(liveTtftMs(beforeToken)).toBeNull();
    const afterToken = applyEvent(beforeToken, plainAnswer[2]!);
    expect(afterToken.status).toBeNull();
    expect(liveTtftMs(afterToken)).toBe(120);
  });

  it("prefers the TTFT reported in done.usage", () => {
    const final = applyEvents(emptyMessageState(), plainAnswer);
    expect(liveTtftMs({ ...final, done: { reason: "stop", usage: { ...usage, ttftMs: 77 } } })).toBe(77);
  });

  it("ignores events at or below lastSeq and returns the same object", () => {
    const state = applyEvents(emptyMessageState(), plainAnswer.slice(0, 4));
    expect(applyEvent(state, plainAnswer[3]!)).toBe(state);
    expect(applyEvent(state, plainAnswer[0]!)).toBe(state);
  });

  it("resumes after a gap without duplicating text when the replay overlaps seen events", () => {
    const seenBeforeDrop = applyEvents(emptyMessageState(), plainAnswer.slice(0, 4)); // up to "Hello"
    // The server replays from an older id than the client last saw: seq 2..end.
    const resumed = applyEvents(seenBeforeDrop, plainAnswer.slice(1));
    expect(resumed.text).toBe("Hello, world.");
    expect(resumed).toEqual(applyEvents(emptyMessageState(), plainAnswer));
  });

  it("rebuilds the same state from any mix of overlapping replays", () => {
    const expected = applyEvents(emptyMessageState(), toolRoundTrip);
    for (let cut = 0; cut <= toolRoundTrip.length; cut++) {
      for (let replayFrom = 0; replayFrom <= cut; replayFrom++) {
        const first = applyEvents(emptyMessageState(), toolRoundTrip.slice(0, cut));
        const replayed = applyEvents(first, toolRoundTrip.slice(replayFrom));
        expect(replayed, `cut ${cut} replay from ${replayFrom}`).toEqual(expected);
      }
    }
  });

  it("follows a tool round trip: running card with status, then result and duration", () => {
    const running = applyEvents(emptyMessageState(), toolRoundTrip.slice(0, 4));
    expect(running.status).toEqual({ phase: "tool", message: "Using tool: current_time…" });
    expect(running.tools).toEqual([
      { callId: "call_1", name: "current_time", args: { timeZone: "Asia/Tokyo" }, state: "running" },
    ]);

    const finished = applyEvents(running, toolRoundTrip);
    expect(finished.tools).toEqual([
      {
        callId: "call_1",
        name: "current_time",
        args: { timeZone: "Asia/Tokyo" },
        state: "ok",
        result: { timeZone: "Asia/Tokyo", iso: "2026-11-29T21:05:00+09:00", formatted: "21:05" },
        error: undefined,
        durationMs: 49,
      },
    ]);
    expect(finished.text).toBe("It is 21:05 in Tokyo.");
  });

  it("clears the tool status once the tool finished, before the next round's first token", () => {
    const afterResult = applyEvents(emptyMessageState(), toolRoundTrip.slice(0, 5));
    expect(afterResult.status).toBeNull();
  });

  it("records a failed tool call with its error", () => {
    const failed = applyEvents(
      emptyMessageState(),
      record([
        ...start,
        { type: "tool-call", runId, at: 1100, callId: "c", name: "calculator", args: { expression: "1/" } },
        {
          type: "tool-result",
          runId,
          at: 1110,
          callId: "c",
          name: "calculator",
          ok: false,
          error: { code: "tool_failed", message: "Unexpected end of expression" },
          durationMs: 3,
        },
      ]),
    );
    expect(failed.tools[0]).toMatchObject({
      state: "error",
      error: { code: "tool_failed", message: "Unexpected end of expression" },
      durationMs: 3,
    });
  });

  it("keeps the partial answer of a cancelled run without an error", () => {
    const cancelled = applyEvents(
      emptyMessageState(),
      record([
        ...start,
        { type: "token", runId, at: 1100, text: "Once upon" },
        { type: "token", runId, at: 1110, text: " a time" },
        { type: "done", runId, at: 1200, reason: "cancelled", usage: emptyUsage() },
      ]),
    );
    expect(cancelled).toMatchObject({ text: "Once upon a time", error: null, done: { reason: "cancelled" } });
  });

  it("marks tools still running when the run ends as failed", () => {
    const cancelledDuringTool = applyEvents(
      emptyMessageState(),
      record([
        ...start,
        { type: "tool-call", runId, at: 1100, callId: "c", name: "current_time", args: {} },
        { type: "done", runId, at: 1200, reason: "cancelled", usage: emptyUsage() },
      ]),
    );
    expect(cancelledDuringTool.tools[0]!.state).toBe("error");
  });

  it("keeps the error and the text before it for a run that failed mid-stream", () => {
    const failed = applyEvents(
      emptyMessageState(),
      record([
        ...start,
        { type: "token", runId, at: 1100, text: "Partial" },
        {
          type: "error",
          runId,
          at: 1150,
          code: "provider_error",
          message: "an error was encountered while running the model",
          retryable: true,
        },
        { type: "done", runId, at: 1160, reason: "error", usage: emptyUsage() },
      ]),
    );
    expect(failed).toMatchObject({
      text: "Partial",
      error: { code: "provider_error", message: "an error was encountered while running the model", retryable: true },
      done: { reason: "error" },
      status: null,
    });
  });

  it("accumulates reasoning separately from the answer, timed until the answer starts", () => {
    const events = record([
      ...start,
      { type: "reasoning", runId, at: 1050, text: "The user greets. " },
      { type: "reasoning", runId, at: 1060, text: "Greet back." },
      { type: "token", runId, at: 2100, text: "Hi!" },
    ]);
    const thinking = applyEvents(emptyMessageState(), events.slice(0, 4));
    expect(thinking.steps).toEqual([{ kind: "reasoning", text: "The user greets. Greet back.", startedAt: 1050, endedAt: null }]);
    const thought = applyEvents(thinking, events);
    expect(thought).toMatchObject({ text: "Hi!", firstTokenAt: 1050 });
    expect(thought.steps).toEqual([{ kind: "reasoning", text: "The user greets. Greet back.", startedAt: 1050, endedAt: 2100 }]);
  });

  it("keeps the reasoning of each round apart, in order with the tool calls between them", () => {
    const state = applyEvents(
      emptyMessageState(),
      record([
        ...start,
        { type: "reasoning", runId, at: 1010, text: "I'll ask the clock for Sydney." },
        { type: "tool-call", runId, at: 1500, callId: "c1", name: "current_time", args: { timeZone: "Australia/Sydney" } },
        { type: "tool-result", runId, at: 1510, callId: "c1", name: "current_time", ok: true, result: {}, durationMs: 4 },
        { type: "reasoning", runId, at: 1600, text: "The tool answered." },
        { type: "token", runId, at: 1900, text: "It's late in Sydney." },
        { type: "done", runId, at: 2000, reason: "stop", usage },
      ]),
    );
    expect(state.steps).toEqual([
      { kind: "reasoning", text: "I'll ask the clock for Sydney.", startedAt: 1010, endedAt: 1500 },
      { kind: "tool", callId: "c1" },
      { kind: "reasoning", text: "The tool answered.", startedAt: 1600, endedAt: 1900 },
    ]);
    expect(reasoningText(state)).toBe("I'll ask the clock for Sydney.\n\nThe tool answered.");
  });

  it("keeps the text of rounds around a tool call apart by a blank line, as the stored answer does", () => {
    const events = record([
      ...start,
      { type: "token", runId, at: 1100, text: "Let me check" },
      { type: "token", runId, at: 1110, text: " the clock." },
      { type: "tool-call", runId, at: 1200, callId: "c1", name: "current_time", args: { timeZone: "UTC" } },
      { type: "tool-result", runId, at: 1210, callId: "c1", name: "current_time", ok: true, result: {}, durationMs: 3 },
      { type: "token", runId, at: 1300, text: "It is" },
      { type: "token", runId, at: 1310, text: " noon." },
      { type: "done", runId, at: 1400, reason: "stop", usage },
    ]);
    expect(applyEvents(emptyMessageState(), events.slice(0, 6)).text).toBe("Let me check the clock.");
    expect(applyEvents(emptyMessageState(), events).text).toBe("Let me check the clock.\n\nIt is noon.");
    // A resume that replays the second round's first token again adds no second break.
    const resumed = applyEvents(applyEvents(emptyMessageState(), events.slice(0, 7)), events.slice(5));
    expect(resumed.text).toBe("Let me check the clock.\n\nIt is noon.");
    // A first round with only a tool call has no text to keep apart.
    expect(applyEvents(emptyMessageState(), [...events.slice(0, 2), ...events.slice(4)]).text).toBe("It is noon.");
  });

  it("ends open reasoning when the run ends without an answer", () => {
    const state = applyEvents(
      emptyMessageState(),
      record([
        ...start,
        { type: "reasoning", runId, at: 1010, text: "Hmm." },
        { type: "done", runId, at: 1300, reason: "cancelled", usage: emptyUsage() },
      ]),
    );
    expect(state.steps).toEqual([{ kind: "reasoning", text: "Hmm.", startedAt: 1010, endedAt: 1300 }]);
  });
  it("keeps the note that the model answers without tools after the status line moved on", () => {
    const refused = "\"gemma3\" does not support tools: answering without them.";
    const events = record([
      ...start,
      { type: "status", runId, at: 1050, phase: "thinking", message: refused, unsupportedFeature: "tools" },
      { type: "status", runId, at: 1060, phase: "responding", message: "Responding…" },
      { type: "token", runId, at: 1100, text: "Hi." },
      { type: "done", runId, at: 1400, reason: "stop", usage },
    ]);
    const state = applyEvents(emptyMessageState(), events);
    expect(state.status).toBeNull();
    expect(state.notes).toEqual([refused]);
    // A replay that overlaps (resume) does not say it twice.
    expect(applyEvents(applyEvents(emptyMessageState(), events.slice(0, 3)), events).notes).toEqual([refused]);
    // An ordinary status is not a note.
    expect(applyEvents(emptyMessageState(), plainAnswer).notes).toEqual([]);
  });
});

describe("continuingState", () => {
  it("shows the stopped answer streaming again under the new run, as its log will rebuild it", () => {
    const stopped = applyEvents(
      emptyMessageState(),
      record([
        ...start,
        { type: "tool-call", runId, at: 1100, callId: "call_1", name: "current_time", args: {} },
        { type: "tool-result", runId, at: 1150, callId: "call_1", name: "current_time", ok: true, result: "21:05", durationMs: 49 },
        { type: "token", runId, at: 1200, text: "It is 21:05" },
        { type: "error", runId, at: 1250, code: "provider_error", message: "the runner crashed", retryable: true },
        { type: "done", runId, at: 1300, reason: "error", usage: emptyUsage() },
      ]),
    );
    const standIn = continuingState(stopped, "run_2");
    expect(standIn).toMatchObject({ runId: "run_2", text: "It is 21:05", error: null, done: null, status: null, lastSeq: 0 });
    expect(standIn.tools).toEqual(stopped.tools);
    expect(standIn.steps).toEqual(stopped.steps);

    // The continue's log: run-start, the answer so far carried, then the model's rest. Built from it alone, the
    // answer reads as the stand-in did, then goes on.
    const next = "run_2";
    const log = record([
      { type: "run-start", runId: next, at: 2000, conversationId: "c1", model: "demo", provider: "sim", continues: true },
      { type: "tool-call", runId: next, at: 2000, callId: "call_1", name: "current_time", args: {} },
      { type: "tool-result", runId: next, at: 2000, callId: "call_1", name: "current_time", ok: true, result: "21:05", durationMs: 49 },
      { type: "token", runId: next, at: 2000, text: "It is 21:05" },
    ]);
    // Until the log has carried the whole answer, the page keeps the stand-in; from then on the log's state.
    for (let arrived = 0; arrived < log.length; arrived++) {
      expect(behindContinued(applyEvents(emptyMessageState(), log.slice(0, arrived)), standIn)).toBe(true);
    }
    const carried = applyEvents(emptyMessageState(), log);
    expect(behindContinued(carried, standIn)).toBe(false);
    expect(carried.text).toBe(standIn.text);
    expect(carried.tools).toEqual(standIn.tools);
    // A continue that fails before it has carried the answer shows its failure, not the stand-in.
    const failedEarly = applyEvents(emptyMessageState(), [
      log[0]!,
      { seq: 2, event: { type: "error", runId: next, at: 2001, code: "provider_error", message: "the runner crashed", retryable: true } },
    ]);
    expect(behindContinued(failedEarly, standIn)).toBe(false);
    const after = applyEvent(carried, { seq: log.length + 1, event: { type: "token", runId: next, at: 2100, text: " in Tokyo." } });
    expect(after.text).toBe("It is 21:05 in Tokyo.");
  });
});
