import { v7 } from "uuid";

/**
 * A new id for a conversation or a run: a UUID whose first 48 bits are the time in ms (RFC 9562 version 7),
 * increasing within a process.
 *
 * Why not a random (version 4) UUID: these ids key B-tree indexes in both databases (the runs, the events of a
 * run, the runs and messages of a conversation). A random key lands on a random leaf page of each index, so every
 * answer dirtied pages all over the file, and a long-lived database read cold pages back and wrote them again at
 * each checkpoint. Time-ordered keys go to the right edge of each index, onto the few pages that were just written.
 * The time an id reveals is no secret: conversations and runs carry their createdAt anyway.
 */
export function newRecordId(): string {
  return v7();
}
