import { trimContext, type ChatMessage } from "@streamchat/core";
import type { StoredMessage } from "@streamchat/store";

/** The request context of a run: system prompt + the stored conversation, trimmed oldest-first. */
export function buildContext(
  systemPrompt: string,
  history: StoredMessage[],
  limits: { maxMessages: number },
): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: "system", content: systemPrompt }, ...history.map((m) => m.message)];
  // The system prompt is not counted against MAX_CONTEXT_MESSAGES: it is always sent.
  return trimContext(messages, { maxMessages: limits.maxMessages + 1 });
}

const titleMaxChars = 60;

/** A conversation title from its first message: the first line, whitespace collapsed, at most 60 chars. */
export function titleFrom(message: string): string {
  const line = message.trim().split(/\r?\n/, 1)[0]?.replace(/\s+/g, " ").trim() ?? "";
  if (!line) return "New conversation";
  return line.length <= titleMaxChars ? line : `${line.slice(0, titleMaxChars - 1).trimEnd()}…`;
}
