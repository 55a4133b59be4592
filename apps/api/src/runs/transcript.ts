import type { ChatEvent, ChatMessage, ToolCall, Usage } from "@streamchat/core";
import type { StoredEvent } from "@streamchat/store";

/**
 * The messages an unfinished run had produced, rebuilt from its event log. Used when a run is closed
 * as interrupted (the engine's own RunResult never arrived), so the conversation keeps what the user saw.
 */
export function messagesFromEvents(events: StoredEvent[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  let content = "";
  let thinking = "";
  let calls: ToolCall[] = [];
  const flushAssistant = () => {
    if (!content && !thinking && calls.length === 0) return;
    out.push({
      role: "assistant",
      content,
      ...(thinking ? { thinking } : {}),
      ...(calls.length ? { toolCalls: calls } : {}),
    });
    content = "";
    thinking = "";
    calls = [];
  };
  for (const { event } of events) {
    if (event.type === "token") content += event.text;
    else if (event.type === "reasoning") thinking += event.text;
    else if (event.type === "tool-call") calls.push({ id: event.callId, name: event.name, args: event.args });
    else if (event.type === "tool-result") {
      flushAssistant();
      out.push({
        role: "tool",
        toolCallId: event.callId,
        toolName: event.name,
        content: JSON.stringify(event.ok ? event.result : { error: event.error?.message ?? "tool failed" }),
      });
    }
  }
  flushAssistant();
  return out;
}

export interface ToolCallSummary {
  callId: string;
  name: string;
  args: unknown;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}

export interface RunSummary {
  text: string;
  toolCalls: ToolCallSummary[];
  usage: Usage | null;
  reason: Extract<ChatEvent, { type: "done" }>["reason"] | null;
  /** The run's failure, when it ended with an error event. */
  error: Extract<ChatEvent, { type: "error" }> | null;
}

/** Folds a run's events into the full answer (chat.complete, POST /api/chat). */
export async function summarize(events: AsyncIterable<StoredEvent>): Promise<RunSummary> {
  const summary: RunSummary = { text: "", toolCalls: [], usage: null, reason: null, error: null };
  const calls = new Map<string, ToolCallSummary>();
  for await (const { event } of events) {
    switch (event.type) {
      case "token":
        summary.text += event.text;
        break;
      case "tool-call": {
        const call: ToolCallSummary = { callId: event.callId, name: event.name, args: event.args, ok: false };
        calls.set(event.callId, call);
        summary.toolCalls.push(call);
        break;
      }
      case "tool-result": {
        const call = calls.get(event.callId);
        if (call) {
          call.ok = event.ok;
          if (event.result !== undefined) call.result = event.result;
          if (event.error) call.error = event.error;
        }
        break;
      }
      case "error":
        summary.error = event;
        break;
      case "done":
        summary.usage = event.usage;
        summary.reason = event.reason;
        break;
      default:
        break;
    }
  }
  return summary;
}
