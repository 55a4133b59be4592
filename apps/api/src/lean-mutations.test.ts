import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { createTRPCClient, httpBatchLink, httpLink, TRPCClientError } from "@trpc/client";
import { initTRPC, TRPCError, type AnyTRPCRouter } from "@trpc/server";
import { fastifyTRPCPlugin, type CreateFastifyContextOptions, type FastifyTRPCPluginOptions } from "@trpc/server/adapters/fastify";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { registerLeanMutations } from "./lean-mutations.js";
import { echoingErrorFormatter } from "./test-support/sse-conformance.js";

/**
 * Conformance: the same requests through tRPC's own Fastify plugin and through the lean mutation routes in front of
 * it, on the same test router. Status, content type, `vary`, body bytes and the `onError` calls must be the same; only
 * the framing differs (the lean answer has a Content-Length, tRPC's `Response` is sent chunked), which also tells which
 * of the two served a request. The official client (httpLink and httpBatchLink) must see the same results and errors.
 */

type Served = "trpc" | "lean";

interface Ctx {
  user: string | null;
}

class ServerLog {
  readonly errors: Array<{ code: string; message: string; path: string | undefined; type: string; input: unknown; hasCtx: boolean }> = [];
  /** Per key: whether the call's signal was aborted when it ended. */
  readonly ended = new Map<string, boolean>();
  readonly started = new Set<string>();
  /** Per key: the call's signal, kept past its answer. */
  readonly signals = new Map<string, AbortSignal | undefined>();
}

/** A transformer that changes the wire format, so its use on input and output shows in the bytes. */
const tagged = {
  serialize: (value: unknown) => ({ tagged: value }),
  deserialize: (value: unknown) => (value as { tagged?: unknown } | null)?.tagged,
};

const errorCodes = ["BAD_REQUEST", "NOT_FOUND", "FORBIDDEN", "UNAUTHORIZED", "TOO_MANY_REQUESTS", "CONFLICT", "PAYLOAD_TOO_LARGE"] as const;

function createRouter(log: ServerLog, transformer: boolean) {
  const t = initTRPC.context<Ctx>().create({
    isDev: false,
    ...(transformer ? { transformer: tagged } : {}),
    errorFormatter: echoingErrorFormatter,
  });
  const authed = t.procedure.use(({ ctx, next }) => {
    if (ctx.user === null) throw new TRPCError({ code: "UNAUTHORIZED", message: "a token is required" });
    return next({ ctx: { user: ctx.user } });
  });
  return t.router({
    echo: t.procedure.input(z.object({ text: z.string() })).mutation(({ input, ctx }) => ({ text: input.text, user: ctx.user })),
    optional: t.procedure.input(z.object({ n: z.number() }).optional()).mutation(({ input }) => input ?? null),
    bare: t.procedure.mutation(() => "ok"),
    nothing: t.procedure.mutation(() => undefined),
    authed: authed.input(z.object({ n: z.number() }).optional()).mutation(({ ctx, input }) => ({ user: ctx.user, n: input?.n ?? null })),
    fails: t.procedure.input(z.object({ code: z.enum([...errorCodes, "plain-error"]) })).mutation(({ input }) => {
      if (input.code === "plain-error") throw new Error("something broke inside");
      throw new TRPCError({ code: input.code, message: `failed with ${input.code}` });
    }),
    streamLike: t.procedure.mutation(() => ({ later: Promise.resolve(1) })),
    /** Waits until its signal aborts or `ms` pass; records how it ended. */
    slow: t.procedure.input(z.object({ key: z.string(), ms: z.number() })).mutation(async ({ input, signal }) => {
      log.started.add(input.key);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, input.ms);
        signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
      });
      log.ended.set(input.key, signal?.aborted === true);
      return "done";
    }),
    /** Answers at once and keeps its signal, to see what becomes of it after the answer. */
    keepsSignal: t.procedure.input(z.object({ key: z.string() })).mutation(({ input, signal }) => {
      log.signals.set(input.key, signal);
      return "kept";
    }),
    list: t.procedure.query(() => [1, 2]),
  });
}

