/**
 * Ollama's native /api/chat wire: one JSON object per "\n", field order as Ollama's Go structs write them.
 * Reference: docs/api.md and api/types.go (ChatResponse, Message, ToolCall, Metrics).
 */
import type { SimChunk } from "./types.js";
import { createdAt, jsonString, type Accumulated, type ResolvedCall, type ResponseMeter, type WireEncoder } from "./wire-common.js";

function toolCallsJson(calls: ResolvedCall[]): unknown[] {
  // arguments is an object, never a string; id since v0.12.10, index since v0.4.7
  return calls.map((c) => ({ id: c.id, function: { index: c.index, name: c.name, arguments: c.arguments } }));
}

export function createOllamaEncoder(model: string, meter: ResponseMeter): WireEncoder {
  // Precomputed constant parts: the bench floods content-only lines through the fast path below.
  const head = `{"model":${JSON.stringify(model)},"created_at":"`;
  const contentMid = `","message":{"role":"assistant","content":`;
  const contentTail = `},"done":false}\n`;

  return {
    contentType: "application/x-ndjson",
    midStreamErrorStatus: 500,

    encode(chunk: SimChunk, calls: ResolvedCall[]): string {
      if (chunk.error !== undefined) return `${JSON.stringify({ error: chunk.error })}\n`;
      if (chunk.thinking === undefined && calls.length === 0 && !chunk.done) {
        return head + createdAt() + contentMid + jsonString(chunk.content ?? "") + contentTail;
      }
      const message: Record<string, unknown> = { role: "assistant", content: chunk.content ?? "" };
      if (chunk.thinking !== undefined) message["thinking"] = chunk.thinking;
      if (calls.length > 0) message["tool_calls"] = toolCallsJson(calls);
      const line: Record<string, unknown> = { model, created_at: createdAt(), message, done: chunk.done === true };
      if (chunk.done) Object.assign(line, { done_reason: chunk.doneReason ?? "stop" }, meter.metrics());
      return `${JSON.stringify(line)}\n`;
    },

    body(acc: Accumulated): unknown {
      const message: Record<string, unknown> = { role: "assistant", content: acc.content };
      if (acc.thinking) message["thinking"] = acc.thinking;
      if (acc.calls.length > 0) message["tool_calls"] = toolCallsJson(acc.calls);
      return { model, created_at: createdAt(), message, done: true, done_reason: acc.doneReason, ...meter.metrics() };
    },

    errorBody(_status: number, message: string): unknown {
      return { error: message };
    },
  };
}
