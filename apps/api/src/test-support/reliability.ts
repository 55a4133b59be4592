import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { IncomingMessage, ServerResponse, request as httpRequest, type Server as HttpServer } from "node:http";
import { Socket, createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getHeapSpaceStatistics, queryObjects } from "node:v8";
import { chatEventSchema } from "@streamchat/core";
import { collectGarbage } from "@streamchat/core/test-support";
import type { ChatStore } from "@streamchat/store";
import { inject } from "vitest";
import { startTestApi, type Received, type TestApi } from "./harness.js";

/**
 * Helpers of the reliability suite (src/reliability): an API with any environment and extra tools, a raw
 * SSE reader that controls its own socket (reconnect storms, clients that never read), the API as a child
 * process (SIGKILL), and resource probes (GC, active handles).
 */

/** The API of the reliability suite: the ordinary test API (extra tools, any environment). */
export type ReliabilityApi = TestApi;
export const startApi = startTestApi;

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

// ---- raw SSE ------------------------------------------------------------------------------------

export const eventsPath = (runId: string, extraQuery = "") =>
  `/trpc/chat.events?input=${encodeURIComponent(JSON.stringify({ runId }))}${extraQuery}`;

export interface SseMessage {
  event: string | undefined;
  id: string | undefined;
  data: string;
}

/** Incremental SSE parser (LF line ends, as tRPC writes them). */
export class SseParser {
  private buffer = "";
  feed(text: string): SseMessage[] {
    this.buffer += text;
    const out: SseMessage[] = [];
    let end: number;
    while ((end = this.buffer.indexOf("\n\n")) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const message: SseMessage = { event: undefined, id: undefined, data: "" };
      let hasField = false;
      for (const line of block.split("\n")) {
        if (line === "" || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        hasField = true;
        if (field === "event") message.event = value;
        else if (field === "id") message.id = value;
        else if (field === "data") message.data = message.data ? `${message.data}\n${value}` : value;
      }
      if (hasField) out.push(message);
    }
    return out;
  }
}

export interface RawSubscription {
  /** Resolves with the response once headers arrived. */
  response: Promise<IncomingMessage>;
  /** Chat events (tracked data messages) in arrival order. */
  received: Received[];
  /** Other SSE messages (connected, ping, return, serialized-error). */
  control: SseMessage[];
  /** Resolves when the server ends the stream or the socket closes; never rejects. */
  ended: Promise<"return" | "error" | "closed">;
  /** Destroys the socket (a client vanishing). */
  destroy(): void;
}

/**
 * GET an SSE URL on its own socket (no agent pooling), parse chat events as they come. The caller owns the
 * socket's fate: `destroy()` at any time. `onEvent` runs for every chat event.
 */
export function rawSubscribe(
  baseUrl: string,
  path: string,
  opts: {
    lastEventId?: string | undefined;
    headers?: Record<string, string>;
    onEvent?: (r: Received) => void;
    /** Raw mode (cheap, for storms): the data line is handed over unparsed and `received` stays empty. */
    onData?: (id: string, data: string) => void;
  } = {},
): RawSubscription {
  const url = new URL(path, baseUrl);
  const received: Received[] = [];
  const control: SseMessage[] = [];
  const parser = new SseParser();
  let settle!: (how: "return" | "error" | "closed") => void;
  const ended = new Promise<"return" | "error" | "closed">((resolve) => (settle = resolve));
  let resolveResponse!: (res: IncomingMessage) => void;
  let rejectResponse!: (error: unknown) => void;
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    resolveResponse = resolve;
    rejectResponse = reject;
  });
  response.catch(() => {});
  const req = httpRequest(
    {
      host: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      method: "GET",
      agent: false,
      headers: {
        accept: "text/event-stream",
        ...(opts.lastEventId ? { "last-event-id": opts.lastEventId } : {}),
        ...opts.headers,
      },
    },
    (res) => {
      resolveResponse(res);
      res.setEncoding("utf8");
      res.on("data", (text: string) => {
        for (const message of parser.feed(text)) {
          if (message.event === undefined && message.id !== undefined && opts.onData) {
            opts.onData(message.id, message.data);
          } else if (message.event === undefined && message.id !== undefined) {
            const item: Received = { id: message.id, event: chatEventSchema.parse(JSON.parse(message.data)) };
            received.push(item);
            opts.onEvent?.(item);
          } else {
            control.push(message);
            if (message.event === "return") settle("return");
            if (message.event === "serialized-error") settle("error");
          }
        }
      });
      res.on("end", () => settle("closed"));
      res.on("close", () => settle("closed"));
      res.on("error", () => settle("closed"));
    },
  );
  req.on("error", (error) => {
    rejectResponse(error);
    settle("closed");
  });
  req.end();
  return {
    response,
    received,
    control,
    ended,
    destroy: () => req.destroy(),
  };
}

