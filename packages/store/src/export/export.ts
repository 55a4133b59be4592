import { chatEventTypes, isDefaultSampling, samplingOptions, type ChatEvent } from "@streamchat/core";
import { StoreError } from "../errors.js";
import type { ChatStore, StoredEvent } from "../types.js";
import { conversationMarkdown } from "./markdown.js";
import {
  conversationExportFormat,
  conversationExportVersion,
  type ConversationExport,
  type ExportedEvent,
  type ExportedRun,
} from "./schema.js";

export type ExportFormat = "json" | "markdown";

/** A file to hand to the user: what conversations.export returns. */
export interface ExportedFile {
  filename: string;
  mimeType: string;
  content: string;
}

export interface ExportOptions {
  /** The clock for `exportedAt`. Default Date.now. */
  now?: () => number;
}

/** Every event type but `token`: an export leaves a finished run's streamed answer text out (it is in the messages). */
const exportedEventTypes = chatEventTypes.filter((type) => type !== "token");

/**
 * The conversation as a version-1 export (schema.ts): the whole tree, the active path's end, every run with its
 * usage and its events but tokens. StoreError("not_found") unless the conversation exists and is the user's.
 *
 * Read in an order that keeps the parts linked while the conversation changes: the active path first (its end is
 * then in the tree read next, messages are never deleted one by one), the runs after the messages (a message's run
 * exists before the message is stored).
 */
export async function buildConversationExport(
  store: ChatStore,
  userId: string,
  conversationId: string,
  options: ExportOptions = {},
): Promise<ConversationExport> {
  const conversation = await store.getConversation(userId, conversationId);
  if (!conversation) throw new StoreError("not_found", `Unknown conversation ${conversationId}.`);
  const { instructions, sampling } = await store.getConversationSettings(userId, conversationId);
  const path = await store.activePath(conversationId);
  const messages = await store.listMessages(conversationId);
  const runs: ExportedRun[] = [];
  for (const run of await store.listRuns(conversationId)) {
    runs.push({
      id: run.id,
      model: run.model,
      provider: run.provider,
      status: run.status,
      reason: run.reason,
      usage: run.usage,
      createdAt: run.createdAt,
      finishedAt: run.finishedAt,
      // A run still answering has not stored its answer yet: its tokens are the only copy of what it streamed.
      events: joinChunks(run.status === "running" ? await store.readEvents(run.id) : await store.readEventsOfTypes(run.id, exportedEventTypes)),
    });
  }
  return {
    format: conversationExportFormat,
    version: conversationExportVersion,
    exportedAt: (options.now ?? Date.now)(),
    // No origin, even for an imported conversation: a copy imported from this file is a new conversation.
    conversation: {
      id: conversation.id,
      title: conversation.title,
      createdAt: conversation.createdAt,
      updatedAt: conversation.updatedAt,
      // Only when pinned: the file of an unpinned chat is as it always was.
      ...(conversation.pinnedAt === null ? {} : { pinnedAt: conversation.pinnedAt }),
      // Only when archived, likewise: the file of a chat in the list is as it always was.
      ...(conversation.archivedAt === null ? {} : { archivedAt: conversation.archivedAt }),
      // Only when it has some: the file of a chat without instructions is as it always was.
      ...(instructions === "" ? {} : { instructions }),
      // Likewise its sampling, and then only the settings chosen.
      ...(isDefaultSampling(sampling) ? {} : { sampling: samplingOptions(sampling) }),
    },
    activeMessageId: path.at(-1)?.id ?? null,
    messages: messages.map(({ id, parentId, runId, createdAt, message }) => ({ id, parentId, runId, createdAt, message })),
    runs,
  };
}

/**
 * The conversation as a file: `json` (the version-1 export, the whole tree) or `markdown` (the active path, to
 * read; see markdown.ts). StoreError("not_found") unless the conversation exists and is the user's.
 */
export async function exportConversation(
  store: ChatStore,
  userId: string,
  conversationId: string,
  format: ExportFormat,
  options: ExportOptions = {},
): Promise<ExportedFile> {
  const doc = await buildConversationExport(store, userId, conversationId, options);
  const base = filenameBase(doc.conversation.title);
  if (format === "json") {
    return { filename: `${base}.json`, mimeType: "application/json", content: `${JSON.stringify(doc, null, 2)}\n` };
  }
  return { filename: `${base}.md`, mimeType: "text/markdown; charset=utf-8", content: conversationMarkdown(doc) };
}

/** Consecutive reasoning (or token) chunks as one event: the first chunk's seq and time, the chunks' text joined. */
function joinChunks(events: readonly StoredEvent[]): ExportedEvent[] {
  const joined: ExportedEvent[] = [];
  for (const { seq, event } of events) {
    const last = joined.at(-1);
    if ((event.type === "reasoning" || event.type === "token") && last?.event.type === event.type) {
      const merged: ChatEvent = { ...last.event, text: last.event.text + event.text };
      joined[joined.length - 1] = { seq: last.seq, event: merged };
    } else {
      joined.push({ seq, event });
    }
  }
  return joined;
}

/** A file name from the title: lower-case ASCII words joined by "-", at most 60 characters; "conversation" when none. */
export function filenameBase(title: string): string {
  const slug = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
  return slug || "conversation";
}
