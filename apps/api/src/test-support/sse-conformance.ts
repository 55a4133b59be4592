/**
 * The conformance suite's parts: a test router whose subscriptions play scripted event sequences, the same
 * router served by tRPC's own Fastify plugin (its SSE producer) and by the lean writer in front of that
 * plugin, a raw HTTP reader for byte comparisons, and a recorder of what the official client reports.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect, type Socket } from "node:net";
import { createTRPCClient, httpSubscriptionLink, type TRPCClientError } from "@trpc/client";
import { initTRPC, tracked, TRPCError, type AnyTRPCRouter } from "@trpc/server";
import { fastifyTRPCPlugin, type CreateFastifyContextOptions, type FastifyTRPCPluginOptions } from "@trpc/server/adapters/fastify";
import { observable } from "@trpc/server/observable";
import { EventSource } from "eventsource";
import Fastify, { type FastifyInstance } from "fastify";
import { z } from "zod";
import { registerLeanSubscriptions } from "../sse/subscription-route.js";

// ---- the test router -------------------------------------------------------------------------------

export interface SseOptions {
  ping?: { enabled: boolean; intervalMs?: number };
  client?: { reconnectAfterInactivityMs?: number };
  maxDurationMs?: number;
}

export interface TestContext {
  user: string | null;
  /** Destroys this request's socket: a connection cut mid-stream. */
  cut(): void;
  /** True while this response's buffer is over its high-water mark. */
  needsDrain(): boolean;
  /** Bytes the response holds that the socket has not taken yet. */
  buffered(): number;
}

/** What one server's procedures saw; each server has its own, so the two can be compared. */
export class ServerLog {
  /** Per scenario key: every input a procedure was called with (after tRPC merged lastEventId). */
  readonly inputs = new Map<string, unknown[]>();
  /** Every onError call. */
  readonly errors: Array<{ code: string; path: string | undefined; type: string; input: unknown }> = [];
  /** Per key: how many values a generator has produced (yielded or about to yield). */
  readonly produced = new Map<string, number>();
  /** Per key: how many times the writer asked for the next value while the response was over its high-water mark. */
  readonly pulledWhileFull = new Map<string, number>();
  /** Per key: the generator's finally ran; `aborted` is its signal's state then. */
  readonly finished = new Map<string, { aborted: boolean }>();
  /** Per key: the procedure's context while it runs (the flood test asks its socket about backpressure). */
  readonly contexts = new Map<string, TestContext>();
  readonly #gates = new Map<string, () => void>();
  readonly #gatePromises = new Map<string, Promise<void>>();

  attempt(key: string, input: unknown): number {
    const list = this.inputs.get(key) ?? [];
    list.push(input);
    this.inputs.set(key, list);
    return list.length;
  }

