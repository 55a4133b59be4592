/**
 * The three workloads, each run against one path at one concurrency:
 * - flood: the simulator writes as fast as backpressure allows → throughput and server CPU per 1,000 tokens;
 * - paced: every stream at a fixed token rate, driven token by token from this process → added latency
 *   (first token and every token), free of the queueing a flood causes;
 * - hold: many slow streams open at once → server RSS per open stream.
 * Every stream is verified (exact tokens, in order, a clean end); every wait is bounded.
 */
import http from "node:http";
import { performance } from "node:perf_hooks";
import { cpuClockResolutionMs } from "@streamchat/cluster";
import type { ControlledStream, SimChunk, Simulator } from "@streamchat/ollama-sim";
import type { ServerProcess } from "./child.js";
import { readStream, type StreamResult, type StreamTarget } from "./reader.js";
import { percentile, pool, sleep } from "./stats.js";
import { benchPrompt, benchTokens } from "./tokens.js";

export interface StreamErrors {
  errors: number;
  /** The first few distinct failure reasons. */
  errorSamples: string[];
}

function collectErrors(results: readonly StreamResult[]): StreamErrors {
  const samples = new Set<string>();
  let errors = 0;
  for (const r of results) {
    if (r.ok) continue;
    errors++;
    if (samples.size < 5 && r.error) samples.add(r.error);
  }
  return { errors, errorSamples: [...samples] };
}

function newAgent(): http.Agent {
  // Keep-alive like a browser: sequential streams (and chat.send → chat.events) reuse connections, and a quiet one
  // is probed after tens of seconds (Chrome: 45 s), not Node's default 1 s: 10,000 held streams probing every second
  // overflowed the kernel's loopback queue and had connections reset (docs/benchmarks-log.md, stop 23).
  return new http.Agent({ keepAlive: true, keepAliveMsecs: 30_000, maxSockets: Number.POSITIVE_INFINITY });
}

let tagSeq = 0;
/** A tag unique in this process; brackets keep "[s1-2]" from matching inside "[s1-23]". */
const nextTag = (kind: string) => `${kind}${++tagSeq}`;

// ---- flood -------------------------------------------------------------------------------------

export interface FloodOptions {
  target: StreamTarget;
  server: ServerProcess | null;
  concurrency: number;
  streams: number;
  tokensPerStream: number;
  timeoutMs: number;
}

export interface FloodResult extends StreamErrors {
  concurrency: number;
  streams: number;
  tokensPerStream: number;
  /** Verified tokens (streams that delivered exactly what was sent). */
  tokens: number;
  tokenEvents: number;
  wallMs: number;
  tokensPerSec: number;
  tokenEventsPerSec: number;
  /** CPU of the server process over the whole run; null for the direct path (no server). */
  serverCpuMs: number | null;
  serverCpuMsPer1kTokens: number | null;
  /** CPU of the bench process (simulator + load generator), for context. */
  benchCpuMs: number;
}

export async function flood(opts: FloodOptions): Promise<FloodResult> {
  const agent = newAgent();
  const tokens = benchTokens(opts.tokensPerStream);
  const runTag = nextTag("f");
  try {
    const cpuBefore = opts.server?.cpuMs() ?? null;
    const benchBefore = process.cpuUsage();
    const started = performance.now();
    const results = await pool(opts.streams, opts.concurrency, (i) =>
      readStream(opts.target, benchPrompt(opts.tokensPerStream, `[${runTag}-${i}]`), {
        agent,
        timeoutMs: opts.timeoutMs,
        expectedTokens: tokens,
      }),
    );
    const wallMs = performance.now() - started;
    const benchUsage = process.cpuUsage(benchBefore);
    const serverCpuMs = cpuBefore === null || !opts.server ? null : opts.server.cpuMs() - cpuBefore;
    const verified = results.filter((r) => r.ok);
    const tokenCount = verified.length * opts.tokensPerStream;
    const tokenEvents = verified.reduce((sum, r) => sum + r.tokenEvents, 0);
    return {
      concurrency: opts.concurrency,
      streams: opts.streams,
      tokensPerStream: opts.tokensPerStream,
      tokens: tokenCount,
      tokenEvents,
      wallMs,
      tokensPerSec: (tokenCount / wallMs) * 1000,
      tokenEventsPerSec: (tokenEvents / wallMs) * 1000,
      serverCpuMs,
      serverCpuMsPer1kTokens: serverCpuMs === null || tokenCount === 0 ? null : serverCpuMs / (tokenCount / 1000),
      benchCpuMs: (benchUsage.user + benchUsage.system) / 1000,
      ...collectErrors(results),
    };
  } finally {
    agent.destroy();
  }
}

