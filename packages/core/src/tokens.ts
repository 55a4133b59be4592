import type { ChatMessage, ToolSpec } from "./model.js";
import { schemaText } from "./schema-text.js";
import { userMessageText } from "./files.js";

/**
 * Token estimates without a tokenizer (we cannot ship every model's). The heuristic, documented in
 * docs/architecture.md and README "Context window":
 *
 * - text: ASCII characters / 4 (English and code average 3.5–4.5 characters per token in Llama, Qwen and
 *   Gemma tokenizers) plus one token per non-ASCII character (CJK is ~1 token per character, accented
 *   letters and emoji cost more than ASCII): overestimating is the safe side, it trims a little early;
 * - each message: 4 tokens of template (role markers, separators);
 * - each image: 768 tokens (llava 576, gemma3 256, llama3.2-vision and qwen2.5-vl more for large images);
 * - tools: their JSON schema text, like any text.
 *
 * The run loop then multiplies the text part by a per-model ratio learnt from the server's reported
 * prompt_eval_count (context-window.ts), so a model whose tokenizer differs is estimated well after its
 * first answer.
 */
export const messageOverheadTokens = 4;
export const imageTokenEstimate = 768;

export function estimateTextTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x80) ascii += 1;
    else if (code < 0xdc00 || code > 0xdfff) other += 1; // a low surrogate belongs to the character before it
  }
  return ascii / 4 + other;
}

/** The text tokens of one message (content, thinking, tool calls, template overhead), without images. */
export function messageTextTokens(message: ChatMessage): number {
  let tokens = messageOverheadTokens + estimateTextTokens(message.role === "user" ? userMessageText(message) : message.content);
  if (message.role === "assistant") {
    if (message.thinking) tokens += estimateTextTokens(message.thinking);
    for (const call of message.toolCalls ?? []) tokens += estimateTextTokens(call.name) + estimateTextTokens(JSON.stringify(call.args) ?? "");
  } else if (message.role === "tool") {
    tokens += estimateTextTokens(message.toolName);
  }
  return tokens;
}

export function messageImageCount(message: ChatMessage): number {
  return message.role === "user" ? (message.images?.length ?? 0) : 0;
}

/** Whether any of the messages carries an image. */
export function carriesImages(messages: readonly ChatMessage[]): boolean {
  return messages.some((m) => messageImageCount(m) > 0);
}

/** Estimated tokens of one message; `ratio` scales the text part (per-model calibration). */
export function estimateMessageTokens(message: ChatMessage, ratio = 1): number {
  return Math.ceil(messageTextTokens(message) * ratio) + messageImageCount(message) * imageTokenEstimate;
}

/**
 * The text tokens of the tool schemas sent with a request, before the per-model ratio (0 for none): those of
 * `JSON.stringify(tools)`, counted without serializing every schema for every run.
 */
export function toolTextTokens(tools: readonly ToolSpec[]): number {
  if (tools.length === 0) return 0;
  let tokens = (tools.length + 1) / 4; // "[", "]" and the commas between the tools
  for (const tool of tools) tokens += toolSpecTokens(tool);
  return tokens;
}

/**
 * Tokens of each tool's JSON Schema text, by schema object. A run's tools are new objects, but their schemas are the
 * same few objects run after run (toolSpec's cache, an MCP server's listing), and serializing them was a visible share
 * of a short run. The count is of text only, so it adds up part by part: name and description are counted each time.
 */
const parameterTokens = new WeakMap<object, number>();

function toolSpecTokens(spec: ToolSpec): number {
  const parameters: unknown = spec.parameters;
  if (typeof parameters !== "object" || parameters === null) return estimateTextTokens(JSON.stringify(spec));
  let tokens = parameterTokens.get(parameters);
  if (tokens === undefined) {
    tokens = estimateTextTokens(schemaText(parameters));
    parameterTokens.set(parameters, tokens);
  }
  // The spec with its schema replaced by "0" (one ASCII character, a quarter of a token), plus the schema.
  return estimateTextTokens(JSON.stringify({ ...spec, parameters: 0 })) - 1 / 4 + tokens;
}

/** Estimated tokens of the tool schemas sent with a request. */
export function estimateToolTokens(tools: readonly ToolSpec[], ratio = 1): number {
  return Math.ceil(toolTextTokens(tools) * ratio);
}

/** Estimated prompt tokens of a whole request. */
export function estimatePromptTokens(messages: readonly ChatMessage[], tools: readonly ToolSpec[] = [], ratio = 1): number {
  let total = estimateToolTokens(tools, ratio);
  for (const message of messages) total += estimateMessageTokens(message, ratio);
  return total;
}
