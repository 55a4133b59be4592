import type { OutgoingMessage } from "node:http";

/**
 * Where compactHead puts the character it reads: an optimizing compiler drops a read whose value nobody uses, and
 * the read is all that function does.
 */
const lastRead = { code: 0 };

/**
 * Makes the head Node keeps of a request or a response one flat string. Node builds the head header by header with
 * `+=` and keeps it (`_header`) as long as the message lives: for a stream held open that is a rope of a few dozen
 * pieces (~2.3 KB with this API's SSE headers, for a head of ~700 bytes) that V8 never flattens on its own, since
 * nothing reads it again. Reading one character makes V8 flatten it in place: the same string, one piece. For
 * messages that stay open (an answer streaming, thousands at once); short ones are gone before it matters.
 */
export function compactHead(message: OutgoingMessage): void {
  const head: unknown = Reflect.get(message, "_header");
  if (typeof head === "string" && head.length > 0) lastRead.code = head.charCodeAt(0);
}