// ---- controlled streams (paced and hold) -----------------------------------------------------------

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no progress within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One stream whose model side this process writes token by token through the simulator's controlled mode. */
class DrivenStream {
  readonly tokens: string[];
  readonly pushTimes: number[] = [];
  readonly headers = deferred();
  readonly firstToken = deferred();
  /** The reader has this stream's first token. */
  hasFirstToken = false;
  /** The model request reached the simulator (only then can tokens be written). */
  isConnected = false;
  /** The reader finished (delivered, failed or timed out). */
  settled = false;
  /** Index of the next token to write. */
  next = 0;
  private readonly control: ControlledStream;
  readonly reading: Promise<StreamResult>;

  constructor(sim: Simulator, target: StreamTarget, agent: http.Agent, tokensPerStream: number, tag: string, timeoutMs: number) {
    this.tokens = benchTokens(tokensPerStream);
    this.control = sim.control({ lastUserIncludes: `[${tag}]` });
    void this.control.connected.then(() => (this.isConnected = true));
    this.reading = readStream(target, benchPrompt(tokensPerStream, `[${tag}]`), {
      agent,
      timeoutMs,
      expectedTokens: this.tokens,
      recordArrivals: true,
      onHeaders: () => this.headers.resolve(),
      onFirstToken: () => {
        this.hasFirstToken = true;
        this.firstToken.resolve();
      },
    });
    // A failed stream stops waiting on anything.
    void this.reading.then(() => {
      this.settled = true;
      this.headers.resolve();
      this.firstToken.resolve();
    });
  }

  /**
   * Waits until the model request reached the simulator and, when the client listens on a separate request
   * (chat.events after chat.send), until that subscription is open: a real model spends at least that long
   * on the prompt, so the first token never races the subscribe round trip.
   */
  async ready(separateSubscription: boolean, timeoutMs: number): Promise<void> {
    const connected = this.control.connected.then(() => true);
    const failed = this.reading.then(() => false);
    // A stream whose setup failed (e.g. chat.send refused) never reaches the simulator: pushing to it
    // would wait forever, so it is given up here (its reader already reported the error).
    if (!(await withTimeout(Promise.race([connected, failed]), timeoutMs, "model request"))) {
      throw new Error("the stream ended before its model request arrived");
    }
    if (separateSubscription) await withTimeout(this.headers.promise, timeoutMs, "subscription");
  }

  async push(index: number): Promise<void> {
    const content = this.tokens[index];
    if (content === undefined) return;
    this.next = index + 1;
    this.pushTimes[index] = performance.now();
    await this.write({ content });
  }

  async finish(): Promise<void> {
    await this.write({ done: true, doneReason: "stop" });
  }

  /** push() resolves once written and drained; a reader that stopped reading must not stall the bench. */
  private write(chunk: SimChunk): Promise<void> {
    return withTimeout(this.control.push(chunk), 30_000, "writing a token");
  }

  /** Ends the model response (also when the stream already failed), so nothing stays open. */
  async abandon(): Promise<void> {
    await withTimeout(this.control.end(), 5_000, "ending the model response").catch(() => undefined);
  }
}

// ---- paced -------------------------------------------------------------------------------------

export interface PacedOptions {
  sim: Simulator;
  target: StreamTarget;
  server: ServerProcess | null;
  /** chat.send + chat.events: the subscription is a second request. */
  separateSubscription: boolean;
  concurrency: number;
  streams: number;
  tokensPerStream: number;
  tokensPerSec: number;
  /** Stream starts are spread over this window so first tokens do not all coincide. */
  rampMs: number;
  /** The "prompt evaluation" pause between the model request and its first token. */
  prefillMs: number;
  timeoutMs: number;
}

