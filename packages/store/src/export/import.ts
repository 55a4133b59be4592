import {
  checkFiles,
  checkImages,
  closingEvents,
  defaultSampling,
  emptyUsage,
  interruptedEnding,
  isDefaultSampling,
  notAnExportMessage,
  samplingOptions,
  tooLargeToImportMessage,
  type ChatEvent, type ChatMessage, type DoneReason, type FileLimits, type ImageLimits, type Sampling, type Usage } from "@streamchat/core";
import { newRecordId } from "../ids.js";
import { MessageTree } from "../tree.js";
import type { ChatStore, ConversationSettings, ImportedCopy, InsertConversationInput, InsertedMessage, InsertedRun, StoredEvent } from "../types.js";
import { isStoreError } from "../errors.js";
import { alreadyImportedMessage, ImportError } from "./errors.js";
import { conversationExportFormat, conversationExportSchema, conversationExportVersion, type ConversationExport, type ExportedRun } from "./schema.js";

/** Default size limit of an imported file: 10 MiB of UTF-8. */
export const defaultImportMaxBytes = 10 * 1024 * 1024;

/**
 * Deepest nesting of arrays and objects an imported file may have (the file itself is level 1). JSON.parse reads any
 * depth, but storing and serving the data recurses (JSON.stringify, structured clones): a few thousand levels in a
 * tool call's args or a message field overflow the stack there, a failure no user can act on. A real export nests
 * about ten levels plus what tools' args and results hold.
 */
export const maxImportNesting = 256;

export interface ImportOptions {
  /** Largest content accepted, in UTF-8 bytes. Default 10 MiB. */
  maxBytes?: number;
  /** Ids of the new conversation and runs. Default newRecordId (time-ordered UUIDs). */
  newId?: () => string;
  /** What a message's images may be, as chat.send checks them (the API's MAX_IMAGE_BYTES). Default core's. */
  imageLimits?: ImageLimits;
  /** What a message's text files may be, as chat.send checks them (the API's MAX_FILE_CHARS). Default core's. */
  fileLimits?: FileLimits;
  /**
   * Longest user message, in UTF-16 code units as chat.send counts them (the API's MAX_MESSAGE_CHARS). Default: no
   * limit. Answers are not held to it: a model may write more than a person may send.
   */
  maxMessageChars?: number;
  /**
   * The import's clock: the time of the events that close a log without `done`, of the messages rebuilt for an
   * unfinished run, and of every time the file lacks or has wrong (see isImportableTime). Default Date.now.
   */
  now?: () => number;
  /**
   * The messages an unfinished run had produced (its answer so far, tool calls and results), rebuilt from its log as
   * the server rebuilds them when it closes a run after a crash (the API's messagesFromEvents). Without it such a run
   * keeps only its log.
   */
  rebuildMessages?: (events: readonly StoredEvent[]) => ChatMessage[];
  /**
   * Recorded as the imported runs' owner: the importing process's replica id, the one that wrote them. The runs are
   * written finished, so no sweep ever looks at it.
   */
  owner?: string;
}

/** How a refused file that is no export of this app starts; what it looks like follows in parentheses. */

/**
 * Reads a JSON export (schema.ts), or throws an ImportError saying what is wrong: over `maxBytes`, not JSON, not a
 * conversation export, a version other than 1, or invalid (the first few problems, with where they are).
 */
