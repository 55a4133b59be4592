import type { CallToolResult, ContentBlock } from "@modelcontextprotocol/sdk/types.js";

/**
 * What a successful MCP tool call yields as the `tool-result` event's result: the server's content blocks
 * in its order (images and audio keep their base64 data, for the UI) and its structuredContent.
 */
export interface McpToolResult {
  content: ContentBlock[];
  structuredContent?: Record<string, unknown>;
}

export function toToolResult(result: CallToolResult): McpToolResult {
  const mapped: McpToolResult = { content: result.content ?? [] };
  if (result.structuredContent !== undefined) mapped.structuredContent = result.structuredContent;
  return mapped;
}

/**
 * Most characters of a result the model reads by default (about 12 500 tokens): a server can answer with megabytes
 * of text (a whole log file), which would fill the model's window many times over; Ollama then keeps the prompt's
 * end, and the model loses the system prompt and the question.
 */
export const defaultMaxModelChars = 50_000;

/**
 * The text the model reads back. It starts with the tool's text content (every text block, in order);
 * without any, the structuredContent as JSON. Other blocks follow as one-line summaries: a model gets no
 * use from megabytes of base64, and the data stays in the result for the UI. Longer than `maxChars`, it is
 * cut there, with a line saying how long it was (the result itself keeps everything).
 */
export function modelContent(result: McpToolResult, maxChars = defaultMaxModelChars): string {
  const texts = result.content.flatMap((block) => (block.type === "text" ? [block.text] : []));
  const parts: string[] = [];
  if (texts.length > 0) parts.push(texts.join("\n"));
  else if (result.structuredContent !== undefined) parts.push(JSON.stringify(result.structuredContent));
  for (const block of result.content) {
    const summary = summarize(block);
    if (summary) parts.push(summary);
  }
  return parts.length > 0 ? cut(parts.join("\n"), maxChars) : "(the tool returned no content)";
}

function cut(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let end = maxChars;
  // Not between the two halves of a surrogate pair.
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}\n[The result is cut here: it has ${text.length} characters, of which the first ${end} are shown.]`;
}

/** The text of a failed call (isError: true): the server's own message. */
export function errorText(result: CallToolResult): string {
  const text = (result.content ?? [])
    .flatMap((block) => (block.type === "text" ? [block.text] : []))
    .join("\n")
    .trim();
  return text || "the server reported an error without a message";
}

function summarize(block: ContentBlock): string | undefined {
  switch (block.type) {
    case "text":
      return undefined;
    case "image":
    case "audio":
      return `[${block.type} ${block.mimeType}, ${size(block.data)}: shown to the user, not included here]`;
    case "resource_link":
      return `[resource link: ${block.name} ${block.uri}]`;
    case "resource": {
      const resource = block.resource;
      if ("text" in resource) return `[resource ${resource.uri}]\n${resource.text}`;
      return `[resource ${resource.uri}${resource.mimeType ? ` ${resource.mimeType}` : ""}, ${size(resource.blob)}: not included here]`;
    }
    default:
      return `[${(block as { type: string }).type} content]`;
  }
}

function size(base64: string): string {
  const bytes = Math.floor((base64.length * 3) / 4);
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}
