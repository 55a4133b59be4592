import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type { ChatMessage } from "@streamchat/core";
import { StoreError, closedError, conflict } from "./errors.js";
import { startWalCheckpointer, type WalCheckpointer, type WalCheckpointerOptions } from "./checkpointer.js";
import { checkInsertConversation, checkTime } from "./insert-conversation.js";
import { EventBatcher, checkBatcherOptions, mergeQueued, type EventBatcherStats, type EventSink, type FailureKind } from "./event-batcher.js";
import { normalizeLimit } from "./limits.js";
import { migrate } from "./migrations.js";
import {
  containsFolded,
  searchedText,
  containsPattern,
  defaultConversationLimit,
  defaultSearchLimit,
  likeAnswersExactly,
  searchableText,
  snippet,
} from "./search.js";
import { notStreamedPredicate, onlyNotStreamed } from "./streamed-types.js";
import {
  conversationColumns,
  messageColumns,
  runColumns,
  toBranchOrigin,
  toImportedCopy,
  toConversation,
  toDecision,
  toRunRecord,
  toRunSettings,
  toUserSettings,
  userSettingsColumns,
  foundSettings,
  toStoredEvent,
  toStoredMessage,
  groupByRun,
  newSettingsValues,
  runIdChunks,
  samplingChange,
  settingsColumns,
  type BranchOriginRow,
  type ImportedCopyRow,
  type ConversationRow,
  type ConversationSettingsRow,
  type DecisionRow,
  type EventRow,
  type MessageRow,
  type RunEventRow,
  type RunRow,
  type RunSettingsRow,
  type UserSettingsRow,
  type SearchRow,
} from "./rows.js";
import type { ApprovalDecisionRecord, ChatStore, Conversation, CreateRunInput, PathMessage, RunAnswer, RunRecord, SearchHit, StartedRunRecord, StoredEvent, StoredMessage } from "./types.js";
import { newRunRecord, runningLimit } from "./run-record.js";
import { MessageTree, type TreeNode } from "./tree.js";

export interface SqliteStoreOptions {
  /** Database file; its directory is created. ":memory:" works for throwaway stores. */
  path: string;
  /** Longest an appended event waits before it is committed. Default 100 ms (defaultFlushIntervalMs). */
  flushIntervalMs?: number;
  /** Queued events that force a commit at once. Default 256. */
  maxBatch?: number;
  /** How long a batch of events is retried while the database is locked or full before it is rejected. Default 60 s. */
  retryForMs?: number;
  /** How long a write waits for another connection's lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
  now?: () => number;
  /** Called for every failed commit of a batch of events (the batch stays queued while the failure is transient). */
  onFlushError?: (error: unknown) => void;
  /**
   * Checkpoints on a worker thread (checkpointer.ts), for a database file; default true. False: the connection
   * checkpoints inside its commits, as SQLite does by default.
   */
  checkpointInWorker?: boolean;
  /** Each checkpoint the worker made. */
  onCheckpoint?: WalCheckpointerOptions["onCheckpoint"];
  /** The checkpoint worker failed: the connection checkpoints itself from then on (worth a warning in a log). */
  onCheckpointFallback?: WalCheckpointerOptions["onFallback"];
}

export type SqliteStoreStats = EventBatcherStats;

export interface SqliteChatStore extends ChatStore {
  readonly kind: "sqlite";
  readonly path: string;
  stats(): SqliteStoreStats;
}


/** listConversations' two lists (schema v11): the conversations that are not archived, or the archived ones. */
function archivedFilter(archived: boolean): string {
  return archived ? "archived_at IS NOT NULL" : "archived_at IS NULL";
}
/**
 * listConversations (user id, limit): pinned first (NULLs sort last in DESC), then newest activity, newest created.
 * Exactly the order of conversations_by_user_pinned_activity (migration 8) read backwards: a page reads its own
 * entries of the index, with no sort of the user's conversations; the archived ones (or, for the archived list, the
 * others) are skipped as they are read.
 */
function listSql(archived: boolean): string {
  return `SELECT ${conversationColumns} FROM conversations
  WHERE user_id = ? AND ${archivedFilter(archived)} ORDER BY pinned_at DESC, updated_at DESC, rowid DESC LIMIT ?`;
}
/** The list (user id, limit): the conversations that are not archived. */
export const listConversationsSql = listSql(false);
/** The archived list (user id, limit). */
export const listArchivedConversationsSql = listSql(true);
/** The page after an unpinned conversation (user id, its updated_at twice, its rowid, limit): unpinned ones below it. */
const listAfterUnpinnedSql = (archived: boolean) => `SELECT ${conversationColumns} FROM conversations
  WHERE user_id = ? AND ${archivedFilter(archived)} AND pinned_at IS NULL AND (updated_at < ? OR (updated_at = ? AND rowid < ?))
  ORDER BY pinned_at DESC, updated_at DESC, rowid DESC LIMIT ?`;
/** The page after a pinned one (user id, its pinned_at twice, updated_at twice, rowid, limit): pinned below it, then every unpinned one. */
const listAfterPinnedSql = (archived: boolean) => `SELECT ${conversationColumns} FROM conversations
  WHERE user_id = ? AND ${archivedFilter(archived)}
    AND (pinned_at IS NULL OR pinned_at < ? OR (pinned_at = ? AND (updated_at < ? OR (updated_at = ? AND rowid < ?))))
  ORDER BY pinned_at DESC, updated_at DESC, rowid DESC LIMIT ?`;

/**
 * getRunSettings (user id, conversation id), read by every run: the user's instructions, the conversation's, and each
 * sampling setting the conversation's, else the user's (schema v12–v14), each table's row a lookup of its primary key joined to the one row of the two keys, in
 * one statement; '' and NULL settings for a missing row.
 */
export const runSettingsSql = `SELECT COALESCE(u.instructions, '') AS user_instructions,
  COALESCE(s.instructions, '') AS conversation_instructions, COALESCE(s.temperature, u.temperature) AS temperature,
  COALESCE(s.top_p, u.top_p) AS top_p, COALESCE(s.seed, u.seed) AS seed
  FROM (SELECT ? AS user_id, ? AS conversation_id) AS k
  LEFT JOIN user_settings u ON u.user_id = k.user_id
  LEFT JOIN conversation_settings s ON s.conversation_id = k.conversation_id`;

// Row shapes are fixed by migrations.ts; node:sqlite types every row as Record<string, SQLOutputValue>.
function getRow<T>(statement: StatementSync, ...params: SQLInputValue[]): T | undefined {
  return statement.get(...params) as T | undefined;
}
function allRows<T>(statement: StatementSync, ...params: SQLInputValue[]): T[] {
  return statement.all(...params) as T[];
}


