import type { ImageAttachment } from "../attachments.js";
import type { FileAttachment } from "../files.js";
import { utf8Bytes } from "../file-size.js";
import { toStorableText } from "../storable-text.js";
import { ForeignExportError, LeftOut, type ForeignConversationDocument } from "./document.js";
import { chatGptReader } from "./chatgpt.js";
import { claudeReader } from "./claude.js";
import { openWebUiReader } from "./open-webui.js";
import { JsonArrayError, jsonArrayValues } from "./json-array-items.js";

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

/** A file an export keeps beside its conversations, as a question's attachment: a picture or a text file. */
export type ForeignFile = ImageAttachment | FileAttachment;

/**
 * The files an export keeps beside its conversations (ChatGPT's data export: its ZIP archive's pictures and uploads),
 * by the ids its conversations point to them with, in that order until `maxBytes` (their size as JSON, about) is
 * taken: a file that does not fit in what is left is not read. An id that is not in the result is a file not
 * imported.
 */
export type ForeignFiles = (ids: readonly string[], options?: { maxBytes?: number }) => Promise<ReadonlyMap<string, ForeignFile>>;

export interface ForeignReadOptions {
  now?: number;
  /** Where the files the conversations point to are; without it they are counted as not imported. */
  files?: ForeignFiles;
  /**
   * The largest conversation the server imports (its MAX_IMPORT_BYTES, as UTF-8 JSON): a conversation takes its files
   * in order while they fit, and the rest are counted as not imported.
   */
  maxDocumentBytes?: number;
}

/** What each app's reader provides (chatgpt.ts, claude.ts, open-webui.ts). */
export interface ForeignReader {
  source: ForeignSource;
  /** Whether a JSON value has the shape of one conversation of this app's export (checked on the file's first one). */
  matches(value: unknown): boolean;
  /** The conversation's own title, "" when it has none or it cannot be read. */
  titleOf(value: unknown): string;
  /**
   * Builds the conversation, or throws ForeignExportError saying why it cannot. `files`: the files it points to that
   * can be imported, by id (`fileIds`); any other is counted as left out.
   */
  read(value: unknown, now: number, files?: ReadonlyMap<string, ForeignFile>): { document: ForeignConversationDocument; leftOut: LeftOut };
  /** The ids of the files a conversation's questions point to, kept elsewhere in the export (ChatGPT's archive). */
  fileIds?(value: unknown): string[];
}

const readers: readonly ForeignReader[] = [chatGptReader, claudeReader, openWebUiReader];

/**
 * One conversation of the file (the `index`th, from 1), read by the reader the file's first conversation chose; what
 * it leaves out is added to `total`. Never throws: one that cannot be read has a `problem`.
 */
function readConversation(
  reader: ForeignReader,
  item: unknown,
  index: number,
  now: number,
  total: LeftOut,
  files?: ReadonlyMap<string, ForeignFile>,
  maxDocumentBytes?: number,
): ForeignConversation {
  const title = reader.titleOf(item);
  try {
    if (!reader.matches(item)) throw new ForeignExportError(`It is not a ${reader.source} conversation like the others in the file.`);
    let { document, leftOut } = reader.read(item, now, files);
    if (files !== undefined && files.size > 0 && maxDocumentBytes !== undefined && utf8Bytes(JSON.stringify(document)) > maxDocumentBytes) {
      ({ document, leftOut } = reader.read(item, now));
    }
    const origin = originOf(reader.source, document);
    if (origin !== undefined) document.conversation.origin = origin;
    total.addAll(leftOut);
    return { index, title, document, leftOut: leftOut.words() };
  } catch (error) {
    // A reader's refusal says what is wrong; anything else is a shape no reader foresaw, said without its internals.
    const problem = error instanceof ForeignExportError ? error.message : `It could not be read as a ${reader.source} conversation.`;
    return { index, title, problem, leftOut: [] };
  }
}

/** Room kept in a conversation for what is added after its text is weighed: its origin, at most 500 characters. */
const originRoom = 2 * maxOriginChars;

/**
 * readConversation with the files the conversation points to, read first when the export has them: one
 * conversation's at a time, and only as many as fit beside its text in what the server imports, so memory holds at
 * most about one import's worth of them.
 */
