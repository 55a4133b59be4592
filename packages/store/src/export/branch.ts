import type { ChatStore } from "../types.js";
import { StoreError } from "../errors.js";
import { buildConversationExport } from "./export.js";
import { insertExport, type ImportOptions } from "./import.js";
import { conversationExportSchema, type ConversationExport } from "./schema.js";

/** Why a branch was refused: the message is not the end of an answer, or that answer is still being written. */
export type BranchRefusal = "not_an_answer" | "answer_running";

export class BranchError extends Error {
  readonly reason: BranchRefusal;

  constructor(reason: BranchRefusal, message: string) {
    super(message);
    this.name = "BranchError";
    this.reason = reason;
  }
}

export function isBranchError(value: unknown): value is BranchError {
  return value instanceof BranchError;
}

/** What a branch's title starts with, before the original's: the list then tells the two apart. */
export const branchTitlePrefix = "Branch · ";
const maxTitleChars = 200;

export type BranchOptions = Pick<ImportOptions, "newId" | "now" | "owner">;

/**
 * A new conversation of `userId` that holds `conversationId` as it reads up to the answer `messageId`: that answer and
 * every message above it (one version of each: the path to it, not the other versions beside it), with their runs
 * (usage, tool results, reasoning). The original is not changed. The copy is titled "Branch · <title>" and sorts as
 * new (its messages and runs keep their times). What follows the answer is not copied, so a question asked in the
 * branch goes on from that answer.
 *
 * `messageId` must be the end of an answer: an assistant message its run added last (a tool call's message is the
 * middle of an answer). StoreError("not_found") unless the conversation is the user's and holds the message;
 * BranchError otherwise. Written as an import is: one insertConversation, all or nothing (insertExport).
 */
export async function branchConversation(
  store: ChatStore,
  userId: string,
  conversationId: string,
  messageId: number,
  options: BranchOptions = {},
): Promise<{ conversationId: string }> {
  const now = options.now ?? Date.now;
  const doc = await buildConversationExport(store, userId, conversationId, { now });
  const byId = new Map(doc.messages.map((exported) => [exported.id, exported]));
  const end = byId.get(messageId);
  if (!end) throw new StoreError("not_found", `Unknown message ${messageId} in conversation ${conversationId}.`);
  const continuesRun = doc.messages.some((exported) => exported.parentId === messageId && exported.runId !== null && exported.runId === end.runId);
  if (end.message.role !== "assistant" || continuesRun) {
    throw new BranchError("not_an_answer", "A conversation branches from the end of an answer; this message is not one.");
  }
  const kept = new Set<number>();
  for (let at: number | null = messageId; at !== null; at = byId.get(at)?.parentId ?? null) kept.add(at);
  const messages = doc.messages.filter((exported) => kept.has(exported.id));
  const runIds = new Set(messages.flatMap((exported) => (exported.runId === null ? [] : [exported.runId])));
  const runs = doc.runs.filter((run) => runIds.has(run.id));
  // A message's run has finished by the time it is stored, but the check costs nothing and keeps a log that is still
  // being written out of a copy that would close it as interrupted.
  if (runs.some((run) => run.status === "running")) {
    throw new BranchError("answer_running", "That answer is still being written; branch from it once it is done.");
  }
  const createdAt = now();
  // Never an origin (buildConversationExport writes none; dropped here all the same): a branch is a new conversation,
  // not the imported chat it may come from, and the user's one conversation of that origin stays the original. Not
  // pinned either: a branch lists first by its new activity, the pin stays the original's. Never archived: a branch of
  // an archived chat is new work, in the list. The original's instructions and sampling come along (insertExport writes
  // them with it): the branch goes on the way the original was answered.
  const { origin: _origin, pinnedAt: _pinnedAt, archivedAt: _archivedAt, ...original } = doc.conversation;
  const branch: ConversationExport = {
    ...doc,
    conversation: { ...original, title: branchTitle(doc.conversation.title), createdAt, updatedAt: createdAt },
    activeMessageId: messageId,
    messages,
    runs,
  };
  // The parts are the store's own and linked as an export's are; a copy that did not check would be written unchecked.
  const checked = conversationExportSchema.safeParse(branch);
  if (!checked.success) throw new Error(`branchConversation: the branch of ${conversationId} is not a valid export: ${checked.error.message}`);
  return insertExport(store, userId, checked.data, { ...options, branchOf: { conversationId, messageId } });
}

/** "Branch · " and the title, cut (between characters) to the 200 characters a title may have. */
export function branchTitle(title: string): string {
  const name = title.replace(/\s+/g, " ").trim();
  // A branch of a branch is a branch: one prefix says it.
  const full = name.startsWith(branchTitlePrefix) ? name : `${branchTitlePrefix}${name}`;
  if (full.length <= maxTitleChars) return full;
  let cut = "";
  for (const ch of full) {
    if (cut.length + ch.length > maxTitleChars - 1) break;
    cut += ch;
  }
  return `${cut.trimEnd()}…`;
}