// SQLite result codes (extended codes keep the primary one in the low byte).
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_FULL = 13;
const SQLITE_CONSTRAINT = 19;
const SQLITE_CONSTRAINT_FOREIGNKEY = 787;
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;

function errcode(error: unknown): number | undefined {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === "number" ? code : undefined;
}

function isConstraintError(error: unknown): boolean {
  return ((errcode(error) ?? 0) & 0xff) === SQLITE_CONSTRAINT;
}

/** A write the database cannot take now, but may later: another connection held the lock past busy_timeout, a full disk. */
function isTransient(error: unknown): boolean {
  const primary = (errcode(error) ?? 0) & 0xff;
  return primary === SQLITE_BUSY || primary === SQLITE_LOCKED || primary === SQLITE_FULL;
}

/**
 * What a caller of the store sees of a transient failure: StoreError("unavailable"), as the PostgreSQL store reports a
 * database it cannot reach (the API answers 503 "try again in a moment", not 500). The event log retries these itself.
 */
function reported(error: unknown): unknown {
  if (!isTransient(error)) return error;
  const why = ((errcode(error) ?? 0) & 0xff) === SQLITE_FULL ? "its disk is full" : "another connection holds it locked";
  return new StoreError("unavailable", `The SQLite database cannot take writes now (${why}).`, { cause: error });
}

/** `work` (a store method's writes), its transient failures reported as unavailable. */
function writing<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw reported(error);
  }
}

/**
 * The embedded store: one SQLite file in WAL mode through Node's built-in `node:sqlite`.
 *
 * Durability trade-off of the event log: appends are queued in memory and committed in one transaction
 * every `flushIntervalMs` (or at `maxBatch` queued, or at once for a `done` event) by the shared EventBatcher,
 * and with `journal_mode=WAL` + `synchronous=NORMAL` a commit is not fsynced until the next checkpoint. A process
 * crash can therefore lose the last ≤ flushIntervalMs of events (an OS crash or power loss can lose the
 * last commits), but never corrupts the log: each batch lands whole or not at all, and a run's end (`done`) is
 * committed before its append's promise resolves. The runs started in one turn of the event loop commit together
 * (`startRun`'s group commit, each run under its own savepoint) before their promises resolve; everything else
 * (conversations, messages, runs) commits immediately. Invariants (one running run per conversation, unique client
 * request ids, the per-user limit) are checked inside BEGIN IMMEDIATE, which serialises writers across processes
 * sharing the file, and backed by unique indexes. Call `close()` on shutdown: the flush timer is unref'd and will not keep the process alive.
 */
