/** What both wire encoders share: timestamps, tool-call ids and the metrics of one response. */
import { randomBytes } from "node:crypto";
import type { SimChunk, SimToolCall } from "./types.js";

/** A tool call with the id and index it goes out with (the same on the stream and in a stream:false body). */
export interface ResolvedCall {
  id: string;
  index: number;
  name: string;
  arguments: Record<string, unknown>;
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Ollama ≥ 0.12.10 ids: "call_" + 8 lowercase alphanumerics. */
export function newToolCallId(): string {
  const bytes = randomBytes(8);
  let id = "call_";
  for (const b of bytes) id += idAlphabet[b % idAlphabet.length];
  return id;
}

let cachedMs = -1;
let cachedIso = "";

/** Wall-clock time with nanosecond digits, as Go writes it: 2025-06-01T10:00:00.000000001Z. */
export function createdAt(): string {
  const now = performance.timeOrigin + performance.now();
  const ms = Math.floor(now);
  if (ms !== cachedMs) {
    cachedMs = ms;
    cachedIso = new Date(ms).toISOString().slice(0, -1); // "…T10:00:00.000" — the cache keeps floods cheap
  }
  const subMs = Math.floor((now - ms) * 1e6);
  return `${cachedIso}${String(subMs).padStart(6, "0")}Z`;
}

/** Printable ASCII without quote or backslash needs no escaping: skip JSON.stringify on the hot path. */
const plainAscii = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

export function jsonString(text: string): string {
  return plainAscii.test(text) ? `"${text}"` : JSON.stringify(text);
}

export interface OllamaMetrics {
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
}

/** Counts tokens and time of one response; durations in nanoseconds like Ollama. */
export class ResponseMeter {
  private readonly startNs = process.hrtime.bigint();
  private firstTokenNs: bigint | undefined;
  private nextIndex = 0;
  evalCount = 0;

  /** `loadMs`: how long this request waited for its model to load (0 when it was loaded). */
  constructor(
    readonly promptTokens: number,
    readonly loadMs = 0,
  ) {}

  count(chunk: SimChunk): void {
    if (chunk.content || chunk.thinking || chunk.toolCalls?.length) {
      this.firstTokenNs ??= process.hrtime.bigint();
      this.evalCount += 1;
    }
  }

  resolveCalls(calls: SimToolCall[] | undefined): ResolvedCall[] {
    if (!calls?.length) return [];
    return calls.map((c) => ({ id: c.id ?? newToolCallId(), index: this.nextIndex++, name: c.name, arguments: c.arguments }));
  }

  metrics(): OllamaMetrics {
    const now = process.hrtime.bigint();
    const loadNs = this.loadMs > 0 ? Math.round(this.loadMs * 1e6) : 1_250_000;
    const promptNs = this.promptTokens * 120_000;
    const evalNs = Math.max(1, Number(now - (this.firstTokenNs ?? now)));
    const totalNs = Math.max(Number(now - this.startNs), loadNs + promptNs + evalNs);
    return {
      total_duration: totalNs,
      load_duration: loadNs,
      prompt_eval_count: this.promptTokens,
      prompt_eval_duration: promptNs,
      eval_count: this.evalCount,
      eval_duration: evalNs,
    };
  }
}

/** Tokens an image costs in the simulated prompt (llava's 336×336 CLIP encoder: 24×24 patches). */
export const imageTokens = 576;

/** Rough size of one message: ~4 characters per token, 2 tokens of template, 576 per image. */
export function messageTokens(m: Record<string, unknown>): number {
  const c = m["content"];
  let chars = 8; // role and template tokens
  let images = Array.isArray(m["images"]) ? m["images"].length : 0;
  if (typeof c === "string") chars += c.length;
  else if (Array.isArray(c)) {
    // OpenAI content parts: text counts as text, image_url parts as images (never their base64 length).
    for (const part of c as unknown[]) {
      if (!part || typeof part !== "object") continue;
      const p = part as { type?: unknown; text?: unknown };
      if (typeof p.text === "string") chars += p.text.length;
      else if (p.type === "image_url") images += 1;
    }
  } else if (c !== undefined && c !== null) chars += JSON.stringify(c).length;
  if (typeof m["thinking"] === "string") chars += m["thinking"].length;
  if (m["tool_calls"] !== undefined) chars += JSON.stringify(m["tool_calls"]).length;
  return Math.ceil(chars / 4) + images * imageTokens;
}

/** Rough prompt size: ~4 characters per token, as tokenizers average on English text; tools count as text. */
export function estimatePromptTokens(messages: Array<Record<string, unknown>>, tools: unknown[] = []): number {
  let tokens = tools.length > 0 ? Math.ceil(JSON.stringify(tools).length / 4) : 0;
  for (const m of messages) tokens += messageTokens(m);
  return Math.max(1, tokens);
}

export interface FittedPrompt {
  messages: Array<Record<string, unknown>>;
  /** What prompt_eval_count reports. */
  tokens: number;
  droppedMessages: number;
  truncated: boolean;
}

/**
 * Fits a prompt into `numCtx` tokens the way Ollama does (server/prompt.go chatPrompt): while it is too
 * long, the oldest message after the system messages is left out, never the last one; if the last message
 * alone is still too long, the runner cuts its tokens and evaluates exactly `numCtx`.
 */
export function fitPrompt(messages: Array<Record<string, unknown>>, tools: unknown[], numCtx: number): FittedPrompt {
  const toolTokens = tools.length > 0 ? Math.ceil(JSON.stringify(tools).length / 4) : 0;
  const sizes = messages.map(messageTokens);
  let total = Math.max(1, toolTokens + sizes.reduce((a, b) => a + b, 0));
  const keep = messages.map(() => true);
  let dropped = 0;
  for (let i = 0; i < messages.length - 1 && total > numCtx; i++) {
    if (messages[i]?.["role"] === "system") continue;
    keep[i] = false;
    total -= sizes[i] ?? 0;
    dropped += 1;
  }
  const truncated = dropped > 0 || total > numCtx;
  return { messages: messages.filter((_, i) => keep[i]), tokens: Math.min(total, numCtx), droppedMessages: dropped, truncated };
}

/** What a stream:false body is built from. */
export interface Accumulated {
  content: string;
  thinking: string;
  calls: ResolvedCall[];
  doneReason: "stop" | "length";
}

export interface WireEncoder {
  readonly contentType: string;
  /** Bytes to stream for one chunk ("" = nothing). `calls` are the chunk's tool calls, resolved. */
  encode(chunk: SimChunk, calls: ResolvedCall[]): string;
  /** The whole JSON body of a stream:false answer. */
  body(acc: Accumulated): unknown;
  /** An error before streaming, in this wire's JSON shape. */
  errorBody(status: number, message: string): unknown;
  /** A stream:false answer whose model failed mid-way. */
  midStreamErrorStatus: number;
}
