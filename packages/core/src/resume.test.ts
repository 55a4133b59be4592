import { describe, expect, it } from "vitest";
import { z } from "zod";
import { chatEventSchema, type ChatEvent } from "./events.js";
import type { ChatModel, ModelChunk } from "./model.js";
import { fromOllamaLine } from "./providers/ollama.js";
import { runSnapshotOf } from "./resume.js";
import { runChat } from "./run.js";
import { collect } from "./test-support/recorder.js";
import { defineTool } from "./tools.js";

type Body = ChatEvent extends infer E ? (E extends ChatEvent ? Omit<E, "runId" | "at"> : never) : never;
const log = (bodies: Body[]): ChatEvent[] => bodies.map((b, i) => chatEventSchema.parse({ ...b, runId: "r1", at: 1000 + i }));

/** A model that answers each round with the chunks its Ollama wire lines map to (the provider's own ToolCalls). */
function scriptedModel(rounds: unknown[][]): ChatModel {
  let round = 0;
  return {
    provider: "ollama",
    async *stream(): AsyncGenerator<ModelChunk> {
      for (const line of rounds[round++] ?? []) yield* fromOllamaLine(line);
    },
  };
}

const finish = { done: true, done_reason: "stop" };

const start: Body[] = [
  { type: "run-start", conversationId: "c1", model: "m", provider: "ollama" },
  { type: "status", phase: "thinking", message: "Processing your question…" },
];

