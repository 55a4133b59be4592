import pg from "pg";
import type { ChatMessage } from "@streamchat/core";
import { StoreError, closedError, conflict, type ConflictReason } from "../errors.js";
import { checkInsertConversation, checkTime } from "../insert-conversation.js";
import { EventBatcher, checkBatcherOptions, mergeQueued, type EventBatcherStats, type EventSink, type FailureKind, type QueuedEvent } from "../event-batcher.js";
import { normalizeLimit } from "../limits.js";
import {
  containsFolded,
  searchedText,
  containsPattern,
  defaultConversationLimit,
  defaultSearchLimit,
  isSearchableRole,
  likeAnswersExactly,
  searchableText,
  snippet,
} from "../search.js";
import { notStreamedPredicate, onlyNotStreamed } from "../streamed-types.js";
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
  toStoredEvent,
  toStoredMessage,
  foundSettings,
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
} from "../rows.js";
import type {
  ApprovalDecisionRecord,
  ChatStore,
  Conversation,
  ConversationSettings,
  CreateRunInput,
  PathMessage,
  RunAnswer,
  RunRecord,
  SearchHit,
  StoredEvent,
  StoredMessage,
} from "../types.js";
import { newRunRecord, runningLimit } from "../run-record.js";
import { MessageTree } from "../tree.js";
import {
  constraintOf,
  describeTarget,
  foreignKeyViolation,
  isConnectionError,
  noDataFound,
  runNotStarted,
  sqlState,
  unavailable,
  uniqueViolation,
} from "./errors.js";
import { migratePostgres, type MigrationLockHolder } from "./migrate.js";
import { queryPool } from "./pool-query.js";

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database (the API's DATABASE_URL). */
  url: string;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /** How long to wait for a new connection before the call fails as unavailable. Default 5000 ms. */
  connectTimeoutMs?: number;
  /**
   * Told who holds the migration lock when another process still has it 3 s into the open (it is migrating, or hangs
   * in an open transaction): the open waits for it, with no end of its own.
   */
  onMigrationWait?: (holder: MigrationLockHolder) => void;
  /** Apply pending migrations at open, under the advisory lock. Default true. */
  migrate?: boolean;
  /** Shown in pg_stat_activity. Default "streamchat". */
  applicationName?: string;
  /** Longest an appended event waits before it is committed. Default 100 ms (defaultFlushIntervalMs). */
  flushIntervalMs?: number;
  /** Queued events that force a commit at once. Default 256. */
  maxBatch?: number;
  /** How long a batch of events is retried while the database is unreachable before it is rejected. Default 60 s. */
  retryForMs?: number;
  now?: () => number;
  /** Called for every failed commit of a batch of events (the batch stays queued while the failure is transient). */
  onFlushError?: (error: unknown) => void;
}

export interface PostgresStoreStats extends EventBatcherStats {
  /** Connections the pool holds open now (each a socket, idle ones with an idle timer), idle ones among them. */
  poolConnections: number;
  poolIdle: number;
  /** Calls waiting for a free connection. */
  poolWaiting: number;
}

export interface PostgresChatStore extends ChatStore {
  readonly kind: "postgres";
  /** "host:port/database", for logs (never the password). */
  readonly target: string;
  stats(): PostgresStoreStats;
}


const int8 = 20;
// bigint columns (timestamps in ms, seqs, message ids) fit a double: read them as numbers, not strings.
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === int8 && format !== "binary" ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Rows per INSERT statement of an event batch (4 parameters a row; PostgreSQL allows 65535 parameters). */
const rowsPerInsert = 1000;
/**
 * Rows per statement of insertConversation's events and messages (one array parameter per column). A single huge array
 * costs more to build, send and read back than a few: 70,000 events went in about half the time in chunks of 5,000.
 */
const rowsPerArrayInsert = 5000;
/** Rows per page when a search query has to be answered by scanning (search.ts likeAnswersExactly). */
const scanPage = 500;

/**
 * The owners of running runs, null among them when a run has none: a skip scan of runs_running_by_owner (PostgreSQL
 * has no skip scan of its own). Each step finds the next owner above the last one, so the orphan sweep, which every
 * replica runs every second, costs one index probe per replica instead of reading and sorting every running run.
 */
export const runningOwnersSql = `
  WITH RECURSIVE named AS (
    (SELECT owner FROM runs WHERE status = 'running' AND owner IS NOT NULL ORDER BY owner LIMIT 1)
    UNION ALL
    SELECT (SELECT r.owner FROM runs r WHERE r.status = 'running' AND r.owner > named.owner ORDER BY r.owner LIMIT 1)
    FROM named WHERE named.owner IS NOT NULL
  )
  SELECT owner FROM named WHERE owner IS NOT NULL
  UNION ALL
  SELECT NULL WHERE EXISTS (SELECT 1 FROM runs WHERE status = 'running' AND owner IS NULL)`;

/** listConversations' two lists (schema v11): the conversations that are not archived, or the archived ones. */
function archivedFilter(archived: boolean): string {
  return archived ? "archived_at IS NOT NULL" : "archived_at IS NULL";
}
/**
 * listConversations (user id, limit): pinned first, then newest activity, newest created. Exactly the order of
 * conversations_by_user_pinned_activity (schema v8): a page is the first entries of the user's range of the index,
 * with no sort of the user's conversations; the archived ones (or, for the archived list, the others) are skipped as
 * they are read.
 */
function listSql(archived: boolean): string {
  return `SELECT ${conversationColumns} FROM conversations WHERE user_id = $1 AND ${archivedFilter(archived)}
  ORDER BY pinned_at DESC NULLS LAST, updated_at DESC, created_order DESC LIMIT $2`;
}
/** The list (user id, limit): the conversations that are not archived. */
export const listConversationsSql = listSql(false);
/** The archived list (user id, limit). */
export const listArchivedConversationsSql = listSql(true);
/**
 * The page after a conversation (its id, the user id, limit): the ones below it in the list's order, read from where it
 * is now. No row when it is not the user's (the caller then says not found) or not of the list's kind (archived or
 * not) now: then the page is empty.
 */
const listAfterSql = (archived: boolean) => `WITH anchor AS (
    SELECT pinned_at AS a_pinned, updated_at AS a_updated, created_order AS a_order FROM conversations
     WHERE id = $1 AND user_id = $2 AND ${archivedFilter(archived)})
  SELECT ${conversationColumns} FROM conversations, anchor
   WHERE user_id = $2 AND ${archivedFilter(archived)} AND (CASE WHEN a_pinned IS NULL
     THEN pinned_at IS NULL AND (updated_at, created_order) < (a_updated, a_order)
     ELSE pinned_at IS NULL OR (pinned_at, updated_at, created_order) < (a_pinned, a_updated, a_order) END)
   ORDER BY pinned_at DESC NULLS LAST, updated_at DESC, created_order DESC LIMIT $3`;

/**
 * getRunSettings (user id, conversation id), read by every run: the user's instructions, the conversation's, and each
 * sampling setting the conversation's, else the user's (schema v12–v14), each table's row a lookup of its primary key joined to the one row of the two keys, in
 * one query; '' and NULL settings for a missing row.
 */
export const runSettingsSql = `SELECT coalesce(u.instructions, '') AS user_instructions,
  coalesce(s.instructions, '') AS conversation_instructions, coalesce(s.temperature, u.temperature) AS temperature,
  coalesce(s.top_p, u.top_p) AS top_p, coalesce(s.seed, u.seed) AS seed
  FROM (SELECT $1::text AS user_id, $2::text AS conversation_id) AS k
  LEFT JOIN user_settings u ON u.user_id = k.user_id
  LEFT JOIN conversation_settings s ON s.conversation_id = k.conversation_id`;

