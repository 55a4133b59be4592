import { checkImages, closingEvents, emptyUsage, interruptedEnding, type ChatEvent, type ChatMessage, type DoneReason, type ImageLimits, type Usage } from "@streamchat/core";
import { newRecordId } from "../ids.js";
import type { ChatStore } from "../types.js";
import { ImportError } from "./errors.js";
import { conversationExportFormat, conversationExportSchema, conversationExportVersion, type ConversationExport, type ExportedRun } from "./schema.js";

/** Default size limit of an imported file: 10 MiB of UTF-8. */
export const defaultImportMaxBytes = 10 * 1024 * 1024;

export interface ImportOptions {
  /** Largest content accepted, in UTF-8 bytes. Default 10 MiB. */
  maxBytes?: number;
  /** Ids of the new conversation and runs. Default newRecordId (time-ordered UUIDs). */
  newId?: () => string;
  /** What a message's images may be, as chat.send checks them (the API's MAX_IMAGE_BYTES). Default core's. */
  imageLimits?: ImageLimits;
  /** Clock of the events that close a log without `done`. Default Date.now. */
  now?: () => number;
}

/**
 * Reads a JSON export (schema.ts), or throws an ImportError saying what is wrong: over `maxBytes`, not JSON, not a
 * conversation export, a version other than 1, or invalid (the first few problems, with where they are).
 */
export function parseConversationExport(content: string, options: Pick<ImportOptions, "maxBytes" | "imageLimits"> = {}): ConversationExport {
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
 * was running is imported as done with reason "interrupted". Every imported log ends with `done`, as a finished run's
 * must (a subscriber reads a log without one as cut off and waits for the rest): see closedLog. Each run is briefly
 * "running" while its log is written, never two of the conversation at once; no clientRequestId or owner is carried
 * over.
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
  await store.createConversation({ id: conversationId, userId, title: doc.conversation.title });
  try {
    const runIds = new Map<string, string>();
    const committed: Promise<void>[] = [];
    for (const run of doc.runs) {
      const runId = newId();
      runIds.set(run.id, runId);
      await store.createRun({ id: runId, conversationId, userId, model: run.model, provider: run.provider });
      const { events, finish } = closedLog(run, now);
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
