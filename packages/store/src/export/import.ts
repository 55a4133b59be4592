import { checkImages, closingEvents, emptyUsage, interruptedEnding, type ChatEvent, type ChatMessage, type DoneReason, type ImageLimits, type Usage } from "@streamchat/core";
import { newRecordId } from "../ids.js";
import type { ChatStore, StoredEvent } from "../types.js";
import { ImportError } from "./errors.js";
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
  /**
   * Longest user message, in UTF-16 code units as chat.send counts them (the API's MAX_MESSAGE_CHARS). Default: no
   * limit. Answers are not held to it: a model may write more than a person may send.
   */
  maxMessageChars?: number;
  /** Clock of the events that close a log without `done`. Default Date.now. */
  now?: () => number;
  /**
   * The messages an unfinished run had produced (its answer so far, tool calls and results), rebuilt from its log as
   * the server rebuilds them when it closes a run after a crash (the API's messagesFromEvents). Without it such a run
   * keeps only its log.
   */
  rebuildMessages?: (events: readonly StoredEvent[]) => ChatMessage[];
  /**
   * Owner of the imported runs while they are briefly running: the importing process's replica id. A running run
   * without one is every replica's orphan (nobody can be alive for it), which a sweep would close under the import.
   */
  owner?: string;
}

/**
 * Reads a JSON export (schema.ts), or throws an ImportError saying what is wrong: over `maxBytes`, not JSON, not a
 * conversation export, a version other than 1, or invalid (the first few problems, with where they are).
 */
export function parseConversationExport(
  content: string,
  options: Pick<ImportOptions, "maxBytes" | "imageLimits" | "maxMessageChars"> = {},
): ConversationExport {
  const maxBytes = options.maxBytes ?? defaultImportMaxBytes;
  // UTF-8 needs at most 3 bytes per UTF-16 code unit: most files are judged without measuring.
  const bytes = content.length * 3 <= maxBytes ? content.length : Buffer.byteLength(content, "utf8");
  if (bytes > maxBytes) {
    throw new ImportError("too_large", `The file is too large to import (${bytes} bytes; at most ${maxBytes}).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (error) {
    throw new ImportError("not_json", "The file is not JSON: a conversation export (.json) is expected.", { cause: error });
  }
  if (nestedDeeperThan(json, maxImportNesting)) {
    throw new ImportError("invalid", `The conversation export is invalid: it nests arrays and objects more than ${maxImportNesting} levels deep.`);
  }
  const head = typeof json === "object" && json !== null ? (json as { format?: unknown; version?: unknown }) : {};
  if (head.format !== conversationExportFormat) {
    const found = typeof head.format === "string" ? `"${head.format.slice(0, 80)}"` : "none";
    throw new ImportError("wrong_format", `Not a streamchat conversation export (format ${found}; expected "${conversationExportFormat}").`);
  }
  if (head.version !== conversationExportVersion) {
    const found = typeof head.version === "number" ? String(head.version) : JSON.stringify(head.version) ?? "none";
    throw new ImportError(
      "unsupported_version",
      `Unsupported export version ${found.slice(0, 40)}: this server imports version ${conversationExportVersion}.`,
    );
  }
  const parsed = conversationExportSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.join(".") || "(file)"}: ${issue.message}`);
    const more = parsed.error.issues.length > 3 ? ` (and ${parsed.error.issues.length - 3} more)` : "";
    throw new ImportError("invalid", `The conversation export is invalid: ${problems.join("; ")}${more}.`);
  }
  // The images a conversation goes on with are sent to models again (regenerate, a next question): no other ones
  // than chat.send takes.
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
  }
  return parsed.data;
}

/**
 * Imports a JSON export as a NEW conversation of `userId`: new ids for the conversation, its messages and runs; the
 * same tree, active path, runs (usage, events) and message contents. Never touches an existing conversation.
 * ImportError (always `bad_request`) for content refused by parseConversationExport; a store failure is rethrown
 * after the partly imported conversation is deleted.
 *
 * Imported runs are created and finished at import time (createdAt / finishedAt are new); a run exported while it
 * was running is imported as done with reason "interrupted", with the messages it had streamed (see
 * endUnfinishedAnswer). Every imported log ends with `done`, as a finished run's
 * must (a subscriber reads a log without one as cut off and waits for the rest): see closedLog. Each run is briefly
 * "running" while its log is written (owned by `options.owner`), never two of the conversation at once; no
 * clientRequestId or owner is carried over.
 */
export async function importConversation(
  store: ChatStore,
  userId: string,
  content: string,
  options: ImportOptions = {},
): Promise<{ conversationId: string }> {
  const doc = parseConversationExport(content, options);
  const newId = options.newId ?? newRecordId;
  const now = options.now ?? Date.now;
  const conversationId = newId();
  // Trimmed as a rename trims it: the list shows no title with leading or trailing blanks.
  await store.createConversation({ id: conversationId, userId, title: doc.conversation.title.trim() });
  try {
    const runIds = new Map<string, string>();
    const committed: Promise<void>[] = [];
    /** The runs the file left unfinished (no `done`), with their logs as the file has them. */
    const unfinished: Array<{ runId: string; events: StoredEvent[] }> = [];
    for (const run of doc.runs) {
      const runId = newId();
      runIds.set(run.id, runId);
      await store.createRun({ id: runId, conversationId, userId, model: run.model, provider: run.provider, owner: options.owner ?? null });
      const { events, finish } = closedLog(run, now);
      if (run.events.at(-1)?.event.type !== "done") unfinished.push({ runId, events: run.events });
      for (const { seq, event } of events) committed.push(store.appendEvent(runId, seq, rebased(event, runId, conversationId)));
      await store.finishRun(runId, finish);
    }
    const messageIds = new Map<number, number>();
    for (const exported of doc.messages) {
      // The schema checked that parents come first and that runs exist: the lookups cannot miss.
      const stored = await store.appendMessage({
        conversationId,
        runId: exported.runId === null ? null : runIds.get(exported.runId)!,
        message: exported.message as ChatMessage,
        parentId: exported.parentId === null ? null : messageIds.get(exported.parentId)!,
      });
      messageIds.set(exported.id, stored.id);
    }
    await store.rewindActivePath(conversationId, doc.activeMessageId === null ? null : messageIds.get(doc.activeMessageId)!);
    const last = unfinished.at(-1);
    if (last) await endUnfinishedAnswer(store, conversationId, last.runId, options.rebuildMessages?.(last.events) ?? []);
    // Commit the queued events now; each append's own promise says whether its batch made it (flush() would also
    // report other runs' failures).
    await store.flush().catch(() => {});
    await Promise.all(committed);
  } catch (error) {
    await store.deleteConversation(userId, conversationId).catch(() => {});
    throw error;
  }
  return { conversationId };
}

/**
 * What the server does with a run it closes after a crash, for the last run the file left unfinished: a file exported
 * while a run answered has its active path ending at the run's question (the answer is stored with the run's `done`).
 * The messages the run had produced are appended under it as the run's answer; without any, the path goes down the
 * question's most recent answer as the API's keepPreviousAnswer leaves it (a regenerate rewinds the path to its
 * question, the previous answer off the path), and a question without answers stays the end of the path.
 */
async function endUnfinishedAnswer(store: ChatStore, conversationId: string, runId: string, messages: readonly ChatMessage[]): Promise<void> {
  const head = (await store.activePath(conversationId)).at(-1);
  if (head?.message.role !== "user") return;
  if (messages.length === 0) {
    await store.switchBranch(conversationId, head.id);
    return;
  }
  for (const message of messages) await store.appendMessage({ conversationId, runId, message });
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