// Fixed statements are named: node-postgres prepares each once per connection.
const q = {
  insertConversation: "INSERT INTO conversations (id, user_id, title, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
  getConversation: `SELECT ${conversationColumns} FROM conversations WHERE id = $1 AND user_id = $2`,
  listConversations: listConversationsSql,
  listConversationsAfter: listAfterSql(false),
  listArchivedConversations: listArchivedConversationsSql,
  listArchivedConversationsAfter: listAfterSql(true),
  renameConversation: `UPDATE conversations SET title = $3 WHERE id = $1 AND user_id = $2 RETURNING ${conversationColumns}`,
  renameConversationIf: `UPDATE conversations SET title = $3 WHERE id = $1 AND user_id = $2 AND title = $4 RETURNING ${conversationColumns}`,
  // A pinned conversation keeps its pinned_at (coalesce): pinning twice does not reorder.
  pinConversation: `UPDATE conversations SET pinned_at = coalesce(pinned_at, $3) WHERE id = $1 AND user_id = $2 RETURNING ${conversationColumns}`,
  unpinConversation: `UPDATE conversations SET pinned_at = NULL WHERE id = $1 AND user_id = $2 RETURNING ${conversationColumns}`,
  // An archived conversation keeps its archived_at (coalesce), as a pinned one its pinned_at.
  archiveConversation: `UPDATE conversations SET archived_at = coalesce(archived_at, $3) WHERE id = $1 AND user_id = $2 RETURNING ${conversationColumns}`,
  unarchiveConversation: `UPDATE conversations SET archived_at = NULL WHERE id = $1 AND user_id = $2 RETURNING ${conversationColumns}`,
  // The CTE and the outer query share one snapshot: the runs are still listed although the cascade deletes them.
  // insertConversation's `replaces`: only a conversation nothing was asked in (no run, so no batch of the batcher's).
  deleteWithoutRuns: `DELETE FROM conversations c WHERE c.id = $1 AND c.user_id = $2 AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.conversation_id = c.id)`,
  deleteConversation: `WITH gone AS (DELETE FROM conversations WHERE id = $1 AND user_id = $2 RETURNING id)
    SELECT (SELECT count(*) FROM gone)::integer AS deleted,
           ARRAY(SELECT r.id FROM runs r WHERE r.conversation_id = $1 AND EXISTS (SELECT 1 FROM gone)) AS run_ids`,
  searchMessages: `SELECT m.id, m.conversation_id, c.title, m.role, m.json, m.created_at, c.archived_at
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE c.user_id = $1 AND m.role IN ('user', 'assistant') AND m.search_text LIKE $2 ESCAPE '\\'
    ORDER BY m.created_at DESC, m.id DESC LIMIT $3`,
  scanSearchable: `SELECT m.id, m.conversation_id, c.title, m.role, m.json, m.created_at, c.archived_at
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE c.user_id = $1 AND m.role IN ('user', 'assistant') AND (m.created_at, m.id) < ($2, $3)
    ORDER BY m.created_at DESC, m.id DESC LIMIT $4`,
  // switchBranch and rewindActivePath take the conversation's row lock that streamchat_append_message takes: they and
  // the appends to one conversation take turns (concurrent appends form a chain, never siblings).
  lockConversation: "SELECT head_message_id AS head FROM conversations WHERE id = $1 FOR UPDATE",
  // The conversation's row lock, the parent check, the insert and the new head: one call (schema v4).
  appendMessage: "SELECT message_id, message_parent_id FROM streamchat_append_message($1, $2, $3, $4, $5, $6, $7, $8)",
  messageInConversation: "SELECT 1 AS found FROM messages WHERE id = $1 AND conversation_id = $2",
  setHead: "UPDATE conversations SET head_message_id = $2 WHERE id = $1",
  // The head and the tree in one statement (one snapshot); no rows for an unknown conversation.
  treeOf: `SELECT c.head_message_id AS head, m.id, m.parent_id
    FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id WHERE c.id = $1`,
  messagesByIds: `SELECT ${messageColumns} FROM messages WHERE id = ANY ($1::bigint[]) ORDER BY id`,
  listMessages: `SELECT ${messageColumns} FROM messages WHERE conversation_id = $1 ORDER BY id`,
  lastMessagesOfRun: `SELECT ${messageColumns} FROM messages WHERE conversation_id = $1 AND run_id = $2 ORDER BY id DESC LIMIT $3`,
  // insertConversation: a statement per table (per rowsPerArrayInsert rows), each row's values in parallel arrays
  // (unnest). The message ids are taken first from the identity's sequence (sequences ignore transactions: a rolled
  // back import only leaves a gap), so each row's parent_id is known when the rows are sent; ascending in list order,
  // they keep a parent's id below its children's.
  newMessageIds: "SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id FROM generate_series(1, $1)",
  insertWholeConversation: `INSERT INTO conversations (id, user_id, title, created_at, updated_at, head_message_id, pinned_at, archived_at,
      origin, branch_of, branch_of_message, branch_at_message)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
  // The user's imports of one chat of another app, their origins compared by prefix.
  importedCopies: `SELECT c.id, c.origin, c.title, c.pinned_at, c.archived_at, c.updated_at, EXISTS (SELECT 1 FROM runs r WHERE r.conversation_id = c.id) AS has_runs
    FROM conversations c WHERE c.user_id = $1 AND c.origin IS NOT NULL AND left(c.origin, length($2)) = $2
    ORDER BY c.updated_at DESC, c.created_order DESC`,
  // The original's title now: NULL when it was deleted (or is no longer the user's).
  branchOrigin: `SELECT b.branch_of AS conversation_id, b.branch_of_message AS message_id, b.branch_at_message AS at_message_id, o.title
    FROM conversations b LEFT JOIN conversations o ON o.id = b.branch_of AND o.user_id = b.user_id
    WHERE b.id = $1 AND b.user_id = $2 AND b.branch_of IS NOT NULL`,
  // WITH ORDINALITY … ORDER BY: created_order (listRuns' tie-break on equal created_at) follows the list.
  insertFinishedRuns: `INSERT INTO runs (id, conversation_id, user_id, model, provider, owner, status, reason, usage, created_at, finished_at)
    SELECT r.id, $1, $2, r.model, r.provider, r.owner, 'done', r.reason, r.usage, r.created_at, r.finished_at
      FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[])
           WITH ORDINALITY AS r (id, model, provider, owner, reason, usage, created_at, finished_at, n)
     ORDER BY r.n`,
  insertEventRows: `INSERT INTO events (run_id, seq, type, json)
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[])`,
  insertMessageRows: `INSERT INTO messages (id, conversation_id, parent_id, run_id, role, search_text, json, created_at) OVERRIDING SYSTEM VALUE
    SELECT m.id, $1, m.parent_id, m.run_id, m.role, m.search_text, m.json, m.created_at
      FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[])
           AS m (id, parent_id, run_id, role, search_text, json, created_at)`,
  createRun: "SELECT streamchat_create_run($1, $2, $3, $4, $5, $6, $7, $8, $9) AS created",
  // The run's conversation (when asked), the run and its question: one call, one transaction (schema v4; v8 added
  // conversation_pinned_at, v11 conversation_archived_at).
  startRun: `SELECT message_id, message_parent_id, conversation_title, conversation_created_at, conversation_pinned_at,
      conversation_archived_at
    FROM streamchat_start_run($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
  whyNoRun: `SELECT EXISTS (SELECT 1 FROM conversations WHERE id = $2 AND user_id = $3) AS owned,
    EXISTS (SELECT 1 FROM conversations WHERE id = $2) AS conversation_taken,
    EXISTS (SELECT 1 FROM runs WHERE user_id = $3 AND client_request_id = $4) AS client_request_id,
    EXISTS (SELECT 1 FROM runs WHERE id = $1) AS id,
    EXISTS (SELECT 1 FROM runs WHERE conversation_id = $2 AND status = 'running') AS busy`,
  getRun: `SELECT ${runColumns} FROM runs WHERE id = $1`,
  findRunByClientRequestId: `SELECT ${runColumns} FROM runs WHERE user_id = $1 AND client_request_id = $2`,
  listRuns: `SELECT ${runColumns} FROM runs WHERE conversation_id = $1 ORDER BY created_at, created_order`,
  activeRun: `SELECT ${runColumns} FROM runs WHERE conversation_id = $1 AND status = 'running'`,
  listRunningRuns: `SELECT ${runColumns} FROM runs WHERE status = 'running' AND ($1::text IS NULL OR owner = $1)
    ORDER BY created_at, created_order`,
  runningOwners: runningOwnersSql,
  runningAmong: "SELECT id FROM runs WHERE id = ANY ($1::text[]) AND status = 'running'",
  countRunning: "SELECT count(*)::integer AS n FROM runs WHERE user_id = $1 AND status = 'running'",
  finishRun: "UPDATE runs SET status = 'done', reason = $2, usage = $3, finished_at = $4 WHERE id = $1 AND status = 'running'",
  readEvents: "SELECT seq, json FROM events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
  readEventsOfTypes: "SELECT seq, json FROM events WHERE run_id = $1 AND type = ANY ($2::text[]) ORDER BY seq",
  readNotStreamedOfTypes: `SELECT seq, json FROM events WHERE run_id = $1 AND ${notStreamedPredicate} AND type = ANY ($2::text[])
    ORDER BY seq`,
  readRunsEventsOfTypes: "SELECT run_id, seq, json FROM events WHERE run_id = ANY ($1::text[]) AND type = ANY ($2::text[]) ORDER BY run_id, seq",
  readRunsNotStreamedOfTypes: `SELECT run_id, seq, json FROM events
    WHERE run_id = ANY ($1::text[]) AND ${notStreamedPredicate} AND type = ANY ($2::text[]) ORDER BY run_id, seq`,
  lastSeq: "SELECT COALESCE(MAX(seq), 0) AS last FROM events WHERE run_id = $1",
  // The walk's runs by the primary key; those before the first one not due lose their token rows, in one statement.
  pruneTokenEvents: `WITH walked AS (
      SELECT id, status = 'done' AND finished_at < $2 AS due FROM runs WHERE id > COALESCE($1::text, '') ORDER BY id LIMIT $3),
    pruned AS (SELECT id FROM walked w WHERE NOT EXISTS (SELECT 1 FROM walked b WHERE NOT b.due AND b.id <= w.id)),
    gone AS (DELETE FROM events WHERE run_id IN (SELECT id FROM pruned) AND type = 'token' RETURNING 1)
    SELECT (SELECT count(*) FROM gone)::integer AS deleted, (SELECT max(id) FROM pruned) AS last_run_id,
           (SELECT count(*) FROM walked)::integer AS walked, EXISTS (SELECT 1 FROM walked WHERE NOT due) AS blocked`,
  eventsAt: "SELECT seq, json FROM events WHERE run_id = $1 AND seq = ANY ($2::bigint[])",
  claimRun: "UPDATE runs SET owner = $3 WHERE id = $1 AND status = 'running' AND owner IS NOT DISTINCT FROM $2",
  // The CTE and the outer query share one snapshot: an existing row is read by the outer SELECT when nothing was inserted.
  recordDecision: `WITH inserted AS (
      INSERT INTO approval_decisions (run_id, call_id, approved, reason, decided_at) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (run_id, call_id) DO NOTHING
      RETURNING run_id, call_id, approved, reason, decided_at)
    SELECT run_id, call_id, approved, reason, decided_at, true AS recorded FROM inserted
    UNION ALL
    SELECT run_id, call_id, approved, reason, decided_at, false AS recorded FROM approval_decisions
     WHERE run_id = $1 AND call_id = $2 AND NOT EXISTS (SELECT 1 FROM inserted)`,
  getDecision: "SELECT run_id, call_id, approved, reason, decided_at FROM approval_decisions WHERE run_id = $1 AND call_id = $2",
  listToolServerSettings: "SELECT server, enabled, updated_at FROM tool_server_settings WHERE user_id = $1 ORDER BY server COLLATE \"C\"",
  setToolServerEnabled: `INSERT INTO tool_server_settings (user_id, server, enabled, updated_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (user_id, server) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at`,
  getUserSettings: `SELECT ${userSettingsColumns} FROM user_settings WHERE user_id = $1`,
  // Each set names only its own columns, as a conversation's do: the others stay as stored, and are returned with them.
  setInstructions: `INSERT INTO user_settings (user_id, instructions, updated_at) VALUES ($1, $2, $3)
    ON CONFLICT (user_id) DO UPDATE SET instructions = excluded.instructions, updated_at = excluded.updated_at
    RETURNING ${userSettingsColumns}`,
  setUserSampling: `INSERT INTO user_settings (user_id, instructions, temperature, top_p, seed, updated_at)
    VALUES ($1, '', $2::double precision, $3::double precision, $4::integer, $5::bigint)
    ON CONFLICT (user_id) DO UPDATE SET
      temperature = CASE WHEN $6::boolean THEN excluded.temperature ELSE user_settings.temperature END,
      top_p = CASE WHEN $7::boolean THEN excluded.top_p ELSE user_settings.top_p END,
      seed = CASE WHEN $8::boolean THEN excluded.seed ELSE user_settings.seed END,
      updated_at = excluded.updated_at
    RETURNING ${userSettingsColumns}`,
  // A conversation's settings (schema v12, v13): a row for the user's conversation, its settings NULL when it has none.
  getConversationSettings: `SELECT s.instructions, s.temperature, s.top_p, s.seed, s.updated_at FROM conversations c
    LEFT JOIN conversation_settings s ON s.conversation_id = c.id WHERE c.id = $1 AND c.user_id = $2`,
  // Nothing inserted (no row returned) when the conversation is not the user's. A conversation deleted meanwhile fails
  // the foreign key instead, which says the same. Each set names only its own columns: the other settings stay as
  // stored, and are returned with them.
  setConversationInstructions: `INSERT INTO conversation_settings (conversation_id, instructions, updated_at)
    SELECT id, $3::text, $4::bigint FROM conversations WHERE id = $1 AND user_id = $2
    ON CONFLICT (conversation_id) DO UPDATE SET instructions = excluded.instructions, updated_at = excluded.updated_at
    RETURNING ${settingsColumns}`,
  setConversationSampling: `INSERT INTO conversation_settings (conversation_id, instructions, temperature, top_p, seed, updated_at)
    SELECT id, '', $3::double precision, $4::double precision, $5::integer, $6::bigint FROM conversations WHERE id = $1 AND user_id = $2
    ON CONFLICT (conversation_id) DO UPDATE SET
      temperature = CASE WHEN $7::boolean THEN excluded.temperature ELSE conversation_settings.temperature END,
      top_p = CASE WHEN $8::boolean THEN excluded.top_p ELSE conversation_settings.top_p END,
      seed = CASE WHEN $9::boolean THEN excluded.seed ELSE conversation_settings.seed END,
      updated_at = excluded.updated_at
    RETURNING ${settingsColumns}`,
  getRunSettings: runSettingsSql,
  insertConversationSettings: `INSERT INTO conversation_settings (conversation_id, instructions, temperature, top_p, seed, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6)`,
} as const;
type StatementName = keyof typeof q;
/** A named statement on the pool or on one transaction's connection. */
type Run = (name: StatementName, values: unknown[]) => Promise<pg.QueryResult>;

