import { randomFillSync } from "node:crypto";
import { v7 } from "uuid";

/**
 * Random bytes for ids, drawn from the system 4 KB at a time. `v7()` on its own asks the system for 16 bytes per id
 * (`crypto.getRandomValues`, ~4 µs each on the reference machine: more than the rest of making the id); a pool makes
 * that one call per 256 ids. The bytes are as random either way.
 */
const pool = new Uint8Array(16 * 256);
let poolNext = pool.length;

function random16(): Uint8Array {
  if (poolNext === pool.length) {
    randomFillSync(pool);
    poolNext = 0;
  }
  const bytes = pool.subarray(poolNext, poolNext + 16);
  poolNext += 16;
  return bytes;
}

/** The time and counter of the last id (RFC 9562 §6.2 method 1, as `v7()` keeps them when given no options). */
let lastMs = -Infinity;
let seq = 0;

/**
 * A new id for a conversation or a run: a UUID whose first 48 bits are the time in ms (RFC 9562 version 7),
 * increasing within a process.
 *
 * Why not a random (version 4) UUID: these ids key B-tree indexes in both databases (the runs, the events of a
 * run, the runs and messages of a conversation). A random key lands on a random leaf page of each index, so every
 * answer dirtied pages all over the file, and a long-lived database read cold pages back and wrote them again at
 * each checkpoint. Time-ordered keys go to the right edge of each index, onto the few pages that were just written.
 * The time an id reveals is no secret: conversations and runs carry their createdAt anyway.
 *
 * `v7()` keeps the time and counter itself only when it also draws the random bytes, so with pooled bytes the
 * counter is kept here: a new millisecond starts it at 31 random bits; within one millisecond (or when the clock
 * goes back) it counts up, and its overflow moves the time on by 1 ms, so ids keep their order.
 */
export function newRecordId(): string {
  const random = random16();
  const now = Date.now();
  if (now > lastMs) {
    seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
    lastMs = now;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) lastMs++;
  }
  return v7({ msecs: lastMs, seq, random });
}