export interface PacedResult extends StreamErrors {
  concurrency: number;
  streams: number;
  tokensPerStream: number;
  tokensPerSec: number;
  /** From the simulator writing a stream's first token to the reader having it. */
  ttftP50Ms: number | null;
  ttftP99Ms: number | null;
  /** The same for every token of every stream. */
  tokenLatencyP50Ms: number | null;
  tokenLatencyP99Ms: number | null;
  wallMs: number;
  /**
   * Server CPU per 1,000 tokens at this realistic pace: one token per socket read, so nothing can be
   * coalesced, and per-request costs (chat.send, a new conversation) weigh in. Null for the direct path
   * and when the run used under 200 ms of CPU (a few streams: their set-up and the server's own timers, not tokens).
   */
  serverCpuMs: number | null;
  serverCpuMsPer1kTokens: number | null;
}

export async function paced(opts: PacedOptions): Promise<PacedResult> {
  const agent = newAgent();
  const runTag = nextTag("p");
  const intervalMs = 1000 / opts.tokensPerSec;
  const ttft: number[] = [];
  const latencies: number[] = [];
  const started = performance.now();
  const cpuBefore = opts.server?.cpuMs() ?? null;
  try {
    const results = await pool(opts.streams, opts.concurrency, async (i) => {
      // Spread the first `concurrency` starts over the ramp; later ones start as slots free up.
      if (i < opts.concurrency) await sleep((i * opts.rampMs) / opts.concurrency);
      const stream = new DrivenStream(opts.sim, opts.target, agent, opts.tokensPerStream, `${runTag}-${i}`, opts.timeoutMs);
      try {
        await stream.ready(opts.separateSubscription, opts.timeoutMs);
        await sleep(opts.prefillMs);
        const t0 = performance.now();
        for (let k = 0; k < stream.tokens.length; k++) {
          const wait = t0 + k * intervalMs - performance.now();
          if (wait > 1) await sleep(wait);
          await stream.push(k);
        }
        await stream.finish();
      } catch {
        await stream.abandon();
      }
      const result = await stream.reading;
      if (result.ok) {
        const first = result.arrivals[0];
        const pushed = stream.pushTimes[0];
        if (first !== undefined && pushed !== undefined) ttft.push(first - pushed);
        result.arrivals.forEach((at, k) => {
          const pushedAt = stream.pushTimes[k];
          if (pushedAt !== undefined) latencies.push(at - pushedAt);
        });
      }
      return result;
    });
    const cpuAfter = opts.server?.cpuMs() ?? null;
    // Under 20 steps of the machine's CPU clock the figure is mostly rounding: left out rather than shown precise-looking.
    // Where the clock counts 10-ms ticks that is 200 ms, about what the bare relay spends on quick's paced level:
    // read to the microsecond (schedstat), its figure stays.
    const minCpuMs = 20 * cpuClockResolutionMs();
    const serverCpuMs = cpuBefore === null || cpuAfter === null || cpuAfter - cpuBefore < minCpuMs ? null : cpuAfter - cpuBefore;
    const tokens = results.filter((r) => r.ok).length * opts.tokensPerStream;
    return {
      concurrency: opts.concurrency,
      streams: opts.streams,
      tokensPerStream: opts.tokensPerStream,
      tokensPerSec: opts.tokensPerSec,
      serverCpuMs,
      serverCpuMsPer1kTokens: serverCpuMs === null || tokens === 0 ? null : serverCpuMs / (tokens / 1000),
      ttftP50Ms: percentile(ttft, 50),
      ttftP99Ms: percentile(ttft, 99),
      tokenLatencyP50Ms: percentile(latencies, 50),
      tokenLatencyP99Ms: percentile(latencies, 99),
      wallMs: performance.now() - started,
      ...collectErrors(results),
    };
  } finally {
    agent.destroy();
  }
}

// ---- hold --------------------------------------------------------------------------------------

