import type { ChatEvent, ChatMessage } from "@streamchat/core";
import { StoreError, closedError, conflict } from "./errors.js";
import { normalizeLimit } from "./limits.js";
import {
  containsFolded,
  defaultConversationLimit,
  defaultSearchLimit,
  isSearchableRole,
  snippet,
} from "./search.js";
import type { ChatStore, Conversation, RunRecord, SearchHit, StoredEvent, StoredMessage } from "./types.js";
import { newRunRecord, runningLimit } from "./run-record.js";

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
  /** JSON, like the database stores: callers get copies and the same serialisation rules. */
  json: string;
  createdAt: number;
}

interface RunEntry {
  record: RunRecord;
  /** Ascending by seq (gaps allowed). */
  events: Array<{ seq: number; type: ChatEvent["type"]; json: string }>;
}

const committed: Promise<void> = Promise.resolve();

/**
 * The same contract as the database stores, held in one process's memory: nothing survives the process, and the
 * invariants hold for this process only. Used by the benchmark to isolate the durable log's cost and by tests that
 * need a store but not a database. Every call completes synchronously; the promises are for the shared contract.
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
    if (closed) throw closedError();
  }

  function owned(userId: string, conversationId: string): ConversationEntry | undefined {
    const entry = conversations.get(conversationId);
    return entry?.conversation.userId === userId ? entry : undefined;
  }

  function runsOf(conversationId: string): RunEntry[] {
    return [...runs.values()].filter((run) => run.record.conversationId === conversationId);
  }

  function running(): RunEntry[] {
    return [...runs.values()].filter((run) => run.record.status === "running");
  }

  function findByClientRequestId(userId: string, clientRequestId: string): RunEntry | undefined {
    for (const run of runs.values()) {
      if (run.record.userId === userId && run.record.clientRequestId === clientRequestId) return run;
    }
    return undefined;
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

  function toStoredEvents(list: RunEntry["events"]): StoredEvent[] {
    return list.map(({ seq, json }) => ({ seq, event: JSON.parse(json) as ChatEvent }));
  }

  const store: MemoryChatStore = {
    kind: "memory",

    async createConversation({ id, userId, title }) {
      live();
      if (conversations.has(id)) throw conflict("id", `Conversation ${id} already exists.`);
      const at = now();
      const conversation: Conversation = { id, userId, title, createdAt: at, updatedAt: at };
      conversations.set(id, { conversation, order: nextOrder++ });
      messages.set(id, []);
      return copy(conversation);
    },

    async getConversation(userId, conversationId) {
      live();
      const entry = owned(userId, conversationId);
      return entry && copy(entry.conversation);
    },

    async listConversations(userId, listOptions) {
      live();
      const limit = normalizeLimit(listOptions?.limit, defaultConversationLimit);
      return [...conversations.values()]
        .filter((entry) => entry.conversation.userId === userId)
        .sort((a, b) => b.conversation.updatedAt - a.conversation.updatedAt || b.order - a.order)
        .slice(0, limit)
        .map((entry) => copy(entry.conversation));
    },

    async renameConversation(userId, conversationId, title, renameOptions) {
      live();
      const entry = owned(userId, conversationId);
      if (!entry) return undefined;
      if (renameOptions?.ifTitle !== undefined && entry.conversation.title !== renameOptions.ifTitle) return undefined;
      entry.conversation.title = title;
      return copy(entry.conversation);
    },

    async deleteConversation(userId, conversationId) {
      live();
      if (!owned(userId, conversationId)) return false;
      for (const run of runsOf(conversationId)) runs.delete(run.record.id);
      messages.delete(conversationId);
      conversations.delete(conversationId);
      return true;
    },

    async searchMessages(userId, query, searchOptions) {
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

    async appendMessage({ conversationId, runId, message }) {
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

    async listMessages(conversationId) {
      live();
      return (messages.get(conversationId) ?? []).map(toStoredMessage);
    },

    async deleteMessagesFrom(conversationId, fromMessageId) {
      live();
      const list = messages.get(conversationId);
      if (!list) return 0;
      const kept = list.filter((entry) => entry.id < fromMessageId);
      messages.set(conversationId, kept);
      return list.length - kept.length;
    },

    async createRun(input) {
      live();
      const max = runningLimit(input);
      if (!owned(input.userId, input.conversationId)) {
        throw new StoreError("not_found", `Unknown conversation ${input.conversationId}.`);
      }
      const clientRequestId = input.clientRequestId ?? null;
      // The same order of refusals as the database stores (see ChatStore.createRun).
      if (clientRequestId !== null && findByClientRequestId(input.userId, clientRequestId)) {
        throw conflict("client_request_id", `The user already started a run with client request id ${clientRequestId}.`);
      }
      if (runs.has(input.id)) throw conflict("id", `Run ${input.id} already exists.`);
      if (runsOf(input.conversationId).some((run) => run.record.status === "running")) {
        throw conflict("conversation_busy", `Conversation ${input.conversationId} has a running run.`);
      }
      if (max !== undefined && running().filter((run) => run.record.userId === input.userId).length >= max) {
        throw new StoreError("limit", `The user already has ${max} running runs.`);
      }
      const record = newRunRecord(input, now());
      runs.set(record.id, { record, events: [] });
      return copy(record);
    },

    async getRun(runId) {
      live();
      const run = runs.get(runId);
      return run && copy(run.record);
    },

    async findRunByClientRequestId(userId, clientRequestId) {
      live();
      const run = findByClientRequestId(userId, clientRequestId);
      return run && copy(run.record);
    },

    async listRuns(conversationId) {
      live();
      // Map iteration is creation order; the stable sort keeps it on equal createdAt, like SQLite's rowid.
      return runsOf(conversationId)
        .sort((a, b) => a.record.createdAt - b.record.createdAt)
        .map((run) => copy(run.record));
    },

    async activeRun(conversationId) {
      live();
      const run = runsOf(conversationId).find((entry) => entry.record.status === "running");
      return run && copy(run.record);
    },

    async listRunningRuns(listOptions) {
      live();
      const owner = listOptions?.owner;
      return running()
        .filter((run) => owner === undefined || run.record.owner === owner)
        .sort((a, b) => a.record.createdAt - b.record.createdAt)
        .map((run) => copy(run.record));
    },

    async countRunningRuns(userId) {
      live();
      return running().filter((run) => run.record.userId === userId).length;
    },

    async finishRun(runId, { reason, usage }) {
      live();
      const run = runs.get(runId);
      if (!run || run.record.status !== "running") return false;
      run.record = { ...run.record, status: "done", reason, usage: usage && copy(usage), finishedAt: now() };
      return true;
    },

    appendEvent(runId, seq, event) {
      try {
        live();
        if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`seq must be a positive integer (got ${seq}).`);
        const run = runs.get(runId);
        if (!run) throw new StoreError("not_found", `Unknown run ${runId}.`);
        const last = run.events.at(-1)?.seq ?? 0;
        if (seq <= last) throw conflict("seq", `Run ${runId}: seq ${seq} is not above ${last}, the last one in the log.`);
        run.events.push({ seq, type: event.type, json: JSON.stringify(event) });
        return committed;
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },

    async readEvents(runId, afterSeq = 0, limit) {
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
      return toStoredEvents(events.slice(lo, limit === undefined ? undefined : lo + Math.max(0, Math.floor(limit))));
    },

    async readEventsOfTypes(runId, types) {
      live();
      const wanted = new Set<string>(types);
      return toStoredEvents((runs.get(runId)?.events ?? []).filter((event) => wanted.has(event.type)));
    },

    async lastSeq(runId) {
      live();
      return runs.get(runId)?.events.at(-1)?.seq ?? 0;
    },

    async flush() {
      live();
    },

    async ping() {
      return !closed;
    },

    async close() {
      closed = true;
    },
  };
  return store;
}
