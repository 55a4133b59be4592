import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Transport, TransportRequest, TransportResponse } from "./transport.js";

/** Like undici's headers and body timeouts: a server silent this long on a connection has hung. */
const silenceTimeoutMs = 300_000;

/**
 * The default Transport: node:http / node:https with one keep-alive agent per protocol, per provider
 * instance. Several times cheaper per request than fetch (no web streams, no undici dispatcher layers) and
 * the body is read as the socket's own chunks.
 *
 * The agents keep no cap on sockets (like undici's per-origin pool): a thousand concurrent answers get a
 * thousand connections. Idle pooled sockets are unref'd by node, so they never keep a process alive, and a
 * server's `Keep-Alive: timeout` hint retires them before the server closes them.
 */
export function nodeTransport(): Transport {
  let httpAgent: HttpAgent | undefined;
  let httpsAgent: HttpsAgent | undefined;
  return {
    request(request) {
      let url: URL;
      try {
        url = new URL(request.url);
      } catch (error) {
        return Promise.reject(error);
      }
      if (url.protocol === "http:") {
        httpAgent ??= new HttpAgent({ keepAlive: true });
        return send(httpRequest, url, httpAgent, request);
      }
      if (url.protocol === "https:") {
        httpsAgent ??= new HttpsAgent({ keepAlive: true });
        return send(httpsRequest, url, httpsAgent, request);
      }
      return Promise.reject(Object.assign(new TypeError(`unsupported protocol ${url.protocol}`), { code: "ERR_INVALID_PROTOCOL" }));
    },
  };
}

type RequestFn = (url: URL, options: RequestOptions) => ClientRequest;

function send(requestFn: RequestFn, url: URL, agent: HttpAgent, request: TransportRequest): Promise<TransportResponse> {
  const { signal, body } = request;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<TransportResponse>((resolve, reject) => {
    const headers = body === undefined ? request.headers : { ...request.headers, "content-length": String(Buffer.byteLength(body)) };
    const req = requestFn(url, { method: request.method, headers, agent });
    let res: IncomingMessage | undefined;
    // One listener per request, gone when the request closes (response read to the end, or destroyed).
    const onAbort = () => {
      // Destroying the response (or the request before one) destroys the socket: the server sees the close.
      const error = abortError(signal);
      if (res) res.destroy(error);
      else req.destroy(error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    req.once("close", () => signal?.removeEventListener("abort", onAbort));
    // Stays for the request's life: a socket error after the headers is re-emitted here too (the response
    // reports it to its reader), and an 'error' without a listener would crash the process.
    req.on("error", reject);
    req.setTimeout(silenceTimeoutMs, () => {
      const error = Object.assign(new Error(`no data from the server for ${silenceTimeoutMs / 1000} s`), { code: "ETIMEDOUT" });
      if (res) res.destroy(error);
      else req.destroy(error);
    });
    req.once("response", (incoming: IncomingMessage) => {
      res = incoming;
      resolve(nodeResponse(incoming));
    });
    req.end(body);
  });
}

function nodeResponse(res: IncomingMessage): TransportResponse {
  const text = async (): Promise<string> => {
    const parts: Buffer[] = [];
    for await (const part of res as AsyncIterable<Buffer>) parts.push(part);
    return Buffer.concat(parts).toString("utf8");
  };
  return {
    status: res.statusCode ?? 0,
    body: res,
    text,
    json: async () => JSON.parse(await text()) as unknown,
    cancel: () => {
      if (!res.destroyed) res.destroy();
    },
  };
}

/** What fetch rejects with on abort: the signal's reason when it is an error, else an AbortError. */
function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new DOMException("This operation was aborted", "AbortError");
}
