import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { pipeline, type Readable } from "node:stream";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { messageLimit } from "./response-limit.js";

/**
 * The request provably never reached the server: no connection could be made, or a pooled keep-alive connection
 * turned out closed (reset) before any byte of an answer came. Sending it again cannot run anything twice.
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
  /** Closes the pooled connections (a request still running keeps its own until it ends or is aborted). */
  close(): void;
}

/**
 * A fetch over node:http for the SDK's Streamable HTTP transport. Undici's fetch cannot say whether a failed request
 * was sent at all, and a tool call (a POST, perhaps with side effects) may be sent again only when it provably was not:
 * Node's ClientRequest tells (the socket's connect event, `reusedSocket` and byte counts). The SDK follows redirects itself (it asks for `redirect: "manual"`), so
 * none are followed here; bodies are not decoded, and none is asked for compressed. A body holding a message over
 * `maxMessageBytes` errors there (response-limit.ts).
 */
export function nodeFetch(maxMessageBytes: number): NodeFetch {
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  // POSTs (every JSON-RPC message: a tool call among them) each go on a connection of their own, through an agent of
  // their own that is closed with the request. On a reused connection, a reset before any answer byte cannot tell the
  // server closing it as idle (nothing ran) from the server dying while it ran the call. (Not `keepAlive: false`: its
  // `Connection: close` header, passed on by a naive proxy over a kept-alive upstream connection, breaks the next request.)
  const oneShots = new Set<HttpAgent>();

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
      let agent: HttpAgent = secure ? agents.https : agents.http;
      if (method === "POST") {
        const oneShot: HttpAgent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
        oneShots.add(oneShot);
        agent = oneShot;
      }
      const options = { method, headers: Object.fromEntries(new Headers(init?.headers)), agent, ...(signal ? { signal } : {}) };
      const req: ClientRequest = (secure ? httpsRequest : httpRequest)(url, options);
      if (oneShots.has(agent)) {
        // 'close': the response was read to its end, or the request failed or was aborted.
        req.on("close", () => {
          oneShots.delete(agent);
          agent.destroy();
        });
      }

      let answered = false;
      // What the socket had read before this request: any byte after is the start of an answer.
      let bytesReadBefore = 0;
      let socket: Socket | undefined;
      let reached = false;
      req.on("socket", (assigned: Socket) => {
        socket = assigned;
        bytesReadBefore = assigned.bytesRead;
        // A reused socket was connected long ago; a new one reaches the server at its (TLS) connect, and
        // not before: until then the request waits in our buffers.
        if (req.reusedSocket || !assigned.connecting) reached = true;
        else assigned.once(secure ? "secureConnect" : "connect", () => (reached = true));
      });
      req.on("response", (res: IncomingMessage) => {
        answered = true;
        try {
          resolve(toResponse(res, options.method, maxMessageBytes));
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
        const noAnswerByte = socket === undefined || socket.bytesRead === bytesReadBefore;
        const dropped = typeof error.code === "string" && droppedCodes.has(error.code);
        if (!reached) {
          reject(new RequestNotDeliveredError(error.message, { cause: error }));
        } else if (req.reusedSocket && dropped && noAnswerByte) {
          // (Never a POST, see `oneShots`.) The server closed the idle connection as we reused it (its keep-alive timeout,
          // or it restarted): the other pooled ones are most likely dead too, and a retry must open a fresh one.
          dropFreeSockets(agent);
          reject(new RequestNotDeliveredError(`the reused connection was closed before the request reached the server (${error.message})`, { cause: error }));
        } else {
          reject(new RequestOutcomeUnknownError(error.message, { cause: error }));
        }
      });
      req.end(body ?? undefined);
    });

  return {
    fetch,
    close() {
      for (const agent of [agents.http, agents.https, ...oneShots]) agent.destroy();
      oneShots.clear();
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
  // pipeline passes a lost connection on to the limited stream, and ends the response (its socket) when that errors.
  const limited = pipeline(res, messageLimit(maxMessageBytes, eventStream), () => undefined);
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

function dropFreeSockets(agent: HttpAgent): void {
  for (const sockets of Object.values(agent.freeSockets)) {
    for (const socket of sockets ?? []) socket.destroy();
  }
}