/** An SSE subscription that reads to the end; resolves to the chat events and how it ended. */
export async function readAll(
  baseUrl: string,
  path: string,
  opts: { lastEventId?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; received: Received[]; control: SseMessage[]; how: "return" | "error" | "closed" }> {
  const sub = rawSubscribe(baseUrl, path, opts);
  const res = await sub.response;
  const how = await sub.ended;
  return { status: res.statusCode ?? 0, received: sub.received, control: sub.control, how };
}

// ---- the API as a child process ------------------------------------------------------------------

const apiRoot = fileURLToPath(new URL("../../", import.meta.url));

export interface ChildApi {
  url: string;
  child: ChildProcess;
  /** Everything the child wrote to stdout/stderr (pino JSON lines). */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * `src/server.ts` under tsx, as `pnpm dev` runs it; resolves once it logged its URL. The default deadline is for a
 * loaded 2-core box: a child compiles the sources itself (tsx) and the first one of a run has no transform cache, so
 * two started at once took ~11 s with the cache cold on a moderately loaded box, and once printed nothing at all within
 * 30 s on a busier one.
 */
export async function spawnApi(env: Record<string, string>, timeoutMs = 60_000): Promise<ChildApi> {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", "src/server.ts"], {
    cwd: apiRoot,
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", HOST: "127.0.0.1", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL"); // never leave a half-started server behind
      reject(new Error(`API child did not start:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`API child exited (${code}) before listening:\n${output}`));
    });
  });
  return {
    url,
    child,
    output: () => output,
    async kill(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

// ---- resource probes ---------------------------------------------------------------------------

/**
 * Bytes of live small objects (V8's new and old spaces) after a full GC: what a per-connection leak
 * (requests, closures, buffers of events) grows. Left out on purpose, as they grow to a high-water mark
 * and stay there without leaking anything: compiled code, and the large-object space, where tRPC's
 * global `WeakMap` of promise proxies (its vendored Unpromise, used by the SSE ping race on every event)
 * keeps a hash table sized for the most entries it held between two full GCs (8 or 16 MB after a storm,
 * depending on GC timing): the GC clears dead entries but does not shrink the table.
 */
export async function smallObjectHeapAfterGc(): Promise<number> {
  // Collect, let the finalizers the GC queued run (AbortSignal.any cleanups), collect again.
  for (let i = 0; i < 3; i++) {
    collectGarbage();
    await sleep(20);
  }
  collectGarbage();
  let used = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === "new_space" || space.space_name === "old_space") used += space.space_used_size;
  }
  return used;
}

/** Live instances of the per-connection classes (both ends of the loopback HTTP), counted exactly after a GC. */
export function connectionObjects(): Record<string, number> {
  collectGarbage();
  const classes = { IncomingMessage, ServerResponse, Socket, Request, AbortSignal, ReadableStream };
  return Object.fromEntries(
    Object.entries(classes).map(([name, ctor]) => [name, queryObjects(ctor as unknown as new () => object, { format: "count" })]),
  );
}

/**
 * connectionObjects() once each class is back within `slack` of `before`, or the last count at the deadline. A
 * closed connection's objects can outlive it by a few event-loop turns (a socket's close callbacks, a stream's
 * pending cancel, finalizers the GC queued): counting at one instant made leak checks flaky under load. A leak stays
 * above the bound at any time and still fails the caller's assertion.
 */
export async function connectionObjectsSettled(before: Record<string, number>, slack: number, timeoutMs = 20_000): Promise<Record<string, number>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const now = connectionObjects();
    const settled = Object.entries(before).every(([name, count]) => (now[name] ?? 0) <= count + slack);
    if (settled || Date.now() > until) return now;
    await sleep(100);
  }
}

/** Open connections of the server, and open TCP sockets of this process (both ends of loopback connections). */
export interface ConnectionCounts {
  server: number;
  tcpSockets: number;
}

/**
 * Handles the store holds by design: a PostgreSQL pool keeps up to DATABASE_POOL_SIZE connections open (a socket
 * each, and an idle timer for the idle ones) for 30 s after a burst; SQLite and memory hold none. Leak checks
 * leave them out: they are bounded by the pool size, not by the number of requests.
 */
export function storeHandles(store: ChatStore | undefined): { sockets: number; handles: number } {
  const stats = (store as { stats?: () => { poolConnections?: number; poolIdle?: number } } | undefined)?.stats?.();
  const sockets = stats?.poolConnections ?? 0;
  return { sockets, handles: sockets + (stats?.poolIdle ?? 0) };
}

/** Active handles of this process (process.getActiveResourcesInfo), without the store's pool. */
export function activeHandles(store?: ChatStore): number {
  return process.getActiveResourcesInfo().length - storeHandles(store).handles;
}

export async function connectionCounts(server: HttpServer, store?: ChatStore): Promise<ConnectionCounts> {
  const open = await new Promise<number>((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
  return { server: open, tcpSockets: (activeResources()["TCPSocketWrap"] ?? 0) - storeHandles(store).sockets };
}

/**
 * Waits until the server reports no more connections than `baseline` and the process holds no more TCP
 * sockets: a connection whose client saw the end may still be closing (the server counts it until its
 * socket is gone). Objects are counted after this, so a closing socket is never mistaken for a leaked one.
 */
export async function connectionsClosed(
  server: HttpServer,
  baseline: ConnectionCounts,
  timeoutMs = 30_000,
  store?: ChatStore,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const now = await connectionCounts(server, store);
    if (now.server <= baseline.server && now.tcpSockets <= baseline.tcpSockets) return;
    if (Date.now() > until) {
      throw new Error(`connections still open: ${JSON.stringify(now)}, baseline ${JSON.stringify(baseline)}`);
    }
    await sleep(20);
  }
}

/** process.getActiveResourcesInfo() as counts per kind. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Seeded PRNG (mulberry32): the storm is random but reproducible from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh directory in the test run's temp root (test-support/temp-root.ts), which is removed when the run ends. */
export function tempDir(): string {
  return mkdtempSync(join(inject("streamchatTestTempRoot"), "streamchat-rel-"));
}