interface TestServer {
  url: string;
  app: FastifyInstance;
  log: ServerLog;
  paths: string[];
}

async function startServer(served: Served, transformer: boolean): Promise<TestServer> {
  const log = new ServerLog();
  const router: AnyTRPCRouter = createRouter(log, transformer);
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const trpcOptions: FastifyTRPCPluginOptions<AnyTRPCRouter>["trpcOptions"] = {
    router,
    createContext: ({ req }: CreateFastifyContextOptions): Ctx => {
      if (req.headers["x-refuse-context"]) throw new TRPCError({ code: "FORBIDDEN", message: "context refused" });
      if (req.headers["x-break-context"]) throw new Error("context broke");
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
      return { user: token ?? null };
    },
    onError: ({ error, path, type, input, ctx }) => {
      log.errors.push({ code: error.code, message: error.message, path, type, input, hasCtx: ctx !== undefined });
    },
  };
  let paths: string[] = [];
  await app.register(
    async (scope) => {
      if (served === "lean") ({ paths } = await registerLeanMutations(scope, { prefix: "", trpcOptions, exclude: new Set(["bare"]) }));
      await scope.register(fastifyTRPCPlugin, { trpcOptions });
    },
    { prefix: "/trpc" },
  );
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return { url, app, log, paths };
}

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function raw(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? "POST", headers: opts.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

const json = { "content-type": "application/json" };
type Pair = Record<Served, TestServer>;
let plain: Pair;
let transformed: Pair;

beforeAll(async () => {
  const [a, b, c, d] = await Promise.all([startServer("trpc", false), startServer("lean", false), startServer("trpc", true), startServer("lean", true)]);
  plain = { trpc: a, lean: b };
  transformed = { trpc: c, lean: d };
});
afterAll(async () => {
  await Promise.all([plain, transformed].flatMap((pair) => (pair ? [pair.trpc.app.close(), pair.lean.app.close()] : [])));
});

/** Which writer answered: the lean routes send a Content-Length, tRPC's Response goes out chunked. */
const servedBy = (answer: RawAnswer): Served => (answer.headers["content-length"] !== undefined ? "lean" : "trpc");

/** The same request to both servers: same status, content type, vary, body and onError calls. */
async function same(pair: Pair, path: string, opts: Parameters<typeof raw>[1] = {}): Promise<{ answer: RawAnswer; served: Served }> {
  const before = { trpc: pair.trpc.log.errors.length, lean: pair.lean.log.errors.length };
  const [trpc, lean] = await Promise.all([raw(`${pair.trpc.url}/trpc/${path}`, opts), raw(`${pair.lean.url}/trpc/${path}`, opts)]);
  const view = (a: RawAnswer) => ({ status: a.status, contentType: a.headers["content-type"], vary: a.headers.vary, body: a.body });
  expect(view(lean!)).toEqual(view(trpc!));
  expect(pair.lean.log.errors.slice(before.lean)).toEqual(pair.trpc.log.errors.slice(before.trpc));
  expect(servedBy(trpc!)).toBe("trpc");
  return { answer: lean!, served: servedBy(lean!) };
}

const post = (body: string, headers: Record<string, string> = json) => ({ body, headers });

describe.each([
  ["no transformer", () => plain, (v: unknown) => v],
  ["a transformer", () => transformed, tagged.serialize],
] as const)("lean mutation routes against tRPC's adapter, %s", (_name, pairOf, wire) => {
  const input = (v: unknown) => JSON.stringify(wire(v));
  const batch = (v: unknown) => JSON.stringify({ 0: wire(v) });

  it("serves every mutation but the excluded ones, and nothing else", () => {
    expect(pairOf().lean.paths.sort()).toEqual(["authed", "echo", "fails", "keepsSignal", "nothing", "optional", "slow", "streamLike"]);
  });

  it("answers a call and a batch of one with tRPC's bytes", async () => {
    const pair = pairOf();
    for (const [path, opts] of [
      ["echo", post(input({ text: "hi ünïcødé ✓ 😀 \n \u2028" }))],
      ["echo?batch=1", post(batch({ text: "x".repeat(100_000) }))],
      ["optional", post(input({ n: 1 }))],
      ["optional?batch=1", post("{}")],
      ["nothing?batch=1", post("{}")],
      // no body: a procedure without an input parser never reads it
      ["nothing", { headers: json }],
      ["authed", post(input({ n: 2 }), { ...json, authorization: "Bearer alice" })],
      ["authed?batch=1", post(batch({ n: 3 }), { "content-type": "application/json; charset=utf-8", authorization: "Bearer bob" })],
    ] as const) {
      const { answer, served } = await same(pair, path, opts);
      expect([path, answer.status, served]).toEqual([path, 200, "lean"]);
    }
  });

  it("answers every failure with tRPC's status, error shape and onError call", async () => {
    const pair = pairOf();
    const cases: Array<[string, Parameters<typeof raw>[1], number]> = [
      // zod refuses the input
      ["echo", post(input({ text: 5 })), 400],
      ["echo?batch=1", post(batch({})), 400],
      // the body is not JSON, or empty, or not a batch object
      ["echo", post("{not json"), 400],
      ["echo", post(""), 400],
      // no body at all (the official httpLink sends none for a call without input)
      ["optional", { headers: json }, 400],
      ["echo?batch=1", post('"text"'), 400],
      ["echo?batch=1", post("[1]"), 400],
      // the middleware, the context
      ["authed", post(input({ n: 1 })), 401],
      ["echo", post(input({ text: "a" }), { ...json, "x-refuse-context": "1" }), 403],
      ["echo?batch=1", post(batch({ text: "a" }), { ...json, "x-break-context": "1" }), 500],
      // the resolver
      ["fails", post(input({ code: "plain-error" })), 500],
      ["fails?batch=1", post(batch({ code: "plain-error" })), 500],
      // a result JSON cannot carry: a single call and a batch report it differently, as tRPC does
      ["streamLike", post(input(undefined)), 415],
      ["streamLike?batch=1", post("{}"), 415],
    ];
    for (const code of errorCodes) cases.push(["fails", post(input({ code })), 0], ["fails?batch=1", post(batch({ code })), 0]);
    for (const [path, opts, status] of cases) {
      const { answer, served } = await same(pair, path, opts);
      expect([path, served]).toEqual([path, "lean"]);
      if (status) expect([path, answer.status]).toEqual([path, status]);
      else expect(answer.status).toBeGreaterThanOrEqual(400);
    }
  });

  it("hands what it does not serve to tRPC, which answers as always", async () => {
    const pair = pairOf();
    for (const [path, opts] of [
      // a batch of several calls, a streaming batch, another content type, no body, GET, HEAD, connectionParams tRPC refuses
      ["echo,optional?batch=1", post(JSON.stringify({ 0: wire({ text: "a" }), 1: wire({ n: 1 }) }))],
      ["echo?batch=1", post(batch({ text: "a" }), { ...json, "trpc-accept": "application/jsonl" })],
      ["echo", post(input({ text: "a" }), { "content-type": "text/plain" })],
      ["echo", { method: "POST" }],
      ["echo", { method: "GET" }],
      ["echo?connectionParams=%7Bnot", post(input({ text: "a" }))],
      ["bare", post(input(undefined))],
      ["list", post(input(undefined))],
    ] as const) {
      const { served } = await same(pair, path, opts);
      expect([path, served]).toEqual([path, "trpc"]);
    }
    // HEAD has no body to compare.
    const [a, b] = await Promise.all([pair.trpc, pair.lean].map((s) => raw(`${s.url}/trpc/echo`, { method: "HEAD" })));
    expect(b!.status).toBe(a!.status);
  });

  it("the official client sees the same results and errors through httpLink and httpBatchLink", async () => {
    const pair = pairOf();
    const outcomes = await Promise.all(
      (["trpc", "lean"] as const).map(async (served) => {
        const seen: unknown[] = [];
        for (const link of [httpLink, httpBatchLink]) {
          const client = createTRPCClient<ReturnType<typeof createRouter>>({
            links: [link({ url: `${pair[served].url}/trpc`, headers: { authorization: "Bearer carol" }, ...(wire === tagged.serialize ? { transformer: tagged } : {}) } as never)],
          });
          const calls = [
            () => client.echo.mutate({ text: "hello" }),
            () => client.authed.mutate({ n: 7 }),
            () => client.optional.mutate({ n: 8 }),
            // No input: httpLink sends no body, which tRPC's adapter refuses (Fastify hands it an empty string).
            () => client.optional.mutate(),
            () => client.nothing.mutate(),
            () => client.fails.mutate({ code: "CONFLICT" }),
            () => client.fails.mutate({ code: "plain-error" }),
            () => client.echo.mutate({ text: 1 as unknown as string }),
          ];
          for (const call of calls) {
            seen.push(
              await call().then(
                (ok: unknown) => ({ ok }),
                (e: unknown) => {
                  expect(e).toBeInstanceOf(TRPCClientError);
                  const { message, shape, data } = e as TRPCClientError<AnyTRPCRouter>;
                  return { error: { message, shape, data } };
                },
              ),
            );
          }
        }
        return seen;
      }),
    );
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(outcomes[0]!.slice(0, 3)).toEqual([{ ok: { text: "hello", user: "carol" } }, { ok: { user: "carol", n: 7 } }, { ok: { n: 8 } }]);
    // The batch link sends "{}" for no input.
    expect(outcomes[0]!.slice(11, 13)).toEqual([{ ok: null }, { ok: undefined }]);
    expect(outcomes[0]![4]).toEqual({ ok: undefined });
    const codes = (from: number) =>
      outcomes[0]!.slice(from, from + 3).map((o) => (o as { error?: { data?: { code?: string } } }).error?.data?.code);
    expect([codes(5), codes(13)]).toEqual([
      ["CONFLICT", "INTERNAL_SERVER_ERROR", "BAD_REQUEST"],
      ["CONFLICT", "INTERNAL_SERVER_ERROR", "BAD_REQUEST"],
    ]);
  });
});

describe("the call's signal", () => {
  it("aborts when the client leaves before the answer, on both", async () => {
    for (const served of ["trpc", "lean"] as const) {
      const server = plain[served];
      const key = `left-${served}`;
      const req = httpRequest(`${server.url}/trpc/slow`, { method: "POST", headers: json, agent: false });
      req.on("error", () => {});
      req.end(JSON.stringify({ key, ms: 30_000 }));
      await expect.poll(() => server.log.started.has(key), { timeout: 10_000 }).toBe(true);
      req.destroy();
      await expect.poll(() => server.log.ended.get(key), { timeout: 10_000 }).toBe(true);

      const finished = `finished-${served}`;
      const answer = await raw(`${server.url}/trpc/slow`, post(JSON.stringify({ key: finished, ms: 1 })));
      expect(JSON.parse(answer.body)).toEqual({ result: { data: "done" } });
      expect(server.log.ended.get(finished)).toBe(false);
    }
  });

  it("aborts once the answer is sent and the response closes, on both, with an AbortError", async () => {
    const reasons: Record<string, unknown> = {};
    for (const served of ["trpc", "lean"] as const) {
      const server = plain[served];
      const key = `kept-${served}`;
      const answer = await raw(`${server.url}/trpc/keepsSignal`, post(JSON.stringify({ key })));
      expect(JSON.parse(answer.body)).toEqual({ result: { data: "kept" } });
      const signal = server.log.signals.get(key);
      await expect.poll(() => signal?.aborted, { timeout: 10_000 }).toBe(true);
      const reason = signal?.reason as DOMException;
      reasons[served] = { type: reason.constructor.name, name: reason.name, message: reason.message };
    }
    expect(reasons["lean"]).toEqual(reasons["trpc"]);
    expect(reasons["lean"]).toMatchObject({ type: "DOMException", name: "AbortError" });
  });
});
