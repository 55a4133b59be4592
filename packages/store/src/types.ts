import type { ChatEvent, ChatMessage, DoneReason, EventOf, Sampling, Usage } from "@streamchat/core";

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
 * Refusals are StoreErrors (errors.ts): not_found, conflict (with a `reason`: "id" | "origin" | "client_request_id" |
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
 *
 * - appendDone stores a run's answer with its `done` (one commit; on PostgreSQL since schema v5).
 * - startRun (schema: PostgreSQL v4) creates a run with its question, and its conversation when asked, in one
 *   transaction; createConversation / createRun / appendMessage stay for the other callers.
 * - insertConversation writes a whole conversation (finished runs with their logs, the message tree, the head, the
 *   given times) in one transaction: what an import writes, all or nothing even across a crash.
 *
 * Conversation versions (schema: SQLite v3, PostgreSQL v2): messages form a tree with an active path (see the
 * messages section); `deleteMessagesFrom` is gone (edit and regenerate add siblings), StoredMessage has
 * `parentId`, SearchHit has `messageId`. Existing linear conversations became single-branch trees.
 *
 * Pinned conversations (schema: SQLite v8, PostgreSQL v8): Conversation has `pinnedAt` (null for every existing
 * conversation), setPinned pins and unpins, and listConversations lists the pinned ones first.
 *
 * Import origins (schema: SQLite v9, PostgreSQL v9): insertConversation takes the conversation's `origin` (where an
 * import came from, e.g. "ChatGPT:<their id>@<their update time>"); a user has at most one conversation per origin
 * (→ StoreError("conflict", { reason: "origin" })), so importing a newer export of the same account again does not
 * duplicate what was imported before. Deleting the conversation frees its origin. Every existing conversation has none.
 * importedCopies finds the user's copies of one chat whatever their version (the origin up to "@"): an import of a newer
 * version takes the place of a copy nothing was asked in here (export/import.ts).
 *
 * Branch origins (schema: SQLite v10, PostgreSQL v10): insertConversation takes a branch's `branchOf` (the original
 * and its answer; the branch's copy of that answer is the input's head), and branchOrigin reads it back with the
 * original's title now. Every existing conversation is no branch.
 *
 * Archived conversations (schema: SQLite v11, PostgreSQL v11): Conversation has `archivedAt` (null for every existing
 * conversation), setArchived archives and brings back, listConversations leaves archived ones out unless asked for them
 * alone (`archived: true`), and insertConversation takes an import's archivedAt.
 */

export interface Conversation {
  id: string;
  userId: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  /**
   * When the user pinned it (ms since the epoch); null when not pinned. Pinned conversations come first in the list,
   * most recently pinned first (listConversations). Not activity: pinning leaves updatedAt as it is.
   */
  pinnedAt: number | null;
  /**
   * When the user archived it (ms since the epoch); null when not archived. An archived conversation is out of the
   * list (listConversations lists it only among the archived ones) but otherwise whole: it opens, exports, is found by
   * message search, and keeps its pin for when it is brought back. Not activity: archiving leaves updatedAt as it is.
   */
  archivedAt: number | null;
}

/**
 * A message of a conversation, in the engine's shape, with where it came from and where it sits in the
 * conversation's tree.
 */
export interface StoredMessage {
  id: number;
  conversationId: string;
  /**
   * The message it follows; null for a first message. A message's parent is always older (smaller id), and in
   * the same conversation. Several children of one parent are versions of one another (edit, regenerate).
   */
  parentId: number | null;
  /** The run that produced it (assistant and tool messages; the user message that started the run). */
  runId: string | null;
  message: ChatMessage;
  createdAt: number;
}

/**
 * Where a message stands among its siblings (the children of its parent; for a first message, the
 * conversation's other first messages). Present only when there are several.
 */
export interface MessageVersions {
  /** 1-based: siblingIds[index - 1] is the message's own id. */
  index: number;
  /** siblingIds.length (> 1). */
  count: number;
  /** Oldest first (creation order). */
  siblingIds: number[];
}

