/**
 * Writes one chat answer: pacing (delayMs), backpressure (await 'drain'), and an immediate stop when the client
 * leaves (timers cleared, nothing written after 'close'). Streaming and stream:false answers share it.
 */
import type { ServerResponse } from "node:http";
import type { SimChunk } from "./types.js";
import type { Accumulated, ResponseMeter, WireEncoder } from "./wire-common.js";

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Flood writes are batched up to this many characters per socket write. */
const batchChars = 16 * 1024;
/** Yield to the event loop after this many writes the kernel took at once, so in-process readers get a turn. */
const writesPerYield = 64;

export class ChatResponder {
  private readonly abort = new AbortController();
  private ended = false;
  private closed = false;
  private destroyed = false;
  private writesSinceYield = 0;
  private readonly acc: Accumulated = { content: "", thinking: "", calls: [], doneReason: "stop" };
  readonly closedByClient: Promise<void>;

  constructor(
    private readonly res: ServerResponse,
    private readonly enc: WireEncoder,
    private readonly meter: ResponseMeter,
    private readonly streaming: boolean,
    /** Each line of a batch is an HTTP chunk of its own (SimulatorOptions.chunkPerLine). */
    private readonly chunkPerLine = false,
  ) {
    let markClientClosed!: () => void;
    this.closedByClient = new Promise((resolve) => (markClientClosed = resolve));
    res.on("close", () => {
      this.closed = true;
      this.abort.abort();
      if (this.closedEarly) markClientClosed();
    });
  }

  /** The client (or a server shutdown) closed the connection before the answer was fully written. */
  get closedEarly(): boolean {
    return this.closed && !this.res.writableFinished && !this.destroyed;
  }

  /** We dropped the connection on purpose (a cut stream:false answer). */
  get destroyedByUs(): boolean {
    return this.destroyed;
  }

  get open(): boolean {
    return !this.ended && !this.closed;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Streaming answers send their 200 headers at once, so the client's fetch() resolves before the first chunk. */
  start(): void {
    if (!this.streaming || this.res.headersSent) return;
    const headers: Record<string, string> = { "Content-Type": this.enc.contentType };
    if (this.enc.contentType === "text/event-stream") Object.assign(headers, { "Cache-Control": "no-cache", Connection: "keep-alive" });
    this.res.writeHead(200, headers);
    this.res.flushHeaders();
  }

  /** Writes a whole scenario. Chunks without a delay are batched into few socket writes (floods stay cheap). */
  async run(chunks: Iterable<SimChunk>, stall: boolean): Promise<void> {
    this.start();
    let buf = "";
    /** Where each line of `buf` ends, when lines are written as chunks of their own. */
    const lines: number[] = [];
    for (const chunk of chunks) {
      if (!this.open) return;
      const delay = chunk.delayMs ?? 0;
      const special = chunk.raw !== undefined || chunk.splitUtf8 === true || !this.streaming;
      if (buf && (delay > 0 || special)) {
        const pending = this.flushBatch(buf, lines);
        buf = "";
        lines.length = 0;
        if (pending) await pending;
      }
      if (special) {
        await this.write(chunk);
        continue;
      }
      if (delay > 0) await sleep(delay, this.signal);
      if (!this.open) return;
      buf += this.encode(chunk);
      if (this.chunkPerLine) lines.push(buf.length);
      if (isTerminal(chunk)) {
        const pending = this.flushBatch(buf, lines);
        if (pending) await pending;
        this.complete(chunk);
        return;
      }
      if (buf.length >= batchChars) {
        const pending = this.flushBatch(buf, lines);
        buf = "";
        lines.length = 0;
        if (pending) await pending;
      }
    }
    if (buf) {
      const pending = this.flushBatch(buf, lines);
      if (pending) await pending;
    }
    if (!this.open || stall) return; // a stall keeps the socket open until the client or close() ends it
    this.cut();
  }

  /** Writes one chunk after its delay; terminal chunks (done / error) end the response. */
  async write(chunk: SimChunk): Promise<void> {
    if (!this.open) return;
    if (chunk.delayMs) await sleep(chunk.delayMs, this.signal);
    if (!this.open) return;
    this.start();
    if (chunk.raw !== undefined) {
      if (this.streaming) await this.flush(chunk.raw);
      return;
    }
    const text = this.encode(chunk);
    if (chunk.splitUtf8 && this.streaming) {
      const bytes = Buffer.from(text, "utf8");
      const lead = bytes.findIndex((b) => b >= 0xc0); // first byte of a multi-byte character
      const cut = lead >= 0 ? lead + 1 : Math.floor(bytes.length / 2);
      await this.flush(bytes.subarray(0, cut));
      await sleep(chunk.splitDelayMs ?? 10, this.signal);
      await this.flush(bytes.subarray(cut));
    } else if (text) {
      await this.flush(text);
    }
    if (isTerminal(chunk)) this.complete(chunk);
  }

  /** Ends the response without a done chunk: the client sees a truncated stream. */
  cut(): void {
    if (!this.open) return;
    this.ended = true;
    if (this.streaming) {
      this.res.end();
    } else {
      // a stream:false answer cannot be "cut" politely: drop the connection like a crashed server
      this.destroyed = true;
      this.res.destroy();
    }
  }

  private encode(chunk: SimChunk): string {
    this.meter.count(chunk);
    const calls = this.meter.resolveCalls(chunk.toolCalls);
    if (this.streaming) return this.enc.encode(chunk, calls);
    if (chunk.content) this.acc.content += chunk.content;
    if (chunk.thinking) this.acc.thinking += chunk.thinking;
    this.acc.calls.push(...calls);
    if (chunk.doneReason) this.acc.doneReason = chunk.doneReason;
    return "";
  }

  private complete(chunk: SimChunk): void {
    if (!this.open) return;
    this.ended = true;
    if (this.streaming) {
      this.res.end();
      return;
    }
    const status = chunk.error !== undefined ? this.enc.midStreamErrorStatus : 200;
    const body = chunk.error !== undefined ? this.enc.errorBody(status, chunk.error) : this.enc.body(this.acc);
    const text = JSON.stringify(body);
    this.res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
    this.res.end(text);
  }

  /** A batch of lines: one chunk, or (chunkPerLine) one chunk per line, in one socket write either way. */
  private flushBatch(buf: string, lineEnds: readonly number[]): Promise<void> | undefined {
    if (lineEnds.length < 2) return this.flush(buf);
    const socket = this.res.socket;
    if (!this.open || !socket) return undefined;
    // The socket's cork, not the response's: a corked response joins its writes into one chunk.
    socket.cork();
    let start = 0;
    let full = false;
    for (const end of lineEnds) {
      full = !this.res.write(buf.slice(start, end)) || full;
      start = end;
    }
    socket.uncork();
    return this.afterWrite(!full);
  }

  /** Writes now; returns a promise only when the caller must wait (backpressure or a periodic yield). */
  private flush(data: string | Uint8Array): Promise<void> | undefined {
    if (!this.open) return undefined;
    return this.afterWrite(this.res.write(data));
  }

  private afterWrite(accepted: boolean): Promise<void> | undefined {
    if (!accepted) return this.drained();
    if (++this.writesSinceYield >= writesPerYield) {
      this.writesSinceYield = 0;
      return new Promise((resolve) => setImmediate(resolve));
    }
    return undefined;
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.res.off("drain", done);
        this.res.off("close", done);
        resolve();
      };
      this.res.on("drain", done);
      this.res.on("close", done);
    });
  }
}

function isTerminal(chunk: SimChunk): boolean {
  return chunk.done === true || chunk.error !== undefined;
}