interface AppendedRow {
  message_id: number;
  message_parent_id: number | null;
}
interface StartedRow extends AppendedRow {
  conversation_title: string;
  conversation_created_at: number;
  conversation_pinned_at: number | null;
  conversation_archived_at: number | null;
}

/** The message's parameters of streamchat_append_message and streamchat_start_run, in their order. */
function messageValues(message: ChatMessage, json: string, parentId: number | null | undefined): unknown[] {
  return [parentId === undefined, parentId ?? null, message.role, searchTextOf(message), json];
}

/** The message's `search_text` column: its folded text (search.ts) for the roles a search finds, else "". */
function searchTextOf(message: ChatMessage): string {
  return isSearchableRole(message.role) ? searchableText(searchedText(message)) : "";
}

/**
 * INSERT … VALUES ($1, $2, $3, $4), (…) … for `n` rows; the text varies with n, so it is not a named statement.
 * A `finishing` one also marks the runs of its `done` rows finished, as finishRun does, in the same statement (a
 * data-modifying WITH always runs to completion, in the statement's transaction): a batch with a `done` still costs
 * one round trip. Its $1–$3 are finishArrays', $4 the time, and the rows' placeholders start at $5. An `answering`
 * one also appends the answers of those `done`s (appendDone) and returns their rows: $5–$9 are answerArrays', and the
 * rows' placeholders start at $10.
 */