/** A message of the active path. */
export interface PathMessage extends StoredMessage {
  /** Only on messages whose parent has several children (first messages: when there are several). */
  versions?: MessageVersions;
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

/** A conversation imported from another app (ChatStore.importedCopies). */
export interface ImportedCopy {
  id: string;
  /** Its origin ("ChatGPT:<their id>@<their last change>"). */
  origin: string;
  title: string;
  pinnedAt: number | null;
  archivedAt: number | null;
  updatedAt: number;
  /** A run was made in it here (a question asked, an answer regenerated): it went on here since its import. */
  hasRuns: boolean;
}

/** Where a branch was made from (ChatStore.branchOrigin): the way back to the original, shown in the branch. */
export interface BranchOrigin {
  /** The original conversation (deleted since when `title` is null). */
  conversationId: string;
  /** The original's answer the branch was made at. */
  messageId: number;
  /** The branch's copy of that answer: the branch's messages up to it came from the original. */
  atMessageId: number;
  /** The original's title now; null when it was deleted since. */
  title: string | null;
}

export interface SearchHit {
  conversationId: string;
  /** The message found, on any branch: conversations.switchBranch to it shows it. */
  messageId: number;
  title: string;
  role: ChatMessage["role"];
  snippet: string;
  createdAt: number;
  /** When its conversation was archived (null: it is in the list): a hit may be in an archived chat. */
  archivedAt: number | null;
}

/** A user's choice for one MCP server (the tools panel's switch); a server without one is on. */
export interface ToolServerSetting {
  /** The server's name in MCP_CONFIG. */
  server: string;
  enabled: boolean;
  updatedAt: number;
}

/** A user's settings that apply to all their chats. */
export interface UserSettings {
  /** What the user asks every answer to keep in mind (custom instructions); "" when none. */
  instructions: string;
  /**
   * How their answers are sampled where a conversation sets nothing of its own (each null: the model's default), e.g.
   * a lower temperature for every chat.
   */
  sampling: Sampling;
  /** When they (instructions or sampling) last changed (ms since the epoch); null when never set. */
  updatedAt: number | null;
}

/** One conversation's own settings: what its answers get beside the user's settings. */
export interface ConversationSettings {
  /**
   * What every answer in this conversation keeps in mind (the conversation's instructions, e.g. "answer in French",
   * "you review TypeScript"); "" when none. Given after the user's custom instructions, and put first where they differ.
   */
  instructions: string;
  /**
   * How its answers are sampled (temperature, top P, seed); each null when never set, which leaves the setting to the
   * user's (UserSettings.sampling) and, where that is null too, to the model.
   */
  sampling: Sampling;
  /** When they (instructions or sampling) last changed (ms since the epoch); null when never set. */
  updatedAt: number | null;
}

/**
 * What a run of a conversation is given beside its messages: the instructions its system message carries (the user's
 * for every chat and its conversation's own, "" when none) and its sampling: each setting the conversation's, else the
 * user's, else null (the model's).
 */
export interface RunSettings {
  user: string;
  conversation: string;
  sampling: Sampling;
}

/** A person's decision on a tool call that waits for approval (chat.approve), kept until the run reads it. */
export interface ApprovalDecisionRecord {
  runId: string;
  callId: string;
  approved: boolean;
  reason: string | null;
  decidedAt: number;
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

/**
 * A run together with what it needs in place before it executes: its question (the user message it answers) and,
 * for a first message, its conversation. See ChatStore.startRun.
 */
export interface StartRunInput extends CreateRunInput {
  /**
   * Create the conversation (id = `conversationId`, owned by `userId`) with the run, and its own instructions and
   * sampling when given (not "" / not all null: getConversationSettings), in the same transaction, so its first answer
   * reads them. Omitted: the conversation must exist and belong to `userId`.
   */
  conversation?: { title: string; instructions?: string; sampling?: Sampling };
  /** The user message the run answers, appended as appendMessage would with `runId` = the run's id. */
  question: { message: ChatMessage; parentId?: number | null };
}

/** What a run produced, stored with its `done` (ChatStore.appendDone). */
export interface RunAnswer {
  conversationId: string;
  /** The run's messages (assistant, tool results, ...), in order; may be empty. */
  messages: readonly ChatMessage[];
}

/**
 * A whole conversation to write at once (ChatStore.insertConversation): what an import of an export writes. Messages
 * are listed parents first and refer to each other by their place in `messages`; the store gives them its own ids.
 * Times are integer milliseconds since the epoch (a safe integer >= 0), kept as given.
 */
export interface InsertConversationInput {
  conversation: Conversation & {
    /**
     * Where an import came from (made by the client, e.g. "ChatGPT:<their id>@<their update time>"): unique per user,
     * enforced by the database (insertConversation's conflict "origin"), so the same chat imported again is refused
     * instead of duplicated; a deleted conversation frees its origin. null or absent for everything else (a
     * conversation started here, a branch, a copy re-imported from this app's own export): such conversations are
     * never refused for it. Kept by the store only for this check: Conversation does not carry it.
     */
    origin?: string | null;
    /**
     * For a branch (conversations.branch): the original conversation and its answer the branch was made at. The branch's
     * copy of that answer is the input's head (required then). Read back by branchOrigin.
     */
    branchOf?: { conversationId: string; messageId: number } | null;
    /**
     * The conversation's own instructions (getConversationSettings), written in the same transaction: an import or a
     * branch never leaves a conversation without the ones its file or original had. "" or absent: none.
     */
    instructions?: string;
    /** Its sampling (getConversationSettings), written in the same transaction as its instructions. Absent: the model's. */
    sampling?: Sampling;
  };
  /**
   * Another conversation of the user that this one takes the place of (an import bringing an earlier copy of the same
   * chat up to date): deleted in the same transaction, but only if no run was made in it by then (a question asked in
   * it meanwhile keeps it). InsertedConversationRecord's `replaced` says whether it was.
   */
  replaces?: string;
  /** Finished runs, each with its whole log. No run of a conversation inserted this way is running. */
  runs: readonly InsertedRun[];
  /** The tree, parents before their children. */
  messages: readonly InsertedMessage[];
  /** The head (the end of the active path): an index into `messages`; null for an empty path. */
  head: number | null;
}

/** A finished run of InsertConversationInput: status "done", no clientRequestId. */
export interface InsertedRun {
  id: string;
  model: string;
  provider: string;
  owner: string | null;
  reason: DoneReason;
  usage: Usage | null;
  createdAt: number;
  finishedAt: number;
  /** Its log: seqs are positive integers, increasing (gaps allowed). */
  events: readonly StoredEvent[];
}

/** A message of InsertConversationInput. */
export interface InsertedMessage {
  /** The index in `messages` of its parent, an earlier message; null for a first message. */
  parent: number | null;
  /** One of the input's runs, or null. */
  runId: string | null;
  message: ChatMessage;
  createdAt: number;
}

export interface InsertedConversationRecord {
  conversation: Conversation;
  /** The stored ids of the input's messages, in its order (increasing: a parent keeps a smaller id than its children). */
  messageIds: number[];
  /** The input's `replaces` was deleted with this insert. */
  replaced: boolean;
}

export interface StartedRunRecord {
  run: RunRecord;
  /** The conversation as it is after the append (updatedAt = the question's createdAt). */
  conversation: Conversation;
  question: StoredMessage;
}

/** Where a walk of pruneTokenEvents stopped, and what it deleted. */
export interface TokenPruneStep {
  /** Token events deleted. */
  deleted: number;
  /** The last run the walk pruned: the next walk's `afterRunId` (the one given when it pruned none). */
  lastRunId: string | null;
  /** The walk met a run not due yet (running, or finished since `finishedBefore`) or the last run: nothing further is due. */
  caughtUp: boolean;
}

export interface ChatStore {
  readonly kind: "memory" | "sqlite" | "postgres";

