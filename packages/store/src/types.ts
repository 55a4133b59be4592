import type { ChatEvent, ChatMessage, DoneReason, Usage } from "@streamchat/core";

/**
 * The durable state behind the API: one asynchronous contract, three backends (memory, SQLite, PostgreSQL),
 * one behaviour suite (store.test.ts). Every method returns a Promise. Every method is scoped by user where data
 * belongs to one.
 *
 * Cluster-wide invariants live here, enforced by the database itself (not by one process's memory), so that
 * several API processes on one PostgreSQL keep them:
 * - at most one running run per conversation (createRun → StoreError("conflict", { reason: "conversation_busy" }));
 * - (userId, clientRequestId) names one run (→ reason "client_request_id"; the caller returns the existing run);
 * - at most `maxRunningPerUser` running runs per user when given (→ StoreError("limit"));
 * - (runId, seq) names one event forever.
 *
 * Refusals are StoreErrors (errors.ts): not_found, conflict (with a `reason`: "id" | "client_request_id" |
 * "conversation_busy" | "seq"), limit, unavailable (the database did not answer; retrying later may succeed),
 * closed.
 *
 * Refinements of the contract as first committed (the shape is unchanged):
 * - StoreError also has the code "unavailable", and conflicts on the event log have the reason "seq".
 * - createRun reports one refusal when several apply, in this order: not_found, client_request_id, id,
 *   conversation_busy, limit (a retried send at the limit still finds its run).
 * - appendEvent: a seq that is not a positive integer rejects with RangeError; one not above the last seq this
 *   process queued for the run rejects at once with conflict "seq". The batch promise is marked handled, so
 *   ignoring it never raises an unhandled rejection. After a batch of a run is rejected for good, later appends
 *   of that run are refused with the same error except `error` and `done` events (see appendEvent).
 * - flush() rejects with the first commit failure; close() rejects whatever it could not commit with "closed".
 */

export interface Conversation {
  id: string;
  userId: string;
  title: string;
  createdAt: number;
  updatedAt: number;
}

/** A message of a conversation, in the engine's shape, with where it came from. */
export interface StoredMessage {
  id: number;
  conversationId: string;
  /** The run that produced it (assistant and tool messages; the user message that started the run). */
  runId: string | null;
  message: ChatMessage;
  createdAt: number;
}

export type RunStatus = "running" | "done";

export interface RunRecord {
  id: string;
  conversationId: string;
  userId: string;
  model: string;
  provider: string;
  clientRequestId: string | null;
  status: RunStatus;
  /** Set when status is "done". */
  reason: DoneReason | null;
  usage: Usage | null;
  /** Which API process executes (executed) the run: its replica id; null when not recorded. */
  owner: string | null;
  createdAt: number;
  finishedAt: number | null;
}

export interface StoredEvent {
  /** Strictly increasing per run (gaps allowed, e.g. the crash-recovery gap). Used as the SSE event id. */
  seq: number;
  event: ChatEvent;
}

export interface SearchHit {
  conversationId: string;
  title: string;
  role: ChatMessage["role"];
  snippet: string;
  createdAt: number;
}

export interface CreateRunInput {
  id: string;
  conversationId: string;
  userId: string;
  model: string;
  provider: string;
  clientRequestId?: string | null;
  /** Replica id of the process that will execute the run. */
  owner?: string | null;
  /**
   * When set, refuse with StoreError("limit") if the user already has this many running runs (counted in the
   * database, atomically with the insert: two processes cannot both take the last place).
   */
  maxRunningPerUser?: number;
}

export interface ChatStore {
  readonly kind: "memory" | "sqlite" | "postgres";

  // ---- conversations -------------------------------------------------------------------------

  /** Throws StoreError("conflict") when the id is taken. */
  createConversation(input: { id: string; userId: string; title: string }): Promise<Conversation>;
  getConversation(userId: string, conversationId: string): Promise<Conversation | undefined>;
  /** Newest activity first (updatedAt: creation or the last appended message; ties: newest created first). Default limit 100. */
  listConversations(userId: string, options?: { limit?: number }): Promise<Conversation[]>;
  /**
   * Renaming is not activity: updatedAt and the list order stay. Undefined when not found for that user, or when
   * `ifTitle` is given and the title is not (exactly) that any more: a background writer (a generated title) never
   * overwrites a title set meanwhile.
   */
  renameConversation(
    userId: string,
    conversationId: string,
    title: string,
    options?: { ifTitle?: string },
  ): Promise<Conversation | undefined>;
  /** Deletes the conversation with its messages, runs and events. False when not found for that user. */
  deleteConversation(userId: string, conversationId: string): Promise<boolean>;
  /**
   * Case-insensitive substring search over the user's own messages (user and assistant text), newest
   * first, default limit 20. The query is literal: "%" and "_" are not wildcards. An empty query finds nothing.
   * Case folding is JavaScript's String#toLowerCase on every backend (search.ts `foldCase`).
   */
  searchMessages(userId: string, query: string, options?: { limit?: number }): Promise<SearchHit[]>;

