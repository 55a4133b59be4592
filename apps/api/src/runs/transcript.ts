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
 *
 * A round's tool messages follow the order of its calls, as the engine writes them (and runSnapshotOf rebuilds
 * them): the log has the results in the order they finished, a round's calls running in parallel.
 */
export function messagesFromEvents(events: readonly StoredEvent[], unanswered: ToolFailure = interrupted): ChatMessage[] {
  const out: ChatMessage[] = [];
  let content = "";
  let thinking = "";
  let calls: ToolCall[] = [];
  /** The calls of the last assistant message written: the round whose results come now. */
  let round: ToolCall[] = [];
  /** The tool messages of the round's results so far, by call id: the first result of a call counts. */
  let results = new Map<string, ChatMessage>();
  /**
   * Writes the round's tool messages, in call order, each unanswered call answered with `unanswered`; a result for
   * no call of the round (a log with events missing) stays after them, in the order it came.
   */
  const closeRound = () => {
    const answer = toolResultContent({ ok: false, error: unanswered, durationMs: 0 });
    for (const call of round) {
      out.push(results.get(call.id) ?? { role: "tool", toolCallId: call.id, toolName: call.name, content: answer });
    }
    const ids = new Set(round.map((call) => call.id));
    for (const [id, message] of results) if (!ids.has(id)) out.push(message);
    round = [];
    results = new Map();
  };
  const flushAssistant = () => {
    if (!content && !thinking && calls.length === 0) return;
    closeRound();
    out.push({
      role: "assistant",
      content,
      ...(thinking ? { thinking } : {}),
      ...(calls.length ? { toolCalls: calls } : {}),
    });
    round = calls;
    content = "";
    thinking = "";
    calls = [];
  };
  for (const { event } of events) {
    if (event.type === "token" || event.type === "reasoning" || event.type === "tool-call") {
      // The model answers again only after every result of its last round: that round is over.
      closeRound();
      if (event.type === "token") content += event.text;
      else if (event.type === "reasoning") thinking += event.text;
      else calls.push({ id: event.callId, name: event.name, args: event.args });
    } else if (event.type === "tool-result") {
      flushAssistant();
      if (results.has(event.callId)) continue;
      const outcome = event.ok
        ? { ok: true as const, result: event.result, durationMs: event.durationMs }
        : { ok: false as const, error: event.error ?? { code: "tool_failed" as const, message: "tool failed" }, durationMs: event.durationMs };
      results.set(event.callId, { role: "tool", toolCallId: event.callId, toolName: event.name, content: toolResultContent(outcome) });
    }
  }
  flushAssistant();
  closeRound();
  return out;
}

/** Folds a run's events into the full answer (chat.complete, POST /api/chat). */
export async function summarize(events: AsyncIterable<StoredEvent>): Promise<RunSummary> {
  const fold = new RunSummaryFold();
  for await (const { event } of events) fold.add(event);
  return fold.summary;
}
