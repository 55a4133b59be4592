import type { ChatEvent, ChatMessage, DoneReason, Usage } from "@streamchat/core";

/** The durable state behind the API. Every method is scoped by user where data belongs to one. */

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
  createdAt: number;
  finishedAt: number | null;
}

export interface StoredEvent {
  /** Monotonic per run, starting at 1. Used as the SSE event id. */
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

export interface AppendEventOptions {
  /**
   * The event's seq is at least this (leaving a gap). After a crash the uncommitted tail of a run's log is
   * lost, but subscribers may have seen it: events appended on recovery skip past those seqs, so a seq
   * never names two different events.
   */
  minSeq?: number;
}

export interface ChatStore {
  readonly kind: "sqlite" | "memory";

  /** Throws StoreError("conflict") when the id is taken. */
  createConversation(input: { id: string; userId: string; title: string }): Conversation;
  getConversation(userId: string, conversationId: string): Conversation | undefined;
  /** Newest activity first (updatedAt: creation or the last appended message). Default limit 100. */
  listConversations(userId: string, options?: { limit?: number }): Conversation[];
  /** Renaming is not activity: updatedAt and the list order stay. */
  renameConversation(userId: string, conversationId: string, title: string): Conversation | undefined;
  /** Deletes the conversation with its messages, runs and events. False when not found for that user. */
  deleteConversation(userId: string, conversationId: string): boolean;
  /**
   * Case-insensitive substring search over the user's own messages (user and assistant text), newest
   * first, default limit 20. The query is literal: "%" and "_" are not wildcards. An empty query finds nothing.
   */
  searchMessages(userId: string, query: string, options?: { limit?: number }): SearchHit[];

  /** Bumps the conversation's updatedAt. Throws StoreError("not_found") for an unknown conversation. */
  appendMessage(input: { conversationId: string; runId: string | null; message: ChatMessage }): StoredMessage;
  listMessages(conversationId: string): StoredMessage[];
  /**
   * Deletes the conversation's messages with id >= fromMessageId; returns how many. For chat.edit (from the
   * edited user message) and chat.regenerate (from the message after the last user message).
   * Message ids are never reused afterwards.
   */
  deleteMessagesFrom(conversationId: string, fromMessageId: number): number;

  /**
   * Starts a run in status "running". Throws StoreError("not_found") unless the conversation exists and
   * belongs to userId, StoreError("conflict") when the id or (userId, clientRequestId) is taken.
   */
  createRun(input: {
    id: string;
    conversationId: string;
    userId: string;
    model: string;
    provider: string;
    clientRequestId?: string | null;
  }): RunRecord;
  getRun(runId: string): RunRecord | undefined;
  findRunByClientRequestId(userId: string, clientRequestId: string): RunRecord | undefined;
  /**
   * Every run of the conversation, oldest first (creation order on equal createdAt), including runs whose
   * messages were since deleted or that produced none (a regenerate that failed at once).
   */
  listRuns(conversationId: string): RunRecord[];
  /** The conversation's run still marked running, if any. */
  activeRun(conversationId: string): RunRecord | undefined;
  listRunningRuns(): RunRecord[];
  /** Marks a running run done. The first finish wins: a finished or unknown run is left unchanged. */
  finishRun(runId: string, input: { reason: DoneReason; usage: Usage | null }): void;

  /**
   * Appends an event; returns its seq. Appends are batched into one transaction per flush interval,
   * so a 200 tokens/s stream does not commit 200 times a second. readEvents always sees every append.
   * A `done` event is committed before appendEvent returns. Throws StoreError("not_found") for an unknown run.
   */
  appendEvent(runId: string, event: ChatEvent, options?: AppendEventOptions): number;
  /** Events of a run with seq > afterSeq, in order; at most `limit` of them when given (paging a long log). */
  readEvents(runId: string, afterSeq?: number, limit?: number): StoredEvent[];
  /**
   * The run's events of the given types only, in seq order (pending appends included, like readEvents).
   * For readers that need a few facts of a long log (its error, its tool results) without parsing every token.
   */
  readEventsOfTypes(runId: string, types: ReadonlyArray<ChatEvent["type"]>): StoredEvent[];
  lastSeq(runId: string): number;
  /** Commits pending appends now. */
  flush(): void;
  /** True while the store answers queries (for the health check); false once closed or broken. */
  ping(): boolean;
  /** Flushes and closes. */
  close(): void;
}
