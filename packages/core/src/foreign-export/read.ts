import { toStorableText } from "../storable-text.js";
import { ForeignExportError, LeftOut, type ForeignConversationDocument } from "./document.js";
import { chatGptReader } from "./chatgpt.js";
import { claudeReader } from "./claude.js";
import { openWebUiReader } from "./open-webui.js";

/** The apps whose exports an import reads besides this app's own. */
export type ForeignSource = "ChatGPT" | "Claude" | "Open WebUI";

/** One conversation of another app's export, read. */
export interface ForeignConversation {
  /** Where it is in the file, from 1. */
  index: number;
  /** Its title in the file, "" when it has none (for the summary's words about it). */
  title: string;
  /** This app's JSON export of it, for `conversations.import`; absent when it could not be read. */
  document?: ForeignConversationDocument;
  /** Why it could not be read, in a sentence; set exactly when `document` is absent. */
  problem?: string;
  /** What the import leaves out of it, counted ("2 images", "1 tool call"); empty when nothing. */
  leftOut: string[];
}

export interface ForeignExport {
  source: ForeignSource;
  conversations: ForeignConversation[];
  /** What the file's conversations held that is not imported, totalled ("3 images", "12 tool calls"). */
  leftOut: string[];
}

/** Longest origin the import takes (the store's schema). */
const maxOriginChars = 500;

/** `ChatGPT:<id>@<updatedAt>`: the same conversation in the same state, whichever export of the account it is read from. */
function originOf(source: ForeignSource, document: ForeignConversationDocument): string | undefined {
  const { id, updatedAt } = document.conversation;
  if (id.trim() === "") return undefined;
  const origin = toStorableText(`${source}:${id}@${updatedAt ?? ""}`);
  return origin.length <= maxOriginChars ? origin : undefined;
}

/** What each app's reader provides (chatgpt.ts, claude.ts, open-webui.ts). */
export interface ForeignReader {
  source: ForeignSource;
  /** Whether a JSON value has the shape of one conversation of this app's export (checked on the file's first one). */
  matches(value: unknown): boolean;
  /** The conversation's own title, "" when it has none or it cannot be read. */
  titleOf(value: unknown): string;
  /** Builds the conversation, or throws ForeignExportError saying why it cannot. */
  read(value: unknown, now: number): { document: ForeignConversationDocument; leftOut: LeftOut };
}

const readers: readonly ForeignReader[] = [chatGptReader, claudeReader, openWebUiReader];

/**
 * Reads another chat app's export of conversations: ChatGPT's `conversations.json` (in the zip of Settings → Data
 * controls → Export), Claude's `conversations.json` (Settings → Privacy → Export data) or Open WebUI's chat export
 * (Settings → Chats → Export, a JSON array). A file of one such conversation (an object rather than an array) is read
 * too. undefined when the text is not JSON, or not any of these: the caller then treats it as this app's own export,
 * which the server judges. Each conversation is read on its own: one that cannot be read has a `problem` and does not
 * stop the others.
 */
export function readForeignExport(content: string, options: { now?: number } = {}): ForeignExport | undefined {
  let value: unknown;
  try {
    value = JSON.parse(content.replace(/^\uFEFF/, ""));
  } catch {
    return undefined;
  }
  const items: unknown[] = Array.isArray(value) ? value : [value];
  const first = items.find((item) => typeof item === "object" && item !== null);
  const reader = first === undefined ? undefined : readers.find((r) => r.matches(first));
  if (!reader) return undefined;
  const now = options.now ?? Date.now();
  const total = new LeftOut();
  const conversations = items.map((item, i): ForeignConversation => {
    const index = i + 1;
    const title = reader.titleOf(item);
    try {
      if (!reader.matches(item)) throw new ForeignExportError(`It is not a ${reader.source} conversation like the others in the file.`);
      const { document, leftOut } = reader.read(item, now);
      const origin = originOf(reader.source, document);
      if (origin !== undefined) document.conversation.origin = origin;
      total.addAll(leftOut);
      return { index, title, document, leftOut: leftOut.words() };
    } catch (error) {
      // A reader's refusal says what is wrong; anything else is a shape no reader foresaw, said without its internals.
      const problem = error instanceof ForeignExportError ? error.message : `It could not be read as a ${reader.source} conversation.`;
      return { index, title, problem, leftOut: [] };
    }
  });
  return { source: reader.source, conversations, leftOut: total.words() };
}
