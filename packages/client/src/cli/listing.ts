import type { ConversationSummary, ModelList, SearchHit } from "../client.js";
import { shorten } from "./shorten.js";

/**
 * The lines of chat list, chat search and chat models: one item a line, its id (or name) first, so `awk '{print $1}'`
 * gets the ids; free text (titles, passages) last, flattened to one line and, on a terminal, shortened to its width.
 */

/**
 * `text` on one line: control characters (line breaks, tabs, ESC, which would let a title move the cursor or colour the
 * terminal) and Unicode's line and paragraph separators become spaces, runs of spaces one; bidirectional overrides
 * and isolates (which reorder what is shown after them) are dropped.
 */
export function oneLine(text: string): string {
  return text
    .replace(/[\u202a-\u202e\u2066-\u2069]/g, "")
    .replace(/[\p{Cc}\u2028\u2029\s]+/gu, " ")
    .trim();
}

/** What the web app shows for a conversation without a title. */
const untitled = "Untitled";

/** The shortest a shortened title or passage gets on a narrow terminal (the line wraps rather than say nothing). */
const minShortened = 12;

/** Local date as YYYY-MM-DD: the same in every locale, and it sorts. */
function isoDate(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** "just now", "5 min ago", "3 h ago" (as the web app's list says), "2 d ago" within a week, else the date. */
export function relativeTime(at: number, now: number): string {
  const seconds = Math.round((now - at) / 1000);
  if (seconds < 60) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 7) return `${days} d ago`;
  return isoDate(at);
}

/** The widest relativeTime ("59 min ago", "2025-06-01"): the titles start in one column. */
const timeWidth = 10;

/**
 * One conversation of chat list: `<id>  <last activity>  <title>`, then " (pinned)", " (answering)" or
 * " (pinned, answering)". `width`: the terminal's columns (the title is shortened to fit); undefined: not shortened.
 */
export function conversationLine(conversation: ConversationSummary, now: number, width: number | undefined): string {
  const marks = [conversation.pinnedAt !== null ? "pinned" : undefined, conversation.activeRunId !== null ? "answering" : undefined].filter(
    (mark) => mark !== undefined,
  );
  const suffix = marks.length > 0 ? ` (${marks.join(", ")})` : "";
  const prefix = `${conversation.id}  ${relativeTime(conversation.updatedAt, now).padEnd(timeWidth)}  `;
  const title = oneLine(conversation.title) || untitled;
  return `${prefix}${fit(title, width, prefix.length + suffix.length)}${suffix}`;
}

/**
 * One hit of chat search: `<conversation id>  <title> — <passage>`, " (archived)" after the title of an archived chat
 * (chat list leaves those out); on a terminal both shortened to fit its width, the passage around the words found
 * (`query`), which the API's passage has up to 40 characters in.
 */
export function searchHitLine(hit: SearchHit, query: string, width: number | undefined): string {
  const prefix = `${hit.conversationId}  `;
  // A server from before archiving sends no archivedAt.
  const separator = `${typeof hit.archivedAt === "number" ? " (archived)" : ""} — `;
  let title = oneLine(hit.title) || untitled;
  let passage = oneLine(hit.snippet);
  const room = width === undefined ? undefined : width - prefix.length - separator.length;
  if (room !== undefined && title.length + passage.length > room) {
    // The title gets at most a third: the passage is what was asked for.
    title = shorten(title, Math.max(minShortened, Math.min(title.length, Math.floor(room / 3))));
    passage = around(passage, oneLine(query), Math.max(minShortened, room - title.length));
  }
  return `${prefix}${title}${separator}${passage}`;
}

/**
 * `text` in at most `max` UTF-16 units with the first match of `query` (any case) in it when it fits: the text before
 * it is cut (to "…") when the match would end past `max`, leaving a third of the room before it; then the end.
 */
function around(text: string, query: string, max: number): string {
  const at = text.toLowerCase().indexOf(query.toLowerCase());
  if (at < 0 || at + query.length < max || query.length + 2 > max) return shorten(text, max);
  let start = Math.max(0, at - Math.floor((max - query.length - 2) / 3));
  // Never begin on the second half of a surrogate pair.
  const code = text.charCodeAt(start);
  if (code >= 0xdc00 && code <= 0xdfff) start += 1;
  return shorten(`…${text.slice(start).replace(/^…/, "")}`, max);
}

export type ListedModel = ModelList["models"][number];

/**
 * chat models' lines: `<name>[ (default)]  <what it can do>`, names in one column, the capabilities in the API's
 * own words (`capabilitiesInWords`: "sees images · uses tools · thinks (low, medium, high) · 128K context").
 */
export function modelLines(list: Pick<ModelList, "models" | "defaultModel">): string[] {
  const names = list.models.map((model) => `${oneLine(model.name)}${model.name === list.defaultModel ? " (default)" : ""}`);
  const nameWidth = Math.max(0, ...names.map((name) => name.length));
  return list.models.map((model, i) => {
    // An API older than capabilitiesInWords: its raw names rather than nothing.
    const words = (model.capabilitiesInWords as string[] | undefined) ?? model.capabilities.filter((name) => name !== "completion");
    return words.length > 0 ? `${names[i]!.padEnd(nameWidth)}  ${words.map(oneLine).join(" · ")}` : names[i]!;
  });
}

/** `text` shortened to what is left of `width` after `used` columns; whole when there is no width. */
function fit(text: string, width: number | undefined, used: number): string {
  if (width === undefined) return text;
  return shorten(text, Math.max(minShortened, width - used));
}
