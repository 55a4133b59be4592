import { answerReserve, defaultMaxContextTokens, estimateTextTokens, userMessageText, type FileAttachment } from "@streamchat/core/browser";
import type { RouterOutputs } from "../trpc.js";
import { tokensShort } from "./ContextMeter.js";

/**
 * The most of a model's window the server lets a request fill (`health.limits.maxContextTokens`, MAX_CONTEXT_TOKENS);
 * core's default when it does not say (an older server, an anonymous answer, no answer yet), as the engine assumes.
 */
export function maxContextTokensOf(health: RouterOutputs["health"] | null | undefined): number {
  const limits: { maxContextTokens?: unknown } | null | undefined = typeof health === "object" && health !== null && "limits" in health ? health.limits : undefined;
  const value = limits?.maxContextTokens;
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : defaultMaxContextTokens;
}

export interface ContextFitInput {
  /** What is typed in the box. */
  text: string;
  files: readonly FileAttachment[];
  /** The chosen model's window (models.list `contextLength`); undefined when the server does not say. */
  contextLength: number | undefined;
  maxContextTokens: number;
  /**
   * What the server says a new message may take (models.room `room`: the window less the answer's reserve, the
   * instructions and the tools, by the model's calibration); undefined until it has answered, or when it cannot say.
   */
  room?: number | undefined;
}

/** How far a message with its files goes past what the model reads at once (whole tokens, estimated). */
export interface ContextOverflow {
  /** The files as the model reads them (`<file>` blocks). */
  fileTokens: number;
  /** The files and the typed text. */
  tokens: number;
  /** What the message may fill: the request's limit less the room the engine keeps for the answer (and, when the server says, less the instructions and tools). */
  budget: number;
}

// The tray's files are the same objects render after render: each one's estimate is counted once, not per keystroke.
const fileTokenCache = new WeakMap<FileAttachment, number>();

function fileTokens(file: FileAttachment): number {
  let tokens = fileTokenCache.get(file);
  if (tokens === undefined) {
    // As the engine renders it, name and tags included: a message's estimate is the sum of its parts' (ASCII / 4 + the rest).
    tokens = estimateTextTokens(userMessageText({ content: "", files: [file] }));
    fileTokenCache.set(file, tokens);
  }
  return tokens;
}

/**
 * Whether a message (with its files, if any) will not fit the model's window: null when it fits, or when the window is
 * unknown (OpenAI-compatible servers mostly do not say; a guess would cry wolf).
 *
 * The engine's own arithmetic: the server's `room` (models.room, core's promptRoom: the request's limit, the answer's
 * reserve, the system message with the user's instructions and the tools, by the model's calibration) when it has
 * said; until then, the request's limit (the model's window capped by MAX_CONTEXT_TOKENS) less `answerReserve(limit)`.
 * The message's estimate is the engine's (`estimateTextTokens`). Earlier messages are not counted: the engine leaves
 * out older messages first, and the newest one is what it cannot shorten, so this says only what is certain to be cut.
 */
export function contextOverflow(input: ContextFitInput): ContextOverflow | null {
  const { files } = input;
  const reserved = windowLessReserve(input.contextLength, input.maxContextTokens);
  if (reserved === undefined) return null;
  const budget = input.room !== undefined && Number.isFinite(input.room) && input.room >= 0 ? input.room : reserved;
  // The estimate is at most a token a character: text as short as the budget cannot go past it, and is not read through
  // at every keystroke.
  if (files.length === 0 && input.text.length <= budget) return null;
  let forFiles = 0;
  for (const file of files) forFiles += fileTokens(file);
  const tokens = forFiles + estimateTextTokens(input.text);
  return tokens > budget ? { fileTokens: Math.ceil(forFiles), tokens: Math.ceil(tokens), budget } : null;
}

/**
 * Whether a typed text without files is long enough to come near the model's window: half of what a message may take
 * before the server says how much its instructions and tools take (a text's tokens are at most its characters). The
 * composer asks the server's count (models.room) from then on, as it does once files are attached.
 */
export function textNearWindow(chars: number, contextLength: number | undefined, maxContextTokens: number): boolean {
  const reserved = windowLessReserve(contextLength, maxContextTokens);
  return reserved !== undefined && chars > reserved / 2;
}

/**
 * What a message may take before the server says (models.room): the request's limit (the model's window capped by
 * MAX_CONTEXT_TOKENS) less `answerReserve(limit)`; undefined when the window is unknown.
 */
function windowLessReserve(contextLength: number | undefined, maxContextTokens: number): number | undefined {
  if (contextLength === undefined || !Number.isFinite(contextLength) || contextLength <= 0) return undefined;
  const limit = Math.max(1, Math.min(contextLength, maxContextTokens));
  return Math.max(0, limit - answerReserve(limit));
}

/**
 * The note under the tray, in a sentence: "budget.csv is about 26K tokens; this model has room for about 24K here, so
 * it will see only part of it." When the files fit alone and only the typed text tips them over, it says the message.
 */
export function contextOverflowNote(overflow: ContextOverflow, files: readonly { name: string }[]): string {
  const reads = `this model has room for about ${tokensShort(overflow.budget)} here`;
  if (files.length === 0) return `This message is about ${tokensShort(overflow.tokens)} tokens; ${reads}, so it will see only part of it.`;
  const one = files.length === 1 ? files[0] : undefined;
  if (overflow.fileTokens > overflow.budget) {
    const subject = one ? `${one.name} is` : "These files are";
    return `${subject} about ${tokensShort(overflow.fileTokens)} tokens; ${reads}, so it will see only part of ${one ? "it" : "them"}.`;
  }
  return `This message and its ${one ? "file" : "files"} are about ${tokensShort(overflow.tokens)} tokens; ${reads}, so it will see only part of it.`;
}

/** The note for the composer, or null when there is nothing to say. */
export function contextFitNote(input: ContextFitInput): string | null {
  const overflow = contextOverflow(input);
  return overflow ? contextOverflowNote(overflow, input.files) : null;
}
