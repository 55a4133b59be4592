/**
 * The demo model naming a conversation: asked "Write a short title … for the conversation above" (what the API
 * sends after a conversation's first answer), it answers a few words naming what the first message asked,
 * from the same rules that choose its answers (time, arithmetic, code, known topics), else the message's subject;
 * one that came with files is named after them.
 */
import { extractExpression } from "./arithmetic.js";
import { codeRequest, subjectOf } from "./demo-answers.js";
import { parseFileBlocks } from "./demo-files.js";
import { topicsIn } from "./demo-topics.js";
import { defaultLanguage } from "./demo-code.js";
import { earlierUserTexts, lastUserText } from "./messages.js";
import type { SimChatRequest } from "./types.js";

const titleAsk = /^\s*(?:please\s+)?(?:write|generate|create|give|suggest)\b[^.\n]{0,40}\btitle\b/i;

/** A request for a title of the conversation before it (at least one earlier user message). */
export function isTitleRequest(req: SimChatRequest): boolean {
  return titleAsk.test(lastUserText(req)) && earlierUserTexts(req).length > 0;
}

const capitalize = (text: string) => text.replace(/^\p{Ll}/u, (c) => c.toUpperCase());

/** What the demo model answers to a title request: the title of the first user message. */
export function titleForRequest(req: SimChatRequest): string {
  const first = parseFileBlocks(earlierUserTexts(req)[0] ?? "");
  return first.files.length > 0 ? filesTitle(first.files.map((file) => file.name)) : demoTitle(first.question);
}

/**
 * A conversation that starts with files is about them, whatever the question ("what is in this?", "summarise"):
 * the title names them.
 */
export function filesTitle(names: string[]): string {
  const short = names.map((name) => ([...name].length > 40 ? `${[...name].slice(0, 39).join("")}…` : name));
  if (short.length === 1) return `About ${short[0]}`;
  if (short.length === 2) return `About ${short[0]} and ${short[1]}`;
  return `About ${short[0]} and ${short.length - 1} more files`;
}

/** A short title (at most ~6 words, no end punctuation) for a conversation that starts with `text`. */
export function demoTitle(text: string): string {
  const clean = text.replace(/\[sim:[^\]]*\]/g, " ").replace(/\btokens:\d+\b/g, " ").replace(/\s+/g, " ").trim();
  const search = /\bsearch\s+(?:(?:my|our|the|all|past|previous|old)\s+)*(?:conversations?|chats?|history|messages)(?:\s+(?:for|about))?\s+(.+)/i.exec(clean);
  if (search?.[1]) return `Search for ${shorten(search[1].replace(/["'“”‘’.?!]+/g, ""), 4)}`;
  const code = codeRequest(clean, []);
  if (code?.task) return capitalize(`${code.task.title} in ${(code.lang ?? defaultLanguage).name}`);
  if (/\b(?:what(?:'s| is)? the time|what time|current time|local time|time (?:is it|now|in)|clock)\b/i.test(clean)) {
    const place = /\b(?:in|at)\s+((?:\p{Lu}[\p{L}'-]*\s?){1,3})/u.exec(clean)?.[1]?.trim();
    return place ? `Current time in ${place}` : "Current time";
  }
  const expression = extractExpression(clean);
  if (expression !== undefined) return `Calculating ${shorten(expression, 5)}`;
  const topics = topicsIn(clean);
  if (topics.length >= 2) return `${topics[0]!.short} vs ${topics[1]!.short}`;
  if (topics.length === 1) return capitalize(topics[0]!.name);
  if (/^\s*(hi|hello|hey|good (morning|afternoon|evening))\b/i.test(clean)) return "Greeting and introductions";
  const subject = subjectOf(clean);
  return subject ? capitalize(shorten(subject, 6)) : "New conversation";
}

function shorten(text: string, words: number): string {
  const all = text.trim().split(/\s+/);
  return all.length <= words ? all.join(" ") : all.slice(0, words).join(" ");
}
