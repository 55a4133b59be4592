import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type { ChatEvent, ChatMessage, DoneReason, Usage } from "@streamchat/core";
import { StoreError } from "./errors.js";
import { normalizeLimit } from "./limits.js";
import { migrate } from "./migrations.js";
import {
  containsPattern,
  defaultConversationLimit,
  defaultSearchLimit,
  foldCase,
  snippet,
  type SearchableRole,
} from "./search.js";
import type { ChatStore, Conversation, RunRecord, SearchHit, StoredEvent, StoredMessage } from "./types.js";
import { newRunRecord } from "./run-record.js";

export interface SqliteStoreOptions {
  /** Database file; its directory is created. ":memory:" works for throwaway stores. */
  path: string;
  /** Longest an appended event waits before it is committed. Default 25 ms. */
  flushIntervalMs?: number;
  /** Pending events that force a commit at once. Default 256. */
  maxBatch?: number;
  /** How long a write waits for another connection's lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
  now?: () => number;
  /** Called when a timer flush fails; the batch stays queued and is retried on the next flush. */
  onFlushError?: (error: unknown) => void;
}

export interface SqliteStoreStats {
  /** Event-batch transactions committed so far. Lets tests and the benchmark count commits, not time them. */
  commits: number;
  /** Events appended but not committed yet. */
  pendingEvents: number;
  /** Timer flushes that failed. */
  flushErrors: number;
}

export interface SqliteChatStore extends ChatStore {
  readonly kind: "sqlite";
  readonly path: string;
  stats(): SqliteStoreStats;
}

interface ConversationRow {
  id: string;
  user_id: string;
  title: string;
  created_at: number;
  updated_at: number;
}
interface MessageRow {
  id: number;
  conversation_id: string;
  run_id: string | null;
  json: string;
  created_at: number;
}
interface RunRow {
  id: string;
  conversation_id: string;
  user_id: string;
  model: string;
  provider: string;
  client_request_id: string | null;
  status: RunRecord["status"];
  reason: string | null;
  usage: string | null;
  created_at: number;
  finished_at: number | null;
}
interface EventRow {
  seq: number;
  json: string;
}
interface SearchRow {
  conversation_id: string;
  title: string;
  role: SearchableRole;
  content: string;
  created_at: number;
}
interface PendingEvent {
  runId: string;
  seq: number;
  type: ChatEvent["type"];
  json: string;
}

// Row shapes are fixed by migrations.ts; node:sqlite types every row as Record<string, SQLOutputValue>.
function getRow<T>(statement: StatementSync, ...params: SQLInputValue[]): T | undefined {
  return statement.get(...params) as T | undefined;
}
function allRows<T>(statement: StatementSync, ...params: SQLInputValue[]): T[] {
  return statement.all(...params) as T[];
}

const runColumns =
  "id, conversation_id, user_id, model, provider, client_request_id, status, reason, usage, created_at, finished_at";

/**
 * The durable store: one SQLite file in WAL mode through Node's built-in `node:sqlite`.
 *
 * Durability trade-off of the event log: appends are queued in memory and committed in one transaction
 * every `flushIntervalMs` (or at `maxBatch` pending, or at once for a `done` event), and with
 * `journal_mode=WAL` + `synchronous=NORMAL` a commit is not fsynced until the next checkpoint. A process
 * crash can therefore lose the last ≤ flushIntervalMs of events (an OS crash or power loss can lose the
 * last commits), but never corrupts the log: each batch lands whole or not at all, seqs stay gapless,
 * and a run's end (`done`) is committed before appendEvent returns. Everything else (conversations,
 * messages, runs) commits immediately. Call `close()` on shutdown: the flush timer is unref'd and will
 * not keep the process alive to flush for you.
 */
