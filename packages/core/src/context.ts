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
 * rounds of the current run). An assistant message with tool calls and the tool results that follow it
 * are one unit: dropped together or kept together, because providers reject a tool result without its
 * call (OpenAI) or lose track of it (Ollama). When even the kept parts exceed the budget, they are
 * returned anyway: an answer with a long prompt beats no answer.
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
  const history = units(messages.slice(head, tailStart)).map((unit) => ({
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
  // A tool result never leads the kept history: it would answer a call the model can no longer see.
  const kept = history.slice(drop).flatMap((u) => u.unit);
  while (kept[0]?.role === "tool") tokens -= estimate(kept.shift()!);
  const out = [...system, ...kept, ...tail];
  return { messages: out, droppedMessages: messages.length - out.length, estimatedTokens: tokens };
}

/** Groups an assistant message with its tool calls together with the tool results that follow it. */
function units(messages: ChatMessage[]): ChatMessage[][] {
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
    if (m.role === "assistant") {
      n += m.thinking?.length ?? 0;
      for (const call of m.toolCalls ?? []) n += call.name.length + (JSON.stringify(call.args) ?? "").length;
    }
  }
  return n;
}
