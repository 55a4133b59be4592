import { defaultSampling, isDefaultSampling, type ChatEvent, type ChatMessage, type DoneReason, type Sampling, type Usage } from "@streamchat/core";
import { StoreError } from "./errors.js";
import type { SearchableRole } from "./search.js";
import type {
  ApprovalDecisionRecord,
  BranchOrigin,
  Conversation,
  ConversationSettings,
  ImportedCopy,
  RunRecord,
  RunSettings,
  StoredEvent,
  StoredMessage,
  UserSettings,
} from "./types.js";

/**
 * The rows both databases return (the schemas are the same: migrations.ts, postgres/schema.ts; PostgreSQL's bigint
 * columns are read as numbers) and the records they become.
 */

/** The columns each row type is selected with. */
export const conversationColumns = "id, user_id, title, created_at, updated_at, pinned_at, archived_at";
export const messageColumns = "id, conversation_id, parent_id, run_id, json, created_at";
export const runColumns =
  "id, conversation_id, user_id, model, provider, client_request_id, status, reason, usage, owner, created_at, finished_at";

export interface ConversationRow {
  id: string;
  user_id: string;
  title: string;
  created_at: number;
  updated_at: number;
  pinned_at: number | null;
  archived_at: number | null;
}
export interface MessageRow {
  id: number;
  conversation_id: string;
  parent_id: number | null;
  run_id: string | null;
  json: string;
  created_at: number;
}
export interface RunRow {
  id: string;
  conversation_id: string;
  user_id: string;
  model: string;
  provider: string;
  client_request_id: string | null;
  status: RunRecord["status"];
  reason: string | null;
  usage: string | null;
  owner: string | null;
  created_at: number;
  finished_at: number | null;
}
export interface EventRow {
  seq: number;
  json: string;
}
/** `approved`: SQLite has no boolean (0 or 1); PostgreSQL's is one. */
export interface DecisionRow {
  run_id: string;
  call_id: string;
  approved: number | boolean;
  reason: string | null;
  decided_at: number;
}
export interface SearchRow {
  id: number;
  conversation_id: string;
  title: string;
  role: SearchableRole;
  json: string;
  created_at: number;
  archived_at: number | null;
}

/** importedCopies' row; `has_runs` is 0 or 1 in SQLite, a boolean in PostgreSQL. */
export interface ImportedCopyRow {
  id: string;
  origin: string;
  title: string;
  pinned_at: number | null;
  archived_at: number | null;
  updated_at: number;
  has_runs: number | boolean;
}

export function toImportedCopy(row: ImportedCopyRow): ImportedCopy {
  return {
    id: row.id,
    origin: row.origin,
    title: row.title,
    pinnedAt: row.pinned_at,
    archivedAt: row.archived_at,
    updatedAt: row.updated_at,
    hasRuns: Boolean(row.has_runs),
  };
}

/** branchOrigin's row: the branch's columns and the original's title (NULL when it is gone). */
export interface BranchOriginRow {
  conversation_id: string;
  message_id: number;
  at_message_id: number;
  title: string | null;
}

export function toBranchOrigin(row: BranchOriginRow): BranchOrigin {
  return { conversationId: row.conversation_id, messageId: row.message_id, atMessageId: row.at_message_id, title: row.title };
}

/** conversation_settings' sampling (schema v13): NULL leaves a setting to the model. */
export interface SamplingRow {
  temperature: number | null;
  top_p: number | null;
  seed: number | null;
}
/**
 * A conversation's settings row (conversation_settings' columns `settingsColumns`); every column NULL where the
 * conversation has no row (getConversationSettings' LEFT JOIN), which reads as the defaults.
 */
export interface ConversationSettingsRow extends SamplingRow {
  instructions: string | null;
  updated_at: number | null;
}
export const settingsColumns = "instructions, temperature, top_p, seed, updated_at";
/** getRunSettings' row: '' for instructions there are none of; each setting the conversation's, else the user's, else NULL. */
export interface RunSettingsRow extends SamplingRow {
  user_instructions: string;
  conversation_instructions: string;
}

function toSampling(row: SamplingRow): Sampling {
  return { temperature: row.temperature, topP: row.top_p, seed: row.seed };
}

/**
 * The settings a statement read or wrote for the user's conversation; StoreError not_found when it gave no row (the
 * conversation is not the user's, or not there).
 */