  // ---- messages ------------------------------------------------------------------------------

  /** Bumps the conversation's updatedAt. Throws StoreError("not_found") for an unknown conversation. */
  appendMessage(input: { conversationId: string; runId: string | null; message: ChatMessage }): Promise<StoredMessage>;
  /** In id order. Ids are increasing per store and never reused. */
  listMessages(conversationId: string): Promise<StoredMessage[]>;
  /**
   * Deletes the conversation's messages with id >= fromMessageId; returns how many. For chat.edit (from the
   * edited user message) and chat.regenerate (from the message after the last user message).
   * Message ids are never reused afterwards.
   */
  deleteMessagesFrom(conversationId: string, fromMessageId: number): Promise<number>;

  // ---- runs ----------------------------------------------------------------------------------

  /**
   * Starts a run in status "running". Throws StoreError("not_found") unless the conversation exists and
   * belongs to userId; StoreError("conflict") with `reason` "id" | "client_request_id" | "conversation_busy"
   * (another run of the conversation is running); StoreError("limit") when `maxRunningPerUser` is reached.
   * When several apply, the first of: not_found, client_request_id, id, conversation_busy, limit.
   * RangeError for a `maxRunningPerUser` that is not an integer >= 0.
   */
  createRun(input: CreateRunInput): Promise<RunRecord>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  findRunByClientRequestId(userId: string, clientRequestId: string): Promise<RunRecord | undefined>;
  /**
   * Every run of the conversation, oldest first (creation order on equal createdAt), including runs whose
   * messages were since deleted or that produced none (a regenerate that failed at once).
   */
  listRuns(conversationId: string): Promise<RunRecord[]>;
  /** The conversation's run still marked running, if any. */
  activeRun(conversationId: string): Promise<RunRecord | undefined>;
  /** Running runs, oldest first; only those of `owner` when given. */
  listRunningRuns(options?: { owner?: string }): Promise<RunRecord[]>;
  /** How many runs of the user are running (on every process). */
  countRunningRuns(userId: string): Promise<number>;
  /**
   * Marks a running run done. The first finish wins: a finished or unknown run is left unchanged.
   * Returns true when this call finished it.
   */
  finishRun(runId: string, input: { reason: DoneReason; usage: Usage | null }): Promise<boolean>;

  // ---- the event log -------------------------------------------------------------------------

  /**
   * Queues `event` for the run's log under `seq`, which the caller assigns (the process executing the run owns
   * its seqs; strictly increasing per run). Appends are batched: one transaction (one multi-row INSERT) per
   * flush interval or batch size, so a 200 tokens/s stream does not commit 200 times a second; a `done` event
   * commits its batch at once.
   *
   * Returns the promise of the batch the event joined (shared by the run's events of one commit: no allocation
   * per event): it resolves when the batch is committed and rejects when the commit failed for good (conflict
   * "seq": a seq already in the log; not_found: an unknown or deleted run; unavailable: the database stayed
   * unreachable for the store's `retryForMs`, default 60 s). While the database is merely unreachable the batch
   * is retried with a backoff. The promise is marked handled: ignoring it never raises an unhandled rejection
   * (failures are also reported to the store's onFlushError).
   *
   * After a batch of a run is rejected for good, the run's log has lost those events: its later batches queued
   * by then are rejected with the same error, and later appends of the run are refused with it — except `error`
   * and `done` events (with seqs above the lost ones), so the caller can still end the log past a gap, as crash
   * recovery does. A committed `done` clears that state.
   *
   * Events are visible to this process's readEvents / lastSeq as soon as queued.
   * Rejects with StoreError("not_found") for an unknown run — at once (memory) or when its batch is committed
   * (SQLite, PostgreSQL: the database's foreign key decides). Rejects at once with conflict "seq" when `seq` is
   * not above the last seq this process queued for the run, and with RangeError when it is not a positive integer.
   */
  appendEvent(runId: string, seq: number, event: ChatEvent): Promise<void>;
  /** Events of a run with seq > afterSeq, in order; at most `limit` of them when given (paging a long log). */
  readEvents(runId: string, afterSeq?: number, limit?: number): Promise<StoredEvent[]>;
  /** Only the events of these types, in order (conversations.get reads errors and tool results, not tokens). */
  readEventsOfTypes(runId: string, types: readonly ChatEvent["type"][]): Promise<StoredEvent[]>;
  /** The highest seq of the run's log (queued appends included); 0 for none. */
  lastSeq(runId: string): Promise<number>;
  /** Commits queued appends now; rejects with the first failure (transiently failed batches stay queued). */
  flush(): Promise<void>;

  // ---- life cycle ----------------------------------------------------------------------------

  /** True while the store answers queries (for the health check); false once closed or unreachable. Never throws. */
  ping(): Promise<boolean>;
  /**
   * Flushes (one attempt) and closes; appends it could not commit reject with StoreError("closed"). Idempotent;
   * other calls afterwards reject with StoreError("closed").
   */
  close(): Promise<void>;
}
