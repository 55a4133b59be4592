/** Reading chat requests: the last user message, tool results and the tools offered, on either wire. */
import { parseFileBlocks } from "./demo-files.js";
import type { SimChatRequest } from "./types.js";

/** Message content as text: Ollama sends a string, OpenAI clients may send an array of parts. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((p: unknown) => (p && typeof p === "object" && typeof (p as { text?: unknown }).text === "string" ? (p as { text: string }).text : ""))
      .join("");
  }
  return "";
}

export function lastUserIndex(req: SimChatRequest): number {
  for (let i = req.messages.length - 1; i >= 0; i--) if (req.messages[i]?.["role"] === "user") return i;
  return -1;
}

export function lastUserText(req: SimChatRequest): string {
  const i = lastUserIndex(req);
  return i >= 0 ? contentText(req.messages[i]?.["content"]) : "";
}

/**
 * What the user typed in the last user message: its text without the file blocks the API puts before it. A
 * `[sim:x]` tag or `tokens:N` in an attached file (a test fixture, these docs) is the file's text, no directive.
 */
export function lastUserQuestion(req: SimChatRequest): string {
  return parseFileBlocks(lastUserText(req)).question;
}

/** The user messages before the last one, oldest first (what a follow-up such as "now in Rust" refers to). */
export function earlierUserTexts(req: SimChatRequest): string[] {
  const last = lastUserIndex(req);
  return req.messages.slice(0, Math.max(0, last)).filter((m) => m["role"] === "user").map((m) => contentText(m["content"]));
}

/** Names of the tools the request offers (`[{type:"function", function:{name}}]`, or a bare `{name}`). */
export function offeredTools(req: SimChatRequest): Set<string> {
  const names = new Set<string>();
  for (const t of req.tools ?? []) {
    if (!t || typeof t !== "object") continue;
    const fn = (t as { function?: { name?: unknown } }).function;
    const name = fn?.name ?? (t as { name?: unknown }).name;
    if (typeof name === "string") names.add(name);
  }
  return names;
}

export interface ToolResult {
  name: string;
  args: Record<string, unknown>;
  content: string;
}

interface CallRef {
  id?: string;
  name: string;
  args: Record<string, unknown>;
}

function callsOf(message: Record<string, unknown>): CallRef[] {
  const calls = message["tool_calls"];
  if (!Array.isArray(calls)) return [];
  return calls.flatMap((c: unknown): CallRef[] => {
    if (!c || typeof c !== "object") return [];
    const fn = (c as { function?: { name?: unknown; arguments?: unknown } }).function;
    if (typeof fn?.name !== "string") return [];
    let args: unknown = fn.arguments;
    if (typeof args === "string") {
      try {
        args = JSON.parse(args); // OpenAI sends arguments as a JSON string
      } catch {
        args = {};
      }
    }
    const id = (c as { id?: unknown }).id;
    return [{ ...(typeof id === "string" ? { id } : {}), name: fn.name, args: args && typeof args === "object" ? (args as Record<string, unknown>) : {} }];
  });
}

/**
 * Tool results sent after the last user message, each paired with the call it answers: by tool_call_id, then by
 * tool_name, then by position (older Ollama clients send neither).
 */
export function toolResultsAfterLastUser(req: SimChatRequest): ToolResult[] {
  const start = lastUserIndex(req);
  const calls: CallRef[] = [];
  const results: ToolResult[] = [];
  let position = 0;
  for (let i = start + 1; i < req.messages.length; i++) {
    const m = req.messages[i];
    if (!m) continue;
    if (m["role"] === "assistant") {
      calls.push(...callsOf(m));
      continue;
    }
    if (m["role"] !== "tool") continue;
    const id = m["tool_call_id"];
    const toolName = m["tool_name"] ?? m["name"];
    const call =
      calls.find((c) => typeof id === "string" && c.id === id) ??
      calls.find((c) => typeof toolName === "string" && c.name === toolName) ??
      calls[position];
    position++;
    results.push({
      name: typeof toolName === "string" ? toolName : (call?.name ?? "tool"),
      args: call?.args ?? {},
      content: contentText(m["content"]),
    });
  }
  return results;
}

export function hasToolResultsAfterLastUser(req: SimChatRequest): boolean {
  const start = lastUserIndex(req);
  return req.messages.slice(start + 1).some((m) => m["role"] === "tool");
}

/** An image a message carries: Ollama `images` (base64), or an OpenAI `image_url` content part. */
export interface MessageImage {
  /** Decoded bytes; undefined for a URL the simulator cannot fetch (it never goes online). */
  bytes: Buffer | undefined;
  /** The MIME type the client declared (OpenAI data URLs), if any. */
  declaredType?: string;
}

export function imagesOf(message: Record<string, unknown> | undefined): MessageImage[] {
  if (!message) return [];
  const out: MessageImage[] = [];
  const images = message["images"];
  if (Array.isArray(images)) {
    for (const image of images) if (typeof image === "string") out.push({ bytes: Buffer.from(image, "base64") });
  }
  const content = message["content"];
  if (Array.isArray(content)) {
    for (const part of content as unknown[]) {
      if (!part || typeof part !== "object" || (part as { type?: unknown }).type !== "image_url") continue;
      const field = (part as { image_url?: unknown }).image_url;
      const url = typeof field === "string" ? field : field && typeof field === "object" ? (field as { url?: unknown }).url : undefined;
      const data = typeof url === "string" ? /^data:([^;,]*)(;base64)?,(.*)$/s.exec(url) : null;
      if (data?.[2]) out.push({ bytes: Buffer.from(data[3] ?? "", "base64"), ...(data[1] ? { declaredType: data[1] } : {}) });
      else out.push({ bytes: undefined });
    }
  }
  return out;
}

/** The images on the last user message (the one being answered). */
export function lastUserImages(req: SimChatRequest): MessageImage[] {
  return imagesOf(req.messages[lastUserIndex(req)]);
}

/** Whether any message of the request carries an image. */
export function hasImages(req: SimChatRequest): boolean {
  return req.messages.some((m) => imagesOf(m).length > 0);
}
