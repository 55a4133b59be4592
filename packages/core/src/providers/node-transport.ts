import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingMessage, type RequestOptions } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { pipeline, type Readable, type Transform } from "node:stream";
import { constants as zlibConstants, createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { Transport, TransportRequest, TransportResponse } from "./transport.js";

/** Like undici's headers and body timeouts: a server silent this long on a connection has hung. */
export const defaultSilenceTimeoutMs = 300_000;

export interface NodeTransportOptions {
  /** How long a server may send nothing (before or during the response) before the request fails with ETIMEDOUT. */
  silenceTimeoutMs?: number;
}

/**
 * How long a pooled connection may sit idle before it is closed (undici's keep-alive default): Ollama keeps idle
 * connections open indefinitely, so without this a burst of a thousand answers would hold a thousand sockets (and
 * the server's goroutines) for good. The agent applies it to free sockets only; a request sets its own timeout.
 */
export const idleSocketTimeoutMs = 4_000;

/**
 * The default Transport: node:http / node:https with one keep-alive agent per protocol, per provider
 * instance. Several times cheaper per request than fetch (no web streams, no undici dispatcher layers) and
 * the body is read as the socket's own chunks.
 *
 * The agents keep no cap on sockets (like undici's per-origin pool): a thousand concurrent answers get a
 * thousand connections. Idle pooled sockets are unref'd by node, so they never keep a process alive, and are closed
 * after `idleSocketTimeoutMs` (or a server's shorter `Keep-Alive: timeout` hint).
 */
export function nodeTransport(options: NodeTransportOptions = {}): Transport {
  const silenceMs = options.silenceTimeoutMs ?? defaultSilenceTimeoutMs;
  let httpAgent: HttpAgent | undefined;
  let httpsAgent: HttpsAgent | undefined;
  const sendTo = (url: URL, request: TransportRequest): Promise<NodeResponse> => {
    if (url.protocol === "http:") return send(httpRequest, url, (httpAgent ??= new HttpAgent(agentOptions)), request, silenceMs);
    if (url.protocol === "https:") return send(httpsRequest, url, (httpsAgent ??= new HttpsAgent(agentOptions)), request, silenceMs);
    return Promise.reject(Object.assign(new TypeError(`unsupported protocol ${url.protocol}`), { code: "ERR_INVALID_PROTOCOL" }));
  };
  return {
    async request(request) {
      let url = new URL(request.url);
      let current: TransportRequest = { ...request, headers: withDefaults(request.headers) };
      // Redirects are followed as fetch follows them (a proxy moving http to https, a renamed path).
      for (let hops = 0; ; hops += 1) {
        const res = await sendTo(url, current);
        const location = redirectStatuses.has(res.status) ? res.location : undefined;
        if (location === undefined) return res;
        res.cancel();
        if (hops === maxRedirects) throw new TypeError("redirect count exceeded");
        const next = new URL(location, url);
        current = redirected(current, res.status, url, next);
        url = next;
      }
    },
  };
}

/**
 * TCP keep-alive on a connection that carries no bytes (a model loading or thinking, an answer held open) starts after
 * this long. Node's agents default to 1 s, and libuv then probes every second and gives up after 10 probes: with
 * thousands of open answers, every quiet connection sent a probe a second, in bursts that overflowed the kernel's
 * loopback queue, and some connections were reset after 10 lost probes (docs/benchmarks-log.md, stop 23). The silence
 * timeout catches a server that stops answering; this only keeps NAT and firewall mappings of quiet answers alive.
 */
export const tcpKeepAliveIdleMs = 30_000;

const agentOptions = { keepAlive: true, keepAliveMsecs: tcpKeepAliveIdleMs, timeout: idleSocketTimeoutMs };

/**
 * What fetch sends unless told otherwise (some hosted servers refuse requests without a user agent), but for the
 * coding: fetch asks for gzip, which makes a streamed answer wait in the server's compressor; bodies that come
 * compressed anyway are decoded (`decoded`).
 */
const fetchDefaults: Readonly<Record<string, string>> = { accept: "*/*", "accept-encoding": "identity", "user-agent": "node" };

/** fetchDefaults overridden by `headers`, by lower-case name (header names are case-insensitive; the request sends one of each). */
function withDefaults(headers: Readonly<Record<string, string>>): Record<string, string> {
  const merged: Record<string, string> = { ...fetchDefaults };
  for (const name in headers) merged[name.toLowerCase()] = headers[name]!;
  return merged;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);
const maxRedirects = 20; // fetch's limit

/** The request fetch would send to `to` (the Fetch standard's HTTP-redirect fetch). */
function redirected(request: TransportRequest, status: number, from: URL, to: URL): TransportRequest {
  let headers = request.headers;
  let { method, body } = request;
  if ((status === 303 && method !== "GET") || ((status === 301 || status === 302) && method === "POST")) {
    method = "GET";
    body = undefined;
    headers = withoutHeaders(headers, ["content-type", "content-length"]);
  }
  // Credentials stay with the origin they were meant for.
  if (from.origin !== to.origin) headers = withoutHeaders(headers, ["authorization", "proxy-authorization", "cookie"]);
  return { ...request, method, body, headers };
}

function withoutHeaders(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())));
}

