import type { ImageAttachment } from "../attachments.js";
import { defaultMaxFileChars, maxFilesPerMessage, type FileAttachment } from "../files.js";
import { maxInstructionsChars } from "../instructions.js";
import { samplingSchema } from "../sampling.js";
import { toStorableText } from "../storable-text.js";

/**
 * A message of another app's conversation as this app keeps it: a question (with the images and text files that came
 * with it, when the file holds them) or an answer (with the reasoning shown before it, when there was some).
 */
export type ForeignChatMessage =
  | { role: "user"; content: string; images?: ImageAttachment[]; files?: FileAttachment[] }
  | { role: "assistant"; content: string; thinking?: string };

/**
 * The subset of this app's JSON export (the store's `conversationExportSchema`, format "streamchat.conversation",
 * version 1) that a conversation read from another app's export is written as: its messages as a tree (`parentId`;
 * siblings are versions: an edited question, a regenerated answer), the path it showed (`activeMessageId`), no runs
 * (the other app's answers have no event log here: usage and timings are not known). `conversations.import` takes it
 * as it takes this app's own exports, and checks it the same way.
 */
export interface ForeignConversationDocument {
  format: "streamchat.conversation";
  version: 1;
  exportedAt: number;
  conversation: {
    id: string;
    title: string;
    createdAt?: number;
    updatedAt?: number;
    /**
     * Where it came from, for the server to import it once: the app, its id there and its last change there
     * (`ChatGPT:<id>@<updatedAt>`). A second import of the same export skips it; one continued there since is imported
     * again, as a new copy. Absent when the file gives the conversation no id.
     */
    origin?: string;
    /** Archived there (ChatGPT's `is_archived`): imported archived, out of the list, as it was out of that app's. */
    archivedAt?: number;
    /** Pinned there (Open WebUI's `pinned`): imported pinned, at the top of the list, as it was in that app's. */
    pinnedAt?: number;
    /**
     * The chat's own instructions there (Open WebUI's per-chat system prompt): this app's conversation instructions,
     * which its answers get after the user's custom instructions. At most maxInstructionsChars.
     */
    instructions?: string;
    /** The chat's own sampling there (Open WebUI's Chat Controls): the settings set, each within samplingLimits. */
    sampling?: ForeignSampling;
  };
  activeMessageId: number | null;
  messages: Array<{ id: number; parentId: number | null; runId: null; createdAt?: number; message: ForeignChatMessage }>;
  runs: [];
}

/** A chat's sampling in an export file: only the settings chosen (Sampling's nulls left out). */
export interface ForeignSampling {
  temperature?: number;
  topP?: number;
  seed?: number;
}

/**
 * Longest question the import takes by default (the API's MAX_MESSAGE_CHARS): another app may have taken a longer paste,
 * and one such question would have the whole conversation refused. Its text is kept as a text file instead (up to a
 * file's limit), which the model reads the same way and the chat shows as a file.
 */
const maxQuestionChars = 32_000;
const overlongQuestionFileName = "message.txt";

function fitQuestion(message: ForeignChatMessage): ForeignChatMessage {
  if (message.role !== "user" || message.content.length <= maxQuestionChars) return message;
  const files = message.files ?? [];
  if (message.content.length > defaultMaxFileChars || files.length >= maxFilesPerMessage) return message;
  return { ...message, content: "", files: [...files, { type: "file", name: overlongQuestionFileName, text: toStorableText(message.content) }] };
}

/** What a question that held only attachments the import left out reads: "[image not imported]", "[2 files not imported]". */
const notImportedNote = /^\[[^\]\n]* not imported\]$/;

/** Longest title the import takes (the store's schema). */
const maxTitleChars = 200;
/** A title made from the first question: its first line, at most this long (as a new chat's title is made). */
const derivedTitleChars = 60;
const untitled = "Imported chat";

/**
 * What a reader leaves out of a conversation, counted by kind ("image", "tool call"), for the import's summary:
 * "2 images and 1 tool call were not imported".
 */
export class LeftOut {
  private readonly counts = new Map<string, number>();

  add(kind: string, count = 1): void {
    if (count > 0) this.counts.set(kind, (this.counts.get(kind) ?? 0) + count);
  }

  /** Adds what another counter holds (a whole file's total). */
  addAll(other: LeftOut): void {
    for (const [kind, n] of other.counts) this.add(kind, n);
  }

  /** Each kind with its count, in the order first left out: ["2 images", "1 tool call"]. */
  words(): string[] {
    return [...this.counts].map(([kind, n]) => `${n} ${n === 1 ? kind : `${kind}s`}`);
  }
}

/**
 * Builds one conversation's document message by message. Ids are given in the order messages are added, from 1, so a
 * parent (added before its children) always has the smaller id, as the format requires.
 */
export class ConversationBuilder {
  readonly leftOut = new LeftOut();
  private readonly messages: ForeignConversationDocument["messages"] = [];

  get size(): number {
    return this.messages.length;
  }

  /** Adds a message under `parentId` (null: a first message); returns its id. */
  add(parentId: number | null, message: ForeignChatMessage, createdAt: number | undefined): number {
    const id = this.messages.length + 1;
    this.messages.push({ id, parentId, runId: null, ...(createdAt === undefined ? {} : { createdAt }), message: fitQuestion(message) });
    return id;
  }

