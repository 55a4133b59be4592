import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { pipeline, type Readable } from "node:stream";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { acceptEncoding, decodersFor } from "./content-decoding.js";
import { messageLimit } from "./response-limit.js";

/**
 * The request provably never reached the server: its connection could not be made (refused, unreachable, TLS failed),
 * or, for the session's GET stream and DELETE only, a pooled keep-alive connection turned out closed (reset) before any
 * byte of an answer came. Sending it again cannot run anything twice.
 */
export class RequestNotDeliveredError extends Error {
  override readonly name = "RequestNotDeliveredError";
}

/**
 * The connection broke after the request was sent on it and before any answer: the server may have received and
 * executed it.
 */
export class RequestOutcomeUnknownError extends Error {
  override readonly name = "RequestOutcomeUnknownError";
}

/** Socket errors that mean the peer dropped the connection (as opposed to a local abort or a protocol error). */
const droppedCodes: ReadonlySet<string> = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);

export interface NodeFetch {
  fetch: FetchLike;
  /** Closes every connection: the pooled ones, and those of POSTs still running (their session is over). */
  close(): void;
}

/**
 * A fetch over node:http for the SDK's Streamable HTTP transport. Undici's fetch cannot say whether a failed request
 * was sent at all, and a tool call (a POST, perhaps with side effects) may be sent again only when it provably was not:
 * Node's ClientRequest tells (the socket's connect event). The SDK follows redirects itself (it asks for
 * `redirect: "manual"`), so none are followed here. POST answers are asked for compressed and decoded
 * (content-decoding.ts). A body holding a message over `maxMessageBytes` (decoded) errors there (response-limit.ts).
 */
export function nodeFetch(maxMessageBytes: number): NodeFetch {
  // The session's GET stream and its DELETE: a keep-alive pool.
  const pool = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  // POSTs (every JSON-RPC message: a tool call among them) each go on a new connection, through an agent of their own
  // that is closed with the request, so a POST fails undelivered only when its connection could not be made. On a
  // reused connection, a reset before any answer byte cannot tell the server closing it as idle (nothing ran) from the
  // server dying while it ran the call. (Not `keepAlive: false`: its `Connection: close` header, passed on by a naive
  // proxy over a kept-alive upstream connection, breaks the next request.)
  const posts = new Set<HttpAgent>();

  const fetch: FetchLike = (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input);
      const signal = init?.signal ?? undefined;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const body = init?.body;
      if (body !== undefined && body !== null && typeof body !== "string") {
        reject(new TypeError("this fetch sends string bodies only"));
        return;
      }
      const secure = url.protocol === "https:";
      if (!secure && url.protocol !== "http:") {
        reject(new TypeError(`unsupported protocol ${url.protocol}`));
        return;
      }
      const method = init?.method ?? "GET";
      const post = method === "POST";
      const headers = Object.fromEntries(new Headers(init?.headers));
      let agent: HttpAgent = secure ? pool.https : pool.http;
      if (post) {
        agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
        posts.add(agent);
        // A POST's answer is a result, which may be large (a page, a file); a configured accept-encoding wins.
        headers["accept-encoding"] ??= acceptEncoding;
      }
      const req: ClientRequest = (secure ? httpsRequest : httpRequest)(url, { method, headers, agent, ...(signal ? { signal } : {}) });
      if (post) {
        // 'close': the response was read to its end, or the request failed or was aborted.
        req.on("close", () => {
          posts.delete(agent);
          agent.destroy();
        });
      }

      let answered = false;
      // Until the (TLS) connection is made, the request waits in our buffers: nothing of it reached the server.
      let connected = false;
      let socket: Socket | undefined;
      // What the socket had read before this request: any byte after is the start of an answer.
      let bytesReadBefore = 0;
      req.on("socket", (assigned: Socket) => {
        socket = assigned;
        bytesReadBefore = assigned.bytesRead;
        if (!assigned.connecting) connected = true;
        else assigned.once(secure ? "secureConnect" : "connect", () => (connected = true));
      });
      req.on("response", (res: IncomingMessage) => {
        answered = true;
        try {
          resolve(toResponse(res, method, maxMessageBytes));
        } catch (error) {
          res.destroy();
          reject(error);
        }
      });
      req.on("error", (error: NodeJS.ErrnoException) => {
        // After the head, a broken connection errors the body stream (webStream below), which its reader sees.
        if (answered) return;
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        if (!connected) {
          reject(new RequestNotDeliveredError(error.message, { cause: error }));
          return;
        }
        // Only a pooled request (GET, DELETE) is on a reused connection: the server closed it as idle as we reused it
        // (its keep-alive timeout, or it restarted). The pool's other idle ones are most likely dead too.
        const dropped = typeof error.code === "string" && droppedCodes.has(error.code);
        if (req.reusedSocket && dropped && socket?.bytesRead === bytesReadBefore) {
          dropIdleSockets(agent);
          reject(new RequestNotDeliveredError(`the reused connection was closed before the request reached the server (${error.message})`, { cause: error }));
          return;
        }
        reject(new RequestOutcomeUnknownError(error.message, { cause: error }));
      });
      req.end(body ?? undefined);
    });

  return {
    fetch,
    close() {
      for (const agent of [pool.http, pool.https, ...posts]) agent.destroy();
      posts.clear();
    },
  };
}

function toResponse(res: IncomingMessage, method: string, maxMessageBytes: number): Response {
  const status = res.statusCode ?? 0;
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  // A Response refuses a body for these (fetch gives them none).
  if (method === "HEAD" || status === 204 || status === 205 || status === 304) {
    // Nobody reads it: a connection lost meanwhile must not be an unhandled 'error'.
    res.on("error", () => undefined).resume();
    return new Response(null, { status, statusText: res.statusMessage ?? "", headers });
  }
  const eventStream = (headers.get("content-type") ?? "").toLowerCase().startsWith("text/event-stream");
  // The limit counts decoded bytes: a small compressed body that decodes to gigabytes (a "bomb") is cut at the limit,
  // and the decoders, reading no faster than the limit passes their output on, hold no more than a chunk of it.
  const limited = messageLimit(maxMessageBytes, eventStream);
  // pipeline passes a lost connection (or a body that does not decode) on to the limited stream, and ends the response
  // (its socket) when that errors.
  pipeline([res, ...(decodersFor(headers.get("content-encoding")) ?? []), limited], () => undefined);
  return new Response(webStream(limited), { status, statusText: res.statusMessage ?? "", headers });
}

/**
 * A web stream over a Node one, read as it is pulled. Not Readable.toWeb: its adapter enqueues the Node stream's data as
 * it comes, and data that comes after the web stream was cancelled (the SDK cancels bodies it is done with) throws
 * "Invalid state: Controller is already closed" where nothing can catch it, which ends the process.
 */
function webStream(source: Readable): ReadableStream<Uint8Array> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
        } catch (error) {
          // Cancelled meanwhile: the stream is closed and this is nobody's error (error() is a no-op then).
          controller.error(error);
        }
      },
      cancel() {
        source.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

function dropIdleSockets(agent: HttpAgent): void {
  for (const sockets of Object.values(agent.freeSockets)) {
    for (const socket of sockets ?? []) socket.destroy();
  }
}