export function parseConversationExport(
  content: string,
  options: Pick<ImportOptions, "maxBytes" | "imageLimits" | "fileLimits" | "maxMessageChars"> = {},
): ConversationExport {
  const maxBytes = options.maxBytes ?? defaultImportMaxBytes;
  // UTF-8 needs at most 3 bytes per UTF-16 code unit: most files are judged without measuring.
  const bytes = content.length * 3 <= maxBytes ? content.length : Buffer.byteLength(content, "utf8");
  if (bytes > maxBytes) {
    throw new ImportError("too_large", tooLargeToImportMessage(bytes, maxBytes));
  }
  let json: unknown;
  try {
    // A byte order mark is not JSON, but editors (Notepad) save one and readFile keeps it: the file is still an export.
    json = JSON.parse(content.startsWith("\uFEFF") ? content.slice(1) : content);
  } catch (error) {
    // An empty file is what a failed save or download leaves: saying so tells the reader more than "not JSON".
    const looks = content.trim() === "" ? "it is empty" : "it is not JSON";
    throw new ImportError("not_json", notAnExportMessage(looks), { cause: error });
  }
  if (nestedDeeperThan(json, maxImportNesting)) {
    throw new ImportError("invalid", `The conversation export is invalid: it nests arrays and objects more than ${maxImportNesting} levels deep.`);
  }
  const head = typeof json === "object" && json !== null ? (json as { format?: unknown; version?: unknown }) : {};
  if (head.format !== conversationExportFormat) {
    // What the file says it is, when it says so (another app's export names its own format): the reader can tell.
    const looks =
      typeof head.format === "string"
        ? `it is JSON in another format, "${head.format.slice(0, 80)}"`
        : "it is JSON, but not in the format this app exports";
    throw new ImportError("wrong_format", notAnExportMessage(looks));
  }
  if (head.version !== conversationExportVersion) {
    const found = typeof head.version === "number" ? String(head.version) : JSON.stringify(head.version) ?? "none";
    // A higher number is a newer app's export: updating the server is the way out, which the reader should learn.
    const newer = typeof head.version === "number" && head.version > conversationExportVersion;
    throw new ImportError(
      "unsupported_version",
      newer
        ? `This file was exported by a newer version of this app (export version ${found.slice(0, 40)}); this server imports version ${conversationExportVersion}.`
        : `This file is a conversation export of a version this server cannot import (${found.slice(0, 40)}); it imports version ${conversationExportVersion}.`,
    );
  }
  const parsed = conversationExportSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.join(".") || "(file)"}: ${issue.message}`);
    const more = parsed.error.issues.length > 3 ? ` (and ${parsed.error.issues.length - 3} more)` : "";
    throw new ImportError("invalid", `The conversation export is invalid: ${problems.join("; ")}${more}.`);
  }
  // The images and files a conversation goes on with are sent to models again (regenerate, a next question): no other
  // ones than chat.send takes.
  for (const [i, { message }] of parsed.data.messages.entries()) {
    // The API never stores one (every request starts with its own system prompt): a file's would go to the model as
    // instructions the conversation never shows.
    if (message.role === "system") {
      throw new ImportError("invalid", `The conversation export is invalid: messages.${i}.message.role: a system message cannot be imported.`);
    }
    // A question longer than chat.send takes would go to models again on every regenerate, and an edit of it would be
    // refused; the file is refused instead, saying which message.
    const max = options.maxMessageChars;
    if (message.role === "user" && max !== undefined && message.content.length > max) {
      throw new ImportError(
        "invalid",
        `The conversation export is invalid: messages.${i}.message.content: ${message.content.length} characters; this server takes messages of at most ${max}.`,
      );
    }
    const bad = message.role === "user" && message.images ? checkImages(message.images, options.imageLimits) : undefined;
    if (bad) throw new ImportError("invalid", `The conversation export is invalid: messages.${i}.message.images: ${bad.message}`);
    const badFile = message.role === "user" && message.files ? checkFiles(message.files, options.fileLimits) : undefined;
    if (badFile) throw new ImportError("invalid", `The conversation export is invalid: messages.${i}.message.files: ${badFile.message}`);
  }
  return parsed.data;
}

/**
 * Imports a JSON export as a NEW conversation of `userId`: new ids for the conversation, its messages and runs; the
 * same tree, active path, runs (usage, events), message contents and times. Never touches an existing conversation.
 * ImportError for content refused by parseConversationExport, and ImportError "already_imported" (which the API answers
 * with CONFLICT) when the file's `conversation.origin` is one the user already has a conversation of (see insertExport);
 * any other store failure is rethrown.
 *
 * All or nothing: the whole conversation is written by one ChatStore.insertConversation, one transaction, so no
 * reader ever sees a part of it, and a failure or a crash of the process half-way leaves nothing to clean up (its
 * instructions and sampling, when the file has some, included).
 *
 * Times are the file's (the conversation sorts in the list where it was, its messages and runs keep when they
 * happened), each one the file lacks or that cannot be one (not an integer, negative, later than the import) replaced
 * by the import's time (see isImportableTime). A run exported while it was running is imported as done with reason
 * "interrupted", finished at the import, with the messages it had streamed (see endUnfinishedAnswer). Every imported
 * log ends with `done`, as a finished run's must (a subscriber reads a log without one as cut off and waits for the
 * rest): see closedLog. No run is ever running, no clientRequestId is carried over.
 */
export async function importConversation(
  store: ChatStore,
  userId: string,
  content: string,
  options: ImportOptions = {},
): Promise<ImportedConversation> {
  const doc = parseConversationExport(content, options);
  const earlier = await copyToReplace(store, userId, doc.conversation.origin);
  if (!earlier) return insertExport(store, userId, doc, options);
  // The user's choices here stay with the chat: the title they may have given it, its pin, its archiving (a copy the
  // user archived stays archived when it is brought up to date; one in the list takes the file's). The earlier copy
  // goes in the insert's transaction, unless a question was asked in it meanwhile (then both stay).
  const archivedAt = earlier.archivedAt ?? doc.conversation.archivedAt;
  // The file's instructions and sampling where it carries some; else the ones the user gave the copy here (another
  // app's export has none: bringing the chat up to date must not take them away).
  const own = await settingsOf(store, userId, earlier.id);
  const instructions = doc.conversation.instructions?.trim() || own.instructions;
  const sampling = isDefaultSampling(samplingOf(doc)) ? samplingOptions(own.sampling) : doc.conversation.sampling;
  const conversation = { ...doc.conversation, title: earlier.title, pinnedAt: earlier.pinnedAt, archivedAt, instructions, sampling };
  return insertExport(store, userId, { ...doc, conversation }, { ...options, replaces: earlier.id });
}

/** A conversation's settings, the defaults when it is gone (deleted since it was found). */
async function settingsOf(store: ChatStore, userId: string, conversationId: string): Promise<ConversationSettings> {
  try {
    return await store.getConversationSettings(userId, conversationId);
  } catch (error) {
    if (isStoreError(error, "not_found")) return { instructions: "", sampling: defaultSampling, updatedAt: null };
    throw error;
  }
}

/** The file's sampling as a store keeps it: null (the model's default) for each setting the file leaves out. */
function samplingOf(doc: ConversationExport): Sampling {
  const { temperature = null, topP = null, seed = null } = doc.conversation.sampling ?? {};
  return { temperature, topP, seed };
}

/** What an import made: the new conversation, and the earlier copy of the same chat it took the place of, if any. */
export interface ImportedConversation {
  conversationId: string;
  /** The user's earlier import of this chat of another app, at an older version and not gone on with here: deleted. */
  replaced?: string;
}

/**
 * The copy an import of another app's chat replaces: the user's import of the same chat (its origin up to "@") at an
 * older version (the number after "@", that app's last change) in which nothing was asked here (no run: an import has
 * none). The chat went on in that app since, and importing it again brings it up to date instead of making a second
 * copy. None when the same version is here (the insert refuses it as already imported), when every copy went on here
 * (the new version comes beside them), or when the origin has no version to compare.
 */
async function copyToReplace(store: ChatStore, userId: string, origin: string | undefined): Promise<ImportedCopy | undefined> {
  const at = origin?.lastIndexOf("@") ?? -1;
  if (origin === undefined || at < 0) return undefined;
  const version = versionOf(origin, at);
  if (version === undefined) return undefined;
  const copies = await store.importedCopies(userId, origin.slice(0, at + 1));
  if (copies.some((copy) => copy.origin === origin)) return undefined;
  return copies.find((copy) => {
    if (copy.hasRuns) return false;
    const older = versionOf(copy.origin, copy.origin.lastIndexOf("@"));
    return older !== undefined && older < version;
  });
}

function versionOf(origin: string, at: number): number | undefined {
  const text = origin.slice(at + 1);
  const version = text === "" ? Number.NaN : Number(text);
  return Number.isFinite(version) ? version : undefined;
}

/**
 * Writes an export that is already parsed and checked as a new conversation of `userId`: what importConversation does
 * after reading the file, and what a branch (branch.ts) does with the part of a conversation it keeps.
 *
 * `doc.conversation.origin`, when given, goes with the conversation (InsertConversationInput's `origin`): when the user
 * already has a conversation of that origin, nothing is written and the store's conflict "origin" becomes
 * ImportError("already_imported"). `branchOf` (a branch's original and its answer) goes with it too.
 */
export async function insertExport(
  store: ChatStore,
  userId: string,
  doc: ConversationExport,
  options: Omit<ImportOptions, "maxBytes" | "imageLimits" | "fileLimits" | "maxMessageChars"> &
    Pick<InsertConversationInput, "replaces"> & { branchOf?: InsertConversationInput["conversation"]["branchOf"] } = {},
): Promise<ImportedConversation> {
  const newId = options.newId ?? newRecordId;
  const now = options.now ?? Date.now;
  const importedAt = now();
  const time = (value: number | null | undefined) => (isImportableTime(value, importedAt) ? value : importedAt);
  const conversationId = newId();

  const runIds = new Map<string, string>();
  const runs: InsertedRun[] = [];
  /** The last run the file left unfinished (no `done`), with its log as the file has it. */
  let unfinished: { runId: string; events: StoredEvent[] } | undefined;
  for (const run of doc.runs) {
    const runId = newId();
    runIds.set(run.id, runId);
    const { events, finish } = closedLog(run, now);
    if (run.events.at(-1)?.event.type !== "done") unfinished = { runId, events: run.events };
    const createdAt = time(run.createdAt);
    runs.push({
      id: runId,
      model: run.model,
      provider: run.provider,
      owner: options.owner ?? null,
      reason: finish.reason,
      usage: finish.usage,
      createdAt,
      // Never before its start; a run the file left running was finished by this import.
      finishedAt: Math.max(time(run.finishedAt), createdAt),
      events: events.map(({ seq, event }) => ({ seq, event: rebased(event, runId, conversationId) })),
    });
  }

  // The schema checked that parents come first and that runs exist: the lookups cannot miss.
  const indexOf = new Map(doc.messages.map((exported, i) => [exported.id, i]));
  const messages: InsertedMessage[] = doc.messages.map((exported) => ({
    parent: exported.parentId === null ? null : indexOf.get(exported.parentId)!,
    runId: exported.runId === null ? null : runIds.get(exported.runId)!,
    message: exported.message as ChatMessage,
    createdAt: time(exported.createdAt),
  }));
  let head = doc.activeMessageId === null ? null : indexOf.get(doc.activeMessageId)!;
  if (unfinished) head = endUnfinishedAnswer(messages, head, unfinished.runId, options.rebuildMessages?.(unfinished.events) ?? [], importedAt);

  const updatedAt = time(doc.conversation.updatedAt);
  let replaced: boolean;
  try {
    ({ replaced } = await store.insertConversation({
      conversation: {
        id: conversationId,
        userId,
        // Trimmed as a rename trims it: the list shows no title with leading or trailing blanks.
        title: doc.conversation.title.trim(),
        createdAt: Math.min(time(doc.conversation.createdAt), updatedAt),
        // What the list sorts by: the file's, so the copy sits where the original did.
        updatedAt,
        // Pinned as it was where it was exported ("Export all chats" to another server keeps the pins).
        pinnedAt: doc.conversation.pinnedAt == null ? null : time(doc.conversation.pinnedAt),
        // Archived as it was too, at the file's time (the schema took only a time a store keeps); a branch never is.
        archivedAt: doc.conversation.archivedAt ?? null,
        // Another app's chat, converted by the client: the user keeps one conversation of it (this app's own exports
        // carry none, so a copy or a branch is always new).
        origin: doc.conversation.origin ?? null,
        branchOf: options.branchOf ?? null,
        // Its own instructions, trimmed as the API stores them, and sampling, in the insert's transaction.
        instructions: doc.conversation.instructions?.trim() ?? "",
        sampling: samplingOf(doc),
      },
      runs,
      messages,
      head,
      ...(options.replaces === undefined ? {} : { replaces: options.replaces }),
    }));
  } catch (error) {
    if (isStoreError(error, "conflict") && error.reason === "origin") {
      throw new ImportError("already_imported", alreadyImportedMessage, { cause: error });
    }
    throw error;
  }
  return replaced && options.replaces !== undefined ? { conversationId, replaced: options.replaces } : { conversationId };
}

/**
 * Whether a file's time can be kept: integer milliseconds since the epoch, not after the import (a time from the
 * future would pin the conversation to the top of the list). Anything else (missing, fractional, negative: what a
 * hand-made file may hold, and what a database's integer column would refuse) is replaced by the import's time.
 */
function isImportableTime(value: number | null | undefined, importedAt: number): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 && value <= importedAt;
}

/**
 * What the server does with a run it closes after a crash, for the last run the file left unfinished: a file exported
 * while a run answered has its active path ending at the run's question (the answer is stored with the run's `done`).
 * The messages the run had produced are appended under it as the run's answer; without any, the path goes down the
 * question's most recent answer as the API's keepPreviousAnswer leaves it (a regenerate rewinds the path to its
 * question, the previous answer off the path), and a question without answers stays the end of the path.
 * Appends to `messages` (the import's list, indexes for ids) and returns the new head.
 */
function endUnfinishedAnswer(
  messages: InsertedMessage[],
  head: number | null,
  runId: string,
  answer: readonly ChatMessage[],
  at: number,
): number | null {
  if (head === null || messages[head]!.message.role !== "user") return head;
  if (answer.length === 0) {
    // The store gives ids in list order, so a message's index orders it among its siblings as its id will.
    const tree = new MessageTree(messages.map(({ parent }, i) => ({ id: i, parentId: parent })));
    return tree.newestLeafBelow(head);
  }
  let parent = head;
  for (const message of answer) {
    messages.push({ parent, runId, message, createdAt: at });
    parent = messages.length - 1;
  }
  return parent;
}

/** Whether `value` nests arrays and objects more than `limit` levels deep (iterative: any depth is measured safely). */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;
    if (typeof item !== "object" || item === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (typeof child === "object" && child !== null) pending.push([child, depth + 1]);
    }
  }
  return false;
}

/** The event as logged by the new run of the new conversation. */
function rebased(event: ChatEvent, runId: string, conversationId: string): ChatEvent {
  return event.type === "run-start" ? { ...event, runId, conversationId } : { ...event, runId };
}

/**
 * The run's log as imported, and how its run is finished. A log that ends with `done` says how the run ended (over the
 * file's status and reason, which a hand-made file may contradict). Otherwise the log is closed after its last seq: a
 * run that was still answering (or has no reason) as the server closes one after a crash, with error{interrupted} and
 * done{interrupted}; a run the file calls finished with a done of its reason and usage.
 */
export function closedLog(
  run: ExportedRun,
  now: () => number,
): { events: ExportedRun["events"]; finish: { reason: DoneReason; usage: Usage | null } } {
  const last = run.events.at(-1);
  if (last?.event.type === "done") return { events: run.events, finish: { reason: last.event.reason, usage: last.event.usage } };
  const at = now();
  const usage = run.usage ?? emptyUsage();
  const told = run.status === "done" ? run.reason : null;
  // A run left answering (or called interrupted) is closed as the server closes one after a crash.
  const { error, done } =
    told === null || told === interruptedEnding.reason
      ? closingEvents(run.id, last?.event, interruptedEnding, at, usage)
      : { error: undefined, done: { type: "done" as const, runId: run.id, at, reason: told, usage } };
  let seq = last?.seq ?? 0;
  const closing: ExportedRun["events"] = [];
  if (error) closing.push({ seq: ++seq, event: error });
  closing.push({ seq: ++seq, event: done });
  return { events: [...run.events, ...closing], finish: { reason: done.reason, usage: run.usage } };
}