  // ---- conversations -------------------------------------------------------------------------

  /** Throws StoreError("conflict") when the id is taken. */
  createConversation(input: { id: string; userId: string; title: string }): Promise<Conversation>;
  getConversation(userId: string, conversationId: string): Promise<Conversation | undefined>;
  /**
   * The pinned conversations first, most recently pinned first (pinnedAt); then the others, newest activity first
   * (updatedAt: creation or the last appended message). Ties: newest activity, then newest created first. Default
   * limit 100, counting both: the pinned ones always fill the first places, however old their activity.
   *
   * `after`: the next page, the conversations that list after this one (the last of the page before). A page is read
   * from where that conversation is now: one that moved meanwhile (new activity, pinned) moves the boundary with it, so
   * a reader going on through pages may see a conversation twice or miss one that moved above the boundary (a reader
   * that refetches its first page on each change, as the web app does, sees both). StoreError("not_found") unless
   * `after` is one of the user's conversations.
   *
   * `archived`: false (default) lists the conversations that are not archived; true only the archived ones, in the same
   * order (pinned first, then by activity). `after` must then be one of that list's kind: a conversation archived or
   * brought back meanwhile ends the page there (an empty page), as one deleted would.
   */
  listConversations(userId: string, options?: { limit?: number; after?: string; archived?: boolean }): Promise<Conversation[]>;
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
  /**
   * Pins (`pinned` true: pinnedAt = `at`, default the store's clock) or unpins (pinnedAt = null) the conversation, and
   * returns it as it is now. Pinning a pinned conversation keeps its pinnedAt (a second pin, from another tab, does
   * not reorder the pinned ones); unpinning one that is not pinned changes nothing. Not activity: updatedAt stays.
   * Undefined when not found for that user. RangeError for an `at` that is not a safe integer >= 0.
   */
  setPinned(userId: string, conversationId: string, pinned: boolean, at?: number): Promise<Conversation | undefined>;
  /**
   * Archives (`archived` true: archivedAt = `at`, default the store's clock) or brings back (archivedAt = null) the
   * conversation, and returns it as it is now; as setPinned: archiving an archived one keeps its archivedAt, bringing
   * back one that is not archived changes nothing, not activity (updatedAt and pinnedAt stay). Undefined when not found
   * for that user. RangeError for an `at` that is not a safe integer >= 0.
   */
  setArchived(userId: string, conversationId: string, archived: boolean, at?: number): Promise<Conversation | undefined>;
  /**
   * Creates a conversation with its whole content in ONE transaction: the conversation with its times as given (it
   * sorts among the user's by its `pinnedAt`, which an import takes from its file, and its `updatedAt`; it is listed
   * among the archived ones when its `archivedAt`, which an import also takes from its file, is not null), its finished
   * runs with their logs, its messages (new ids, increasing in list order) and its head. All or nothing, also across a
   * crash: no reader sees a part of it, and a process that dies before the commit leaves nothing (no clean-up to run).
   * Nothing is running meanwhile, so no sweep or limit is concerned. StoreError("conflict", { reason: "id" }) when the
   * conversation's id or a run's id is taken; StoreError("conflict", { reason: "origin" }) when the conversation has an
   * `origin` and the user already has a conversation with that origin (checked by the database: two concurrent
   * imports of one origin never both write; another user's same origin does not count; deleting a conversation frees
   * its origin; a taken conversation id is reported before its origin). RangeError, before anything is written, for an
   * input that does not hold together (a parent that is not an earlier message, a head outside `messages`, a run id
   * given twice, seqs that are not increasing positive integers, a time that is not a safe integer >= 0, a pinnedAt
   * or an archivedAt that is neither null nor such a time).
   */
  insertConversation(input: InsertConversationInput): Promise<InsertedConversationRecord>;
  /**
   * The user's conversations whose origin starts with `originPrefix` (another app's chat imported before, whichever of
   * its versions: "ChatGPT:<their id>@"), newest activity first.
   */
  importedCopies(userId: string, originPrefix: string): Promise<ImportedCopy[]>;
  /**
   * Where the user's conversation was branched from (insertConversation's `branchOf`), with the original's title as it
   * is now (null when the original was deleted); undefined when it is no branch, or not found for that user.
   */
  branchOrigin(userId: string, conversationId: string): Promise<BranchOrigin | undefined>;
  /** Deletes the conversation with its whole message tree, runs and events. False when not found for that user. */
  deleteConversation(userId: string, conversationId: string): Promise<boolean>;
  /**
   * Case-insensitive substring search over the user's own messages (user and assistant text) on every branch,
   * newest first, default limit 20. The query is literal: "%" and "_" are not wildcards. An empty query finds nothing.
   * Case folding is JavaScript's String#toLowerCase on every backend (search.ts `foldCase`).
   */
  searchMessages(userId: string, query: string, options?: { limit?: number }): Promise<SearchHit[]>;