export function foundSettings(conversationId: string, row: ConversationSettingsRow | undefined): ConversationSettings {
  if (!row) throw new StoreError("not_found", `Unknown conversation ${conversationId}.`);
  return { instructions: row.instructions ?? "", sampling: toSampling(row), updatedAt: row.updated_at };
}

/** A user's settings row (user_settings' columns `userSettingsColumns`, schema v7, v14). */
export interface UserSettingsRow extends SamplingRow {
  instructions: string;
  updated_at: number;
}
export const userSettingsColumns = "instructions, temperature, top_p, seed, updated_at";

/** The user's settings a statement read or wrote; the defaults for a user without a row. */
export function toUserSettings(row: UserSettingsRow | undefined): UserSettings {
  return row
    ? { instructions: row.instructions, sampling: toSampling(row), updatedAt: row.updated_at }
    : { instructions: "", sampling: { ...defaultSampling }, updatedAt: null };
}

export function toRunSettings(row: RunSettingsRow): RunSettings {
  return { user: row.user_instructions, conversation: row.conversation_instructions, sampling: toSampling(row) };
}

/**
 * The conversation_settings values (instructions, temperature, top_p, seed) a new conversation is written with
 * (insertConversation, startRun); undefined when it has nothing to keep: no row, which reads as the defaults.
 */
export function newSettingsValues(
  instructions = "",
  sampling: Sampling = defaultSampling,
): [instructions: string, temperature: number | null, topP: number | null, seed: number | null] | undefined {
  if (instructions === "" && isDefaultSampling(sampling)) return undefined;
  return [instructions, sampling.temperature, sampling.topP, sampling.seed];
}

/**
 * setConversationSampling's and setUserSampling's parameters for a change of some settings: the values a new row is
 * written with (those not named: NULL) and, in the same order, whether each is named (an existing row's others are
 * kept).
 */
export function samplingChange(change: Partial<Sampling>): {
  values: [temperature: number | null, topP: number | null, seed: number | null];
  named: [temperature: boolean, topP: boolean, seed: boolean];
} {
  const { temperature, topP, seed } = change;
  return {
    values: [temperature ?? null, topP ?? null, seed ?? null],
    named: [temperature !== undefined, topP !== undefined, seed !== undefined],
  };
}

/** `current` with the settings `change` names (the memory store's sampling changes; the databases' in SQL). */
export function changedSampling(current: Sampling, change: Partial<Sampling>): Sampling {
  const { values, named } = samplingChange(change);
  return {
    temperature: named[0] ? values[0] : current.temperature,
    topP: named[1] ? values[1] : current.topP,
    seed: named[2] ? values[2] : current.seed,
  };
}

export function toConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    userId: row.user_id,
    title: row.title,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    pinnedAt: row.pinned_at,
    archivedAt: row.archived_at,
  };
}

export function toStoredMessage(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    parentId: row.parent_id,
    runId: row.run_id,
    message: JSON.parse(row.json) as ChatMessage,
    createdAt: row.created_at,
  };
}

export function toDecision(row: DecisionRow): ApprovalDecisionRecord {
  return { runId: row.run_id, callId: row.call_id, approved: row.approved === true || row.approved === 1, reason: row.reason, decidedAt: row.decided_at };
}

export function toStoredEvent(row: EventRow): StoredEvent {
  return { seq: row.seq, event: JSON.parse(row.json) as ChatEvent };
}

/** An event row of a query over several runs (readEventsOfTypesForRuns). */
export type RunEventRow = EventRow & { run_id: string };

/** Run ids per readEventsOfTypesForRuns query: one statement's work (and result) stays bounded however long the list. */
const runIdsPerQuery = 500;

/** The distinct ids, `runIdsPerQuery` at a time. */
export function runIdChunks(runIds: readonly string[]): string[][] {
  const distinct = [...new Set(runIds)];
  const chunks: string[][] = [];
  for (let i = 0; i < distinct.length; i += runIdsPerQuery) chunks.push(distinct.slice(i, i + runIdsPerQuery));
  return chunks;
}

/** Rows ordered by run then seq, as each run's events in seq order. */
export function groupByRun(rows: readonly RunEventRow[]): Map<string, StoredEvent[]> {
  const byRun = new Map<string, StoredEvent[]>();
  for (const row of rows) {
    const events = byRun.get(row.run_id);
    if (events) events.push(toStoredEvent(row));
    else byRun.set(row.run_id, [toStoredEvent(row)]);
  }
  return byRun;
}

export function toRunRecord(row: RunRow): RunRecord {
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
    owner: row.owner,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}
