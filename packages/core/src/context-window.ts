import type { ChatModel, ModelCapabilities } from "./model.js";

/**
 * Context-window decisions of the run loop, and what it remembers per model between runs.
 *
 * - The limit a run may fill: the model's context length, capped by `maxContextTokens` (default 32768:
 *   a 128k window on a laptop costs gigabytes of KV cache, and Ollama reloads the model to change it).
 * - The prompt budget: the limit minus room for the answer (a quarter of the window, 256–4096 tokens).
 * - Ollama: a request without `num_ctx` gets the server's default window (2048 on older servers, 4096 on
 *   most, more on some) and anything longer is cut silently. So when the prompt plus answer room (at most
 *   1024 tokens) needs more than `defaultContextTokens`, `num_ctx` is sent: the window the model is already loaded with when that
 *   is enough (no reload), else the next power of two from 4096 up, capped at the limit. Once a size was
 *   sent for a model it is sent again for every later request of that model (never smaller), so
 *   conversations of different lengths do not make Ollama reload the model back and forth.
 * - Calibration: the text estimate is multiplied by a per-model ratio, reported prompt_eval_count /
 *   estimate, smoothed over answers. Samples with images (their cost varies by model) and suspicious
 *   samples (ratio below 0.5: a truncated prompt, or an old server counting only uncached tokens) are
 *   not learnt from.
 * - Truncation: after an answer, the server cut the prompt when it evaluated far fewer tokens than were
 *   sent: under 90% of the estimate when the estimate did not fit the window, else under half of it for a
 *   prompt of 1024 tokens or more (smaller ones fit every window; very old Ollama versions reported only
 *   the uncached part of a prompt, which this could mistake for a cut).
 */

export const defaultMaxContextTokens = 32_768;
/** Smallest num_ctx the run loop sends; every Ollama version's default window is at least 2048. */
const smallestNumCtx = 4096;
const maxRememberedModels = 256;
/** Prompts smaller than this fit any Ollama window: a low count for them is no sign of a cut. */
const minimumCheckedPrompt = 1024;

export interface ContextWindow {
  contextLength: number | undefined;
  /** Tokens a request may fill; undefined when the model's context length is unknown (no token budget). */
  limit: number | undefined;
}

/** The window a run of a model fills: its context length, capped by `maxContextTokens` where the window is chosen per request. */
export function contextWindowOf(caps: ModelCapabilities, maxContextTokens: number | undefined): ContextWindow {
  const contextLength = caps.contextLength;
  if (contextLength === undefined) return { contextLength, limit: undefined };
  // The cap guards memory where the window is chosen per request; a fixed server window is already paid for.
  const cap = maxContextTokens ?? (caps.defaultContextTokens !== undefined ? defaultMaxContextTokens : undefined);
  return { contextLength, limit: cap === undefined ? contextLength : Math.max(1, Math.min(contextLength, cap)) };
}

/** Tokens kept free for the answer when trimming history to a window of `limit` tokens. */
export function answerReserve(limit: number): number {
  return Math.min(4096, Math.max(256, Math.floor(limit / 4)));
}

/**
 * Answer room asked of the server's window when deciding on num_ctx: at most 1024 tokens, so a short
 * conversation stays in Ollama's default window (no reload, no extra memory); a longer answer still
 * streams, Ollama shifts the window while generating.
 */
export function numCtxAnswerRoom(reserve: number): number {
  return Math.min(1024, reserve);
}

export interface NumCtxInput {
  /** Estimated prompt tokens plus the answer reserve. */
  need: number;
  /** The window a request gets without num_ctx. */
  defaultTokens: number;
  /** The most the run may use (context length capped by maxContextTokens). */
  limit: number;
  /** The largest num_ctx sent for this model before, if any. */
  sticky: number | undefined;
  /** The window the model is loaded with right now (Ollama /api/ps), if known. */
  loadedTokens: number | undefined;
}

/** The num_ctx to send, or undefined to send none (see the module comment). */
export function chooseNumCtx(input: NumCtxInput): number | undefined {
  const { need, defaultTokens, limit, sticky, loadedTokens } = input;
  if (need <= defaultTokens && sticky === undefined) return undefined;
  let size: number;
  if (loadedTokens !== undefined && loadedTokens >= need) {
    size = loadedTokens;
  } else {
    size = smallestNumCtx;
    while (size < need && size < limit) size *= 2;
  }
  return Math.min(limit, Math.max(size, sticky ?? 0));
}

/** Did the server cut the prompt? (see the module comment) */
export function promptWasTruncated(input: { expected: number; window: number | undefined; reported: number | undefined }): boolean {
  const { expected, window, reported } = input;
  if (reported === undefined || window === undefined) return false;
  if (expected > window) return reported < expected * 0.9;
  // Not expected to overflow, yet under half of a sizeable prompt evaluated: the window was smaller than
  // assumed (another OLLAMA_CONTEXT_LENGTH, a server without /api/ps context lengths).
  return expected >= minimumCheckedPrompt && reported < expected * 0.5;
}

/** Per model server (ChatModel instance): calibration ratios and the num_ctx sent, per model name. */
export class ContextMemory {
  private readonly ratios = new Map<string, number>();
  private readonly numCtx = new Map<string, number>();

  ratio(model: string): number {
    return this.ratios.get(model) ?? 1;
  }

  /** Learns from one answer: `estimatedText` uncalibrated text tokens sent, `reported` prompt_eval_count. */
  calibrate(model: string, estimatedText: number, reported: number): void {
    if (estimatedText < 32) return; // too small to say anything about the tokenizer
    const sample = reported / estimatedText;
    if (sample < 0.5 || sample > 4) return;
    const previous = this.ratios.get(model);
    remember(this.ratios, model, previous === undefined ? sample : (previous + sample) / 2);
  }

  stickyNumCtx(model: string): number | undefined {
    return this.numCtx.get(model);
  }

  sentNumCtx(model: string, numCtx: number): void {
    if (numCtx > (this.numCtx.get(model) ?? 0)) remember(this.numCtx, model, numCtx);
  }
}

function remember(map: Map<string, number>, key: string, value: number): void {
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= maxRememberedModels) break;
    map.delete(oldest);
  }
}

// Keyed by the provider instance: every run on the same model server shares what was learnt, with no
// wiring by the caller, and it goes away with the provider.
const memories = new WeakMap<ChatModel, ContextMemory>();

export function contextMemoryOf(model: ChatModel): ContextMemory {
  let memory = memories.get(model);
  if (!memory) {
    memory = new ContextMemory();
    memories.set(model, memory);
  }
  return memory;
}