type RequestFn = (options: RequestOptions) => ClientRequest;

/**
 * node:http's options for `request` to `url`: what `http.request(url, …)` derives from a URL, with the headers as one
 * flat list (Host and Content-Length included). Given a list, Node writes the head from it and keeps no header map
 * on the request, and no copy of every URL field: both would stay in memory as long as the answer streams, and the
 * options as long as the pooled socket lives (the agent's listeners hold them). A URL with credentials goes the
 * object way, where Node turns them into an Authorization header.
 */
function requestOptions(url: URL, request: TransportRequest, body: string | undefined, agent: HttpAgent): RequestOptions {
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const target = { protocol: url.protocol, hostname, port: url.port === "" ? undefined : Number(url.port), path: url.pathname + url.search, method: request.method, agent };
  if (url.username !== "" || url.password !== "") {
    const headers = body === undefined ? request.headers : { ...request.headers, "content-length": String(Buffer.byteLength(body)) };
    return { ...target, auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`, headers };
  }
  // The names are lower-case and unique (withDefaults).
  const head: string[] = [];
  for (const name in request.headers) if (name !== "content-length" || body === undefined) head.push(name, request.headers[name]!);
  if (request.headers["host"] === undefined) head.push("host", url.host);
  if (body !== undefined) head.push("content-length", String(Buffer.byteLength(body)));
  return { ...target, headers: head };
}

/**
 * One request that went through a whole exchange, kept for the life of the process so that V8 gives every later
 * request fast properties. V8 sizes the objects a constructor makes from the shapes its first seven objects took
 * (in-object slack tracking), and a full GC forgets the shapes of objects that died. A server that answered a chat or
 * two (/api/show, /api/ps, the answers: six requests) and then went idle long enough for a full GC had no live request
 * when its seventh was made: V8 then gave ClientRequest no in-object fields, and Node adds ~60 properties to each
 * request, so every request after that was a dictionary (~2.6 KB more per open answer, slower to read) for the life of
 * the process (docs/benchmarks-log.md, stop 36). A live request keeps its shape known. The cost is one finished request,
 * its response and its socket.
 */
let shapeKeeper: ClientRequest | undefined;

function send(requestFn: RequestFn, url: URL, agent: HttpAgent, request: TransportRequest, silenceTimeoutMs: number): Promise<NodeResponse> {
  const signal = request.signal;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  // The body (the whole conversation, for a chat) is only used here, never in the closures below, which live as long
  // as the answer streams: a variable a closure uses would keep it in memory for the whole answer.
  const body = request.body;
  const req = requestFn(requestOptions(url, request, body, agent));
  const response = new Promise<NodeResponse>((resolve, reject) => {
    let res: IncomingMessage | undefined;
    // One listener per request, gone when the request closes (response read to the end, or destroyed).
    const onAbort = () => {
      // Destroying the response (or the request before one) destroys the socket: the server sees the close.
      const error = abortError(signal);
      if (res) res.destroy(error);
      else req.destroy(error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    // `on` for the events that come once and whose listeners stay as long as the answer streams: `once` would keep a
    // wrapper of its own with each.
    req.on("close", () => {
      signal?.removeEventListener("abort", onAbort);
      if (shapeKeeper === undefined && res?.complete === true) shapeKeeper = req;
    });
    // Stays for the request's life: a socket error after the headers is re-emitted here too (the response
    // reports it to its reader), and an 'error' without a listener would crash the process.
    req.on("error", reject);
    req.on("timeout", () => {
      const error = Object.assign(new Error(`no data from the server for ${silenceTimeoutMs / 1000} s`), { code: "ETIMEDOUT" });
      if (res) res.destroy(error);
      else req.destroy(error);
    });
    // Node truncates a longer socket timeout to 2^31 - 1 ms with a TimeoutOverflowWarning (see timers.ts, not
    // imported: this module has no value imports, its tests load it in a child process as plain .ts).
    req.setTimeout(Math.min(silenceTimeoutMs, 2 ** 31 - 1));
    req.once("response", (incoming: IncomingMessage) => {
      res = incoming;
      resolve(new NodeHttpResponse(incoming));
    });
  });
  req.end(body);
  // The request lives as long as the answer streams: its head as one string, not the pieces Node built it from.
  compactHead(req);
  return response;
}

interface NodeResponse extends TransportResponse {
  /** The Location header (redirects). */
  location: string | undefined;
}

/**
 * A class, not an object literal of closures: a model's answer keeps its response for as long as it streams, and a
 * literal made five closures and their scope per answer (and the body's iterator, which a run reading through
 * `forEach` never uses).
 */
class NodeHttpResponse implements NodeResponse {
  readonly status: number;
  readonly location: string | undefined;
  readonly #res: IncomingMessage;
  /** The body as its content codings say (`decoded`): the response itself when it came as it is. */
  readonly #body: Readable;

  constructor(res: IncomingMessage) {
    this.#res = res;
    this.#body = decoded(res);
    this.status = res.statusCode ?? 0;
    this.location = res.headers.location;
  }

  get body(): AsyncIterable<Uint8Array> {
    return chunksOf(this.#body);
  }

  forEach(onBytes: (bytes: Uint8Array) => void): Promise<void> {
    return forEachChunk(this.#body, onBytes);
  }

  async text(): Promise<string> {
    const parts: Buffer[] = [];
    for await (const part of this.#body as AsyncIterable<Buffer>) parts.push(part);
    return Buffer.concat(parts).toString("utf8");
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  cancel(): void {
    if (!this.#body.destroyed) this.#body.destroy();
    if (!this.#res.destroyed) this.#res.destroy();
  }
}

const decoders: Readonly<Record<string, () => Transform>> = {
  gzip: () => createGunzip(zlibStreaming),
  "x-gzip": () => createGunzip(zlibStreaming),
  deflate: () => createInflate(zlibStreaming),
  br: () => createBrotliDecompress({ finishFlush: zlibConstants.BROTLI_OPERATION_FLUSH }),
};
/** A server that flushes after each line must get each line out as it arrives, and a cut stream is not an error of zlib's. */
const zlibStreaming = { flush: zlibConstants.Z_SYNC_FLUSH, finishFlush: zlibConstants.Z_SYNC_FLUSH };

/**
 * The body as its content codings say, decoded as fetch decodes it (gzip, deflate, br, in the order they were
 * applied). Requests ask for `identity` (a streamed answer must not wait in a compressor), but a server or a proxy in
 * front of it may compress anyway. Codings we do not know leave the body as it came, as fetch leaves it. Errors,
 * aborts and an early close of the response reach the reader through the decoders (`pipeline`).
 */
function decoded(res: IncomingMessage): Readable {
  const header = res.headers["content-encoding"];
  if (header === undefined) return res;
  const codings = header.toLowerCase().split(",").map((coding) => coding.trim()).filter((coding) => coding !== "" && coding !== "identity");
  if (codings.length === 0 || !codings.every((coding) => coding in decoders)) return res;
  const chain = codings.reverse().map((coding) => decoders[coding]!());
  return pipeline([res, ...chain], () => {}) as unknown as Readable;
}

/** The 'error' listener left on a response once its reader is gone (made here: a closure would keep its scope alive). */
const ignoreError = (): void => {};

/** What a reader of a response that closed before its end gets (the error Readable's own iterator throws then). */
const prematureClose = (): Error => Object.assign(new Error("Premature close"), { code: "ERR_STREAM_PREMATURE_CLOSE" });

/** How many chunks a busy reader may have waiting before the response is paused (its socket then holds the rest). */
const queuedChunksLimit = 16;

/**
 * The response's chunks as they arrive, for one reader. Readable's own async iterator (`for await (… of res)`) costs
 * a `read()` call, its events and a promise chain per chunk — on a model streaming one token per chunk, a visible
 * share of a token's CPU. This one takes the 'data' events and hands each to the waiting reader at once; while the
 * reader is busy it queues what arrives and hands it over as one chunk at the next pull (Ollama flushes every line as
 * an HTTP chunk of its own: under load many arrive in one socket read, and the reader then makes one pass for them
 * instead of one each). It pauses the response at `queuedChunksLimit` queued chunks, so a slow reader holds the
 * socket, not memory. Ends at 'end'; throws the response's error (an abort's reason, ETIMEDOUT, a reset), or a
 * premature close when the connection closed before the end without one. A reader that stops early destroys the
 * response (closing the connection), as Readable's iterator does.
 */
function chunksOf(res: Readable): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      const queue: Buffer[] = [];
      let ended = false;
      let failure: Error | undefined;
      let waiting: { resolve: (r: IteratorResult<Uint8Array>) => void; reject: (e: Error) => void } | undefined;
      /** What queued while the reader was busy, as one chunk: one pass of the reader for all of it. */
      const take = (): Buffer => {
        const value = queue.length === 1 ? queue[0]! : Buffer.concat(queue);
        queue.length = 0;
        return value;
      };
      const settle = () => {
        const w = waiting;
        if (!w) return;
        if (queue.length > 0) {
          waiting = undefined;
          w.resolve({ value: take(), done: false });
        } else if (failure) {
          waiting = undefined;
          w.reject(failure);
        } else if (ended) {
          waiting = undefined;
          w.resolve({ value: undefined, done: true });
        }
      };
      const onData = (chunk: Buffer) => {
        queue.push(chunk);
        if (queue.length >= queuedChunksLimit) res.pause();
        settle();
      };
      const onEnd = () => {
        ended = true;
        settle();
      };
      const onError = (error: Error) => {
        failure ??= error;
        settle();
      };
      const onClose = () => {
        if (!ended) failure ??= prematureClose();
        settle();
      };
      const detach = () => {
        res.off("data", onData);
        res.off("end", onEnd);
        res.off("error", onError);
        res.off("close", onClose);
        // An 'error' after the reader is gone (the destroy in return(), a late reset) must still have a listener.
        res.on("error", ignoreError);
      };
      res.on("data", onData);
      res.on("end", onEnd);
      res.on("error", onError);
      res.on("close", onClose);
      if (res.readableEnded) ended = true;
      else if (res.destroyed) onClose();
      return {
        next() {
          if (queue.length > 0) {
            const value = take();
            if (res.isPaused() && !ended) res.resume();
            return Promise.resolve({ value, done: false });
          }
          if (failure) {
            detach();
            return Promise.reject(failure);
          }
          if (ended) {
            detach();
            return Promise.resolve({ value: undefined, done: true });
          }
          if (res.isPaused()) res.resume();
          return new Promise((resolve, reject) => (waiting = { resolve, reject }));
        },
        return() {
          detach();
          if (!ended) res.destroy();
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  };
}

/**
 * The response's chunks handed to `onBytes` as they arrive, for a reader that takes each at once (a model's answer
 * read by the run): no promise per chunk. The first HTTP chunk of a socket read goes at once and the rest of that read
 * as one chunk, as chunksOf hands them to a waiting reader: Ollama flushes every line as an HTTP chunk of its own,
 * the HTTP parser emits them one by one within the read, and a flood must not cost the run one pass per line (a
 * microtask queued at the first of them runs once the read is parsed and hands the others over together).
 * Settles as chunksOf's reader ends: at 'end', with the response's error, or with a premature close, after what
 * arrived before. A throw of `onBytes` destroys the response (closing the connection) and rejects with it.
 */
function forEachChunk(res: Readable, onBytes: (bytes: Uint8Array) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const pump = new ChunkPump(res, onBytes, resolve, reject);
    if (res.readableEnded) return pump.onEnd();
    if (res.destroyed) return pump.onClose();
    res.on("data", pump.onData);
    res.on("end", pump.onEnd);
    res.on("error", pump.onError);
    res.on("close", pump.onClose);
    if (res.isPaused()) res.resume();
  });
}

/**
 * forEachChunk's state and listeners, kept as long as the answer streams: a class, whose listeners share one scope,
 * instead of seven closures and theirs.
 */
class ChunkPump {
  readonly #pending: Buffer[] = [];
  #scheduled = false;
  #settled = false;
  // Fields declared, not parameter properties: this module is also loaded as plain TypeScript (type stripping).
  private readonly res: Readable;
  private readonly onBytes: (bytes: Uint8Array) => void;
  private readonly resolve: () => void;
  private readonly reject: (error: Error) => void;

  constructor(res: Readable, onBytes: (bytes: Uint8Array) => void, resolve: () => void, reject: (error: Error) => void) {
    this.res = res;
    this.onBytes = onBytes;
    this.resolve = resolve;
    this.reject = reject;
  }

  readonly onData = (chunk: Buffer): void => {
    if (this.#scheduled) {
      this.#pending.push(chunk);
      return;
    }
    // The first chunk of a read goes at once (a token the user waits for); the rest of the read follows as one.
    this.#scheduled = true;
    queueMicrotask(this.handOver);
    this.#give(chunk);
  };

  readonly onEnd = (): void => {
    this.handOver();
    this.#settle();
  };

  readonly onError = (error: Error): void => {
    this.handOver();
    this.#settle(error);
  };

  readonly onClose = (): void => {
    this.handOver();
    if (!this.res.readableEnded) this.#settle(prematureClose());
  };

  readonly handOver = (): void => {
    this.#scheduled = false;
    const pending = this.#pending;
    if (this.#settled || pending.length === 0) return;
    const bytes = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    pending.length = 0;
    this.#give(bytes);
  };

  #give(bytes: Buffer): void {
    try {
      this.onBytes(bytes);
    } catch (error) {
      this.#settle(error as Error);
      this.res.destroy();
    }
  }

  #settle(error?: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    const { res } = this;
    res.off("data", this.onData);
    res.off("end", this.onEnd);
    res.off("error", this.onError);
    res.off("close", this.onClose);
    // An 'error' after the reader is gone (the destroy in #give, a late reset) must still have a listener: one made
    // outside this class, since one of its own would keep the pump (the reader, and through it the run's answer) for
    // as long as the response object lives.
    res.on("error", ignoreError);
    if (error === undefined) this.resolve();
    else this.reject(error);
  }
}

/** What fetch rejects with on abort: the signal's reason when it is an error, else an AbortError. */
function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new DOMException("This operation was aborted", "AbortError");
}

/**
 * Where compactHead puts the character it reads: an optimizing compiler drops a read whose value nobody uses, and
 * the read is all that function does.
 */
const lastRead = { code: 0 };

/**
 * Makes the head Node keeps of a request or a response one flat string. Node builds the head header by header with
 * `+=` and keeps it (`_header`) as long as the message lives: for a stream held open that is a rope of a few dozen
 * pieces (~2.3 KB with this API's SSE headers, for a head of ~800 bytes) that V8 never flattens on its own, since
 * nothing reads it again. Reading one character makes V8 flatten it in place: the same string, one piece. For
 * messages that stay open (an answer streaming, thousands at once); short ones are gone before it matters.
 */
export function compactHead(message: OutgoingMessage): void {
  const head: unknown = Reflect.get(message, "_header");
  if (typeof head === "string" && head.length > 0) lastRead.code = head.charCodeAt(0);
}