  // ---- messages ------------------------------------------------------------------------------
  //
  // A conversation's messages form a tree: each has a parent (null for a first message); editing or
  // regenerating adds a sibling instead of deleting anything. The conversation has a head, the last message of
  // its ACTIVE PATH (the head and its ancestors): what the model sees as context and what the conversation shows.
  // Messages are never deleted one by one, only with their conversation; ids are increasing per store and never
  // reused, so a parent's id is always smaller than its children's and "most recent" means "highest id".
  //
  // The messages of one run form a chain (assistant with tool calls → tool results → … → the final assistant
  // message); the first message after the user message is "the answer": a regenerate appends the new answer
  // under the same user message, a sibling of the old first message, whose `versions` then navigate the answers.

  /**
   * Appends a message and makes it the head. `parentId`: omitted → under the head (the end of the active path;
   * the first message of an empty conversation); null → a new first message (editing a first message); a number →
   * under that message of the conversation (edit: the edited message's parentId).
   * Bumps the conversation's updatedAt. StoreError("not_found") for an unknown conversation or a parentId that is
   * not a message of this conversation. Atomic with respect to other appends: concurrent appends under the head
   * form a chain, never two siblings.
   */
  appendMessage(input: {
    conversationId: string;
    runId: string | null;
    message: ChatMessage;
    parentId?: number | null;
  }): Promise<StoredMessage>;
  /** The whole tree: every message of every branch, in id order (parents before children). [] for an unknown conversation. */
  listMessages(conversationId: string): Promise<StoredMessage[]>;
  /**
   * The active path, first message first, with `versions` on messages that have siblings: what the model sees and
   * conversations.get shows. [] for an unknown or empty conversation.
   */
  activePath(conversationId: string): Promise<PathMessage[]>;
  /**
   * Moves the active path through `messageId` (any message: user, assistant, tool): the head becomes the newest
   * leaf below it, following the most recently created child at each step. Returns the new active path.
   * Not activity: updatedAt stays. StoreError("not_found") when the message is not in the conversation.
   */
  switchBranch(conversationId: string, messageId: number): Promise<PathMessage[]>;
  /**
   * Makes `messageId` the head itself, its descendants staying in the tree off the path (null: an empty path, the
   * next append starts a new first message). For regenerate: rewind to the user message, then the run's answer is
   * appended under it as a new version. Not activity: updatedAt stays. StoreError("not_found") when the message
   * (or, for null, the conversation) is unknown.
   */
  rewindActivePath(conversationId: string, messageId: number | null): Promise<void>;

