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

export interface ChatStore {
  readonly kind: "sqlite" | "memory";

  createConversation(input: { id: string; userId: string; title: string }): Conversation;
  getConversation(userId: string, conversationId: string): Conversation | undefined;
  /** Newest activity first. */
  listConversations(userId: string, options?: { limit?: number }): Conversation[];
  renameConversation(userId: string, conversationId: string, title: string): Conversation | undefined;
  /** Deletes the conversation with its messages, runs and events. False when not found for that user. */
  deleteConversation(userId: string, conversationId: string): boolean;
  /** Case-insensitive substring search over the user's own messages (user and assistant text). */
  searchMessages(userId: string, query: string, options?: { limit?: number }): SearchHit[];

  appendMessage(input: { conversationId: string; runId: string | null; message: ChatMessage }): StoredMessage;
  listMessages(conversationId: string): StoredMessage[];

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
  /** The conversation's run still marked running, if any. */
  activeRun(conversationId: string): RunRecord | undefined;
  listRunningRuns(): RunRecord[];
  finishRun(runId: string, input: { reason: DoneReason; usage: Usage | null }): void;

  /**
   * Appends an event; returns its seq. Appends are batched into one transaction per flush interval,
   * so a 200 tokens/s stream does not commit 200 times a second. readEvents always sees every append.
   */
  appendEvent(runId: string, event: ChatEvent): number;
  /** Events of a run with seq > afterSeq, in order. */
  readEvents(runId: string, afterSeq?: number): StoredEvent[];
  lastSeq(runId: string): number;
  /** Commits pending appends now. */
  flush(): void;
  /** Flushes and closes. */
  close(): void;
}
