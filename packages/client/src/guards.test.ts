import { describe, expect, it } from "vitest";
import { chatEventTypes, emptyUsage, type ChatEvent } from "@streamchat/core";
import * as guards from "./guards.js";

const base = { runId: "r1", at: 1 };
const sample: ChatEvent[] = [
  { type: "run-start", ...base, conversationId: "c1", model: "demo", provider: "sim" },
  { type: "status", ...base, phase: "thinking", message: "Processing your question…" },
  { type: "reasoning", ...base, text: "hmm" },
  { type: "token", ...base, text: "Hello" },
  { type: "tool-call", ...base, callId: "k1", name: "calculator", args: { expression: "1+1" } },
  { type: "tool-result", ...base, callId: "k1", name: "calculator", ok: true, result: 2, durationMs: 1 },
  { type: "approval-request", ...base, callId: "k2", name: "files__write", args: { path: "a" }, source: "files", expiresAt: 2 },
  { type: "approval-result", ...base, callId: "k2", name: "files__write", approved: false, timedOut: true },
  { type: "token", ...base, text: ", world" },
  { type: "error", ...base, code: "provider_error", message: "boom", retryable: true },
  { type: "done", ...base, reason: "stop", usage: emptyUsage() },
];

const guardByType = {
  "run-start": guards.isRunStart,
  status: guards.isStatus,
  reasoning: guards.isReasoning,
  token: guards.isToken,
  "tool-call": guards.isToolCall,
  "tool-result": guards.isToolResult,
  "approval-request": guards.isApprovalRequest,
  "approval-result": guards.isApprovalResult,
  error: guards.isErrorEvent,
  done: guards.isDone,
} satisfies Record<ChatEvent["type"], (event: ChatEvent) => boolean>;

async function* iterate<T>(items: T[]) {
  yield* items;
}

describe("guards", () => {
  it("each guard accepts exactly its own event type", () => {
    expect(Object.keys(guardByType).sort()).toEqual([...chatEventTypes].sort());
    for (const [type, guard] of Object.entries(guardByType)) {
      expect(sample.filter(guard).map((e) => e.type)).toEqual(sample.filter((e) => e.type === type).map((e) => e.type));
    }
  });

  it("collectText concatenates the token texts in order", async () => {
    expect(await guards.collectText(iterate(sample))).toBe("Hello, world");
    expect(await guards.collectText(iterate([]))).toBe("");
  });
});