  // ---- runs ----------------------------------------------------------------------------------

  /**
   * Starts a run in status "running". Throws StoreError("not_found") unless the conversation exists and
   * belongs to userId; StoreError("conflict") with `reason` "id" | "client_request_id" | "conversation_busy"
   * (another run of the conversation is running); StoreError("limit") when `maxRunningPerUser` is reached.
   * When several apply, the first of: not_found, client_request_id, id, conversation_busy, limit.
   * RangeError for a `maxRunningPerUser` that is not an integer >= 0.
   */
  createRun(input: CreateRunInput): Promise<RunRecord>;
  /**
   * Starts a run with its question in ONE transaction (one commit): the conversation when asked
   * (`input.conversation`), the run as createRun creates it, and the question as appendMessage appends it (its
   * parent, the head, updatedAt, search). All or nothing: when refused, no conversation, run or message is written.
   * Refusals as createRun's, in the same order; for a new conversation there is no not_found and no
   * conversation_busy, and a conversation id that is taken (by anyone) is conflict "id", after the run's own id.
   * Then StoreError("not_found") when `question.parentId` is not a message of the conversation.
   */
  startRun(input: StartRunInput): Promise<StartedRunRecord>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  findRunByClientRequestId(userId: string, clientRequestId: string): Promise<RunRecord | undefined>;
  /**
   * Every run of the conversation, on every branch, oldest first (creation order on equal createdAt), including
   * runs that produced no message (a regenerate that failed at once).
   */
  listRuns(conversationId: string): Promise<RunRecord[]>;
  /** The conversation's run still marked running, if any. */
  activeRun(conversationId: string): Promise<RunRecord | undefined>;
  /** Running runs, oldest first; only those of `owner` when given. */
  listRunningRuns(options?: { owner?: string }): Promise<RunRecord[]>;
  /**
   * The distinct owners of the running runs (null: runs started before owners were recorded), in no particular
   * order. The orphan sweep asks this every second: a few ids however many runs are running, where listRunningRuns
   * would read every one of them.
   */
  runningOwners(): Promise<Array<string | null>>;
  /**
   * Which of these runs are marked running (unknown ids are not). One read for many runs: a replica asks it for every
   * run whose live feed has been quiet, where a status read per follower would cost a query per open stream.
   */
  runningAmong(runIds: readonly string[]): Promise<Set<string>>;
  /** How many runs of the user are running (on every process). */
  countRunningRuns(userId: string): Promise<number>;
  /**
   * Marks a running run done (a run whose log gets its `done` is finished by appendEvent: this is for runs that end
   * without one). The first finish wins: a finished or unknown run is left unchanged.
   * Returns true when this call finished it.
   */
  finishRun(runId: string, input: { reason: DoneReason; usage: Usage | null }): Promise<boolean>;
  /**
   * Hands a running run from owner `from` to owner `to` (a process taking over a run whose process is gone, to
   * continue it). Compare-and-set: false, and nothing changed, when the run is unknown, finished, or owned by
   * someone other than `from` (another process took it first).
   */
  claimRun(runId: string, owners: { from: string | null; to: string }): Promise<boolean>;

