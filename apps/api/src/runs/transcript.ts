import { errorCodeMessages, RunSummaryFold, toolResultContent, type ChatMessage, type RunSummary, type ToolCall, type ToolFailure } from "@streamchat/core";
import type { StoredEvent } from "@streamchat/store";

const interrupted: ToolFailure = { code: "interrupted", message: errorCodeMessages.interrupted };

/**
 * The messages an unfinished run had produced, rebuilt from its event log. Used when a run is closed
 * without the engine's own RunResult (a crash, a store failure), so the conversation keeps what the user saw.
 *
 * Every tool call gets a tool message: a call whose result never came (the run stopped while its tools
 * ran) is answered with `unanswered`, as the engine answers calls cut short by a cancel. OpenAI-compatible
 * servers reject every later request of a conversation holding a call without its result.
 */
export function messagesFromEvents(events: readonly StoredEvent[], unanswered: ToolFailure = interrupted): ChatMessage[] {
  const out: ChatMessage[] = [];
  let content = "";
  let thinking = "";
  let calls: ToolCall[] = [];
  /** Calls of the last assistant message written whose results have not come yet. */
  let waiting: ToolCall[] = [];
  const answerWaiting = () => {
    const answer = toolResultContent({ ok: false, error: unanswered, durationMs: 0 });
    for (const call of waiting) out.push({ role: "tool", toolCallId: call.id, toolName: call.name, content: answer });
    waiting = [];
  };
  const flushAssistant = () => {
    if (!content && !thinking && calls.length === 0) return;
    out.push({
      role: "assistant",
      content,
      ...(thinking ? { thinking } : {}),
      ...(calls.length ? { toolCalls: calls } : {}),
    });
    waiting = calls;
    content = "";
    thinking = "";
    calls = [];
  };
  for (const { event } of events) {
    if (event.type === "token" || event.type === "reasoning" || event.type === "tool-call") {
      // The model answers again only after every result of its last round: that round is over.
      answerWaiting();
      if (event.type === "token") content += event.text;
      else if (event.type === "reasoning") thinking += event.text;
      else calls.push({ id: event.callId, name: event.name, args: event.args });
    } else if (event.type === "tool-result") {
      flushAssistant();
      waiting = waiting.filter((call) => call.id !== event.callId);
      const outcome = event.ok
        ? { ok: true as const, result: event.result, durationMs: event.durationMs }
        : { ok: false as const, error: event.error ?? { code: "tool_failed" as const, message: "tool failed" }, durationMs: event.durationMs };
      out.push({ role: "tool", toolCallId: event.callId, toolName: event.name, content: toolResultContent(outcome) });
    }
  }
  flushAssistant();
  answerWaiting();
  return out;
}

/** Folds a run's events into the full answer (chat.complete, POST /api/chat). */
export async function summarize(events: AsyncIterable<StoredEvent>): Promise<RunSummary> {
  const fold = new RunSummaryFold();
  for await (const { event } of events) fold.add(event);
  return fold.summary;
}