async function readWithFiles(reader: ForeignReader, item: unknown, index: number, now: number, total: LeftOut, options: ForeignReadOptions): Promise<ForeignConversation> {
  const ids = options.files && reader.matches(item) ? (reader.fileIds?.(item) ?? []) : [];
  if (!options.files || ids.length === 0) return readConversation(reader, item, index, now, total);
  let maxBytes: number | undefined;
  if (options.maxDocumentBytes !== undefined) {
    let text: ForeignConversationDocument;
    try {
      text = reader.read(item, now).document;
    } catch {
      // Says why in its own words, with no file read.
      return readConversation(reader, item, index, now, total);
    }
    maxBytes = Math.max(0, options.maxDocumentBytes - utf8Bytes(JSON.stringify(text)) - originRoom);
  }
  const files = await options.files(ids, maxBytes === undefined ? {} : { maxBytes });
  return readConversation(reader, item, index, now, total, files, options.maxDocumentBytes);
}

function isObject(value: unknown): boolean {
  return typeof value === "object" && value !== null;
}

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
  const first = items.find(isObject);
  const reader = first === undefined ? undefined : readers.find((r) => r.matches(first));
  if (!reader) return undefined;
  const now = options.now ?? Date.now();
  const total = new LeftOut();
  const conversations = items.map((item, i) => readConversation(reader, item, i + 1, now, total));
  return { source: reader.source, conversations, leftOut: total.words() };
}

/** Another app's export read one conversation at a time (`readForeignExportItems`). */
export interface ForeignExportStream {
  source: ForeignSource;
  /**
   * The file's conversations, each read as its text is whole (index from 1), once: the file is read as they are
   * iterated. Throws, after the conversations before the fault, JsonArrayError when the file's JSON is broken or cut
   * short, or whatever the text's pieces throw (ZipReadError for a damaged archive). Leaving the iteration early stops
   * reading the file.
   */
  conversations: AsyncIterable<ForeignConversation>;
  /** What the conversations read so far held that is not imported, totalled ("3 images", "12 tool calls"). */
  leftOut(): string[];
}

/**
 * Reads another chat app's export (see `readForeignExport`) whose text is a JSON array, as the text goes by in pieces
 * (a file's or a ZIP entry's, decoded): each conversation is parsed and read on its own, so memory is bounded by the
 * largest conversation, not the file, and a file larger than a string can hold is read. The text is read up to its
 * first object to choose the reader. undefined when the text is not a JSON array, or its first object is no app's
 * conversation (as readForeignExport); throws JsonArrayError when the array is broken before its first object. With
 * `options.files` (an archive's, openExportArchive), the pictures and files a conversation's questions point to are
 * read just before it and put on them.
 */
export async function readForeignExportItems(
  pieces: AsyncIterable<string> | Iterable<string>,
  options: ForeignReadOptions = {},
): Promise<ForeignExportStream | undefined> {
  const values = jsonArrayValues(pieces, { itemName: "conversation" });
  // Elements before the first object (numbers, strings: not conversations) are kept to be reported in their place.
  const before: unknown[] = [];
  let first: unknown;
  try {
    for (;;) {
      const next = await values.next();
      if (next.done === true) return undefined;
      if (isObject(next.value)) {
        first = next.value;
        break;
      }
      before.push(next.value);
    }
  } catch (error) {
    if (error instanceof JsonArrayError && error.problem === "not-an-array") return undefined;
    throw error;
  }
  const reader = readers.find((r) => r.matches(first));
  if (!reader) {
    await values.return();
    return undefined;
  }
  const chosen: ForeignReader = reader;
  const now = options.now ?? Date.now();
  const total = new LeftOut();
  async function* conversations(): AsyncGenerator<ForeignConversation, void, undefined> {
    try {
      let index = 0;
      for (const item of before.splice(0)) yield readConversation(chosen, item, ++index, now, total);
      yield await readWithFiles(chosen, first, ++index, now, total, options);
      first = undefined;
      for (;;) {
        const next = await values.next();
        if (next.done === true) return;
        yield await readWithFiles(chosen, next.value, ++index, now, total, options);
      }
    } finally {
      // Left early (a stopped import): the file stops being read.
      await values.return();
    }
  }
  return { source: chosen.source, conversations: conversations(), leftOut: () => total.words() };
}
