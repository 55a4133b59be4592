import type { Socket } from "node:net";
import type { FastifyReply, FastifyRequest } from "fastify";

/** How long a closing connection waits for the client to go, and how much more of the refused body it reads meanwhile. */
export interface Lingering {
  maxMs: number;
  maxBytes: number;
}

export const defaultLingering: Lingering = { maxMs: 2000, maxBytes: 8 * 1024 * 1024 };

/**
 * When an answer closes its connection before the request's body was read through (a 413 or 415 refusing an
 * upload, Fastify's own body errors), the close lingers, the way RFC 9112 §9.6 asks: the server shuts down its
 * sending side after the answer and waits until the client closes too, for at most `maxMs`, reading (and
 * discarding) at most `maxBytes` meanwhile. Call it once the `Connection: close` header is set, before the answer
 * is sent: the app's error handler and its 415 hook do (every refusal goes through one of them), so answers that
 * keep their connection pay nothing for it.
 *
 * Why: the client is usually still uploading when such an answer comes. Node closes the connection as soon as the
 * answer is written; with the client's data unread the kernel then sends a reset, and a client still writing gets
 * EPIPE or ECONNRESET and drops the answer it had not read yet: curl or a Node client saw "socket hang up" instead
 * of "too large" (a flaky test showed it).
 */
export function lingerIfBodyUnread(request: FastifyRequest, reply: FastifyReply, lingering: Lingering = defaultLingering): void {
  if (!request.raw.complete && reply.getHeader("connection") === "close") lingerOnClose(request.raw.socket, lingering);
}

/**
 * Makes the close after a `Connection: close` response on this socket a lingering one: Node's HTTP server ends
 * such a response with `socket.destroySoon()`, which this socket's own replaces.
 */
export function lingerOnClose(socket: Socket, lingering: Lingering): void {
  socket.destroySoon = () => lingeringClose(socket, lingering);
}

function lingeringClose(socket: Socket, { maxMs, maxBytes }: Lingering): void {
  if (socket.destroyed) return;
  if (socket.writable) socket.end();
  const close = () => socket.destroy();
  // Not what keeps a stopping process alive: its exit closes the socket all the same.
  const timer = setTimeout(close, maxMs).unref();
  let left = maxBytes;
  // A `data` listener also takes the socket from the HTTP parser's direct reads, so each chunk is counted here;
  // the parser still gets it, for a request nobody reads any more (dropped, or held up to the request's buffer,
  // which then pauses the socket). Past maxBytes reading stops instead of closing at once: a client that has not
  // read the answer yet still can until maxMs.
  socket.on("data", (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) socket.pause();
  });
  socket.once("end", close);
  socket.once("close", () => clearTimeout(timer));
}