  /** A promise the test opens with `open(key)`. */
  gate(key: string): Promise<void> {
    let promise = this.#gatePromises.get(key);
    if (!promise) {
      promise = new Promise<void>((resolve) => this.#gates.set(key, resolve));
      this.#gatePromises.set(key, promise);
    }
    return promise;
  }

  open(key: string): void {
    void this.gate(key);
    this.#gates.get(key)?.();
  }
}

/** Resolves when the signal aborts (or after `ms`, when given). */
function waitFor(signal: AbortSignal | undefined, ms?: number): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

const key = z.string().min(1);
const lastEventId = z.string().nullish();
const errorCodes = [
  "BAD_REQUEST",
  "NOT_FOUND",
  "FORBIDDEN",
  "UNAUTHORIZED",
  "TOO_MANY_REQUESTS",
  "CONFLICT",
  "SERVICE_UNAVAILABLE",
  "BAD_GATEWAY",
  "INTERNAL_SERVER_ERROR",
] as const;

/**
 * An errorFormatter that echoes what tRPC hands it, so a difference in input, path, type or ctx between two
 * servers shows in the bytes (the conformance suites of the lean routes use it).
 */
export function echoingErrorFormatter<S extends { data: object }>(opts: {
  shape: S;
  error: TRPCError;
  input: unknown;
  path: string | undefined;
  type: string;
  ctx: unknown;
}) {
  const { shape, error, input, path, type, ctx } = opts;
  return {
    ...shape,
    data: { ...shape.data, seen: { input: input ?? null, path: path ?? null, type, hasCtx: ctx !== undefined, cause: error.cause?.name ?? null } },
  };
}

export function createTestRouter(sse: SseOptions, log: ServerLog) {
  const t = initTRPC.context<TestContext>().create({
    isDev: false,
    sse,
    errorFormatter: echoingErrorFormatter,
  });
  const authed = t.procedure.use(({ ctx, next }) => {
    if (ctx.user === null) throw new TRPCError({ code: "UNAUTHORIZED", message: "a token is required" });
    return next({ ctx: { user: ctx.user } });
  });

  return t.router({
    /** tracked(i, {i, text}) for i after lastEventId up to count, then return. */
    numbers: t.procedure
      .input(z.object({ count: z.number().int().min(0).max(10_000), key: key.optional(), lastEventId }))
      .subscription(async function* ({ input }) {
        if (input.key) log.attempt(input.key, input);
        for (let i = Number(input.lastEventId ?? 0) + 1; i <= input.count; i++) yield tracked(String(i), { i, text: `n${i}` });
      }),

    /** Untracked values of any JSON shape (no id lines). */
    plain: t.procedure.input(z.object({ values: z.array(z.unknown()) })).subscription(async function* ({ input }) {
      for (const value of input.values) yield value;
    }),

    /** `after` tracked events, then throws `code` (on the first attempt only with `once`; later attempts finish). */
    fails: t.procedure
      .input(z.object({ key, code: z.enum([...errorCodes, "plain-error"]), after: z.number().int().min(0), total: z.number().int().min(0), once: z.boolean(), lastEventId }))
      .subscription(async function* ({ input }) {
        const attempt = log.attempt(input.key, input);
        const from = Number(input.lastEventId ?? 0) + 1;
        for (let i = from; i <= input.total; i++) {
          if (i > input.after && (attempt === 1 || !input.once)) {
            if (input.code === "plain-error") throw new Error("something broke inside");
            throw new TRPCError({ code: input.code, message: `failed with ${input.code}` });
          }
          yield tracked(String(i), { i });
        }
      }),

    /** Behind an auth middleware (UNAUTHORIZED without a user). */
    authed: authed.input(z.object({ n: z.number() }).optional()).subscription(async function* ({ ctx, input }) {
      yield tracked("1", { user: ctx.user, n: input?.n ?? null });
    }),

    /** One event, a quiet `idleMs` on the first attempt (pings, or the client's inactivity timeout), then the rest. */
    idle: t.procedure
      .input(z.object({ key, idleMs: z.number().int().min(0), lastEventId }))
      .subscription(async function* ({ input, signal }) {
        const attempt = log.attempt(input.key, input);
        if (Number(input.lastEventId ?? 0) < 1) yield tracked("1", { i: 1 });
        if (attempt === 1) await waitFor(signal, input.idleMs);
        if (signal?.aborted) return;
        yield tracked("2", { i: 2 });
      }),

    /** Events 1..total; on the first attempt the server cuts the connection after `cutAfter` once the test opens the gate. */
    cut: t.procedure
      .input(z.object({ key, total: z.number().int().min(1), cutAfter: z.number().int().min(1), lastEventId }))
      .subscription(async function* ({ input, ctx, signal }) {
        const attempt = log.attempt(input.key, input);
        for (let i = Number(input.lastEventId ?? 0) + 1; i <= input.total; i++) {
          yield tracked(String(i), { i });
          if (attempt === 1 && i === input.cutAfter) {
            await log.gate(input.key);
            ctx.cut();
            await waitFor(signal);
            return;
          }
        }
      }),

    /** One event, then waits for the client to leave; records that its finally ran. */
    hang: t.procedure.input(z.object({ key })).subscription(async function* ({ input, signal }) {
      try {
        yield tracked("1", { i: 1 });
        await waitFor(signal);
      } finally {
        log.finished.set(input.key, { aborted: signal?.aborted === true });
      }
    }),

    /** `count` large events, counting how many the writer pulled. */
    flood: t.procedure
      .input(z.object({ key, count: z.number().int().min(1), size: z.number().int().min(1) }))
      .subscription(async function* ({ input, ctx }) {
        log.contexts.set(input.key, ctx);
        const filler = "x".repeat(input.size);
        log.pulledWhileFull.set(input.key, 0);
        for (let i = 1; i <= input.count; i++) {
          // Running here means the writer asked for event i.
          if (ctx.needsDrain()) log.pulledWhileFull.set(input.key, (log.pulledWhileFull.get(input.key) ?? 0) + 1);
          log.produced.set(input.key, i);
          yield tracked(String(i), { i, filler });
        }
      }),

    /** A resolver that returns neither an async iterable nor an observable. */
    notIterable: t.procedure.subscription((() => 42) as unknown as () => AsyncGenerator<never>),

    /** The deprecated observable form. */
    observed: t.procedure.input(z.object({ count: z.number().int().min(0) })).subscription(({ input }) =>
      observable<{ i: number }>((emit) => {
        for (let i = 1; i <= input.count; i++) emit.next({ i });
        emit.complete();
        return () => {};
      }),
    ),

    /** Not a subscription: the lean routes must not take it. */
    echo: t.procedure.input(z.object({ text: z.string() })).query(({ input }) => input.text),
  });
}

export type TestRouter = ReturnType<typeof createTestRouter>;

// ---- the two servers -------------------------------------------------------------------------------

export type Producer = "trpc" | "lean";

export interface TestServer {
  producer: Producer;
  url: string;
  app: FastifyInstance;
  log: ServerLog;
}

function trpcOptionsFor(router: TestRouter, log: ServerLog): FastifyTRPCPluginOptions<TestRouter>["trpcOptions"] {
  return {
    router,
    createContext({ req, res, info }: CreateFastifyContextOptions): TestContext {
      if (req.headers["x-refuse-context"]) throw new TRPCError({ code: "FORBIDDEN", message: "context refused" });
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
      return {
        user: bearer ?? info.connectionParams?.["token"] ?? null,
        cut: () => req.raw.socket.destroy(),
        needsDrain: () => res.raw.writableNeedDrain,
        buffered: () => res.raw.writableLength,
      };
    },
    onError({ error, path, type, input }) {
      log.errors.push({ code: error.code, path, type, input });
    },
  };
}

/** The test router on 127.0.0.1, its subscriptions served by tRPC's producer or by the lean writer. */
export async function startTestServer(producer: Producer, sse: SseOptions): Promise<TestServer> {
  const log = new ServerLog();
  const router = createTestRouter(sse, log);
  // Closing the server also ends streams a failed test left open.
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const trpcOptions = trpcOptionsFor(router, log);
  // The lean routes in front of tRPC's plugin, in one prefixed scope, as app.ts registers them.
  await app.register(
    async (scope) => {
      if (producer === "lean") registerLeanSubscriptions(scope, { prefix: "", trpcOptions });
      await scope.register(fastifyTRPCPlugin, { trpcOptions });
    },
    { prefix: "/trpc" },
  );
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return { producer, url, app, log };
}

export async function startPair(sse: SseOptions): Promise<Record<Producer, TestServer>> {
  const [trpc, lean] = await Promise.all([startTestServer("trpc", sse), startTestServer("lean", sse)]);
  return { trpc, lean };
}

// ---- the raw reader --------------------------------------------------------------------------------

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One GET on its own connection, read to the end. */
export function rawGet(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer from ${url} within 15 s`)));
    req.end();
  });
}

export const pingFrame = "event: ping\ndata: \n\n\n";

/**
 * What may legitimately differ between two answers to the same request: the Date header, and how many
 * pings fell into a stream (timer-dependent; a ping is one whole frame between two others).
 */
export function normalised(answer: RawAnswer): RawAnswer & { pings: number } {
  const { date: _date, ...headers } = answer.headers;
  const pings = answer.body.split(pingFrame).length - 1;
  return { status: answer.status, headers, body: answer.body.split(pingFrame).join(""), pings };
}

/** A raw socket speaking just enough HTTP/1.1 to GET a stream and pause or drop it at will. */
export interface RawStream {
  socket: Socket;
  /** Everything received so far (headers and chunked body, undecoded). */
  received(): string;
  /** Resolves once `text` has arrived. */
  until(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves when the server closes the connection. */
  ended: Promise<void>;
}

export function openRawStream(url: string): Promise<RawStream> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.hostname, port: Number(target.port) }, () => {
      socket.write(`GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n`);
      resolve(stream);
    });
    socket.on("error", reject);
    const chunks: string[] = [];
    const waiters: Array<(chunk: string) => void> = [];
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      chunks.push(chunk);
      for (const wake of waiters.splice(0)) wake(chunk);
    });
    const ended = new Promise<void>((done) => socket.once("close", () => done()));
    const stream: RawStream = {
      socket,
      received: () => chunks.join(""),
      ended,
      until(text, timeoutMs = 15_000) {
        // Only the newest bytes (and enough before them to hold a match across chunks) are searched each time.
        let tail = chunks.join("").slice(-text.length * 2);
        return new Promise<void>((done, fail) => {
          const timer = setTimeout(() => fail(new Error(`timed out waiting for ${JSON.stringify(text)}`)), timeoutMs);
          const check = (chunk: string) => {
            tail = (tail + chunk).slice(-(chunk.length + text.length));
            if (tail.includes(text)) {
              clearTimeout(timer);
              done();
            } else waiters.push(check);
          };
          check("");
        });
      },
    };
  });
}

// ---- the official client ---------------------------------------------------------------------------

/** What the official client reported, in order: the transcript two producers must agree on. */
export type Observed =
  | { started: true }
  | { state: string; error: string | null }
  | { data: unknown; id?: string }
  | { error: { message: string; shape: unknown } }
  | { complete: true };

export interface ClientOptions {
  token?: string;
  connectionParams?: Record<string, string>;
}

/** Subscribes with httpSubscriptionLink (+ eventsource@4) and records everything until complete or error. */
export function observe(
  server: TestServer,
  path: Exclude<keyof TestRouter["_def"]["record"], "echo">,
  input: unknown,
  opts: ClientOptions & { onData?: (data: unknown) => void } = {},
): { transcript: Observed[]; finished: Promise<Observed[]>; unsubscribe(): void } {
  const authorization = opts.token ? `Bearer ${opts.token}` : undefined;
  const client = createTRPCClient<AnyTRPCRouter>({
    links: [
      httpSubscriptionLink({
        url: `${server.url}/trpc`,
        EventSource,
        ...(opts.connectionParams ? { connectionParams: opts.connectionParams } : {}),
        eventSourceOptions: () => ({
          fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...(authorization ? { authorization } : {}) } }),
        }),
      }),
    ],
  }) as unknown as Record<string, { subscribe: (input: unknown, handlers: object) => { unsubscribe(): void } }>;
  const transcript: Observed[] = [];
  let finish!: () => void;
  const finished = new Promise<Observed[]>((resolve) => (finish = () => resolve(transcript)));
  const subscription = client[path]!.subscribe(input, {
    onStarted: () => transcript.push({ started: true }),
    onConnectionStateChange: (state: { state: string; error: TRPCClientError<AnyTRPCRouter> | null }) =>
      transcript.push({ state: state.state, error: state.error?.message ?? null }),
    onData: (data: unknown) => {
      transcript.push(isTrackedData(data) ? { data: data.data, id: data.id } : { data });
      opts.onData?.(data);
    },
    onError: (error: TRPCClientError<AnyTRPCRouter>) => {
      transcript.push({ error: { message: error.message, shape: error.shape } });
      finish();
    },
    onComplete: () => {
      transcript.push({ complete: true });
      finish();
    },
  });
  return { transcript, finished, unsubscribe: () => subscription.unsubscribe() };
}

function isTrackedData(value: unknown): value is { id: string; data: unknown } {
  return typeof value === "object" && value !== null && "id" in value && "data" in value && Object.keys(value).length === 2;
}

/** Polls until `check` holds. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
