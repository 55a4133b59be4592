import { toStorableText, type ChatMessage } from "@streamchat/core";
import type { StoredMessage } from "@streamchat/store";

/** Introduces the user's custom instructions in the system message, so the model tells them from the server's prompt. */
export const instructionsHeading = "The user's custom instructions, for every answer unless they ask otherwise in the conversation:";
/** Introduces the conversation's own instructions: the user set them for this chat alone, so they win where the two differ. */
export const conversationInstructionsHeading =
  "The user's instructions for this conversation, which come before their custom instructions where the two differ:";

/** What a run's system message carries beside the server's prompt ("" for none): the store's RunSettings has them. */
export interface ContextInstructions {
  user: string;
  conversation: string;
}

const noInstructions: ContextInstructions = { user: "", conversation: "" };

/** The system message's text: the server's prompt, then the user's custom instructions and the conversation's, each under its heading. */
export function systemText(systemPrompt: string, { user, conversation }: ContextInstructions = noInstructions): string {
  let text = systemPrompt;
  if (user !== "") text += `\n\n${instructionsHeading}\n\n${user}`;
  if (conversation !== "") text += `\n\n${conversationInstructionsHeading}\n\n${conversation}`;
  return text;
}

/**
 * The request context of a run: system prompt (with the user's and the conversation's instructions, if any) + the whole stored
 * conversation. Not trimmed here: runChat trims it (MAX_CONTEXT_MESSAGES, not counting the system prompt, and the
 * model's context window) and reports what it left out (a contextTrimmed status, usage.context.droppedMessages), which
 * it can only count from the whole history.
 */
export function buildContext(systemPrompt: string, history: readonly StoredMessage[], instructions?: ContextInstructions): ChatMessage[] {
  const system = systemText(systemPrompt, instructions);
  // concat, not a spread: a spread grows the array to 17 slots, and the run keeps it for as long as it streams.
  return ([{ role: "system", content: system }] as ChatMessage[]).concat(history.map((m) => m.message));
}

const titleMaxChars = 60;

/**
 * A conversation title from its first message: the first line, whitespace collapsed, at most 60 chars. A message
 * may hold NUL or an unpaired surrogate (stored escaped in its JSON); its title gets U+FFFD in their place.
 */
export function titleFrom(message: string): string {
  const line = toStorableText(message.trim().split(/\r?\n/, 1)[0] ?? "").replace(/\s+/g, " ").trim();
  if (!line) return "New conversation";
  if (line.length <= titleMaxChars) return line;
  // Never cut a surrogate pair in half (the half left would be unstorable).
  const high = line.charCodeAt(titleMaxChars - 2);
  const cut = high >= 0xd800 && high <= 0xdbff ? titleMaxChars - 2 : titleMaxChars - 1;
  return `${line.slice(0, cut).trimEnd()}…`;
}