export interface HoldOptions {
  sim: Simulator;
  target: StreamTarget;
  server: ServerProcess;
  separateSubscription: boolean;
  streams: number;
  /** Streams still opening (no first token yet) at once; keeps the listen backlog from overflowing. */
  openingAtOnce: number;
  tokensPerStream: number;
  /**
   * While the rest are still opening, every open stream gets its next token this often: a slow drip, not a
   * silent model (the API fails a model that sends nothing for CHAT_IDLE_TIMEOUT_MS, 60 s by default).
   */
  dripMs: number;
  /**
   * Quiet window over which the server's idle CPU is read: once before the first stream is opened (the floor: what the
   * server's own timers cost with no stream), once after the last.
   */
  idleWindowMs: number;
  timeoutMs: number;
  /**
   * Called after the full GC at the hold's half and once all streams are open (after RSS was read there), with the
   * streams open then: `pnpm bench --heap` takes its heap snapshots here.
   */
  onMeasured?: (point: "half" | "open", openStreams: number) => Promise<void>;
}

export interface HoldResult extends StreamErrors {
  streams: number;
  /** Streams open (first token received, not ended) when RSS was read. */
  openAtMeasurement: number;
  /** How long opening all the streams took. */
  openMs: number;
  rssBeforeKb: number;
  rssOpenKb: number;
  /** (RSS open − RSS before) / open streams: what the process grew by, one-time growth included. */
  rssPerStreamKb: number | null;
  /** Streams open, and RSS after a full GC, once the first half of the streams was open. */
  openAtHalf: number;
  rssHalfKb: number;
  /**
   * How much V8's young generation and compiled code (child-ipc.ts) grew over the second half: bounded per process
   * (three semi-spaces of --max-semi-space-size; the program's code), so not a cost of the streams. A process that
   * allocates little per stream is still growing them at a few hundred streams.
   */
  vmFixedGrowthKb: number;
  /**
   * What one more open stream costs: RSS over the second half of the streams, net of that growth, per stream opened
   * in it. What a process grows once (V8's part above, and native memory not identified further) is mostly grown by
   * the first half: divided among all the streams it made the figure from none depend on how many were held (the
   * bare relay's fell from 47 to 39 to 34 KB, net of V8's growth, at 500, 1,000 and 2,000). The target is checked on it.
   */
  rssPerStreamMarginalKb: number | null;
  /**
   * Server CPU in a quiet window before the first stream was opened, in ms per second: its own timers (a cluster's
   * sweeps and watchdogs, its database's and Redis's background work), which no number of streams changes.
   */
  idleFloorCpuMsPerSec: number;
  /** Server CPU in the same window once all streams were open and quiet, in ms per second (the floor included). */
  idleCpuMsPerSec: number;
  /**
   * What the open streams cost while quiet (keep-alive pings, timers): idle CPU less the floor, in ms per second per
   * 1,000 open streams; 0 where the difference is below zero (noise).
   */
  idleCpuMsPerSecPer1kStreams: number | null;
  wallMs: number;
}

/** The server's CPU over a window of `windowMs` in which nothing is asked of it, in ms per second. */
async function idleCpuMsPerSec(server: ServerProcess, windowMs: number): Promise<number> {
  const before = server.cpuMs();
  await sleep(windowMs);
  return (server.cpuMs() - before) / (windowMs / 1000);
}

