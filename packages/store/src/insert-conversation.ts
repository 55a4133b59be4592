import type { InsertConversationInput } from "./types.js";

/**
 * ChatStore.insertConversation's RangeErrors, checked by every store before it writes anything: an input that does not
 * hold together is a caller's bug, refused the same way on all three (the databases would refuse some of it only
 * half-way, with their own errors, and store a fractional time or a parent that comes later without complaint).
 */
export function checkInsertConversation(input: InsertConversationInput): void {
  const { conversation, runs, messages, head } = input;
  checkTime(conversation.createdAt, "conversation.createdAt");
  checkTime(conversation.updatedAt, "conversation.updatedAt");
  if (conversation.pinnedAt !== null) checkTime(conversation.pinnedAt, "conversation.pinnedAt");
  if (conversation.archivedAt !== null) checkTime(conversation.archivedAt, "conversation.archivedAt");
  const runIds = new Set<string>();
  runs.forEach((run, i) => {
    if (runIds.has(run.id)) throw new RangeError(`runs.${i}.id: run ${run.id} is given twice.`);
    runIds.add(run.id);
    checkTime(run.createdAt, `runs.${i}.createdAt`);
    checkTime(run.finishedAt, `runs.${i}.finishedAt`);
    let last = 0;
    run.events.forEach(({ seq }, j) => {
      if (!Number.isSafeInteger(seq) || seq <= last) {
        throw new RangeError(`runs.${i}.events.${j}.seq: seqs must be increasing positive integers (got ${seq} after ${last}).`);
      }
      last = seq;
    });
  });
  messages.forEach(({ parent, createdAt }, i) => {
    if (parent !== null && !(Number.isInteger(parent) && parent >= 0 && parent < i)) {
      throw new RangeError(`messages.${i}.parent: ${parent} is not the index of an earlier message.`);
    }
    checkTime(createdAt, `messages.${i}.createdAt`);
  });
  if (head !== null && !(Number.isInteger(head) && head >= 0 && head < messages.length)) {
    throw new RangeError(`head: ${head} is not the index of a message.`);
  }
  const branchOf = conversation.branchOf;
  if (branchOf != null) {
    if (head === null) throw new RangeError("conversation.branchOf: a branch's head is its copy of the answer it was made at; head is null.");
    if (!Number.isSafeInteger(branchOf.messageId) || branchOf.messageId <= 0) {
      throw new RangeError(`conversation.branchOf.messageId must be a message id (got ${branchOf.messageId}).`);
    }
  }
}

/** A time a store keeps (integer ms since the epoch, >= 0), or RangeError naming `what`. */
export function checkTime(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be an integer >= 0 (ms since the epoch; got ${value}).`);
}