const insertTexts = new Map<string, string>();
/** What an INSERT of events does besides: nothing, finish its `done`s' runs, or that and append their answers. */
type InsertKind = "plain" | "finishing" | "answering";
/** A finishing INSERT's runs UPDATE: $1–$3 finishArrays', $4 the time. */
const finishRunsCte = `finished AS (
          UPDATE runs SET status = 'done', reason = f.reason, usage = f.usage, finished_at = $4
          FROM unnest($1::text[], $2::text[], $3::text[]) AS f (id, reason, usage)
          WHERE runs.id = f.id AND runs.status = 'running')`;
function insertEventsText(n: number, kind: InsertKind = "plain"): string {
  const key = `${n}${kind}`;
  let text = insertTexts.get(key);
  if (text === undefined) {
    const first = kind === "answering" ? 9 : kind === "finishing" ? 4 : 0;
    const tuples: string[] = [];
    for (let i = 0; i < n; i++) {
      const at = first + 4 * i;
      tuples.push(`($${at + 1}, $${at + 2}, $${at + 3}, $${at + 4})`);
    }
    text = kind === "answering"
      ? `WITH ${finishRunsCte}, inserted AS (INSERT INTO events (run_id, seq, type, json) VALUES ${tuples.join(", ")})
        SELECT message_id, message_parent_id FROM streamchat_append_answers($5::text[], $6::text[], $4, $7::text[], $8::text[], $9::text[])`
      : kind === "finishing"
        ? `WITH ${finishRunsCte} INSERT INTO events (run_id, seq, type, json) VALUES ${tuples.join(", ")}`
        : `INSERT INTO events (run_id, seq, type, json) VALUES ${tuples.join(", ")}`;
    if (insertTexts.size < 300) insertTexts.set(key, text);
  }
  return text;
}

function insertEventsValues(rows: readonly QueuedEvent[]): unknown[] {
  const values: unknown[] = new Array(rows.length * 4);
  rows.forEach((row, i) => {
    values[4 * i] = row.runId;
    values[4 * i + 1] = row.seq;
    values[4 * i + 2] = row.type;
    values[4 * i + 3] = row.json;
  });
  return values;
}

/** createRun's parameters $1–$9 (streamchat_create_run's, which streamchat_start_run's begin with). */
function runValues(input: CreateRunInput, at: number, max: number | undefined): unknown[] {
  return [input.id, input.conversationId, input.userId, input.model, input.provider, input.clientRequestId ?? null, input.owner ?? null, at, max ?? null];
}

/**
 * The messages of the batch's answers (appendDone), in row order, as streamchat_append_answers' five parallel arrays
 * ($5–$9 of an answering INSERT); undefined for none.
 */
function answerArrays(rows: readonly QueuedEvent[]): [string[], string[], string[], string[], string[]] | undefined {
  let arrays: [string[], string[], string[], string[], string[]] | undefined;
  for (const row of rows) {
    for (const message of row.answer?.messages ?? []) {
      arrays ??= [[], [], [], [], []];
      arrays[0].push(row.answer!.conversationId);
      arrays[1].push(row.runId);
      arrays[2].push(message.role);
      arrays[3].push(searchTextOf(message));
      arrays[4].push(JSON.stringify(message));
    }
  }
  return arrays;
}

/** Sets each answer's `stored` from the statement's rows (one per message, in the order answerArrays put them). */
function setStoredAnswers(rows: readonly QueuedEvent[], appended: readonly AppendedRow[], jsons: readonly string[], at: number): void {
  let i = 0;
  for (const row of rows) {
    const answer = row.answer;
    if (!answer) continue;
    answer.stored = answer.messages.map(() => {
      const { message_id: id, message_parent_id: parentId } = appended[i]!;
      const message = JSON.parse(jsons[i]!) as ChatMessage;
      i += 1;
      return { id, conversationId: answer.conversationId, parentId, runId: row.runId, message, createdAt: at };
    });
  }
}

/** The runs the batch's `done` rows finish, as three parallel arrays ($1–$3 of a finishing INSERT); undefined for none. */
function finishArrays(rows: readonly QueuedEvent[]): [string[], string[], string[]] | undefined {
  let arrays: [string[], string[], string[]] | undefined;
  for (const row of rows) {
    if (!row.finish) continue;
    arrays ??= [[], [], []];
    arrays[0].push(row.runId);
    arrays[1].push(row.finish.reason);
    arrays[2].push(row.finish.usage);
  }
  return arrays;
}