export async function hold(opts: HoldOptions): Promise<HoldResult> {
  const agent = newAgent();
  const runTag = nextTag("h");
  const started = performance.now();
  const deadline = started + opts.timeoutMs;
  const streams: DrivenStream[] = [];
  const dripping = new Set<Promise<void>>();
  const drip = setInterval(() => {
    for (const s of streams) {
      // Keep the last token for the finish, so the drip never ends a stream early.
      if (!s.hasFirstToken || s.settled || s.next >= s.tokens.length - 1) continue;
      const pushed = s.push(s.next).catch(() => undefined);
      dripping.add(pushed);
      void pushed.finally(() => dripping.delete(pushed));
    }
  }, opts.dripMs);
  try {
    await opts.server.gc();
    const rssBeforeKb = opts.server.rssKb();
    const idleFloorCpuMsPerSec = await idleCpuMsPerSec(opts.server, opts.idleWindowMs);

    let opening = 0;
    // This loop is the only waiter: a stream that finished opening wakes it (or a 1 s tick, as a bound).
    let wakeOpener: (() => void) | null = null;
    const slotFreed = () => {
      const wake = wakeOpener;
      wakeOpener = null;
      wake?.();
    };
    /** Opens streams `from` to `to` (at most openingAtOnce connecting at once); resolves once each has its first token. */
    const open = async (from: number, to: number): Promise<void> => {
      const firstTokens: Promise<void>[] = [];
      for (let i = from; i < to && performance.now() < deadline; i++) {
        while (opening >= opts.openingAtOnce && performance.now() < deadline) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 1_000);
            wakeOpener = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        opening++;
        const stream = new DrivenStream(opts.sim, opts.target, agent, opts.tokensPerStream, `${runTag}-${i}`, opts.timeoutMs);
        streams.push(stream);
        const first = stream
          .ready(opts.separateSubscription, opts.timeoutMs)
          .then(() => stream.push(0))
          .then(() => stream.firstToken.promise)
          .catch(() => undefined)
          .finally(() => {
            opening--;
            slotFreed();
          });
        firstTokens.push(first);
      }
      await withTimeout(Promise.all(firstTokens), Math.max(1_000, deadline - performance.now()), "opening streams").catch(() => undefined);
    };
    const openNow = () => streams.filter((s) => s.hasFirstToken && !s.settled).length;

    const half = Math.floor(opts.streams / 2);
    await open(0, half);
    const gcHalf = await opts.server.gc();
    const rssHalfKb = opts.server.rssKb();
    const openAtHalf = openNow();
    await opts.onMeasured?.("half", openAtHalf);
    await open(half, opts.streams);
    const openMs = performance.now() - started;

    clearInterval(drip);
    await Promise.all(dripping);
    const openAtMeasurement = openNow();
    const gcOpen = await opts.server.gc();
    const rssOpenKb = opts.server.rssKb();
    await opts.onMeasured?.("open", openAtMeasurement);
    const vmFixedGrowthKb = gcOpen.vmFixedKb - gcHalf.vmFixedKb;
    const secondHalf = openAtMeasurement - openAtHalf;
    // What open but quiet streams cost (keep-alive pings, timers): server CPU over a window with no tokens, as the floor was read.
    const idleOpenCpuMsPerSec = await idleCpuMsPerSec(opts.server, opts.idleWindowMs);
    // Let every stream finish normally: the rest of its tokens, then done.
    await Promise.all(
      streams.map(async (s) => {
        if (!s.isConnected || s.settled) return;
        try {
          while (s.next < s.tokens.length) await s.push(s.next);
          await s.finish();
        } catch {
          await s.abandon();
        }
      }),
    );
    const results = await Promise.all(streams.map((s) => s.reading));
    const errors = collectErrors(results);
    const missing = opts.streams - streams.length;
    return {
      streams: opts.streams,
      openAtMeasurement,
      openMs,
      rssBeforeKb,
      rssOpenKb,
      rssPerStreamKb: openAtMeasurement > 0 ? (rssOpenKb - rssBeforeKb) / openAtMeasurement : null,
      openAtHalf,
      rssHalfKb,
      vmFixedGrowthKb,
      rssPerStreamMarginalKb: secondHalf > 0 ? (rssOpenKb - rssHalfKb - vmFixedGrowthKb) / secondHalf : null,
      idleFloorCpuMsPerSec,
      idleCpuMsPerSec: idleOpenCpuMsPerSec,
      idleCpuMsPerSecPer1kStreams:
        openAtMeasurement > 0 ? Math.max(0, idleOpenCpuMsPerSec - idleFloorCpuMsPerSec) / (openAtMeasurement / 1000) : null,
      wallMs: performance.now() - started,
      errors: errors.errors + missing,
      errorSamples: missing > 0 ? [...errors.errorSamples, `${missing} streams never started (deadline)`] : errors.errorSamples,
    };
  } finally {
    clearInterval(drip);
    agent.destroy();
  }
}