describe("runSnapshotOf", () => {
  it("rebuilds the messages of two rounds and finds the call still waiting for approval", () => {
    const snapshot = runSnapshotOf(
      log([
        ...start,
        { type: "token", text: "First " },
        { type: "tool-call", callId: "k1", name: "calculator", args: { expression: "1+1" } },
        { type: "status", phase: "tool", message: "Using tool: calculator…" },
        { type: "tool-result", callId: "k1", name: "calculator", ok: true, result: { result: "2" }, durationMs: 3 },
        { type: "reasoning", text: "hmm" },
        { type: "token", text: "then " },
        { type: "token", text: "more." },
        { type: "tool-call", callId: "k2", name: "files__write", args: { path: "a" } },
        { type: "tool-call", callId: "k3", name: "lookup", args: { word: "x" } },
        { type: "tool-call", callId: "k4", name: "files__delete", args: { path: "b" } },
        { type: "approval-request", callId: "k2", name: "files__write", args: { path: "a" }, source: "files", expiresAt: 9000 },
        { type: "approval-request", callId: "k4", name: "files__delete", args: { path: "b" }, source: "files", expiresAt: 9000 },
        { type: "tool-result", callId: "k3", name: "lookup", ok: false, error: { code: "tool_failed", message: "nope" }, durationMs: 1 },
        { type: "approval-result", callId: "k4", name: "files__delete", approved: true, timedOut: false },
      ]),
    );
    expect(snapshot.messages).toEqual([
      { role: "assistant", content: "First ", toolCalls: [{ id: "k1", name: "calculator", args: { expression: "1+1" } }] },
      { role: "tool", toolCallId: "k1", toolName: "calculator", content: '{"result":"2"}' },
      {
        role: "assistant",
        content: "then more.",
        thinking: "hmm",
        toolCalls: [
          { id: "k2", name: "files__write", args: { path: "a" } },
          { id: "k3", name: "lookup", args: { word: "x" } },
          { id: "k4", name: "files__delete", args: { path: "b" } },
        ],
      },
      { role: "tool", toolCallId: "k3", toolName: "lookup", content: '{"error":{"code":"tool_failed","message":"nope"}}' },
    ]);
    expect(snapshot).toMatchObject({ text: "First then more.", rounds: 2, finished: false, answered: false });
    expect(snapshot.pendingCalls.map((c) => c.id)).toEqual(["k2", "k4"]);
    expect(snapshot.waitingForApproval.map((c) => c.id)).toEqual(["k2"]);
    expect([...snapshot.requested.keys()]).toEqual(["k2", "k4"]);
    expect(snapshot.decided.get("k4")).toMatchObject({ approved: true });
  });

  it("rebuilds a result with the tool's own text for the model when the tool is known", () => {
    const tool = defineTool({
      name: "srv__echo",
      description: "echo",
      input: z.object({}),
      execute: () => ({ content: [{ type: "text", text: "hi" }] }),
      toModelContent: (r) => r.content[0]!.text,
    });
    const events = log([
      ...start,
      { type: "tool-call", callId: "k1", name: "srv__echo", args: {} },
      { type: "tool-result", callId: "k1", name: "srv__echo", ok: true, result: { content: [{ type: "text", text: "hi" }] }, durationMs: 1 },
    ]);
    expect(runSnapshotOf(events, [tool]).messages.at(-1)).toMatchObject({ content: "hi" });
    expect(runSnapshotOf(events).messages.at(-1)).toMatchObject({ content: '{"content":[{"type":"text","text":"hi"}]}' });
    // Every call answered: nothing pending, the next model round is due.
    expect(runSnapshotOf(events)).toMatchObject({ pendingCalls: [], answered: false, rounds: 1 });
  });

  it("tells a finished run and an answer cut short from a run to continue", () => {
    const answering = log([...start, { type: "token", text: "Hello" }]);
    expect(runSnapshotOf(answering)).toMatchObject({ answered: true, finished: false, pendingCalls: [] });
    const finished = log([...start, { type: "token", text: "Hello" }, { type: "done", reason: "stop", usage: { promptTokens: 0, completionTokens: 0, ttftMs: null, durationMs: 0, loadMs: null, tokensPerSecond: null } }]);
    expect(runSnapshotOf(finished).finished).toBe(true);
    expect(runSnapshotOf(log(start))).toMatchObject({ answered: false, rounds: 0, messages: [] });
  });

  it("rebuilds the messages a finished run returned: results in call order, whatever order they finished in", async () => {
    // Call order slow, fast; the fast one finishes (and is logged) first.
    const slow = defineTool({
      name: "slow",
      description: "slow",
      input: z.object({ n: z.number() }),
      execute: async ({ n }) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return { slow: n };
      },
    });
    const fast = defineTool({ name: "fast", description: "fast", input: z.object({ n: z.number() }), execute: ({ n }) => ({ fast: n }) });
    const model = scriptedModel([
      [{ message: { content: "Both. ", tool_calls: [{ id: "c1", function: { name: "slow", arguments: { n: 1 } } }, { id: "c2", function: { name: "fast", arguments: { n: 2 } } }] } }, finish],
      [{ message: { content: "Done." } }, finish],
    ]);
    const { events, result } = await collect(runChat({ model, modelName: "m", conversationId: "c1", runId: "r1", messages: [{ role: "user", content: "go" }], tools: [slow, fast] }));
    expect(events.filter((e) => e.type === "tool-result").map((e) => e.name)).toEqual(["fast", "slow"]);
    expect(result.messages.filter((m) => m.role === "tool").map((m) => m.toolName)).toEqual(["slow", "fast"]);
    expect(runSnapshotOf(events, [slow, fast]).messages).toEqual(result.messages);
  });

  it("writes the logged results of a round cut short in call order, the unanswered calls pending", () => {
    const snapshot = runSnapshotOf(
      log([
        ...start,
        { type: "tool-call", callId: "k1", name: "lookup", args: { word: "a" } },
        { type: "tool-call", callId: "k2", name: "files__write", args: { path: "a" } },
        { type: "tool-call", callId: "k3", name: "lookup", args: { word: "b" } },
        { type: "approval-request", callId: "k2", name: "files__write", args: { path: "a" }, source: "files", expiresAt: 9000 },
        { type: "tool-result", callId: "k3", name: "lookup", ok: true, result: "b!", durationMs: 1 },
        { type: "tool-result", callId: "k1", name: "lookup", ok: true, result: "a!", durationMs: 5 },
      ]),
    );
    expect(snapshot.messages.slice(1)).toEqual([
      { role: "tool", toolCallId: "k1", toolName: "lookup", content: "a!" },
      { role: "tool", toolCallId: "k3", toolName: "lookup", content: "b!" },
    ]);
    expect(snapshot.pendingCalls.map((c) => c.id)).toEqual(["k2"]);
  });

  it("rebuilds a call whose arguments did not parse as the provider made it: raw text and argsError", async () => {
    const calculator = defineTool({ name: "calculator", description: "calc", input: z.object({ expression: z.string() }), execute: () => "2" });
    const model = scriptedModel([
      [{ message: { tool_calls: [{ id: "c1", function: { name: "calculator", arguments: '{"expression": 1+' } }] } }, finish],
      [{ message: { content: "Sorry." } }, finish],
    ]);
    const { events, result } = await collect(runChat({ model, modelName: "m", conversationId: "c1", runId: "r1", messages: [{ role: "user", content: "go" }], tools: [calculator] }));
    const call = result.messages[0]?.role === "assistant" ? result.messages[0].toolCalls?.[0] : undefined;
    expect(call).toMatchObject({ args: '{"expression": 1+', argsError: expect.stringContaining("not valid JSON") });
    expect(runSnapshotOf(events, [calculator]).messages).toEqual(result.messages);

    // Still pending (the process stopped before its result was logged): a resumed run validates the same call again.
    const pending = runSnapshotOf(events.filter((e) => e.type === "run-start" || e.type === "tool-call"));
    expect(pending.pendingCalls).toEqual([call]);
  });

  it("keeps a call's string arguments that did parse (a JSON string) as they are", () => {
    const snapshot = runSnapshotOf(log([...start, { type: "tool-call", callId: "k1", name: "lookup", args: "{}" }]));
    expect(snapshot.pendingCalls).toEqual([{ id: "k1", name: "lookup", args: "{}" }]);
  });
});