  // ---- the event log -------------------------------------------------------------------------

  /**
   * Queues `event` for the run's log under `seq`, which the caller assigns (the process executing the run owns
   * its seqs; strictly increasing per run). Appends are batched: one transaction (one multi-row INSERT) per
   * flush interval (100 ms by default) or batch size, so a 200 tokens/s stream does not commit 200 times a second; a
   * `done` or `approval-request` event commits its batch at once.
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
   * A `done` event finishes its run in the transaction that commits it, as finishRun would with the done's reason
   * and usage (the first finish still wins): a log that ends with `done` never belongs to a run marked running, and
   * the caller needs no finishRun of its own.
   *
   * Events are visible to this process's readEvents / lastSeq as soon as queued, except a `done` and an
   * `approval-request` to readEvents and readEventsOfTypes: they are read once committed, so that whoever reads a
   * `done` finds its run finished (and its answer stored), and an approval request is not shown before it is durable.
   * Rejects with StoreError("not_found") for an unknown run — at once (memory) or when its batch is committed
   * (SQLite, PostgreSQL: the database's foreign key decides). Rejects at once with conflict "seq" when `seq` is
   * not above the last seq this process queued for the run, and with RangeError when it is not a positive integer.
   * `json`, when given, must be `JSON.stringify(event)`: a store that serializes the event stores it instead (the
   * caller serialized the event once for its subscribers and the log alike).
   */
  appendEvent(runId: string, seq: number, event: ChatEvent, json?: string): Promise<void>;
  /**
   * Ends the run's log with its `done` (as appendEvent) and stores the run's answer with it: `answer.messages` are
   * appended in order as appendMessage appends them (each under the head, with the run's id), and resolve as stored
   * once the done is committed. Every store commits both at once (a rejection stores neither): a client that sees
   * the run end finds its answer. On SQLite and PostgreSQL the answer goes with the done's batch (PostgreSQL: in the
   * statement that inserts it, schema v5), so the answers of runs that end together share one commit.
   * Rejects as appendEvent does for a `done`, and with StoreError("not_found") for an unknown conversation.
   */
  appendDone(runId: string, seq: number, done: EventOf<"done">, answer: RunAnswer): Promise<StoredMessage[]>;
  /** Events of a run with seq > afterSeq, in order; at most `limit` of them when given (paging a long log). */
  readEvents(runId: string, afterSeq?: number, limit?: number): Promise<StoredEvent[]>;
  /** Only the events of these types, in order (conversations.get reads errors and tool results, not tokens). */
  readEventsOfTypes(runId: string, types: readonly ChatEvent["type"][]): Promise<StoredEvent[]>;
  /**
   * readEventsOfTypes for many runs at once: conversations.get reads every finished run of a conversation, and one
   * query per run is hundreds of round trips for a long conversation. Each asked run id maps to its events of these
   * types in seq order (the same list readEventsOfTypes gives), empty for a run without any or an unknown run.
   * SQLite and PostgreSQL ask for at most 500 runs per query, which bounds each statement and its result.
   */
  readEventsOfTypesForRuns(runIds: readonly string[], types: readonly ChatEvent["type"][]): Promise<Map<string, StoredEvent[]>>;
  /** The highest seq of the run's log (queued appends included); 0 for none. */
  lastSeq(runId: string): Promise<number>;
  /**
   * Deletes the `token` events of runs that finished before `finishedBefore` (ms): their text is the answer's messages,
   * and a log without them is what an imported run has (every other event stays). Walks the runs in id order (ids are
   * time-ordered, so in the order they started) after `afterRunId` (null: from the first), at most `maxRuns` of them in
   * one transaction, and stops at the first run not due yet, so that a walk resumed from its `lastRunId` skips nothing.
   */
  pruneTokenEvents(input: { afterRunId: string | null; finishedBefore: number; maxRuns: number }): Promise<TokenPruneStep>;
  /** Commits queued appends now; rejects with the first failure (transiently failed batches stay queued). */
  flush(): Promise<void>;