export function openSqliteStore(options: SqliteStoreOptions): SqliteChatStore {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw new RangeError("busyTimeoutMs must be an integer >= 0");
  checkBatcherOptions(options);

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
    // The savepoints of a group of run starts journal every page they change; past 64 KB SQLite spills that journal to
    // a temporary file (created, unlinked, ~20 writes per answer; docs/benchmarks-log.md, stop 44). In memory it costs
    // a copy. Set after the migrations: an index built over a large table sorts through temporary files, which should
    // stay files rather than hold the whole sort in memory.
    db.exec("PRAGMA temp_store = MEMORY");
  } catch (error) {
    db.close();
    throw error;
  }
  const checkpointer: WalCheckpointer | null =
    inMemory || options.checkpointInWorker === false
      ? null
      : startWalCheckpointer(db, path, {
          ...(options.onCheckpoint ? { onCheckpoint: options.onCheckpoint } : {}),
          ...(options.onCheckpointFallback ? { onFallback: options.onCheckpointFallback } : {}),
        });
  db.function("fold_case", { deterministic: true }, (text) => (typeof text === "string" ? searchableText(text) : text));

  // Prepared once, reused for the life of the store.
  const sql = {
    begin: db.prepare("BEGIN IMMEDIATE"),
    // One per run of a group of starts (startRun): a refused run is undone alone.
    savepoint: db.prepare("SAVEPOINT run_start"),
    release: db.prepare("RELEASE run_start"),
    rollbackTo: db.prepare("ROLLBACK TO run_start"),
    // A read transaction: one snapshot for several statements (another process may write in between).
    beginRead: db.prepare("BEGIN"),
    commit: db.prepare("COMMIT"),
    rollback: db.prepare("ROLLBACK"),
    ping: db.prepare("SELECT 1 AS ok"),

    insertConversation: db.prepare(
      "INSERT INTO conversations (id, user_id, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
    ),
    // insertConversation's: its pinnedAt, archivedAt and origin as given.
    insertWholeConversation: db.prepare(
      "INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at, archived_at, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    // insertConversation's branchOf (schema v10), once the branch's copy of the answer has its id.
    setBranchOf: db.prepare("UPDATE conversations SET branch_of = ?, branch_of_message = ?, branch_at_message = ? WHERE id = ?"),
    // The original's title now: NULL when it was deleted (or is no longer the user's).
    branchOrigin: db.prepare(
      `SELECT b.branch_of AS conversation_id, b.branch_of_message AS message_id, b.branch_at_message AS at_message_id, o.title
       FROM conversations b LEFT JOIN conversations o ON o.id = b.branch_of AND o.user_id = b.user_id
       WHERE b.id = ? AND b.user_id = ? AND b.branch_of IS NOT NULL`,
    ),
    // The user's imports of one chat of another app: conversations_by_user_origin's entries of the user, their origins
    // compared by prefix (character counts, as the prefix is bound).
    importedCopies: db.prepare(
      `SELECT c.id, c.origin, c.title, c.pinned_at, c.archived_at, c.updated_at, EXISTS (SELECT 1 FROM runs r WHERE r.conversation_id = c.id) AS has_runs
       FROM conversations c WHERE c.user_id = ? AND c.origin IS NOT NULL AND substr(c.origin, 1, length(?)) = ?
       ORDER BY c.updated_at DESC, c.rowid DESC`,
    ),
    // insertConversation's origin check: a probe of conversations_by_user_origin (schema v9).
    originTaken: db.prepare("SELECT 1 AS found FROM conversations WHERE user_id = ? AND origin = ?"),
    getConversation: db.prepare(`SELECT ${conversationColumns} FROM conversations WHERE id = ? AND user_id = ?`),
    listConversations: db.prepare(listConversationsSql),
    listArchivedConversations: db.prepare(listArchivedConversationsSql),
    listAnchor: db.prepare("SELECT pinned_at, archived_at, updated_at, rowid FROM conversations WHERE id = ? AND user_id = ?"),
    listAfterUnpinned: db.prepare(listAfterUnpinnedSql(false)),
    listAfterPinned: db.prepare(listAfterPinnedSql(false)),
    listArchivedAfterUnpinned: db.prepare(listAfterUnpinnedSql(true)),
    listArchivedAfterPinned: db.prepare(listAfterPinnedSql(true)),
    renameConversation: db.prepare("UPDATE conversations SET title = ? WHERE id = ? AND user_id = ?"),
    renameConversationIf: db.prepare("UPDATE conversations SET title = ? WHERE id = ? AND user_id = ? AND title = ?"),
    // A pinned conversation keeps its pinned_at (COALESCE): pinning twice does not reorder.
    pinConversation: db.prepare(
      `UPDATE conversations SET pinned_at = COALESCE(pinned_at, ?) WHERE id = ? AND user_id = ? RETURNING ${conversationColumns}`,
    ),
    unpinConversation: db.prepare(`UPDATE conversations SET pinned_at = NULL WHERE id = ? AND user_id = ? RETURNING ${conversationColumns}`),
    // An archived conversation keeps its archived_at (COALESCE), as a pinned one its pinned_at.
    archiveConversation: db.prepare(
      `UPDATE conversations SET archived_at = COALESCE(archived_at, ?) WHERE id = ? AND user_id = ? RETURNING ${conversationColumns}`,
    ),
    unarchiveConversation: db.prepare(`UPDATE conversations SET archived_at = NULL WHERE id = ? AND user_id = ? RETURNING ${conversationColumns}`),
    runIdsOfConversation: db.prepare("SELECT id FROM runs WHERE conversation_id = ?"),
    deleteConversation: db.prepare("DELETE FROM conversations WHERE id = ? AND user_id = ?"),
    // insertConversation's `replaces`: only a conversation nothing was asked in (no run, so no batch of the batcher's).
    deleteWithoutRuns: db.prepare("DELETE FROM conversations WHERE id = ? AND user_id = ? AND NOT EXISTS (SELECT 1 FROM runs WHERE conversation_id = ?)"),
    searchMessages: db.prepare(
      `SELECT m.id, m.conversation_id, c.title, m.role, m.json, m.created_at, c.archived_at
       FROM messages m JOIN conversations c ON c.id = m.conversation_id
       WHERE c.user_id = ? AND m.role IN ('user', 'assistant') AND fold_case(m.content) LIKE ? ESCAPE '\\'
       ORDER BY m.created_at DESC, m.id DESC LIMIT ?`,
    ),
    // For the few queries LIKE cannot answer exactly (search.ts likeAnswersExactly): every candidate, newest first.
    scanSearchable: db.prepare(
      `SELECT m.id, m.conversation_id, c.title, m.role, m.json, m.created_at, c.archived_at
       FROM messages m JOIN conversations c ON c.id = m.conversation_id
       WHERE c.user_id = ? AND m.role IN ('user', 'assistant')
       ORDER BY m.created_at DESC, m.id DESC`,
    ),

    insertMessage: db.prepare(
      "INSERT INTO messages (conversation_id, parent_id, run_id, role, content, json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    listMessages: db.prepare(`SELECT ${messageColumns} FROM messages WHERE conversation_id = ? ORDER BY id`),
    messagesByIds: db.prepare(`SELECT ${messageColumns} FROM messages WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`),
    messageInConversation: db.prepare("SELECT 1 AS found FROM messages WHERE id = ? AND conversation_id = ?"),
    treeOf: db.prepare("SELECT id, parent_id FROM messages WHERE conversation_id = ?"),
    headOf: db.prepare("SELECT head_message_id AS head FROM conversations WHERE id = ?"),
    setHead: db.prepare("UPDATE conversations SET head_message_id = ? WHERE id = ?"),
    // RETURNING: startRun answers with the conversation as the append leaves it, without reading it again.
    appendedMessage: db.prepare(
      `UPDATE conversations SET updated_at = ?, head_message_id = ? WHERE id = ? RETURNING ${conversationColumns}`,
    ),

    insertRun: db.prepare(
      `INSERT INTO runs (id, conversation_id, user_id, model, provider, client_request_id, owner, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?)`,
    ),
    // insertConversation's runs: finished as they are written.
    insertFinishedRun: db.prepare(
      `INSERT INTO runs (id, conversation_id, user_id, model, provider, owner, status, reason, usage, created_at, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, 'done', ?, ?, ?, ?)`,
    ),
    conversationOwned: db.prepare("SELECT 1 AS found FROM conversations WHERE id = ? AND user_id = ?"),
    conversationExists: db.prepare("SELECT 1 AS found FROM conversations WHERE id = ?"),
    runExists: db.prepare("SELECT 1 AS found FROM runs WHERE id = ?"),
    getRun: db.prepare(`SELECT ${runColumns} FROM runs WHERE id = ?`),
    findRunByClientRequestId: db.prepare(`SELECT ${runColumns} FROM runs WHERE user_id = ? AND client_request_id = ?`),
    activeRun: db.prepare(`SELECT ${runColumns} FROM runs WHERE conversation_id = ? AND status = 'running'`),
    listRuns: db.prepare(`SELECT ${runColumns} FROM runs WHERE conversation_id = ? ORDER BY created_at, rowid`),
    listRunningRuns: db.prepare(`SELECT ${runColumns} FROM runs WHERE status = 'running' ORDER BY created_at, rowid`),
    runningOwners: db.prepare("SELECT DISTINCT owner FROM runs WHERE status = 'running'"),
    runningAmong: db.prepare("SELECT id FROM runs WHERE status = 'running' AND id IN (SELECT value FROM json_each(?))"),
    listRunningRunsOf: db.prepare(
      `SELECT ${runColumns} FROM runs WHERE status = 'running' AND owner = ? ORDER BY created_at, rowid`,
    ),
    countRunning: db.prepare("SELECT COUNT(*) AS n FROM runs WHERE user_id = ? AND status = 'running'"),
    finishRun: db.prepare(
      "UPDATE runs SET status = 'done', reason = ?, usage = ?, finished_at = ? WHERE id = ? AND status = 'running'",
    ),

    insertEvent: db.prepare("INSERT INTO events (run_id, seq, type, json) VALUES (?, ?, ?, ?)"),
    // pruneTokenEvents: the runs after a cursor by their primary key, and one run's token rows by the log's.
    runsAfter: db.prepare("SELECT id, status, finished_at FROM runs WHERE id > ? ORDER BY id LIMIT ?"),
    deleteTokenEvents: db.prepare("DELETE FROM events WHERE run_id = ? AND type = 'token'"),
    eventJson: db.prepare("SELECT json FROM events WHERE run_id = ? AND seq = ?"),
    lastSeq: db.prepare("SELECT COALESCE(MAX(seq), 0) AS last FROM events WHERE run_id = ?"),
    readEvents: db.prepare("SELECT seq, json FROM events WHERE run_id = ? AND seq > ? ORDER BY seq"),
    readEventsPage: db.prepare("SELECT seq, json FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?"),
    readEventsOfTypes: db.prepare(
      "SELECT seq, json FROM events WHERE run_id = ? AND type IN (SELECT value FROM json_each(?)) ORDER BY seq",
    ),
    readNotStreamedOfTypes: db.prepare(
      `SELECT seq, json FROM events
       WHERE run_id = ? AND ${notStreamedPredicate} AND type IN (SELECT value FROM json_each(?)) ORDER BY seq`,
    ),
    readRunsEventsOfTypes: db.prepare(
      `SELECT run_id, seq, json FROM events
       WHERE run_id IN (SELECT value FROM json_each(?)) AND type IN (SELECT value FROM json_each(?)) ORDER BY run_id, seq`,
    ),
    readRunsNotStreamedOfTypes: db.prepare(
      `SELECT run_id, seq, json FROM events
       WHERE run_id IN (SELECT value FROM json_each(?)) AND ${notStreamedPredicate} AND type IN (SELECT value FROM json_each(?))
       ORDER BY run_id, seq`,
    ),

    claimRun: db.prepare("UPDATE runs SET owner = ? WHERE id = ? AND status = 'running' AND owner IS ?"),
    insertDecision: db.prepare(
      `INSERT INTO approval_decisions (run_id, call_id, approved, reason, decided_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (run_id, call_id) DO NOTHING`,
    ),
    getDecision: db.prepare(
      "SELECT run_id, call_id, approved, reason, decided_at FROM approval_decisions WHERE run_id = ? AND call_id = ?",
    ),
    listToolServerSettings: db.prepare(
      "SELECT server, enabled, updated_at FROM tool_server_settings WHERE user_id = ? ORDER BY server",
    ),
    setToolServerEnabled: db.prepare(
      `INSERT INTO tool_server_settings (user_id, server, enabled, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, server) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at`,
    ),
    getUserSettings: db.prepare(`SELECT ${userSettingsColumns} FROM user_settings WHERE user_id = ?`),
    // Each set names only its own columns, as a conversation's do: the others stay as stored, and are returned with them.
    setInstructions: db.prepare(
      `INSERT INTO user_settings (user_id, instructions, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET instructions = excluded.instructions, updated_at = excluded.updated_at
       RETURNING ${userSettingsColumns}`,
    ),
    setUserSampling: db.prepare(
      `INSERT INTO user_settings (user_id, instructions, temperature, top_p, seed, updated_at) VALUES (?, '', ?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET temperature = IIF(?, excluded.temperature, temperature),
         top_p = IIF(?, excluded.top_p, top_p), seed = IIF(?, excluded.seed, seed), updated_at = excluded.updated_at
       RETURNING ${userSettingsColumns}`,
    ),
    // A conversation's settings (schema v12, v13): a row for the user's conversation, its settings NULL when it has none.
    getConversationSettings: db.prepare(
      `SELECT s.instructions, s.temperature, s.top_p, s.seed, s.updated_at FROM conversations c
       LEFT JOIN conversation_settings s ON s.conversation_id = c.id WHERE c.id = ? AND c.user_id = ?`,
    ),
    // Nothing inserted (no row returned) when the conversation is not the user's; one statement, so no other writer
    // between the check and the upsert. (The WHERE also keeps SQLite from reading ON CONFLICT as a join's ON.) Each
    // set names only its own columns: the other settings stay as stored, and are returned with them.
    setConversationInstructions: db.prepare(
      `INSERT INTO conversation_settings (conversation_id, instructions, updated_at)
       SELECT id, ?, ? FROM conversations WHERE id = ? AND user_id = ?
       ON CONFLICT (conversation_id) DO UPDATE SET instructions = excluded.instructions, updated_at = excluded.updated_at
       RETURNING ${settingsColumns}`,
    ),
    setConversationSampling: db.prepare(
      `INSERT INTO conversation_settings (conversation_id, instructions, temperature, top_p, seed, updated_at)
       SELECT id, '', ?, ?, ?, ? FROM conversations WHERE id = ? AND user_id = ?
       ON CONFLICT (conversation_id) DO UPDATE SET temperature = IIF(?, excluded.temperature, temperature),
         top_p = IIF(?, excluded.top_p, top_p), seed = IIF(?, excluded.seed, seed), updated_at = excluded.updated_at
       RETURNING ${settingsColumns}`,
    ),
    getRunSettings: db.prepare(runSettingsSql),
    insertConversationSettings: db.prepare(
      "INSERT INTO conversation_settings (conversation_id, instructions, temperature, top_p, seed, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
    ),
  };

  function transaction<T>(work: () => T): T {
    sql.begin.run();
    try {
      const result = work();
      sql.commit.run();
      checkpointer?.committed();
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

  /** A store method's transaction: its transient failures reported as unavailable (the event log's sink retries them). */
  function writeTransaction<T>(work: () => T): T {
    return writing(() => transaction(work));
  }

  /**
   * Group commit of the runs started in one turn of the event loop: one BEGIN IMMEDIATE … COMMIT for all of them, each
   * under its own savepoint, so a refused run (its checks, its question's parent) is rolled back alone and the others
   * commit. Why: a start writes ~13 pages (one per B-tree it touches), and concurrent starts touch the same ones (the
   * right edges of indexes keyed by time-ordered ids), so a group writes little more than one start. The wait is the
   * rest of the turn: setImmediate runs right after the I/O that brought the requests.
   */
  let queuedStarts: Array<{ start: () => StartedRunRecord; resolve: (started: StartedRunRecord) => void; reject: (error: unknown) => void }> = [];
  let startsScheduled: NodeJS.Immediate | undefined;

  function commitStarts(): void {
    startsScheduled = undefined;
    const group = queuedStarts;
    queuedStarts = [];
    const outcomes: Array<{ ok: true; started: StartedRunRecord } | { ok: false; error: unknown }> = [];
    try {
      transaction(() => {
        for (const { start } of group) {
          sql.savepoint.run();
          try {
            outcomes.push({ ok: true, started: start() });
          } catch (error) {
            try {
              sql.rollbackTo.run();
            } catch {
              // The transaction itself is gone (SQLite rolls it back on some I/O errors): the whole group fails, below.
              throw error;
            }
            outcomes.push({ ok: false, error });
          }
          sql.release.run();
        }
      });
    } catch (error) {
      const failure = reported(error);
      for (const { reject } of group) reject(failure);
      return;
    }
    group.forEach(({ resolve, reject }, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) resolve(outcome.started);
      else reject(outcome.error);
    });
  }

  const sink: EventSink = {
    insert(rows) {
      transaction(() => {
        for (const row of rows) {
          if (row.answer) row.answer.stored = insertAnswer(row.runId, row.answer);
          sql.insertEvent.run(row.runId, row.seq, row.type, row.json);
          if (row.finish) sql.finishRun.run(row.finish.reason, row.finish.usage, now(), row.runId);
        }
      });
    },
    classify(error): FailureKind {
      if (errcode(error) === SQLITE_CONSTRAINT_PRIMARYKEY) return "duplicate";
      return isTransient(error) ? "transient" : "definitive";
    },
    describe(error, rows) {
      const runId = rows[0]?.runId;
      if (errcode(error) === SQLITE_CONSTRAINT_FOREIGNKEY) return new StoreError("not_found", `Unknown run ${runId}.`, { cause: error });
      if (errcode(error) === SQLITE_CONSTRAINT_PRIMARYKEY) return conflict("seq", `Run ${runId}: a seq of this batch is already in the log.`, error);
      return error instanceof Error ? error : new Error(String(error));
    },
    notYetCommitted(rows) {
      return rows.filter((row) => getRow<{ json: string }>(sql.eventJson, row.runId, row.seq)?.json !== row.json);
    },
  };
  const batcher = new EventBatcher(sink, {
    flushIntervalMs: options.flushIntervalMs,
    maxBatch: options.maxBatch,
    retryForMs: options.retryForMs,
    now,
    onFlushError: options.onFlushError,
  });

  let closed = false;
  function live(): void {
    if (closed) throw closedError();
  }

  /** setPinned and setArchived: `statement` sets the time (its first parameter) or clears it, and returns the row. */
  function setStamp(statement: StatementSync, userId: string, conversationId: string, on: boolean, at: number | undefined): Conversation | undefined {
    live();
    if (at !== undefined) checkTime(at, "at");
    const row = writing(() =>
      on ? getRow<ConversationRow>(statement, at ?? now(), conversationId, userId) : getRow<ConversationRow>(statement, conversationId, userId),
    );
    return row && toConversation(row);
  }

  function toHit(row: SearchRow, query: string): SearchHit {
    const content = searchedText(JSON.parse(row.json) as ChatMessage);
    return {
      conversationId: row.conversation_id,
      messageId: row.id,
      title: row.title,
      role: row.role,
      snippet: snippet(content, query),
      createdAt: row.created_at,
      archivedAt: row.archived_at,
    };
  }

  /** The conversation's head, or undefined for an unknown conversation. */
  function headOf(conversationId: string): number | null | undefined {
    return getRow<{ head: number | null }>(sql.headOf, conversationId)?.head;
  }

  function treeOf(conversationId: string): MessageTree {
    return new MessageTree(allRows<{ id: number; parent_id: number | null }>(sql.treeOf, conversationId).map(toTreeNode));
  }

  function inConversation(conversationId: string, messageId: number): boolean {
    return getRow(sql.messageInConversation, messageId, conversationId) !== undefined;
  }

  /** Reads the active path inside the caller's transaction. */
  function readActivePath(conversationId: string): PathMessage[] {
    const head = headOf(conversationId);
    if (head === undefined || head === null) return [];
    const tree = treeOf(conversationId);
    const path = tree.pathTo(head);
    const rows = allRows<MessageRow>(sql.messagesByIds, JSON.stringify(path));
    return tree.withVersions(path, new Map(rows.map((row) => [row.id, toStoredMessage(row)])));
  }

  /**
   * appendMessage inside the caller's transaction (BEGIN IMMEDIATE: the head read is still the head at the insert).
   * `head`: the conversation's head (headOf; undefined: no such conversation), which a caller that has just inserted
   * the conversation knows without a query (none).
   */
  function insertMessage(
    conversationId: string,
    runId: string | null,
    message: ChatMessage,
    parentId: number | null | undefined,
    at: number,
    head: number | null | undefined,
  ): StoredMessage & { conversation: Conversation } {
    const json = JSON.stringify(message);
    if (head === undefined) throw new StoreError("not_found", `Unknown conversation ${conversationId}.`);
    const parent = parentId === undefined ? head : parentId;
    // The head is in its conversation; only a parent the caller names needs the check.
    if (parentId !== undefined && parent !== null && !inConversation(conversationId, parent)) {
      throw new StoreError("not_found", `Message ${parent} is not in conversation ${conversationId}.`);
    }
    const id = Number(sql.insertMessage.run(conversationId, parent, runId, message.role, searchedText(message), json, at).lastInsertRowid);
    const conversation = toConversation(getRow<ConversationRow>(sql.appendedMessage, at, id, conversationId)!);
    return { id, conversationId, parentId: parent, runId, message: JSON.parse(json) as ChatMessage, createdAt: at, conversation };
  }

  /** A run's answer, inside the transaction that commits its `done` (appendDone). */
  function insertAnswer(runId: string, answer: RunAnswer): StoredMessage[] {
    const at = now();
    return answer.messages.map((message) => {
      const { conversation: _conversation, ...stored } = insertMessage(answer.conversationId, runId, message, undefined, at, headOf(answer.conversationId));
      return stored;
    });
  }

  /**
   * createRun inside the caller's transaction: its refusals in the contract's order, then the insert. With
   * `newConversationTitle` (startRun) the run's conversation is inserted with it: its id must be free, not owned.
   * What a unique key refuses anyway (a taken client request id, run id or conversation id, a running run in the
   * conversation) is not looked up before the insert — a query each on every start — but only once the insert or the
   * limit refuses, so that the first refusal in the contract's order is the one reported (keyRefusal).
   */
  function insertRun(input: CreateRunInput, max: number | undefined, at: number, newConversationTitle?: string): void {
    const newConversation = newConversationTitle !== undefined;
    if (!newConversation && !getRow(sql.conversationOwned, input.conversationId, input.userId)) {
      throw new StoreError("not_found", `Unknown conversation ${input.conversationId}.`);
    }
    if (max !== undefined && (getRow<{ n: number }>(sql.countRunning, input.userId)?.n ?? 0) >= max) {
      throw keyRefusal(input, newConversation ? "new" : "existing") ?? new StoreError("limit", `The user already has ${max} running runs.`);
    }
    let conversationInserted = false;
    try {
      if (newConversation) {
        sql.insertConversation.run(input.conversationId, input.userId, newConversationTitle, at, at);
        conversationInserted = true;
      }
      sql.insertRun.run(input.id, input.conversationId, input.userId, input.model, input.provider, input.clientRequestId ?? null, input.owner ?? null, at);
    } catch (error) {
      if (!isConstraintError(error)) throw error;
      throw keyRefusal(input, !newConversation ? "existing" : conversationInserted ? "inserted" : "new") ??
        conflict(runConflictReason(error), `Run ${input.id} conflicts with another run.`, error);
    }
  }

  /**
   * The first of a start's refusals that a unique key also makes, in the contract's order (client request id, run id,
   * conversation id, busy conversation), or undefined. `conversation`: the run's conversation exists, is to be inserted
   * (its id must be free), or was inserted by this start (its row is this start's own).
   */
  function keyRefusal(input: CreateRunInput, conversation: "existing" | "new" | "inserted"): StoreError | undefined {
    const clientRequestId = input.clientRequestId ?? null;
    if (clientRequestId !== null && getRow(sql.findRunByClientRequestId, input.userId, clientRequestId)) {
      return conflict("client_request_id", `The user already started a run with client request id ${clientRequestId}.`);
    }
    if (getRow(sql.runExists, input.id)) return conflict("id", `Run ${input.id} already exists.`);
    if (conversation === "new" && getRow(sql.conversationExists, input.conversationId)) {
      return conflict("id", `Conversation ${input.conversationId} already exists.`);
    }
    if (conversation === "existing" && getRow(sql.activeRun, input.conversationId)) {
      return conflict("conversation_busy", `Conversation ${input.conversationId} has a running run.`);
    }
    return undefined;
  }

  function readTransaction<T>(work: () => T): T {
    sql.beginRead.run();
    try {
      return work();
    } finally {
      sql.commit.run();
    }
  }

  const store: SqliteChatStore = {
    kind: "sqlite",
    path,

    async createConversation({ id, userId, title }) {
      live();
      const at = now();
      try {
        writing(() => sql.insertConversation.run(id, userId, title, at, at));
      } catch (error) {
        if (isConstraintError(error)) throw conflict("id", `Conversation ${id} already exists.`, error);
        throw error;
      }
      return { id, userId, title, createdAt: at, updatedAt: at, pinnedAt: null, archivedAt: null };
    },

    async getConversation(userId, conversationId) {
      live();
      const row = getRow<ConversationRow>(sql.getConversation, conversationId, userId);
      return row && toConversation(row);
    },

    async listConversations(userId, listOptions) {
      live();
      const limit = normalizeLimit(listOptions?.limit, defaultConversationLimit);
      const after = listOptions?.after;
      const archived = listOptions?.archived === true;
      if (after === undefined) {
        return allRows<ConversationRow>(archived ? sql.listArchivedConversations : sql.listConversations, userId, limit).map(toConversation);
      }
      const anchor = getRow<{ pinned_at: number | null; archived_at: number | null; updated_at: number; rowid: number }>(sql.listAnchor, after, userId);
      if (!anchor) throw new StoreError("not_found", `Unknown conversation ${after}.`);
      const { pinned_at: pinnedAt, archived_at: archivedAt, updated_at: updatedAt, rowid } = anchor;
      // Archived or brought back since the page before: the list it was in ends there.
      if ((archivedAt !== null) !== archived) return [];
      const rows =
        pinnedAt === null
          ? allRows<ConversationRow>(archived ? sql.listArchivedAfterUnpinned : sql.listAfterUnpinned, userId, updatedAt, updatedAt, rowid, limit)
          : allRows<ConversationRow>(archived ? sql.listArchivedAfterPinned : sql.listAfterPinned, userId, pinnedAt, pinnedAt, updatedAt, updatedAt, rowid, limit);
      return rows.map(toConversation);
    },

    async renameConversation(userId, conversationId, title, renameOptions) {
      live();
      const ifTitle = renameOptions?.ifTitle;
      const { changes } = writing(() =>
        ifTitle === undefined ? sql.renameConversation.run(title, conversationId, userId) : sql.renameConversationIf.run(title, conversationId, userId, ifTitle),
      );
      if (ifTitle !== undefined && Number(changes) === 0) return undefined;
      return store.getConversation(userId, conversationId);
    },

    async setPinned(userId, conversationId, pinned, at) {
      return setStamp(pinned ? sql.pinConversation : sql.unpinConversation, userId, conversationId, pinned, at);
    },

    async setArchived(userId, conversationId, archived, at) {
      return setStamp(archived ? sql.archiveConversation : sql.unarchiveConversation, userId, conversationId, archived, at);
    },

    async insertConversation(input) {
      live();
      checkInsertConversation(input);
      const { conversation, runs, messages, head } = input;
      const { id, userId } = conversation;
      const origin = conversation.origin ?? null;
      // Serialised before BEGIN: the write lock is held only for the inserts.
      const logs = runs.map((run) => run.events.map(({ seq, event }) => ({ seq, type: event.type, json: JSON.stringify(event) })));
      const jsons = messages.map(({ message }) => JSON.stringify(message));
      let replaced = false;
      // One transaction, run synchronously to its COMMIT: no other call of this process can slip into it (they share
      // the connection), and a process killed before the COMMIT leaves nothing (the WAL frames of an uncommitted
      // transaction are never read back).
      const messageIds = writeTransaction(() => {
        if (getRow(sql.conversationExists, id)) throw conflict("id", `Conversation ${id} already exists.`);
        // Checked inside the write transaction (BEGIN IMMEDIATE: no other writer, of this process or another, between
        // the check and the insert); the unique index conversations_by_user_origin refuses a second row regardless.
        if (origin !== null && getRow(sql.originTaken, userId, origin)) {
          throw conflict("origin", `The user already has a conversation imported from ${origin}.`);
        }
        const { title, createdAt, updatedAt, pinnedAt, archivedAt } = conversation;
        sql.insertWholeConversation.run(id, userId, title, createdAt, updatedAt, pinnedAt, archivedAt, origin);
        runs.forEach((run, i) => {
          if (getRow(sql.runExists, run.id)) throw conflict("id", `Run ${run.id} already exists.`);
          const usage = run.usage === null ? null : JSON.stringify(run.usage);
          sql.insertFinishedRun.run(run.id, id, userId, run.model, run.provider, run.owner, run.reason, usage, run.createdAt, run.finishedAt);
          for (const event of logs[i]!) sql.insertEvent.run(run.id, event.seq, event.type, event.json);
        });
        const ids: number[] = [];
        messages.forEach(({ parent, runId, message, createdAt }, i) => {
          const parentId = parent === null ? null : ids[parent]!;
          ids.push(Number(sql.insertMessage.run(id, parentId, runId, message.role, searchedText(message), jsons[i]!, createdAt).lastInsertRowid));
        });
        sql.setHead.run(head === null ? null : ids[head]!, id);
        const branchOf = conversation.branchOf;
        if (branchOf != null) sql.setBranchOf.run(branchOf.conversationId, branchOf.messageId, ids[head!]!, id);
        const settings = newSettingsValues(conversation.instructions, conversation.sampling);
        if (settings) sql.insertConversationSettings.run(id, ...settings, now());
        const replaces = input.replaces;
        replaced = replaces !== undefined && Number(sql.deleteWithoutRuns.run(replaces, userId, replaces).changes) > 0;
        return ids;
      });
      const { title, createdAt, updatedAt, pinnedAt, archivedAt } = conversation;
      return { conversation: { id, userId, title, createdAt, updatedAt, pinnedAt, archivedAt }, messageIds, replaced };
    },

    async importedCopies(userId, originPrefix) {
      live();
      return allRows<ImportedCopyRow>(sql.importedCopies, userId, originPrefix, originPrefix).map(toImportedCopy);
    },

    async branchOrigin(userId, conversationId) {
      live();
      const row = getRow<BranchOriginRow>(sql.branchOrigin, conversationId, userId);
      return row && toBranchOrigin(row);
    },

    async deleteConversation(userId, conversationId) {
      live();
      const deleted = writeTransaction(() => {
        if (!getRow(sql.getConversation, conversationId, userId)) return undefined;
        const runIds = allRows<{ id: string }>(sql.runIdsOfConversation, conversationId).map((row) => row.id);
        sql.deleteConversation.run(conversationId, userId);
        return runIds;
      });
      if (!deleted) return false;
      batcher.discard(deleted, new StoreError("not_found", `The run's conversation ${conversationId} was deleted.`));
      return true;
    },

    async searchMessages(userId, query, searchOptions) {
      live();
      const limit = normalizeLimit(searchOptions?.limit, defaultSearchLimit);
      if (query === "" || limit === 0) return [];
      if (likeAnswersExactly(query)) {
        return allRows<SearchRow>(sql.searchMessages, userId, containsPattern(query), limit).map((row) => toHit(row, query));
      }
      const hits: SearchHit[] = [];
      for (const row of sql.scanSearchable.iterate(userId) as Iterable<SearchRow>) {
        if (!containsFolded(searchedText(JSON.parse(row.json) as ChatMessage), query)) continue;
        hits.push(toHit(row, query));
        if (hits.length >= limit) break;
      }
      return hits;
    },

    async appendMessage({ conversationId, runId, message, parentId }) {
      live();
      const at = now();
      const { conversation: _conversation, ...stored } = writeTransaction(() => insertMessage(conversationId, runId, message, parentId, at, headOf(conversationId)));
      return stored;
    },

    async listMessages(conversationId) {
      live();
      return allRows<MessageRow>(sql.listMessages, conversationId).map(toStoredMessage);
    },

    async activePath(conversationId) {
      live();
      return readTransaction(() => readActivePath(conversationId));
    },

    async switchBranch(conversationId, messageId) {
      live();
      return writeTransaction(() => {
        if (!inConversation(conversationId, messageId)) {
          throw new StoreError("not_found", `Message ${messageId} is not in conversation ${conversationId}.`);
        }
        sql.setHead.run(treeOf(conversationId).newestLeafBelow(messageId), conversationId);
        return readActivePath(conversationId);
      });
    },

    async rewindActivePath(conversationId, messageId) {
      live();
      writeTransaction(() => {
        if (headOf(conversationId) === undefined) throw new StoreError("not_found", `Unknown conversation ${conversationId}.`);
        if (messageId !== null && !inConversation(conversationId, messageId)) {
          throw new StoreError("not_found", `Message ${messageId} is not in conversation ${conversationId}.`);
        }
        sql.setHead.run(messageId, conversationId);
      });
    },

    async createRun(input) {
      live();
      const max = runningLimit(input);
      const at = now();
      // BEGIN IMMEDIATE holds the write lock from the first check to the insert: another process on the same
      // file cannot slip a run in between. The unique indexes back the checks up.
      writeTransaction(() => insertRun(input, max, at));
      return newRunRecord(input, at);
    },

    async startRun(input) {
      live();
      const max = runningLimit(input);
      const at = now();
      const { conversationId } = input;
      // Under its savepoint in the group's transaction (commitStarts): a refusal anywhere (the run's checks, the
      // question's parent) rolls back this run, its question and its new conversation.
      const start = (): StartedRunRecord => {
        insertRun(input, max, at, input.conversation?.title);
        const { question: asked } = input;
        // A conversation inserted just now has no head yet.
        const head = input.conversation ? null : headOf(conversationId);
        const { conversation, ...question } = insertMessage(conversationId, input.id, asked.message, asked.parentId, at, head);
        const settings = newSettingsValues(input.conversation?.instructions, input.conversation?.sampling);
        if (settings) sql.insertConversationSettings.run(conversationId, ...settings, at);
        return { run: newRunRecord(input, at), conversation, question };
      };
      return new Promise<StartedRunRecord>((resolve, reject) => {
        queuedStarts.push({ start, resolve, reject });
        startsScheduled ??= setImmediate(commitStarts);
      });
    },

    async getRun(runId) {
      live();
      const row = getRow<RunRow>(sql.getRun, runId);
      return row && toRunRecord(row);
    },

    async findRunByClientRequestId(userId, clientRequestId) {
      live();
      const row = getRow<RunRow>(sql.findRunByClientRequestId, userId, clientRequestId);
      return row && toRunRecord(row);
    },

    async listRuns(conversationId) {
      live();
      return allRows<RunRow>(sql.listRuns, conversationId).map(toRunRecord);
    },

    async activeRun(conversationId) {
      live();
      const row = getRow<RunRow>(sql.activeRun, conversationId);
      return row && toRunRecord(row);
    },

    async runningOwners() {
      live();
      return allRows<{ owner: string | null }>(sql.runningOwners).map((row) => row.owner);
    },
    async runningAmong(runIds) {
      live();
      if (runIds.length === 0) return new Set();
      return new Set(allRows<{ id: string }>(sql.runningAmong, JSON.stringify(runIds)).map((row) => row.id));
    },
    async listRunningRuns(listOptions) {
      live();
      const owner = listOptions?.owner;
      const rows = owner === undefined ? allRows<RunRow>(sql.listRunningRuns) : allRows<RunRow>(sql.listRunningRunsOf, owner);
      return rows.map(toRunRecord);
    },

    async countRunningRuns(userId) {
      live();
      return getRow<{ n: number }>(sql.countRunning, userId)?.n ?? 0;
    },

    async finishRun(runId, { reason, usage }) {
      live();
      const { changes } = writing(() => sql.finishRun.run(reason, usage === null ? null : JSON.stringify(usage), now(), runId));
      return Number(changes) === 1;
    },

    async claimRun(runId, { from, to }) {
      live();
      return Number(writing(() => sql.claimRun.run(to, runId, from)).changes) === 1;
    },

    appendEvent(runId, seq, event, json) {
      if (closed) return Promise.reject(closedError());
      return batcher.append(runId, seq, event, json);
    },

    appendDone(runId, seq, done, answer) {
      if (closed) return Promise.reject(closedError());
      return batcher.appendDone(runId, seq, done, answer);
    },

    async readEvents(runId, afterSeq = 0, limit) {
      live();
      const queued = batcher.queued(runId);
      const max = limit === undefined ? Infinity : Math.max(0, Math.floor(limit));
      if (batcher.holdsWholeLog(runId)) return mergeQueued([], queued, afterSeq, max);
      const rows =
        max === Infinity ? allRows<EventRow>(sql.readEvents, runId, afterSeq) : allRows<EventRow>(sql.readEventsPage, runId, afterSeq, max);
      return mergeQueued(rows.map(toStoredEvent), queued, afterSeq, max);
    },

    async readEventsOfTypes(runId, types) {
      live();
      const queued = batcher.queued(runId);
      const statement = onlyNotStreamed(types) ? sql.readNotStreamedOfTypes : sql.readEventsOfTypes;
      const rows = allRows<EventRow>(statement, runId, JSON.stringify(types));
      return mergeQueued(rows.map(toStoredEvent), queued, 0, Infinity, new Set<string>(types));
    },

    async readEventsOfTypesForRuns(runIds, types) {
      live();
      const wanted = new Set<string>(types);
      const statement = onlyNotStreamed(types) ? sql.readRunsNotStreamedOfTypes : sql.readRunsEventsOfTypes;
      const found = new Map<string, StoredEvent[]>();
      for (const chunk of runIdChunks(runIds)) {
        const queued = new Map(chunk.map((runId) => [runId, batcher.queued(runId)]));
        const committed = groupByRun(allRows<RunEventRow>(statement, JSON.stringify(chunk), JSON.stringify(types)));
        for (const runId of chunk) found.set(runId, mergeQueued(committed.get(runId) ?? [], queued.get(runId) ?? [], 0, Infinity, wanted));
      }
      return found;
    },

    async lastSeq(runId) {
      live();
      const queued = batcher.lastQueuedSeq(runId);
      return Math.max(queued, getRow<{ last: number }>(sql.lastSeq, runId)?.last ?? 0);
    },

    async pruneTokenEvents({ afterRunId, finishedBefore, maxRuns }) {
      live();
      return writeTransaction(() => {
        const walked = allRows<{ id: string; status: string; finished_at: number | null }>(sql.runsAfter, afterRunId ?? "", maxRuns);
        let deleted = 0;
        let lastRunId = afterRunId;
        for (const run of walked) {
          if (run.status !== "done" || run.finished_at === null || run.finished_at >= finishedBefore) return { deleted, lastRunId, caughtUp: true };
          deleted += Number(sql.deleteTokenEvents.run(run.id).changes);
          lastRunId = run.id;
        }
        return { deleted, lastRunId, caughtUp: walked.length < maxRuns };
      });
    },

    async recordApprovalDecision({ runId, callId, approved, reason = null }) {
      live();
      const at = now();
      let changes: number | bigint;
      try {
        ({ changes } = writing(() => sql.insertDecision.run(runId, callId, approved ? 1 : 0, reason, at)));
      } catch (error) {
        if (errcode(error) === SQLITE_CONSTRAINT_FOREIGNKEY) throw new StoreError("not_found", `Unknown run ${runId}.`, { cause: error });
        throw error;
      }
      const row = getRow<DecisionRow>(sql.getDecision, runId, callId);
      if (!row) throw new StoreError("not_found", `Unknown run ${runId}.`);
      return { decision: toDecision(row), recorded: Number(changes) === 1 };
    },

    async getApprovalDecision(runId, callId) {
      live();
      const row = getRow<DecisionRow>(sql.getDecision, runId, callId);
      return row && toDecision(row);
    },

    async listToolServerSettings(userId) {
      live();
      return allRows<{ server: string; enabled: number; updated_at: number }>(sql.listToolServerSettings, userId).map((row) => ({
        server: row.server,
        enabled: row.enabled === 1,
        updatedAt: row.updated_at,
      }));
    },

    async setToolServerEnabled(userId, server, enabled) {
      live();
      const at = now();
      writing(() => sql.setToolServerEnabled.run(userId, server, enabled ? 1 : 0, at));
      return { server, enabled, updatedAt: at };
    },

    async getUserSettings(userId) {
      live();
      return toUserSettings(getRow<UserSettingsRow>(sql.getUserSettings, userId));
    },

    async setInstructions(userId, instructions) {
      live();
      return toUserSettings(writing(() => getRow<UserSettingsRow>(sql.setInstructions, userId, instructions, now())));
    },

    async setUserSampling(userId, sampling) {
      live();
      const { values, named } = samplingChange(sampling);
      return toUserSettings(writing(() => getRow<UserSettingsRow>(sql.setUserSampling, userId, ...values, now(), ...named.map(Number))));
    },

    async getConversationSettings(userId, conversationId) {
      live();
      return foundSettings(conversationId, getRow<ConversationSettingsRow>(sql.getConversationSettings, conversationId, userId));
    },

    async setConversationInstructions(userId, conversationId, instructions) {
      live();
      const row = writing(() => getRow<ConversationSettingsRow>(sql.setConversationInstructions, instructions, now(), conversationId, userId));
      return foundSettings(conversationId, row);
    },

    async setConversationSampling(userId, conversationId, sampling) {
      live();
      const { values, named } = samplingChange(sampling);
      const row = writing(() => getRow<ConversationSettingsRow>(sql.setConversationSampling, ...values, now(), conversationId, userId, ...named.map(Number)));
      return foundSettings(conversationId, row);
    },

    async getRunSettings(userId, conversationId) {
      live();
      return toRunSettings(getRow<RunSettingsRow>(sql.getRunSettings, userId, conversationId)!);
    },

    async flush() {
      live();
      await batcher.flush();
    },

    async ping() {
      if (closed) return false;
      try {
        return getRow<{ ok: number }>(sql.ping)?.ok === 1;
      } catch {
        return false;
      }
    },

    stats() {
      return batcher.stats();
    },

    async close() {
      if (closed) return;
      closed = true;
      // Starts accepted before close are committed, not dropped.
      if (startsScheduled) {
        clearImmediate(startsScheduled);
        commitStarts();
      }
      try {
        await batcher.close();
      } finally {
        try {
          await checkpointer?.close();
        } finally {
          db.close();
        }
      }
    },
  };
  return store;
}

/** Which unique index refused a run (a backstop: createRun checks each one first). */
function runConflictReason(error: unknown): "id" | "client_request_id" | "conversation_busy" {
  const message = error instanceof Error ? error.message : "";
  if (message.includes("runs.client_request_id")) return "client_request_id";
  if (message.includes("runs.conversation_id")) return "conversation_busy";
  return "id";
}



function toTreeNode(row: { id: number; parent_id: number | null }): TreeNode {
  return { id: row.id, parentId: row.parent_id };
}




