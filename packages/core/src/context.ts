import type { ChatMessage } from "./model.js";
import { estimateMessageTokens } from "./tokens.js";

export interface TrimOptions {
  /** Most messages to keep (kept messages that must stay, see below, can exceed it). Default: no limit. */
  maxMessages?: number;
  /** Most characters (content, thinking and tool-call arguments) to keep. */
  maxChars?: number;
  /** Most estimated tokens to keep (see tokens.ts). */
  maxTokens?: number;
  /** The token estimate of one message; default `estimateMessageTokens` (uncalibrated). */
  estimateTokens?: (message: ChatMessage) => number;
}

export interface TrimResult {
  messages: ChatMessage[];
  /** Messages left out (history only: the system prompt and the current question always stay). */
  droppedMessages: number;
  /** Estimated tokens of the kept messages, by `estimateTokens`. */
  estimatedTokens: number;
}

/**
 * Drops the oldest history until the context fits the budget. Never dropped: the leading system
 * message(s) and everything from the last user message on (the question being answered and any tool
 * rounds of the current run). History goes a whole turn at a time (a user message and the answers and
 * tool rounds up to the next one), so the kept history starts with a user message: a model shown an
 * answer without its question misreads it, and a tool result without its call is rejected (OpenAI-
 * compatible servers require tool messages to follow their tool_calls) or lost track of (Ollama).
 * Messages before the first user message (a greeting) form one unit, dropped first. When even the kept
 * parts exceed the budget, they are returned anyway: an answer with a long prompt beats no answer.
 */
export function trimContext(messages: ChatMessage[], opts: TrimOptions): ChatMessage[] {
  return fitContext(messages, opts).messages;
}

/** `trimContext` that also says how much it left out and how many tokens remain. */
export function fitContext(messages: ChatMessage[], opts: TrimOptions): TrimResult {
  const maxMessages = Math.max(0, opts.maxMessages ?? Infinity);
  const maxChars = opts.maxChars ?? Infinity;
  const maxTokens = opts.maxTokens ?? Infinity;
  const estimate = opts.estimateTokens ?? ((m: ChatMessage) => estimateMessageTokens(m));

  let head = 0;
  while (head < messages.length && messages[head]?.role === "system") head += 1;
  let lastUser = -1;
  for (let i = messages.length - 1; i >= head; i -= 1) {
    if (messages[i]?.role === "user") {
      lastUser = i;
      break;
    }
  }
  const tailStart = lastUser === -1 ? messages.length : lastUser;
  const system = messages.slice(0, head);
  const tail = messages.slice(tailStart);
  const history = turns(messages.slice(head, tailStart)).map((unit) => ({
    unit,
    chars: sizeOf(unit),
    tokens: unit.reduce((n, m) => n + estimate(m), 0),
  }));
  const tokensOf = (list: ChatMessage[]) => list.reduce((n, m) => n + estimate(m), 0);

  let count = system.length + tail.length + history.reduce((n, u) => n + u.unit.length, 0);
  let chars = sizeOf(system) + sizeOf(tail) + history.reduce((n, u) => n + u.chars, 0);
  let tokens = tokensOf(system) + tokensOf(tail) + history.reduce((n, u) => n + u.tokens, 0);
  let drop = 0;
  while (drop < history.length && (count > maxMessages || chars > maxChars || tokens > maxTokens)) {
    const unit = history[drop]!;
    count -= unit.unit.length;
    chars -= unit.chars;
    tokens -= unit.tokens;
    drop += 1;
  }
  // A history given starting with a tool result (its call already gone) still must not lead with it: it
  // would answer a call the model cannot see.
  const kept = history.slice(drop).flatMap((u) => u.unit);
  while (kept[0]?.role === "tool") tokens -= estimate(kept.shift()!);
  // concat, not a spread: a spread grows the array to 17 slots, and the run keeps it for as long as it streams.
  const out = system.concat(kept, tail);
  return { messages: out, droppedMessages: messages.length - out.length, estimatedTokens: tokens };
}

/**
 * The history as droppable units, oldest first: what precedes the first user message, then one unit per
 * turn. Without any user message (no turn to keep whole) the units are single messages, an assistant
 * tool call grouped with its results.
 */
function turns(history: ChatMessage[]): ChatMessage[][] {
  const firstUser = history.findIndex((m) => m.role === "user");
  if (firstUser === -1) return callUnits(history);
  const out: ChatMessage[][] = firstUser > 0 ? [history.slice(0, firstUser)] : [];
  for (const message of history.slice(firstUser)) {
    if (message.role === "user") out.push([message]);
    else out.at(-1)!.push(message);
  }
  return out;
}

/** Groups an assistant message with its tool calls together with the tool results that follow it. */
function callUnits(messages: ChatMessage[]): ChatMessage[][] {
  const out: ChatMessage[][] = [];
  for (const message of messages) {
    const previous = out.at(-1);
    const opener = previous?.[0];
    const joinsCall =
      message.role === "tool" &&
      opener?.role === "assistant" &&
      (opener.toolCalls?.length ?? 0) > 0 &&
      previous!.every((m, i) => i === 0 || m.role === "tool");
    if (joinsCall) previous!.push(message);
    else out.push([message]);
  }
  return out;
}

function sizeOf(messages: ChatMessage[]): number {
  let n = 0;
  for (const m of messages) {
    n += m.content.length;
    if (m.role === "user") for (const file of m.files ?? []) n += file.text.length;
    if (m.role === "assistant") {
      n += m.thinking?.length ?? 0;
      for (const call of m.toolCalls ?? []) n += call.name.length + (JSON.stringify(call.args) ?? "").length;
    }
  }
  return n;
}
