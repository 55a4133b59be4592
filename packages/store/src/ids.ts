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
  return formatUuid(v7({ msecs: lastMs, seq, random }, idBytes));
}

const idBytes = new Uint8Array(16);
const idText = Buffer.from("00000000-0000-0000-0000-000000000000", "latin1");
const hexDigits = Buffer.from("0123456789abcdef", "latin1");
/** Where each of the 16 bytes' two hex digits go in the text (the dashes stay where they are). */
const digitAt = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/**
 * The UUID's text, as uuid's `stringify` writes it (ids.test.ts compares them), made as one string: uuid concatenates
 * 20 pieces and lower-cases the result, ~500 B of intermediate strings per id, two ids per new chat.
 */
export function formatUuid(bytes: Uint8Array): string {
  for (let i = 0; i < 16; i++) {
    const byte = bytes[i]!;
    const at = digitAt[i]!;
    idText[at] = hexDigits[byte >> 4]!;
    idText[at + 1] = hexDigits[byte & 15]!;
  }
  return idText.toString("latin1", 0, 36);
}
