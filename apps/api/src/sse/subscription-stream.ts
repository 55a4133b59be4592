import type { OutgoingHttpHeader, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { isTrackedEnvelope } from "@trpc/server";
import { compactHead } from "@streamchat/core";
import { acceptsDirectWrites, attachWriter } from "./direct-writes.js";
import type { PingClock, PingTarget } from "./ping-clock.js";
import { dataFrame, errorFrame, pingFrame, returnFrame, subscriptionHeaders } from "./wire.js";

export interface StreamSettings {
  /** The `connected` frame (the same for every stream of a router). */
  connected: string;
  /** Null when pings are off. */
  clock: PingClock | null;
  /** tRPC's `sse.maxDurationMs`: the response ends (without `return`, so the client resumes) after this long. */
  maxDurationMs: number | undefined;
  /** The router's transformer (`transformer.output.serialize`). */
  serialize(value: unknown): unknown;
  /** `serialize` gives every value as it is (tRPC's default transformer): a source's own JSON of a value is its data. */
  serializesAsIs: boolean;
  /** The writer's own failure, after it closed the connection (a bug, never the source's error): for the log. */
  onFault?(error: unknown): void;
}

/** What a subscription sends after `connected`: the procedure's values, or the error that stopped it first. */
export type StreamSource = { values: AsyncIterable<unknown> } | { error: unknown };

/** The names tRPC's own headers win over (the caller's headers are lower-case, as Fastify's `getHeaders` gives them). */
const subscriptionHeaderNames = new Set(subscriptionHeaders.map(([name]) => name));

/**
 * The reason every stream's signal aborts with. `abort()` without one builds a DOMException, capturing a
 * stack, for every stream that ends: a visible share of a short stream's CPU. Nothing reads its stack.
 */
const clientGone = new DOMException("The subscription ended", "AbortError");

/** Returns an iterator that will not be read further; whatever its `return` throws or rejects with has no one to go to. */
function returnQuietly(iterator: AsyncIterator<unknown>): Promise<unknown> {
  try {
    return Promise.resolve(iterator.return?.()).catch(() => undefined);
  } catch {
    return Promise.resolve();
  }
}

const isAbortError = (error: unknown) =>
  typeof error === "object" && error !== null && (error as { name?: unknown }).name === "AbortError";

/**
 * One subscription on one response, written with plain `res.write`: one pull from the procedure, one
 * write, and no further pull while the socket's buffer is over its high-water mark — a slow reader holds
 * at most one event beyond it, however much the procedure has to say.
 *
 * Created as soon as the request arrives, so a client that leaves while the context or the procedure is
 * still being set up aborts `signal` as well.
 */
export class SubscriptionStream implements PingTarget {
  lastWriteTick = 0;
  /** Aborted when the client goes away (and when maxDurationMs ends the stream): the procedure's signal. */
  readonly signal: AbortSignal;
  readonly #res: ServerResponse;
  readonly #settings: StreamSettings;
  readonly #controller = new AbortController();
  /** No more writes: the client left, or maxDurationMs ended the response. */
  #stopped = false;
  /** The source's values while they are pulled; null before, and once the stream is finished. */
  #iterator: AsyncIterator<unknown> | null = null;
  #formatError: (error: unknown) => unknown = String;
  /** The next pull waits for `drain`. */
  #drainWait = false;
  #maxDuration: NodeJS.Timeout | undefined;
  /** The socket a direct write corked, until it is uncorked. */
  #corked: Socket | null = null;

  constructor(res: ServerResponse, settings: StreamSettings) {
    this.#res = res;
    this.#settings = settings;
    this.signal = this.#controller.signal;
    // `on`: "close" comes once, and `once` would keep a wrapper of its own with the response for the stream's life.
    res.on("close", this.#onClose);
    res.on("drain", this.#onDrain);
  }

  /**
   * Status, headers and `connected`, then every value of the source as `data` (+ `id` when tracked) until
   * it returns (`return`), throws (`serialized-error`, shaped by `formatError`) or the client leaves.
   * `headers` are sent before tRPC's own (which win, as they do when tRPC answers).
   *
   * Returns once the stream is under way: the values are pulled by callbacks (#pull), not by an async function that
   * every open stream would keep suspended (its registers, its generator object, its `await`'s closures).
   */
  send(headers: Record<string, string | number | readonly string[]>, source: StreamSource, formatError: (error: unknown) => unknown): void {
    const res = this.#res;
    const values = "values" in source ? source.values : null;
    if (this.#stopped) {
      // The client left before the procedure was set up: nothing to write; a generator that never ran has nothing to clean.
      if (values !== null) returnQuietly(values[Symbol.asyncIterator]());
      return;
    }
    // One flat list for writeHead: Node then keeps no header map on the response for the stream's life.
    const head: OutgoingHttpHeader[] = [];
    for (const name in headers) if (!subscriptionHeaderNames.has(name)) head.push(name, headers[name] as OutgoingHttpHeader);
    for (const [name, value] of subscriptionHeaders) head.push(name, value);
    res.writeHead(200, head);
    // The head stays with the response for the stream's life: one string, not the pieces Node built it from.
    compactHead(res);
    this.#write(this.#settings.connected);
    if (values === null) {
      this.#writeError((source as { error: unknown }).error, formatError);
      res.end();
      return;
    }

    const { clock, maxDurationMs } = this.#settings;
    clock?.add(this);
    if (maxDurationMs !== undefined) this.#maxDuration = setTimeout(SubscriptionStream.#expire, maxDurationMs, this);
    this.#iterator = values[Symbol.asyncIterator]();
    this.#formatError = formatError;
    if (acceptsDirectWrites(values)) values[attachWriter](this.#take);
    this.#pull();
  }

  /** One pull from the source, unless the stream stopped (then it ends) or the socket's buffer is full (`drain` pulls). */
  #pull(): void {
    if (this.#stopped) return this.#finish(false);
    if (this.#res.writableNeedDrain) {
      this.#drainWait = true;
      return;
    }
    let next: Promise<IteratorResult<unknown>>;
    try {
      next = Promise.resolve(this.#iterator!.next());
    } catch (error) {
      return this.#onFailure(error);
    }
    next.then(this.#onResult, this.#onFailure);
  }

  readonly #onResult = (result: IteratorResult<unknown>): void => {
    try {
      this.#handOut(result);
    } catch (error) {
      this.#fault(error);
    }
  };

  readonly #onFailure = (error: unknown): void => {
    try {
      this.#failed(error);
    } catch (fault) {
      this.#fault(fault);
    }
  };

  #handOut(result: IteratorResult<unknown>): void {
    if (this.#iterator === null) return;
    if (result.done) {
      if (!this.#stopped) this.#write(returnFrame);
      return this.#finish(true);
    }
    if (this.#stopped) return this.#finish(false);
    let frame: string;
    try {
      frame = this.#frame(result.value);
    } catch (error) {
      // A value the transformer or JSON cannot serialize: the error is sent, and the source (still suspended at its
      // `yield`) is returned, so that its own cleanup runs.
      this.#writeError(error, this.#formatError);
      return this.#finish(false);
    }
    this.#write(frame);
    this.#pull();
  }

  /** The source threw (or rejected): its error is sent, unless it is its signal's AbortError (tRPC does the same). */
  #failed(error: unknown): void {
    if (this.#iterator === null) return;
    if (!this.#stopped && !isAbortError(error)) this.#writeError(error, this.#formatError);
    this.#finish(true);
  }

  /**
   * The writer itself failed (its writes and its formatting do not throw; this is the net under them): the source is
   * returned, the connection closed, and the failure reported. Nothing is left to reject: a callback's throw would be
   * an unhandled rejection.
   */
  #fault(error: unknown): void {
    const iterator = this.#iterator;
    this.#iterator = null;
    this.#stopped = true;
    this.#drainWait = false;
    this.#controller.abort(clientGone);
    this.#release();
    if (iterator !== null) void returnQuietly(iterator);
    this.#res.destroy();
    this.#settings.onFault?.(error);
  }

  /**
   * The stream is over. A source that did not end by itself (`settled` false: the client left, maxDurationMs, a value
   * it could not send) is returned first, so that its `finally` runs (its own errors have no one to go to); then the
   * response ends.
   */
  #finish(settled: boolean): void {
    const iterator = this.#iterator;
    if (iterator === null) return;
    this.#iterator = null;
    this.#drainWait = false;
    this.#release();
    if (!settled) {
      returnQuietly(iterator).then(() => this.#end());
      return;
    }
    this.#end();
  }

  #end(): void {
    if (!this.#res.writableEnded) this.#res.end();
  }

  /** Called by the clock after a quiet interval; a stream waiting for `drain` has bytes on the way already. */
  ping(): void {
    if (!this.#stopped && !this.#res.writableNeedDrain) this.#write(pingFrame);
  }

  #write(frame: string): void {
    const clock = this.#settings.clock;
    if (clock !== null) this.lastWriteTick = clock.tick;
    this.#res.write(frame);
  }

  /**
   * A value the source writes itself while `send` waits in `next()` (direct-writes.ts): written as `send` would,
   * unless the response waits for `drain` or is done; then the source hands it out through `next()`.
   */
  readonly #take = (data: unknown, id?: string, json?: string): boolean => {
    if (this.#stopped || this.#res.writableNeedDrain) return false;
    let frame: string;
    try {
      frame = dataFrame(json !== undefined && this.#settings.serializesAsIs ? json : JSON.stringify(this.#settings.serialize(data)), id);
    } catch {
      return false; // `send` meets the same error through next() and reports it
    }
    const socket = this.#res.socket;
    if (this.#corked === null && socket !== null) {
      // A direct write happens outside the promise jobs in which the run's next events (its `done`, right after the
      // last token) reach `send`; Node would send it alone before them. Held until those jobs ran, they leave in one
      // write (one syscall, one wake-up of the client) as pulled values of one turn always did. The socket itself
      // is corked, and uncorked, so that a response that ends meanwhile (and lets go of it) cannot leave it corked.
      this.#corked = socket;
      socket.cork();
      if (SubscriptionStream.#corkedStreams.push(this) === 1) queueMicrotask(SubscriptionStream.#uncorkAfterJobs);
    }
    this.#write(frame);
    return true;
  };

  /**
   * The streams whose sockets a direct write corked in this turn: one microtask and one tick uncork them all (each
   * stream's own pair of closures stayed with it for its life).
   */
  static readonly #corkedStreams: SubscriptionStream[] = [];

  static #uncorkAfterJobs(): void {
    process.nextTick(SubscriptionStream.#uncorkAll);
  }

  static #uncorkAll(): void {
    const streams = SubscriptionStream.#corkedStreams;
    // Emptied in place, keeping its store (a new array per turn was ~180 bytes a token at a real pace). A write after
    // this tick corks again and schedules its own uncork.
    for (let i = 0; i < streams.length; i++) {
      const stream = streams[i]!;
      const socket = stream.#corked;
      stream.#corked = null;
      socket?.uncork();
    }
    while (streams.length > 0) streams.pop();
  }

  #frame(value: unknown): string {
    const { serialize } = this.#settings;
    if (isTrackedEnvelope(value)) return dataFrame(JSON.stringify(serialize(value[1])), value[0]);
    return dataFrame(JSON.stringify(serialize(value)));
  }

  #writeError(error: unknown, formatError: (error: unknown) => unknown): void {
    let frame: string;
    try {
      frame = errorFrame(JSON.stringify(this.#settings.serialize(formatError(error))));
    } catch {
      // An errorFormatter or transformer that throws: end the stream without an error frame, as tRPC's stream errors.
      return;
    }
    this.#write(frame);
  }

  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#controller.abort(clientGone);
    this.#release();
    // A pull waiting for `drain` ends the stream now; one waiting for the source's next value, when that comes.
    if (this.#drainWait) this.#finish(false);
  }

  #release(): void {
    this.#settings.clock?.delete(this);
    clearTimeout(this.#maxDuration);
  }

  readonly #onClose = (): void => {
    this.#res.off("drain", this.#onDrain);
    this.#stop();
  };

  readonly #onDrain = (): void => {
    if (!this.#drainWait) return;
    this.#drainWait = false;
    this.#pull();
  };

  /** maxDurationMs: like tRPC, abort the procedure and end the response now, without `return`. */
  static #expire(stream: SubscriptionStream): void {
    stream.#stop();
    if (!stream.#res.writableEnded) stream.#res.end();
  }
}