  // ---- approvals and per-user settings -----------------------------------------------------------

  /**
   * Keeps the first decision on a call of a run: `recorded` is true when this call stored it, false when one was
   * stored before (that one is returned, unchanged). Throws StoreError("not_found") for an unknown run. Deleting the
   * run's conversation deletes its decisions.
   */
  recordApprovalDecision(input: {
    runId: string;
    callId: string;
    approved: boolean;
    reason?: string | null;
  }): Promise<{ decision: ApprovalDecisionRecord; recorded: boolean }>;
  getApprovalDecision(runId: string, callId: string): Promise<ApprovalDecisionRecord | undefined>;
  /** The user's MCP server switches, by server name. Servers never switched have none (they are on). */
  listToolServerSettings(userId: string): Promise<ToolServerSetting[]>;
  /** Turns an MCP server on or off for the user's chats (insert or update). */
  setToolServerEnabled(userId: string, server: string, enabled: boolean): Promise<ToolServerSetting>;
  /** The user's settings; defaults ("" instructions, null sampling, updatedAt null) for a user who never set any. */
  getUserSettings(userId: string): Promise<UserSettings>;
  /**
   * Replaces the user's custom instructions (insert or update; "" clears them) and returns the settings as stored; their
   * sampling stays.
   */
  setInstructions(userId: string, instructions: string): Promise<UserSettings>;
  /**
   * Sets the settings of the user's sampling that `sampling` names (null leaves one to the model) in one statement, the
   * others kept as stored, and returns the settings as stored; the instructions stay. As setConversationSampling.
   */
  setUserSampling(userId: string, sampling: Partial<Sampling>): Promise<UserSettings>;
  /**
   * The conversation's own settings; defaults ("" instructions, updatedAt null) when never set. StoreError not_found
   * when the user has no such conversation.
   */
  getConversationSettings(userId: string, conversationId: string): Promise<ConversationSettings>;
  /**
   * Replaces the conversation's instructions ("" clears them) and returns its settings as stored. Not activity: the
   * conversation's updatedAt stays. StoreError not_found when the user has no such conversation.
   */
  setConversationInstructions(userId: string, conversationId: string, instructions: string): Promise<ConversationSettings>;
  /**
   * Sets the settings of the conversation's sampling that `sampling` names (null leaves one to the model) in one
   * statement, the others kept as stored (none stored: the model's), and returns its settings as stored; its
   * instructions stay. Two clients changing different settings at once both keep theirs. Not activity. StoreError
   * not_found when the user has no such conversation.
   */
  setConversationSampling(userId: string, conversationId: string, sampling: Partial<Sampling>): Promise<ConversationSettings>;
  /**
   * What a run of the conversation is given: the user's custom instructions, the conversation's own and its sampling
   * (each setting the conversation's, else the user's), read in ONE statement (every run reads them). "" for
   * instructions and null settings when none, and for the conversation's when it does not exist.
   */
  getRunSettings(userId: string, conversationId: string): Promise<RunSettings>;

  // ---- life cycle ----------------------------------------------------------------------------

  /** True while the store answers queries (for the health check); false once closed or unreachable. Never throws. */
  ping(): Promise<boolean>;
  /**
   * Flushes (one attempt) and closes; appends it could not commit reject with StoreError("closed"). Idempotent;
   * other calls afterwards reject with StoreError("closed").
   */
  close(): Promise<void>;
}