/**
 * The store on PostgreSQL through node-postgres (`pg`; why pg and not postgres.js: docs/architecture.md): a pool
 * of `poolSize` connections, the schema applied at open under an advisory lock (migrate.ts), events committed by
 * the shared EventBatcher as multi-row INSERTs, invariants held by the database (unique indexes, and a per-user
 * advisory lock for maxRunningPerUser) so that several API processes can share it.
 *
 * When the database goes away, calls fail with StoreError("unavailable") naming host:port/database, ping() answers
 * false, queued events wait and are retried; the pool opens new connections by itself once it is back.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresChatStore> {
  const poolSize = options.poolSize ?? 10;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new RangeError("poolSize must be a positive integer");
  if (!Number.isInteger(connectTimeoutMs) || connectTimeoutMs < 1) throw new RangeError("connectTimeoutMs must be a positive integer");
  checkBatcherOptions(options);
  const target = describeTarget(options.url);

  const pool = new pg.Pool({
    connectionString: options.url,
    max: poolSize,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName ?? "streamchat",
    types,
  });
  // An idle connection that dies (server restart, network) is dropped by the pool; the next query opens a new one.
  // Without this listener its 'error' event would crash the process.
  pool.on("error", () => {});

  if (options.migrate !== false) {
    try {
      const client = await pool.connect();
      try {
        await migratePostgres(client, undefined, now, options.onMigrationWait);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => {});
      throw isConnectionError(error) ? unavailable(target, error) : error;
    }
  }

  async function query<R extends pg.QueryResultRow>(name: StatementName, values: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await queryPool<R>(pool, { name, text: q[name], values });
    } catch (error) {
      throw isConnectionError(error) ? unavailable(target, error) : error;
    }
  }

  const sink: EventSink = {
    async insert(rows) {
      const finishes = finishArrays(rows);
      const answers = answerArrays(rows);
      const at = now();
      /**
       * The INSERT of these rows; with `finishing`, it also finishes the batch's runs (its `done`s) and appends their
       * answers, whose stored form it sets.
       */
      const insert = async (run: (config: pg.QueryConfig) => Promise<pg.QueryResult>, chunk: readonly QueuedEvent[], finishing: boolean) => {
        if (!finishing || !finishes) return run({ text: insertEventsText(chunk.length), values: insertEventsValues(chunk) });
        if (!answers) return run({ text: insertEventsText(chunk.length, "finishing"), values: [...finishes, at, ...insertEventsValues(chunk)] });
        const values = [...finishes, at, ...answers, ...insertEventsValues(chunk)];
        const result = await run({ text: insertEventsText(chunk.length, "answering"), values });
        setStoredAnswers(rows, result.rows as AppendedRow[], answers[4], at);
        return result;
      };
      if (rows.length <= rowsPerInsert) {
        // One statement is one transaction: no BEGIN/COMMIT round trips.
        await insert((config) => queryPool(pool, config), rows, true);
        return;
      }
      // A batch that grew while the database was away: several statements, one transaction.
      const client = await pool.connect();
      let broken: unknown;
      const onError = (error: unknown) => (broken = error);
      client.on("error", onError);
      try {
        await client.query("BEGIN");
        for (let at = 0; at < rows.length; at += rowsPerInsert) {
          const chunk = rows.slice(at, at + rowsPerInsert);
          await insert((config) => client.query(config), chunk, at === 0);
        }
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch((again: unknown) => (broken ??= again));
        throw error;
      } finally {
        client.off("error", onError);
        client.release(broken === undefined ? undefined : true);
      }
    },
    classify(error): FailureKind {
      if (isConnectionError(error)) return "transient";
      return sqlState(error) === uniqueViolation ? "duplicate" : "definitive";
    },
    describe(error, rows) {
      const runId = rows[0]?.runId;
      const state = sqlState(error);
      if (state === foreignKeyViolation) return new StoreError("not_found", `Unknown run ${runId}.`, { cause: error });
      // An answer's conversation is gone.
      if (state === noDataFound && error instanceof Error) return new StoreError("not_found", error.message, { cause: error });
      if (state === uniqueViolation) return conflict("seq", `Run ${runId}: a seq of this batch is already in the log.`, error);
      return error instanceof Error ? error : new Error(String(error));
    },
    async notYetCommitted(rows) {
      const byRun = new Map<string, QueuedEvent[]>();
      for (const row of rows) byRun.set(row.runId, [...(byRun.get(row.runId) ?? []), row]);
      const missing: QueuedEvent[] = [];
      for (const [runId, list] of byRun) {
        const { rows: found } = await queryPool<EventRow>(pool, { name: "eventsAt", text: q.eventsAt, values: [runId, list.map((row) => row.seq)] });
        const stored = new Map(found.map((row) => [row.seq, row.json]));
        for (const row of list) {
          if (stored.get(row.seq) !== row.json) missing.push(row);
          // Committed by the attempt whose answer was lost: its messages are the run's last ones.
          else if (row.answer) row.answer.stored = await committedAnswer(runId, row.answer);
        }
      }
      return missing;
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

  /**
   * Why streamchat_create_run (or streamchat_start_run) inserted nothing or hit a unique index, in the order every
   * store reports it. `newConversation`: the run's conversation was to be created with it (startRun): its id had to
   * be free rather than owned.
   */
  async function runRefusal(input: CreateRunInput, max: number | undefined, cause?: unknown, newConversation = false): Promise<StoreError> {
    const clientRequestId = input.clientRequestId ?? null;
    const { rows } = await query<{ owned: boolean; conversation_taken: boolean; client_request_id: boolean; id: boolean; busy: boolean }>(
      "whyNoRun",
      [input.id, input.conversationId, input.userId, clientRequestId],
    );
    const why = rows[0]!;
    if (!newConversation && !why.owned && cause === undefined) return new StoreError("not_found", `Unknown conversation ${input.conversationId}.`);
    if (why.client_request_id) {
      return conflict("client_request_id", `The user already started a run with client request id ${clientRequestId}.`, cause);
    }
    if (why.id) return conflict("id", `Run ${input.id} already exists.`, cause);
    if (newConversation && why.conversation_taken) return conflict("id", `Conversation ${input.conversationId} already exists.`, cause);
    if (!newConversation && why.busy) return conflict("conversation_busy", `Conversation ${input.conversationId} has a running run.`, cause);
    if (cause !== undefined) {
      // The conflicting row has gone (a run finished or was deleted) since: name the index that refused.
      const reason: ConflictReason = constraintOf(cause) === "runs_client_request_id_key" ? "client_request_id"
        : constraintOf(cause) === "runs_one_running_per_conversation" ? "conversation_busy" : "id";
      return conflict(reason, `Run ${input.id} conflicts with another run.`, cause);
    }
    return new StoreError("limit", `The user already has ${max} running runs.`);
  }

  /** What a commit whose acknowledgement was lost stored of the answer: the run's last messages in its conversation. */
  async function committedAnswer(runId: string, answer: RunAnswer): Promise<StoredMessage[]> {
    if (answer.messages.length === 0) return [];
    const values = [answer.conversationId, runId, answer.messages.length];
    const { rows } = await queryPool<MessageRow>(pool, { name: "lastMessagesOfRun", text: q.lastMessagesOfRun, values });
    return rows.reverse().map(toStoredMessage);
  }

  /** streamchat_append_message's refusal (no_data_found) as the store's not_found. */
  function appendRefusal(error: unknown): unknown {
    return sqlState(error) === noDataFound && error instanceof Error ? new StoreError("not_found", error.message, { cause: error }) : error;
  }

  /** setPinned and setArchived: `name` sets the time (its third parameter) or clears it, and returns the row. */
  async function setStamp(
    name: "pinConversation" | "unpinConversation" | "archiveConversation" | "unarchiveConversation",
    userId: string,
    conversationId: string,
    on: boolean,
    at: number | undefined,
  ): Promise<Conversation | undefined> {
    live();
    if (at !== undefined) checkTime(at, "at");
    const row = (await query<ConversationRow>(name, on ? [conversationId, userId, at ?? now()] : [conversationId, userId])).rows[0];
    return row && toConversation(row);
  }

  /**
   * setConversationInstructions and setConversationSampling: `name` upserts the user's conversation's row (its first
   * two parameters the conversation and user ids) and returns it; none when the conversation is not the user's, and a
   * conversation deleted meanwhile fails the foreign key: not_found both.
   */
  async function setSettings(
    name: "setConversationInstructions" | "setConversationSampling",
    conversationId: string,
    values: unknown[],
  ): Promise<ConversationSettings> {
    let row: ConversationSettingsRow | undefined;
    try {
      row = (await query<ConversationSettingsRow>(name, values)).rows[0];
    } catch (error) {
      if (sqlState(error) === foreignKeyViolation) throw new StoreError("not_found", `Unknown conversation ${conversationId}.`, { cause: error });
      throw error;
    }
    return foundSettings(conversationId, row);
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

  /** Runs `work` in one transaction on one pooled connection; connection failures become unavailable. */
  async function transaction<T>(work: (run: Run) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw isConnectionError(error) ? unavailable(target, error) : error;
    }
    let broken: unknown;
    const onError = (error: unknown) => (broken = error);
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const result = await work((name, values) => client.query({ name, text: q[name], values }));
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch((again: unknown) => (broken ??= again));
      throw isConnectionError(error) ? unavailable(target, error) : error;
    } finally {
      client.off("error", onError);
      client.release(broken === undefined ? undefined : true);
    }
  }

  async function inConversation(run: Run, conversationId: string, messageId: number): Promise<boolean> {
    return (await run("messageInConversation", [messageId, conversationId])).rows.length > 0;
  }

  /** The head and the tree, or undefined for an unknown conversation. */
  async function treeOf(run: Run, conversationId: string): Promise<{ head: number | null; tree: MessageTree } | undefined> {
    const { rows } = await run("treeOf", [conversationId]);
    const typed = rows as Array<{ head: number | null; id: number | null; parent_id: number | null }>;
    if (typed.length === 0) return undefined;
    const nodes = typed.flatMap((row) => (row.id === null ? [] : [{ id: row.id, parentId: row.parent_id }]));
    return { head: typed[0]!.head, tree: new MessageTree(nodes) };
  }

  async function readActivePath(run: Run, conversationId: string): Promise<PathMessage[]> {
    const found = await treeOf(run, conversationId);
    if (!found || found.head === null) return [];
    const path = found.tree.pathTo(found.head);
    const rows = (await run("messagesByIds", [path])).rows as MessageRow[];
    // Outside a transaction the conversation may be deleted between the two statements: then it has no path.
    if (rows.length !== path.length) return [];
    return found.tree.withVersions(path, new Map(rows.map((row) => [row.id, toStoredMessage(row)])));
  }

  const store: PostgresChatStore = {
    kind: "postgres",
    target,

    async createConversation({ id, userId, title }) {
      live();
      const at = now();
      try {
        await query("insertConversation", [id, userId, title, at]);
      } catch (error) {
        if (sqlState(error) === uniqueViolation) throw conflict("id", `Conversation ${id} already exists.`, error);
        throw error;
      }
      return { id, userId, title, createdAt: at, updatedAt: at, pinnedAt: null, archivedAt: null };
    },

    async getConversation(userId, conversationId) {
      live();
      const row = (await query<ConversationRow>("getConversation", [conversationId, userId])).rows[0];
      return row && toConversation(row);
    },

    async listConversations(userId, listOptions) {
      live();
      const limit = normalizeLimit(listOptions?.limit, defaultConversationLimit);
      const after = listOptions?.after;
      const archived = listOptions?.archived === true;
      if (after === undefined) {
        return (await query<ConversationRow>(archived ? "listArchivedConversations" : "listConversations", [userId, limit])).rows.map(toConversation);
      }
      const { rows } = await query<ConversationRow>(archived ? "listArchivedConversationsAfter" : "listConversationsAfter", [after, userId, limit]);
      // No row: the end of the list, one archived or brought back since (the list it was in ends there), or a
      // conversation that is not the user's (then the caller learns so).
      if (rows.length === 0 && (await query("getConversation", [after, userId])).rows.length === 0) {
        throw new StoreError("not_found", `Unknown conversation ${after}.`);
      }
      return rows.map(toConversation);
    },

    async renameConversation(userId, conversationId, title, renameOptions) {
      live();
      const ifTitle = renameOptions?.ifTitle;
      const row = (
        ifTitle === undefined
          ? await query<ConversationRow>("renameConversation", [conversationId, userId, title])
          : await query<ConversationRow>("renameConversationIf", [conversationId, userId, title, ifTitle])
      ).rows[0];
      return row && toConversation(row);
    },

    async setPinned(userId, conversationId, pinned, at) {
      return setStamp(pinned ? "pinConversation" : "unpinConversation", userId, conversationId, pinned, at);
    },

    async setArchived(userId, conversationId, archived, at) {
      return setStamp(archived ? "archiveConversation" : "unarchiveConversation", userId, conversationId, archived, at);
    },

    async insertConversation(input) {
      live();
      checkInsertConversation(input);
      const { conversation, runs, messages, head } = input;
      const { id, userId, title, createdAt, updatedAt, pinnedAt, archivedAt } = conversation;
      const origin = conversation.origin ?? null;
      // Every array built before the transaction starts: it holds its connection only for the statements.
      const runArrays: [string[], string[], string[], Array<string | null>, string[], Array<string | null>, number[], number[]] = [[], [], [], [], [], [], [], []];
      const eventArrays: [string[], number[], string[], string[]] = [[], [], [], []];
      for (const run of runs) {
        runArrays[0].push(run.id);
        runArrays[1].push(run.model);
        runArrays[2].push(run.provider);
        runArrays[3].push(run.owner);
        runArrays[4].push(run.reason);
        runArrays[5].push(run.usage === null ? null : JSON.stringify(run.usage));
        runArrays[6].push(run.createdAt);
        runArrays[7].push(run.finishedAt);
        for (const { seq, event } of run.events) {
          eventArrays[0].push(run.id);
          eventArrays[1].push(seq);
          eventArrays[2].push(event.type);
          eventArrays[3].push(JSON.stringify(event));
        }
      }
      const messageArrays: [Array<string | null>, string[], string[], string[], number[]] = [[], [], [], [], []];
      for (const { runId, message, createdAt: at } of messages) {
        messageArrays[0].push(runId);
        messageArrays[1].push(message.role);
        messageArrays[2].push(searchTextOf(message));
        messageArrays[3].push(JSON.stringify(message));
        messageArrays[4].push(at);
      }
      let messageIds: number[];
      let replaced = false;
      try {
        // One transaction: nothing of the conversation is visible before its COMMIT, and a connection that dies before
        // it (a killed process) is rolled back by the server.
        messageIds = await transaction(async (run) => {
          const ids = messages.length === 0 ? [] : ((await run("newMessageIds", [messages.length])).rows as Array<{ id: number }>).map((row) => row.id).sort((a, b) => a - b);
          const parentIds = messages.map(({ parent }) => (parent === null ? null : ids[parent]!));
          // A second conversation of the user with this origin is refused by conversations_by_user_origin (schema v9), below;
          // one being inserted by a transaction not committed yet makes this insert wait for its outcome.
          const headId = head === null ? null : ids[head]!;
          const branchOf = conversation.branchOf ?? null;
          await run("insertWholeConversation", [
            ...[id, userId, title, createdAt, updatedAt, headId, pinnedAt, archivedAt, origin],
            ...(branchOf === null ? [null, null, null] : [branchOf.conversationId, branchOf.messageId, headId]),
          ]);
          const settings = newSettingsValues(conversation.instructions, conversation.sampling);
          if (settings) await run("insertConversationSettings", [id, ...settings, now()]);
          if (runs.length > 0) await run("insertFinishedRuns", [id, userId, ...runArrays]);
          const chunk = <T>(column: readonly T[], at: number) => column.slice(at, at + rowsPerArrayInsert);
          for (let at = 0; at < eventArrays[0].length; at += rowsPerArrayInsert) {
            await run("insertEventRows", eventArrays.map((column) => chunk<unknown>(column, at)));
          }
          for (let at = 0; at < messages.length; at += rowsPerArrayInsert) {
            await run("insertMessageRows", [id, chunk(ids, at), chunk(parentIds, at), ...messageArrays.map((column) => chunk<unknown>(column, at))]);
          }
          if (input.replaces !== undefined) {
            // Locked first, in a statement of its own: a run being inserted into it holds a key-share lock on the row
            // (its foreign key) until it commits, and the delete's snapshot, taken after this lock, then sees that run. (A
            // delete that waited for the lock itself would recheck the row but not its subquery's runs.)
            await run("lockConversation", [input.replaces]);
            replaced = ((await run("deleteWithoutRuns", [input.replaces, userId])).rowCount ?? 0) > 0;
          }
          return ids;
        });
      } catch (error) {
        if (sqlState(error) !== uniqueViolation) throw error;
        const constraint = constraintOf(error);
        if (constraint === "conversations_pkey") throw conflict("id", `Conversation ${id} already exists.`, error);
        if (constraint === "conversations_by_user_origin") throw conflict("origin", `The user already has a conversation imported from ${origin}.`, error);
        if (constraint === "runs_pkey") throw conflict("id", `A run id of conversation ${id} is taken.`, error);
        throw error;
      }
      return { conversation: { id, userId, title, createdAt, updatedAt, pinnedAt, archivedAt }, messageIds, replaced };
    },

    async importedCopies(userId, originPrefix) {
      live();
      return (await query<ImportedCopyRow>("importedCopies", [userId, originPrefix])).rows.map(toImportedCopy);
    },

    async branchOrigin(userId, conversationId) {
      live();
      const row = (await query<BranchOriginRow>("branchOrigin", [conversationId, userId])).rows[0];
      return row && toBranchOrigin(row);
    },

    async deleteConversation(userId, conversationId) {
      live();
      const row = (await query<{ deleted: number; run_ids: string[] }>("deleteConversation", [conversationId, userId])).rows[0];
      if (!row || row.deleted === 0) return false;
      batcher.discard(row.run_ids, new StoreError("not_found", `The run's conversation ${conversationId} was deleted.`));
      return true;
    },

    async searchMessages(userId, text, searchOptions) {
      live();
      const limit = normalizeLimit(searchOptions?.limit, defaultSearchLimit);
      if (text === "" || limit === 0) return [];
      if (likeAnswersExactly(text)) {
        return (await query<SearchRow>("searchMessages", [userId, containsPattern(text), limit])).rows.map((row) => toHit(row, text));
      }
      const hits: SearchHit[] = [];
      let before: [number, number] = [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
      for (;;) {
        const { rows } = await query<SearchRow>("scanSearchable", [userId, before[0], before[1], scanPage]);
        for (const row of rows) {
          if (!containsFolded(searchedText(JSON.parse(row.json) as ChatMessage), text)) continue;
          hits.push(toHit(row, text));
          if (hits.length >= limit) return hits;
        }
        const last = rows.at(-1);
        if (!last || rows.length < scanPage) return hits;
        before = [last.created_at, last.id];
      }
    },

    async appendMessage({ conversationId, runId, message, parentId }) {
      live();
      const at = now();
      const json = JSON.stringify(message);
      let row: AppendedRow;
      try {
        row = (await query<AppendedRow>("appendMessage", [conversationId, runId, at, ...messageValues(message, json, parentId)])).rows[0]!;
      } catch (error) {
        throw appendRefusal(error);
      }
      return { id: row.message_id, conversationId, parentId: row.message_parent_id, runId, message: JSON.parse(json) as ChatMessage, createdAt: at };
    },

    async listMessages(conversationId) {
      live();
      return (await query<MessageRow>("listMessages", [conversationId])).rows.map(toStoredMessage);
    },

    async activePath(conversationId) {
      live();
      return readActivePath(query, conversationId);
    },

    async switchBranch(conversationId, messageId) {
      live();
      return transaction(async (run) => {
        // The lock orders the switch with appends: the leaf found below is still a leaf when it becomes the head.
        const locked = (await run("lockConversation", [conversationId])).rows[0];
        if (!locked || !(await inConversation(run, conversationId, messageId))) {
          throw new StoreError("not_found", `Message ${messageId} is not in conversation ${conversationId}.`);
        }
        const found = await treeOf(run, conversationId);
        await run("setHead", [conversationId, found!.tree.newestLeafBelow(messageId)]);
        return readActivePath(run, conversationId);
      });
    },

    async rewindActivePath(conversationId, messageId) {
      live();
      await transaction(async (run) => {
        const locked = (await run("lockConversation", [conversationId])).rows[0];
        if (!locked) throw new StoreError("not_found", `Unknown conversation ${conversationId}.`);
        if (messageId !== null && !(await inConversation(run, conversationId, messageId))) {
          throw new StoreError("not_found", `Message ${messageId} is not in conversation ${conversationId}.`);
        }
        await run("setHead", [conversationId, messageId]);
      });
    },

    async createRun(input) {
      live();
      const max = runningLimit(input);
      const at = now();
      let created: boolean;
      try {
        const { rows } = await query<{ created: boolean }>("createRun", runValues(input, at, max));
        created = rows[0]?.created === true;
      } catch (error) {
        if (sqlState(error) === uniqueViolation) throw await runRefusal(input, max, error);
        throw error;
      }
      if (!created) throw await runRefusal(input, max);
      return newRunRecord(input, at);
    },

    async startRun(input) {
      live();
      const max = runningLimit(input);
      const at = now();
      const { message, parentId } = input.question;
      const json = JSON.stringify(message);
      const newConversation = input.conversation !== undefined;
      const values = [...runValues(input, at, max), input.conversation?.title ?? null, ...messageValues(message, json, parentId)];
      const settings = newSettingsValues(input.conversation?.instructions, input.conversation?.sampling);
      let row: StartedRow;
      try {
        // One statement, so one transaction: a refusal anywhere in it leaves nothing behind. A new conversation with
        // instructions or sampling takes a transaction round it, so its first answer finds them as the run finds its question.
        row = settings
          ? await transaction(async (run) => {
              const started = (await run("startRun", values)).rows[0] as StartedRow;
              await run("insertConversationSettings", [input.conversationId, ...settings, at]);
              return started;
            })
          : (await query<StartedRow>("startRun", values)).rows[0]!;
      } catch (error) {
        const state = sqlState(error);
        if (state === uniqueViolation) throw await runRefusal(input, max, error, newConversation);
        if (state === runNotStarted) throw await runRefusal(input, max, undefined, newConversation);
        throw appendRefusal(error);
      }
      const conversation: Conversation = {
        id: input.conversationId,
        userId: input.userId,
        title: row.conversation_title,
        createdAt: row.conversation_created_at,
        updatedAt: at,
        pinnedAt: row.conversation_pinned_at,
        archivedAt: row.conversation_archived_at,
      };
      const question: StoredMessage = {
        id: row.message_id,
        conversationId: input.conversationId,
        parentId: row.message_parent_id,
        runId: input.id,
        message: JSON.parse(json) as ChatMessage,
        createdAt: at,
      };
      return { run: newRunRecord(input, at), conversation, question };
    },

    async getRun(runId) {
      live();
      const row = (await query<RunRow>("getRun", [runId])).rows[0];
      return row && toRunRecord(row);
    },

    async findRunByClientRequestId(userId, clientRequestId) {
      live();
      const row = (await query<RunRow>("findRunByClientRequestId", [userId, clientRequestId])).rows[0];
      return row && toRunRecord(row);
    },

    async listRuns(conversationId) {
      live();
      return (await query<RunRow>("listRuns", [conversationId])).rows.map(toRunRecord);
    },

    async activeRun(conversationId) {
      live();
      const row = (await query<RunRow>("activeRun", [conversationId])).rows[0];
      return row && toRunRecord(row);
    },

    async runningOwners() {
      live();
      return (await query<{ owner: string | null }>("runningOwners", [])).rows.map((row) => row.owner);
    },
    async runningAmong(runIds) {
      live();
      if (runIds.length === 0) return new Set();
      return new Set((await query<{ id: string }>("runningAmong", [runIds])).rows.map((row) => row.id));
    },
    async listRunningRuns(listOptions) {
      live();
      return (await query<RunRow>("listRunningRuns", [listOptions?.owner ?? null])).rows.map(toRunRecord);
    },

    async countRunningRuns(userId) {
      live();
      return (await query<{ n: number }>("countRunning", [userId])).rows[0]?.n ?? 0;
    },

    async finishRun(runId, { reason, usage }) {
      live();
      const { rowCount } = await query("finishRun", [runId, reason, usage === null ? null : JSON.stringify(usage), now()]);
      return rowCount === 1;
    },

    async claimRun(runId, { from, to }) {
      live();
      return (await query("claimRun", [runId, from, to])).rowCount === 1;
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
      const queued = batcher.queued(runId); // before the query: see mergeQueued
      const max = limit === undefined ? Infinity : Math.max(0, Math.floor(limit));
      if (batcher.holdsWholeLog(runId)) return mergeQueued([], queued, afterSeq, max);
      const { rows } = await query<EventRow>("readEvents", [runId, afterSeq, max === Infinity ? null : max]);
      return mergeQueued(rows.map(toStoredEvent), queued, afterSeq, max);
    },

    async readEventsOfTypes(runId, wanted) {
      live();
      const queued = batcher.queued(runId);
      const { rows } = await query<EventRow>(onlyNotStreamed(wanted) ? "readNotStreamedOfTypes" : "readEventsOfTypes", [runId, wanted]);
      return mergeQueued(rows.map(toStoredEvent), queued, 0, Infinity, new Set<string>(wanted));
    },

    async readEventsOfTypesForRuns(runIds, wanted) {
      live();
      const typeSet = new Set<string>(wanted);
      const statement = onlyNotStreamed(wanted) ? "readRunsNotStreamedOfTypes" : "readRunsEventsOfTypes";
      const found = new Map<string, StoredEvent[]>();
      for (const chunk of runIdChunks(runIds)) {
        const queued = new Map(chunk.map((runId) => [runId, batcher.queued(runId)])); // before the query: see mergeQueued
        const { rows } = await query<RunEventRow>(statement, [chunk, wanted]);
        const committed = groupByRun(rows);
        for (const runId of chunk) found.set(runId, mergeQueued(committed.get(runId) ?? [], queued.get(runId) ?? [], 0, Infinity, typeSet));
      }
      return found;
    },

    async lastSeq(runId) {
      live();
      const queued = batcher.lastQueuedSeq(runId);
      const { rows } = await query<{ last: number }>("lastSeq", [runId]);
      return Math.max(queued, rows[0]?.last ?? 0);
    },

    async pruneTokenEvents({ afterRunId, finishedBefore, maxRuns }) {
      live();
      const { rows } = await query<{ deleted: number; last_run_id: string | null; walked: number; blocked: boolean }>("pruneTokenEvents", [
        afterRunId,
        finishedBefore,
        maxRuns,
      ]);
      const row = rows[0]!;
      return { deleted: row.deleted, lastRunId: row.last_run_id ?? afterRunId, caughtUp: row.blocked || row.walked < maxRuns };
    },

    async recordApprovalDecision({ runId, callId, approved, reason = null }) {
      live();
      let row: (DecisionRow & { recorded: boolean }) | undefined;
      try {
        row = (await query<DecisionRow & { recorded: boolean }>("recordDecision", [runId, callId, approved, reason, now()])).rows[0];
      } catch (error) {
        if (sqlState(error) === foreignKeyViolation) throw new StoreError("not_found", `Unknown run ${runId}.`, { cause: error });
        throw error;
      }
      if (row) return { decision: toDecision(row), recorded: row.recorded };
      // ON CONFLICT waited for a concurrent decider's insert, which committed after this statement's snapshot:
      // the statement sees neither row. A new statement does.
      const existing = (await query<DecisionRow>("getDecision", [runId, callId])).rows[0];
      if (!existing) throw new StoreError("not_found", `Unknown run ${runId}.`);
      return { decision: toDecision(existing), recorded: false };
    },

    async getApprovalDecision(runId, callId) {
      live();
      const row = (await query<DecisionRow>("getDecision", [runId, callId])).rows[0];
      return row && toDecision(row);
    },

    async listToolServerSettings(userId) {
      live();
      const { rows } = await query<{ server: string; enabled: boolean; updated_at: number }>("listToolServerSettings", [userId]);
      return rows.map((row) => ({ server: row.server, enabled: row.enabled, updatedAt: row.updated_at }));
    },

    async setToolServerEnabled(userId, server, enabled) {
      live();
      const at = now();
      await query("setToolServerEnabled", [userId, server, enabled, at]);
      return { server, enabled, updatedAt: at };
    },

    async getUserSettings(userId) {
      live();
      return toUserSettings((await query<UserSettingsRow>("getUserSettings", [userId])).rows[0]);
    },

    async setInstructions(userId, instructions) {
      live();
      return toUserSettings((await query<UserSettingsRow>("setInstructions", [userId, instructions, now()])).rows[0]);
    },

    async setUserSampling(userId, sampling) {
      live();
      const { values, named } = samplingChange(sampling);
      return toUserSettings((await query<UserSettingsRow>("setUserSampling", [userId, ...values, now(), ...named])).rows[0]);
    },

    async getConversationSettings(userId, conversationId) {
      live();
      return foundSettings(conversationId, (await query<ConversationSettingsRow>("getConversationSettings", [conversationId, userId])).rows[0]);
    },

    async setConversationInstructions(userId, conversationId, instructions) {
      live();
      return setSettings("setConversationInstructions", conversationId, [conversationId, userId, instructions, now()]);
    },

    async setConversationSampling(userId, conversationId, sampling) {
      live();
      const { values, named } = samplingChange(sampling);
      return setSettings("setConversationSampling", conversationId, [conversationId, userId, ...values, now(), ...named]);
    },

    async getRunSettings(userId, conversationId) {
      live();
      return toRunSettings((await query<RunSettingsRow>("getRunSettings", [userId, conversationId])).rows[0]!);
    },

    async flush() {
      live();
      await batcher.flush();
    },

    async ping() {
      if (closed) return false;
      let timer: NodeJS.Timeout | undefined;
      try {
        const answered = pool.query("SELECT 1").then(
          () => true,
          () => false,
        );
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), connectTimeoutMs);
        });
        return await Promise.race([answered, timedOut]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },

    stats() {
      return { ...batcher.stats(), poolConnections: pool.totalCount, poolIdle: pool.idleCount, poolWaiting: pool.waitingCount };
    },

    async close() {
      if (closed) return;
      closed = true;
      try {
        await batcher.close();
      } finally {
        await pool.end();
      }
    },
  };
  return store;
}





