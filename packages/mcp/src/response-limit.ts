import { Transform, type TransformCallback } from "node:stream";
import { formatBytes } from "./stdio-transport.js";

/** An HTTP server's answer held a message over the limit: it was cut there instead of read into memory whole. */
export class ResponseTooLargeError extends Error {
  override readonly name = "ResponseTooLargeError";

  constructor(readonly limitBytes: number) {
    super(`the server sent a message larger than ${formatBytes(limitBytes)} (the limit)`);
  }
}

/**
 * Passes a response body through while no message in it is longer than `maxBytes`, and errors with
 * ResponseTooLargeError at the first byte over. The MCP SDK reads a JSON answer whole and buffers an event of a stream
 * until its end, so a server (or a proxy) sending gigabytes would otherwise take the API's memory with it; stdio
 * servers have the same limit per line. An event stream's limit is per event (it may carry notifications for as long as
 * the session lasts); any other body is one message.
 */
export function messageLimit(maxBytes: number, eventStream: boolean): Transform {
  let size = 0;
  // Event streams: nothing but line ends since the last \n, so a \n now is an empty line, which ends the event.
  let lineEnded = false;
  /** The size of the event being read after `chunk`, by line: an empty line ends an event (\r\n or \n endings). */
  const eventBytes = (chunk: Buffer): number => {
    let bytes = size;
    for (let start = 0; start <= chunk.length; ) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline === -1 ? chunk.length : newline;
      // A \r at a line's end (or the chunk's, its \n in the next chunk) is part of the line end.
      const content = end - start - (end > start && chunk[end - 1] === 0x0d ? 1 : 0);
      if (content > 0) lineEnded = false;
      bytes += content;
      if (newline === -1) break;
      if (lineEnded) bytes = 0;
      lineEnded = true;
      start = newline + 1;
    }
    return bytes;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      if (!eventStream) size += chunk.length;
      else size = eventBytes(chunk);
      if (size > maxBytes) callback(new ResponseTooLargeError(maxBytes));
      else callback(null, chunk);
    },
  });
}
