import type { ChatEvent, ChatMessage, DoneReason, EventOf, Usage } from "@streamchat/core";
import type { InsertConversationInput } from "../types.js";

/** A clock the test moves by hand, so timestamps and orderings are exact. */
export function manualClock(start = 1_000) {
  let t = start;
  return {
    now: () => t,
    set(value: number) {
      t = value;
    },
  };
}

/** One message of every ChatMessage variant, with the optional fields filled and odd text. */
export const everyMessageVariant: ChatMessage[] = [
  { role: "system", content: "You are helpful. Tools: current_time, calculator." },
  { role: "user", content: "What time is it in Tokyo, and what is 12*7? 🙂 \"quoted\" \\ back\nslash" },
  {
    role: "assistant",
    content: "",
    thinking: "The user wants two things; call both tools.",
    toolCalls: [
      { id: "call_1", name: "current_time", args: { timeZone: "Asia/Tokyo" } },
      { id: "call_2", name: "calculator", args: { expression: "12*7", nested: { list: [1, "two", null, true] } } },
    ],
  },
  { role: "tool", toolCallId: "call_1", toolName: "current_time", content: '{"timeZone":"Asia/Tokyo","iso":"2026-01-01T05:00:00Z"}' },
  { role: "tool", toolCallId: "call_2", toolName: "calculator", content: '{"expression":"12*7","result":"84"}' },
  { role: "assistant", content: "It is 14:00 in Tokyo, and 12*7 = 84.", thinking: "Both results are in." },
  { role: "assistant", content: "Plain answer without optional fields." },
];

export const sampleUsage: Usage = {
  promptTokens: 12,
  completionTokens: 34,
  ttftMs: 56.5,
  durationMs: 789,
  loadMs: null,
  tokensPerSecond: 43.1,
};

export function tokenEvent(runId: string, text: string, at = 1_000): ChatEvent {
  return { type: "token", runId, at, text };
}

export function doneEvent(runId: string, reason: DoneReason = "stop", at = 1_000): EventOf<"done"> {
  return { type: "done", runId, at, reason, usage: sampleUsage };
}

/** A tool call waiting for a person's approval (the API shows it only once it is durable). */
export function approvalRequestEvent(runId: string, at = 1_000): EventOf<"approval-request"> {
  return { type: "approval-request", runId, at, callId: "call_1", name: "calculator", args: { expression: "1+1" }, source: "builtin", expiresAt: at + 60_000 };
}

/** A realistic run: run-start, status, reasoning, tool call + result, tokens, error, done. */
export function runEvents(runId: string, conversationId: string): ChatEvent[] {
  return [
    { type: "run-start", runId, at: 1, conversationId, model: "demo", provider: "sim" },
    { type: "status", runId, at: 2, phase: "thinking", message: "Processing your question…" },
    { type: "reasoning", runId, at: 3, text: "Need the time." },
    { type: "tool-call", runId, at: 4, callId: "c1", name: "current_time", args: { timeZone: "Asia/Tokyo" } },
    { type: "status", runId, at: 5, phase: "tool", message: "Using tool: current_time…" },
    {
      type: "tool-result",
      runId,
      at: 6,
      callId: "c1",
      name: "current_time",
      ok: false,
      error: { code: "tool_timeout", message: "took too long" },
      durationMs: 15_000,
    },
    { type: "token", runId, at: 7, text: "Sorry, " },
    { type: "token", runId, at: 8, text: "no clock. ✓" },
    { type: "error", runId, at: 9, code: "provider_error", message: "boom", retryable: true },
    { type: "done", runId, at: 10, reason: "error", usage: sampleUsage },
  ];
}

/** Settles to the error (or undefined), so a test can look at a rejection without racing it. */
export async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error;
  }
}

/** insertConversation's input for an imported chat with an origin and no messages (the origin tests' one). */
export function importedInput(id: string, userId = "alice"): InsertConversationInput {
  return {
    conversation: { id, userId, title: "Imported", createdAt: 5, updatedAt: 6, pinnedAt: null, archivedAt: null, origin: "ChatGPT:x@1" },
    runs: [],
    messages: [],
    head: null,
  };
}

/** insertConversation's input for a conversation of one question and no run, titled by its id. */
export function oneQuestionInput(id: string, userId = "alice"): InsertConversationInput {
  return {
    conversation: { id, userId, title: id, createdAt: 1, updatedAt: 1, pinnedAt: null, archivedAt: null },
    runs: [],
    messages: [{ parent: null, runId: null, message: { role: "user", content: "hi" }, createdAt: 1 }],
    head: 0,
  };
}
