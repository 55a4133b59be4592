import { ChatError } from "./errors.js";
import { errorCodeSchema, type ChatEvent, type EventOf } from "./events.js";
import type { ChatMessage } from "./model.js";
import type { ToolFailure } from "./tools.js";

/** An answer to continue, split as the run loop uses it. */
export interface ContinuedAnswer {
  /** The answer's messages before its last one (earlier tool rounds): history the new version starts with. */
  before: ChatMessage[];
  /** Its last message: the assistant text the model writes on from (sent last, as a prefill). */
  last: Extract<ChatMessage, { role: "assistant" }>;
  /** All of its text so far (the RunResult's text starts with it). */
  text: string;
}

export const nothingToContinueMessage = "This answer cannot be continued: it does not end with text of the model's.";

/**
 * Checks an answer a run is asked to continue: the messages after its question, ending with the model's text (cut
 * short by a stop, the length limit, a failure). An answer that ends in tool calls or results, or without text, is a
 * round to answer again, not text to write on.
 */
export function continuedAnswerOf(messages: readonly ChatMessage[]): ContinuedAnswer {
  const last = messages.at(-1);
  if (!last || last.role !== "assistant" || (last.toolCalls?.length ?? 0) > 0 || last.content.trim() === "") {
    throw new ChatError("bad_request", nothingToContinueMessage);
  }
  if (messages.some((m) => m.role === "user" || m.role === "system")) {
    throw new ChatError("bad_request", "An answer to continue holds the model's messages and tool results only.");
  }
  let text = "";
  for (const m of messages) if (m.role === "assistant") text += m.content;
  return { before: messages.slice(0, -1), last, text };
}

/**
 * The events that tell the continued answer's story so far, in the new run's log before what the model adds: one
 * reasoning and one token event per message (not the original chunks: the text is what was stored), its tool calls,
 * and their results: as `logged` has them (the tool-result events of the run that made the answer: durations, typed
 * errors), else as the tool messages hold them (the text the model read; `{"error":…}` is a failed call, other text the
 * result, no duration).
 */
export function carriedEvents(answer: ContinuedAnswer, runId: string, at: number, logged: readonly EventOf<"tool-result">[] = []): ChatEvent[] {
  // A call's first result counts, as the run loop took it.
  const results = new Map<string, EventOf<"tool-result">>();
  for (const result of logged) if (!results.has(result.callId)) results.set(result.callId, result);
  const events: ChatEvent[] = [];
  for (const message of [...answer.before, answer.last]) {
    if (message.role === "assistant") {
      if (message.thinking) events.push({ type: "reasoning", runId, at, text: message.thinking });
      if (message.content) events.push({ type: "token", runId, at, text: message.content });
      for (const call of message.toolCalls ?? []) {
        events.push({ type: "tool-call", runId, at, callId: call.id, name: call.name, args: call.args });
      }
    } else if (message.role === "tool") {
      const result = results.get(message.toolCallId);
      events.push(result ? { ...result, runId, at } : toolResultEvent(message, runId, at));
    }
  }
  return events;
}

function toolResultEvent(message: Extract<ChatMessage, { role: "tool" }>, runId: string, at: number): EventOf<"tool-result"> {
  const failure = failureOf(message.content);
  const common = { type: "tool-result" as const, runId, at, callId: message.toolCallId, name: message.toolName, durationMs: 0 };
  return failure ? { ...common, ok: false, error: failure } : { ...common, ok: true, result: resultOf(message.content) };
}

/** toolResultContent's failure shape: `{"error":{"code":…,"message":…}}`. */
function failureOf(content: string): ToolFailure | undefined {
  if (!content.startsWith('{"error":')) return undefined;
  try {
    const parsed = JSON.parse(content) as { error?: { code?: unknown; message?: unknown } };
    const { code, message } = parsed.error ?? {};
    const known = errorCodeSchema.safeParse(code);
    if (known.success && typeof message === "string") return { code: known.data, message };
  } catch {
    // Text that only looks like it: a result.
  }
  return undefined;
}

/** A result the tool gave as JSON is shown as that value again; other text as the text. */
function resultOf(content: string): unknown {
  try {
    return JSON.parse(content) as unknown;
  } catch {
    return content;
  }
}
