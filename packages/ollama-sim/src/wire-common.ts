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

  constructor(readonly promptTokens: number) {}

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
    const loadNs = 1_250_000;
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

/** Rough prompt size: ~4 characters per token, as tokenizers average on English text. */
export function estimatePromptTokens(messages: Array<Record<string, unknown>>): number {
  let chars = 0;
  for (const m of messages) {
    const c = m["content"];
    chars += typeof c === "string" ? c.length : JSON.stringify(c ?? "").length;
    chars += 8; // role and template tokens
  }
  return Math.max(1, Math.ceil(chars / 4));
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