  /** A chat's own system prompt as conversation instructions: trimmed, storable; one too long for them is left out, counted. */
  private instructionsOf(prompt: string | undefined): { instructions?: string } {
    const instructions = toStorableText(prompt?.trim() ?? "");
    if (instructions === "") return {};
    if (instructions.length > maxInstructionsChars) {
      this.leftOut.add("long chat system prompt"); // over 4,000 characters
      return {};
    }
    return { instructions };
  }

  /** The sampling settings another app gave a chat, those out of this app's ranges left out (counted). */
  private samplingOf(given: ForeignSampling | undefined): { sampling?: ForeignSampling } {
    if (given === undefined) return {};
    const sampling: ForeignSampling = {};
    for (const key of ["temperature", "topP", "seed"] as const) {
      const value = given[key];
      if (value === undefined) continue;
      if (samplingSchema.shape[key].safeParse(value).success) sampling[key] = value;
      else this.leftOut.add("out-of-range chat sampling setting");
    }
    return Object.keys(sampling).length === 0 ? {} : { sampling };
  }

  build(meta: {
    /** The other app's id of the conversation (kept for reference; the import gives it a new one). */
    id: string;
    title: string | undefined;
    createdAt: number | undefined;
    updatedAt: number | undefined;
    activeMessageId: number | null;
    now: number;
    /** Archived in that app: the import archives it here too (at its last change, or now). */
    archived?: boolean;
    /** Pinned in that app: the import pins it here too (at its last change, or now). */
    pinned?: boolean;
    /** The chat's own system prompt in that app; too long ones are left out (counted), blank ones are none. */
    instructions?: string | undefined;
    /** The chat's own sampling in that app; settings out of range are left out (counted). */
    sampling?: ForeignSampling | undefined;
  }): ForeignConversationDocument {
    // Named after what was first asked in words: not a question that was only a picture ("[image not imported]") or
    // only a long paste (kept as a file, no text).
    const firstQuestion = this.messages.find((m) => m.message.role === "user" && m.message.content.trim() !== "" && !notImportedNote.test(m.message.content))
      ?.message.content;
    // A loop, not Math.min(...times): a spread of a very long conversation's times would overflow the call stack.
    let first: number | undefined;
    let last: number | undefined;
    for (const { createdAt: time } of this.messages) {
      if (time === undefined) continue;
      if (first === undefined || time < first) first = time;
      if (last === undefined || time > last) last = time;
    }
    const createdAt = meta.createdAt ?? first;
    const updatedAt = meta.updatedAt ?? last ?? createdAt;
    return {
      format: "streamchat.conversation",
      version: 1,
      exportedAt: meta.now,
      conversation: {
        id: meta.id,
        title: importedTitle(meta.title, firstQuestion),
        ...(createdAt === undefined ? {} : { createdAt }),
        ...(updatedAt === undefined ? {} : { updatedAt }),
        ...(meta.archived === true ? { archivedAt: updatedAt ?? meta.now } : {}),
        ...(meta.pinned === true ? { pinnedAt: updatedAt ?? meta.now } : {}),
        ...this.instructionsOf(meta.instructions),
        ...this.samplingOf(meta.sampling),
      },
      activeMessageId: meta.activeMessageId,
      messages: this.messages,
      runs: [],
    };
  }
}

/**
 * The title an imported conversation gets: its own (whitespace runs made one space, at most 200 characters), else the
 * first line of its first question (at most 60), else "Imported chat". NUL and lone surrogates become U+FFFD: the
 * title is a plain text column.
 */
export function importedTitle(title: string | undefined, firstQuestion: string | undefined): string {
  const own = oneLine(title ?? "");
  if (own !== "") return cut(own, maxTitleChars);
  const line = oneLine((firstQuestion ?? "").trim().split("\n", 1)[0] ?? "");
  return line === "" ? untitled : cut(line, derivedTitleChars);
}

function oneLine(text: string): string {
  return toStorableText(text).replace(/\s+/g, " ").trim();
}

/** At most `max` UTF-16 units, never half a surrogate pair, "…" when cut. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const high = text.charCodeAt(end - 1);
  if (high >= 0xd800 && high <= 0xdbff) end -= 1;
  return `${text.slice(0, end).trimEnd()}…`;
}

/** Seconds since the epoch (ChatGPT's times, with a fraction) as whole milliseconds. */
export function secondsToMs(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
}

/**
 * A time that may be seconds or milliseconds since the epoch (Open WebUI writes both, by field and by version) as
 * milliseconds: 10^11 seconds is the year 5138, so anything larger is taken as milliseconds already.
 */
export function epochToMs(value: unknown): number | undefined {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return undefined;
  return value >= 1e11 ? Math.round(value) : Math.round(value * 1000);
}

/** An ISO 8601 time (Claude's) as milliseconds since the epoch. */
export function isoToMs(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** A reader's refusal of one conversation, in a sentence the import's summary shows. */
export class ForeignExportError extends Error {
  override name = "ForeignExportError";
}
