import type { ChatEvent, ChatMessage } from "@streamchat/core";
import { StoreError } from "./errors.js";
import { normalizeLimit } from "./limits.js";
import {
  containsFolded,
  defaultConversationLimit,
  defaultSearchLimit,
  isSearchableRole,
  snippet,
} from "./search.js";
import type { ChatStore, Conversation, RunRecord, SearchHit, StoredEvent, StoredMessage } from "./types.js";
import { newRunRecord } from "./run-record.js";

export interface MemoryStoreOptions {
  now?: () => number;
}

export interface MemoryChatStore extends ChatStore {
  readonly kind: "memory";
}

interface ConversationEntry {
  conversation: Conversation;
  /** Creation order, the tie-break of listConversations (SQLite's rowid). */
  order: number;
}

interface MessageEntry {
  id: number;
  conversationId: string;
  runId: string | null;
  /** JSON, like the SQLite store: callers get copies and the same serialisation rules. */
  json: string;
  createdAt: number;
}

interface RunEntry {
  record: RunRecord;
  /** Event JSON in seq order (seqs may skip after a recovery); the type kept aside, like SQLite's column. */
  events: Array<{ seq: number; type: ChatEvent["type"]; json: string }>;
}

/**
 * The same contract as the SQLite store, held in memory: nothing survives the process. Used by the
 * benchmark to isolate the durable log's cost and by tests that need a store but not a file.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryChatStore {
  const now = options.now ?? Date.now;
  const conversations = new Map<string, ConversationEntry>();
  const messages = new Map<string, MessageEntry[]>(); // by conversation, in id order
  const runs = new Map<string, RunEntry>();
  let nextMessageId = 1;
  let nextOrder = 1;
  let closed = false;

  function live(): void {
    if (closed) throw new StoreError("closed", "The store is closed.");
  }

  function owned(userId: string, conversationId: string): ConversationEntry | undefined {
    const entry = conversations.get(conversationId);
    return entry?.conversation.userId === userId ? entry : undefined;
  }

  function runsOf(conversationId: string): RunEntry[] {
    return [...runs.values()].filter((run) => run.record.conversationId === conversationId);
  }

  const copy = <T>(value: T): T => structuredClone(value);

  function toStoredMessage(entry: MessageEntry): StoredMessage {
    return {
      id: entry.id,
      conversationId: entry.conversationId,
      runId: entry.runId,
      message: JSON.parse(entry.json) as ChatMessage,
      createdAt: entry.createdAt,
    };
  }

  const store: MemoryChatStore = {
    kind: "memory",

    createConversation({ id, userId, title }) {
      live();
      if (conversations.has(id)) throw new StoreError("conflict", `Conversation ${id} already exists.`);
      const at = now();
      const conversation: Conversation = { id, userId, title, createdAt: at, updatedAt: at };
      conversations.set(id, { conversation, order: nextOrder++ });
      messages.set(id, []);
      return copy(conversation);
    },

    getConversation(userId, conversationId) {
      live();
      const entry = owned(userId, conversationId);
      return entry && copy(entry.conversation);
    },

    listConversations(userId, listOptions) {
      live();
      const limit = normalizeLimit(listOptions?.limit, defaultConversationLimit);
      return [...conversations.values()]
        .filter((entry) => entry.conversation.userId === userId)
        .sort((a, b) => b.conversation.updatedAt - a.conversation.updatedAt || b.order - a.order)
        .slice(0, limit)
        .map((entry) => copy(entry.conversation));
    },

    renameConversation(userId, conversationId, title) {
      live();
      const entry = owned(userId, conversationId);
      if (!entry) return undefined;
      entry.conversation.title = title;
      return copy(entry.conversation);
    },

    deleteConversation(userId, conversationId) {
      live();
      if (!owned(userId, conversationId)) return false;
      for (const run of runsOf(conversationId)) runs.delete(run.record.id);
      messages.delete(conversationId);
      conversations.delete(conversationId);
      return true;
    },

    searchMessages(userId, query, searchOptions) {
      live();
      const limit = normalizeLimit(searchOptions?.limit, defaultSearchLimit);
      if (query === "" || limit === 0) return [];
      const hits: Array<SearchHit & { id: number }> = [];
      for (const { conversation } of conversations.values()) {
        if (conversation.userId !== userId) continue;
        for (const entry of messages.get(conversation.id) ?? []) {
          const message = JSON.parse(entry.json) as ChatMessage;
          if (!isSearchableRole(message.role) || !containsFolded(message.content, query)) continue;
          hits.push({
            id: entry.id,
            conversationId: conversation.id,
            title: conversation.title,
            role: message.role,
            snippet: snippet(message.content, query),
            createdAt: entry.createdAt,
          });
        }
      }
      return hits
        .sort((a, b) => b.createdAt - a.createdAt || b.id - a.id)
        .slice(0, limit)
        .map(({ id: _id, ...hit }) => hit);
    },

    appendMessage({ conversationId, runId, message }) {
      live();
      const entry = conversations.get(conversationId);
      const list = messages.get(conversationId);
      if (!entry || !list) throw new StoreError("not_found", `Unknown conversation ${conversationId}.`);
      const at = now();
      const stored: MessageEntry = { id: nextMessageId++, conversationId, runId, json: JSON.stringify(message), createdAt: at };
      list.push(stored);
      entry.conversation.updatedAt = at;
      return toStoredMessage(stored);
    },

    listMessages(conversationId) {
      live();
      return (messages.get(conversationId) ?? []).map(toStoredMessage);
    },

    deleteMessagesFrom(conversationId, fromMessageId) {
      live();
      const list = messages.get(conversationId);
      if (!list) return 0;
      const kept = list.filter((entry) => entry.id < fromMessageId);
      messages.set(conversationId, kept);
      return list.length - kept.length;
    },

    createRun(input) {
      live();
      if (!owned(input.userId, input.conversationId)) {
        throw new StoreError("not_found", `Unknown conversation ${input.conversationId}.`);
      }
      const clientRequestId = input.clientRequestId ?? null;
      if (runs.has(input.id) || (clientRequestId !== null && store.findRunByClientRequestId(input.userId, clientRequestId))) {
        throw new StoreError("conflict", `Run ${input.id} or its client request id already exists.`);
      }
      const record = newRunRecord(input, now());
      runs.set(record.id, { record, events: [] });
      return copy(record);
    },

    getRun(runId) {
      live();
      const run = runs.get(runId);
      return run && copy(run.record);
    },

    findRunByClientRequestId(userId, clientRequestId) {
      live();
      for (const run of runs.values()) {
        if (run.record.userId === userId && run.record.clientRequestId === clientRequestId) return copy(run.record);
      }
      return undefined;
    },

    listRuns(conversationId) {
      live();
      // Map iteration is creation order; the stable sort keeps it on equal createdAt, like SQLite's rowid.
      return runsOf(conversationId)
        .sort((a, b) => a.record.createdAt - b.record.createdAt)
        .map((run) => copy(run.record));
    },

    activeRun(conversationId) {
      live();
      // Map iteration is creation order, so on equal createdAt the later run wins, as SQLite's rowid does.
      let newest: RunEntry | undefined;
      for (const run of runsOf(conversationId)) {
        if (run.record.status === "running" && (!newest || run.record.createdAt >= newest.record.createdAt)) newest = run;
      }
      return newest && copy(newest.record);
    },

    listRunningRuns() {
      live();
      return [...runs.values()]
        .filter((run) => run.record.status === "running")
        .sort((a, b) => a.record.createdAt - b.record.createdAt)
        .map((run) => copy(run.record));
    },

    finishRun(runId, { reason, usage }) {
      live();
      const run = runs.get(runId);
      if (!run || run.record.status !== "running") return;
      run.record = { ...run.record, status: "done", reason, usage: usage && copy(usage), finishedAt: now() };
    },

    appendEvent(runId, event, options) {
      live();
      const run = runs.get(runId);
      if (!run) throw new StoreError("not_found", `Unknown run ${runId}.`);
      const seq = Math.max((run.events.at(-1)?.seq ?? 0) + 1, Math.floor(options?.minSeq ?? 0));
      run.events.push({ seq, type: event.type, json: JSON.stringify(event) });
      return seq;
    },

    readEvents(runId, afterSeq = 0, limit) {
      live();
      const events = runs.get(runId)?.events ?? [];
      // Seqs ascend (with gaps after a recovery): binary-search the first one after afterSeq.
      let lo = 0;
      let hi = events.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((events[mid]?.seq ?? 0) <= afterSeq) lo = mid + 1;
        else hi = mid;
      }
      const page = events.slice(lo, limit === undefined ? undefined : lo + Math.max(0, Math.floor(limit)));
      return page.map(({ seq, json }): StoredEvent => ({ seq, event: JSON.parse(json) as ChatEvent }));
    },

    readEventsOfTypes(runId, types) {
      live();
      const wanted = new Set<string>(types);
      const found: StoredEvent[] = [];
      for (const { seq, type, json } of runs.get(runId)?.events ?? []) {
        if (wanted.has(type)) found.push({ seq, event: JSON.parse(json) as ChatEvent });
      }
      return found;
    },

    lastSeq(runId) {
      live();
      return runs.get(runId)?.events.at(-1)?.seq ?? 0;
    },

    flush() {
      live();
    },

    ping() {
      return !closed;
    },

    close() {
      closed = true;
    },
  };
  return store;
}