export function openSqliteStore(options: SqliteStoreOptions): SqliteChatStore {
  const flushIntervalMs = options.flushIntervalMs ?? 25;
  const maxBatch = options.maxBatch ?? 256;
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const now = options.now ?? Date.now;
  if (!(flushIntervalMs >= 0)) throw new RangeError("flushIntervalMs must be >= 0");
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError("maxBatch must be a positive integer");
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw new RangeError("busyTimeoutMs must be an integer >= 0");

  const inMemory = options.path === ":memory:";
  const path = inMemory ? options.path : resolve(options.path);
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });

  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`); // validated integer above; PRAGMAs take no parameters
    migrate(db, undefined, now);
  } catch (error) {
    db.close();
    throw error;
  }
  db.function("fold_case", { deterministic: true }, (text) => (typeof text === "string" ? foldCase(text) : text));

  // Prepared once, reused for the life of the store.
  const sql = {
    begin: db.prepare("BEGIN IMMEDIATE"),
    commit: db.prepare("COMMIT"),
    rollback: db.prepare("ROLLBACK"),
    ping: db.prepare("SELECT 1 AS ok"),

    insertConversation: db.prepare(
      "INSERT INTO conversations (id, user_id, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
    ),
    getConversation: db.prepare(
      "SELECT id, user_id, title, created_at, updated_at FROM conversations WHERE id = ? AND user_id = ?",
    ),
    listConversations: db.prepare(
      `SELECT id, user_id, title, created_at, updated_at FROM conversations
       WHERE user_id = ? ORDER BY updated_at DESC, rowid DESC LIMIT ?`,
    ),
    renameConversation: db.prepare("UPDATE conversations SET title = ? WHERE id = ? AND user_id = ?"),
    touchConversation: db.prepare("UPDATE conversations SET updated_at = ? WHERE id = ?"),
    runIdsOfConversation: db.prepare("SELECT id FROM runs WHERE conversation_id = ?"),
    deleteConversation: db.prepare("DELETE FROM conversations WHERE id = ? AND user_id = ?"),
    searchMessages: db.prepare(
      `SELECT m.conversation_id, c.title, m.role, m.content, m.created_at
       FROM messages m JOIN conversations c ON c.id = m.conversation_id
       WHERE c.user_id = ? AND m.role IN ('user', 'assistant') AND fold_case(m.content) LIKE ? ESCAPE '\\'
       ORDER BY m.created_at DESC, m.id DESC LIMIT ?`,
    ),

    insertMessage: db.prepare(
      "INSERT INTO messages (conversation_id, run_id, role, content, json, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    listMessages: db.prepare(
      "SELECT id, conversation_id, run_id, json, created_at FROM messages WHERE conversation_id = ? ORDER BY id",
    ),
    deleteMessagesFrom: db.prepare("DELETE FROM messages WHERE conversation_id = ? AND id >= ?"),

    insertRun: db.prepare(
      `INSERT INTO runs (id, conversation_id, user_id, model, provider, client_request_id, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, 'running', ?)`,
    ),
    conversationOwned: db.prepare("SELECT 1 AS found FROM conversations WHERE id = ? AND user_id = ?"),
    getRun: db.prepare(`SELECT ${runColumns} FROM runs WHERE id = ?`),
    findRunByClientRequestId: db.prepare(`SELECT ${runColumns} FROM runs WHERE user_id = ? AND client_request_id = ?`),
    activeRun: db.prepare(
      `SELECT ${runColumns} FROM runs WHERE conversation_id = ? AND status = 'running'
       ORDER BY created_at DESC, rowid DESC LIMIT 1`,
    ),
    listRuns: db.prepare(`SELECT ${runColumns} FROM runs WHERE conversation_id = ? ORDER BY created_at, rowid`),
    listRunningRuns: db.prepare(`SELECT ${runColumns} FROM runs WHERE status = 'running' ORDER BY created_at, rowid`),
    finishRun: db.prepare(
      "UPDATE runs SET status = 'done', reason = ?, usage = ?, finished_at = ? WHERE id = ? AND status = 'running'",
    ),

    insertEvent: db.prepare("INSERT INTO events (run_id, seq, type, json) VALUES (?, ?, ?, ?)"),
    seqStart: db.prepare(
      `SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?) AS found,
              COALESCE((SELECT MAX(seq) FROM events WHERE run_id = ?), 0) AS last`,
    ),
    lastSeq: db.prepare("SELECT COALESCE(MAX(seq), 0) AS last FROM events WHERE run_id = ?"),
    readEvents: db.prepare("SELECT seq, json FROM events WHERE run_id = ? AND seq > ? ORDER BY seq"),
    readEventsPage: db.prepare("SELECT seq, json FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?"),
    // The types as one JSON array parameter: a statement per list length would be needed otherwise.
    readEventsOfTypes: db.prepare(
      "SELECT seq, json FROM events WHERE run_id = ? AND type IN (SELECT value FROM json_each(?)) ORDER BY seq",
    ),
  };

  /** Last seq handed out per run with appends in this process; dropped once a run's `done` is committed. */
  const seqs = new Map<string, number>();
  let queue: PendingEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const stats = { commits: 0, flushErrors: 0 };

  function live(): void {
    if (closed) throw new StoreError("closed", "The store is closed.");
  }

  function transaction<T>(work: () => T): T {
    sql.begin.run();
    try {
      const result = work();
      sql.commit.run();
      return result;
    } catch (error) {
      // A failed COMMIT (e.g. SQLITE_BUSY) leaves the transaction open; a failed statement may not.
      try {
        sql.rollback.run();
      } catch {
        // nothing left to roll back
      }
      throw error;
    }
  }

  function isConstraintError(error: unknown): boolean {
    // SQLITE_CONSTRAINT is primary result code 19; extended codes keep it in the low byte.
    const errcode = (error as { errcode?: unknown } | null)?.errcode;
    return typeof errcode === "number" && (errcode & 0xff) === 19;
  }

  function flushQueue(): void {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (queue.length === 0) return;
    const batch = queue;
    try {
      transaction(() => {
        for (const row of batch) sql.insertEvent.run(row.runId, row.seq, row.type, row.json);
      });
    } catch (error) {
      // The batch stays queued (readEvents keeps serving it) and is retried on the next flush.
      armTimer();
      throw error;
    }
    stats.commits += 1;
    queue = [];
  }

  function armTimer(): void {
    if (timer !== undefined || closed) return;
    timer = setTimeout(onTimer, flushIntervalMs);
    timer.unref();
  }

  function onTimer(): void {
    timer = undefined;
    try {
      flushQueue();
    } catch (error) {
      stats.flushErrors += 1;
      options.onFlushError?.(error);
    }
  }

  function nextSeq(runId: string, minSeq = 0): number {
    let last = seqs.get(runId);
    if (last === undefined) {
      const row = getRow<{ found: number; last: number }>(sql.seqStart, runId, runId);
      if (!row?.found) throw new StoreError("not_found", `Unknown run ${runId}.`);
      last = row.last;
    }
    const seq = Math.max(last + 1, Math.floor(minSeq));
    seqs.set(runId, seq);
    return seq;
  }

  const store: SqliteChatStore = {
    kind: "sqlite",
    path,

    createConversation({ id, userId, title }) {
      live();
      const at = now();
      try {
        sql.insertConversation.run(id, userId, title, at, at);
      } catch (error) {
        if (isConstraintError(error)) throw new StoreError("conflict", `Conversation ${id} already exists.`, { cause: error });
        throw error;
      }
      return { id, userId, title, createdAt: at, updatedAt: at };
    },

    getConversation(userId, conversationId) {
      live();
      const row = getRow<ConversationRow>(sql.getConversation, conversationId, userId);
      return row && toConversation(row);
    },

    listConversations(userId, listOptions) {
      live();
      const limit = normalizeLimit(listOptions?.limit, defaultConversationLimit);
      return allRows<ConversationRow>(sql.listConversations, userId, limit).map(toConversation);
    },

    renameConversation(userId, conversationId, title) {
      live();
      sql.renameConversation.run(title, conversationId, userId);
      return store.getConversation(userId, conversationId);
    },

    deleteConversation(userId, conversationId) {
      live();
      if (!getRow(sql.getConversation, conversationId, userId)) return false;
      // Commit queued events first: a batch holding rows of deleted runs would fail on its foreign key.
      flushQueue();
      const runIds = allRows<{ id: string }>(sql.runIdsOfConversation, conversationId);
      const { changes } = sql.deleteConversation.run(conversationId, userId);
      for (const { id } of runIds) seqs.delete(id);
      return Number(changes) > 0;
    },

    searchMessages(userId, query, searchOptions) {
      live();
      const limit = normalizeLimit(searchOptions?.limit, defaultSearchLimit);
      if (query === "" || limit === 0) return [];
      return allRows<SearchRow>(sql.searchMessages, userId, containsPattern(query), limit).map(
        (row): SearchHit => ({
          conversationId: row.conversation_id,
          title: row.title,
          role: row.role,
          snippet: snippet(row.content, query),
          createdAt: row.created_at,
        }),
      );
    },

    appendMessage({ conversationId, runId, message }) {
      live();
      const at = now();
      const json = JSON.stringify(message);
      const id = transaction(() => {
        const { changes } = sql.touchConversation.run(at, conversationId);
        if (Number(changes) === 0) throw new StoreError("not_found", `Unknown conversation ${conversationId}.`);
        return Number(sql.insertMessage.run(conversationId, runId, message.role, message.content, json, at).lastInsertRowid);
      });
      return { id, conversationId, runId, message: JSON.parse(json) as ChatMessage, createdAt: at };
    },

    listMessages(conversationId) {
      live();
      return allRows<MessageRow>(sql.listMessages, conversationId).map(toStoredMessage);
    },

    deleteMessagesFrom(conversationId, fromMessageId) {
      live();
      return Number(sql.deleteMessagesFrom.run(conversationId, fromMessageId).changes);
    },

    createRun(input) {
      live();
      const at = now();
      const clientRequestId = input.clientRequestId ?? null;
      transaction(() => {
        if (!getRow(sql.conversationOwned, input.conversationId, input.userId)) {
          throw new StoreError("not_found", `Unknown conversation ${input.conversationId}.`);
        }
        try {
          sql.insertRun.run(input.id, input.conversationId, input.userId, input.model, input.provider, clientRequestId, at);
        } catch (error) {
          if (isConstraintError(error)) {
            throw new StoreError("conflict", `Run ${input.id} or its client request id already exists.`, { cause: error });
          }
          throw error;
        }
      });
      return newRunRecord(input, at);
    },

    getRun(runId) {
      live();
      const row = getRow<RunRow>(sql.getRun, runId);
      return row && toRunRecord(row);
    },

    findRunByClientRequestId(userId, clientRequestId) {
      live();
      const row = getRow<RunRow>(sql.findRunByClientRequestId, userId, clientRequestId);
      return row && toRunRecord(row);
    },

    listRuns(conversationId) {
      live();
      return allRows<RunRow>(sql.listRuns, conversationId).map(toRunRecord);
    },

    activeRun(conversationId) {
      live();
      const row = getRow<RunRow>(sql.activeRun, conversationId);
      return row && toRunRecord(row);
    },

    listRunningRuns() {
      live();
      return allRows<RunRow>(sql.listRunningRuns).map(toRunRecord);
    },

    finishRun(runId, { reason, usage }) {
      live();
      sql.finishRun.run(reason, usage === null ? null : JSON.stringify(usage), now(), runId);
    },

    appendEvent(runId, event, options) {
      live();
      const seq = nextSeq(runId, options?.minSeq);
      // Serialised now, so later changes to the caller's object never reach the log.
      queue.push({ runId, seq, type: event.type, json: JSON.stringify(event) });
      if (event.type === "done") {
        // The API reports a run finished only after this returns: its end must be committed.
        flushQueue();
        seqs.delete(runId); // bounded memory; the next append (if any) re-reads MAX(seq) from the committed log
      } else if (queue.length >= maxBatch) {
        flushQueue();
      } else {
        armTimer();
      }
      return seq;
    },

    readEvents(runId, afterSeq = 0, limit) {
      live();
      const max = limit === undefined ? Infinity : Math.max(0, Math.floor(limit));
      const rows =
        max === Infinity ? allRows<EventRow>(sql.readEvents, runId, afterSeq) : allRows<EventRow>(sql.readEventsPage, runId, afterSeq, max);
      const committed = rows.map((row): StoredEvent => ({ seq: row.seq, event: JSON.parse(row.json) as ChatEvent }));
      // Pending rows always follow the committed ones of their run (seqs are handed out in order).
      for (const row of queue) {
        if (committed.length >= max) break;
        if (row.runId === runId && row.seq > afterSeq) committed.push({ seq: row.seq, event: JSON.parse(row.json) as ChatEvent });
      }
      return committed;
    },

    readEventsOfTypes(runId, types) {
      live();
      if (types.length === 0) return [];
      const wanted = new Set<string>(types);
      const found = allRows<EventRow>(sql.readEventsOfTypes, runId, JSON.stringify([...wanted])).map(
        (row): StoredEvent => ({ seq: row.seq, event: JSON.parse(row.json) as ChatEvent }),
      );
      for (const row of queue) {
        if (row.runId === runId && wanted.has(row.type)) found.push({ seq: row.seq, event: JSON.parse(row.json) as ChatEvent });
      }
      return found;
    },

    lastSeq(runId) {
      live();
      return seqs.get(runId) ?? getRow<{ last: number }>(sql.lastSeq, runId)?.last ?? 0;
    },

    flush() {
      live();
      flushQueue();
    },

    ping() {
      if (closed) return false;
      try {
        return getRow<{ ok: number }>(sql.ping)?.ok === 1;
      } catch {
        return false;
      }
    },

    stats() {
      return { commits: stats.commits, pendingEvents: queue.length, flushErrors: stats.flushErrors };
    },

    close() {
      if (closed) return;
      try {
        flushQueue();
      } finally {
        closed = true;
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        db.close();
      }
    },
  };
  return store;
}

function toConversation(row: ConversationRow): Conversation {
  return { id: row.id, userId: row.user_id, title: row.title, createdAt: row.created_at, updatedAt: row.updated_at };
}

function toStoredMessage(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    runId: row.run_id,
    message: JSON.parse(row.json) as ChatMessage,
    createdAt: row.created_at,
  };
}

function toRunRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    userId: row.user_id,
    model: row.model,
    provider: row.provider,
    clientRequestId: row.client_request_id,
    status: row.status,
    reason: row.reason as DoneReason | null,
    usage: row.usage === null ? null : (JSON.parse(row.usage) as Usage),
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}
