import {
  getErrorShape,
  getTRPCErrorFromUnknown,
  TRPCError,
  type AnyTRPCRouter,
} from "@trpc/server";
import { fastifyRequestHandler, type FastifyTRPCPluginOptions } from "@trpc/server/adapters/fastify";
import { parseConnectionParamsFromString, type TRPCRequestInfo } from "@trpc/server/http";
import { defaultTransformer } from "@trpc/server/unstable-core-do-not-import";
import { isObservable, observableToAsyncIterable } from "@trpc/server/observable";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { procedureCaller, type Procedure } from "../trpc-call.js";
import { acceptOf, header, isObject, requestUrl } from "../trpc-http.js";
import { PingClock } from "./ping-clock.js";
import { SubscriptionStream, type StreamSettings, type StreamSource } from "./subscription-stream.js";
import { connectedFrame } from "./wire.js";

export interface LeanSubscriptionOptions<TRouter extends AnyTRPCRouter> {
  /** The prefix the tRPC plugin is registered under, e.g. "/trpc". */
  prefix: string;
  /** The very options given to the tRPC plugin: the router, createContext and onError are shared. */
  trpcOptions: FastifyTRPCPluginOptions<TRouter>["trpcOptions"];
}

type Dict = Record<string, string | undefined>;

/** A subscription's input, once tRPC's input parser asked for it (the `?input=` JSON, deserialized). */
interface ParsedInput {
  parsed?: { input: unknown };
}

interface SubscriptionProcedure {
  _def: { type: string };
}

function isSubscription(value: unknown): value is SubscriptionProcedure {
  return typeof value === "function" && (value as Partial<SubscriptionProcedure>)._def?.type === "subscription";
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  value != null && typeof value === "object" && Symbol.asyncIterator in value;

/**
 * Serves every subscription procedure of the router (`GET <prefix>/<path>`) with the lean SSE writer
 * (subscription-stream.ts) instead of tRPC's fetch-adapter producer, while the procedure itself still runs
 * through tRPC's chain (trpc-call.ts: its middlewares, its input parser, its output type). Register it
 * before the tRPC plugin: its routes are static paths, so they win over the plugin's `<prefix>/:path` for
 * GET only; HEAD, POST, batches (`?batch=1`), `application/jsonl` streams, non-JSON content types and
 * unparsable connectionParams are handed to tRPC's own Fastify handler, which answers them as it always has.
 */
export function registerLeanSubscriptions<TRouter extends AnyTRPCRouter>(
  app: FastifyInstance,
  opts: LeanSubscriptionOptions<TRouter>,
): { paths: string[] } {
  const { trpcOptions, prefix } = opts;
  const { router, onError } = trpcOptions;
  // createContext is optional in tRPC's types when the router's context is an empty object.
  const createContext = (trpcOptions as { createContext?: (o: { req: FastifyRequest; res: FastifyReply; info: TRPCRequestInfo }) => unknown })
    .createContext;
  if (trpcOptions.responseMeta) throw new Error("the lean SSE writer does not apply trpcOptions.responseMeta; serve subscriptions with tRPC's adapter");

  const config = router._def._config;
  const sse = config.sse ?? {};
  // Subscriptions turned off: tRPC answers them with its own error.
  if (sse.enabled === false) return { paths: [] };
  if (sse.emitAndEndImmediately) throw new Error("the lean SSE writer does not implement sse.emitAndEndImmediately; serve subscriptions with tRPC's adapter");
  const client = sse.client ?? {};
  const pingEnabled = sse.ping?.enabled ?? false;
  const pingIntervalMs = sse.ping?.intervalMs ?? 1000;
  if (pingEnabled && client.reconnectAfterInactivityMs && pingIntervalMs > client.reconnectAfterInactivityMs) {
    // tRPC's own check (sse.ts), made at start-up instead of on every request.
    throw new Error(
      `Ping interval must be less than client reconnect interval to prevent unnecessary reconnection - ping.intervalMs: ${pingIntervalMs} client.reconnectAfterInactivityMs: ${client.reconnectAfterInactivityMs}`,
    );
  }
  const settings: StreamSettings = {
    connected: connectedFrame(client),
    clock: pingEnabled && pingIntervalMs !== Infinity && pingIntervalMs > 0 ? new PingClock(pingIntervalMs, client.reconnectAfterInactivityMs) : null,
    maxDurationMs: sse.maxDurationMs || undefined,
    serialize: (value) => config.transformer.output.serialize(value),
    serializesAsIs: config.transformer === defaultTransformer,
    onFault: (error) => app.log.error({ err: error }, "subscription stream failed"),
  };

  const paths: string[] = [];
  const procedures = router._def.procedures as Record<string, unknown>;
  for (const path of Object.keys(procedures)) {
    const procedure = procedures[path];
    if (!isSubscription(procedure)) continue;
    paths.push(path);
    const call = procedureCaller(procedure as Procedure);

    const delegate = (request: FastifyRequest, reply: FastifyReply) =>
      fastifyRequestHandler({ ...trpcOptions, req: request, res: reply, path });

    /**
     * How a stream's errors are formatted (each is reported to onError once; tRPC's adapter reports one thrown while
     * setting up twice). Made here, not in `open`: the stream keeps it for its life, and a closure made in `open` kept
     * all of `open`'s scope (the query, the input's readers).
     */
    const errorFormatter =
      (request: FastifyRequest, ctx: unknown, input: ParsedInput) =>
      (cause: unknown): unknown => {
        const error = getTRPCErrorFromUnknown(cause);
        const value = input.parsed?.input;
        onError?.({ error, path, input: value, ctx, type: "subscription", req: request });
        return getErrorShape({ config, ctx, error, input: value, path, type: "subscription" });
      };

    /**
     * The call up to the source of its events, and how its errors are formatted: what the stream needs for the rest
     * of its life. Its own frame (the URL, tRPC's request info) is gone once it resolves (the URL and its searchParams
     * are ~1 KB per open stream).
     */
    const open = async (
      request: FastifyRequest,
      reply: FastifyReply,
      url: URL,
      accept: "application/jsonl" | null,
      connectionParams: Dict | null,
      signal: AbortSignal,
    ): Promise<{ source: StreamSource; formatError: (cause: unknown) => unknown }> => {
      const search = url.searchParams;
      const query = search.get("input");
      const lastEventId = header(request.headers, "last-event-id") ?? search.get("lastEventId") ?? search.get("Last-Event-Id");

      // The input as tRPC reads it (contentType.ts, jsonContentTypeHandler): JSON in ?input=, parsed once,
      // with the SSE Last-Event-ID (header, else ?lastEventId= or ?Last-Event-Id=) merged into an object input.
      const parsedInput: ParsedInput = {};
      const readInput = (): unknown => {
        if (parsedInput.parsed) return parsedInput.parsed.input;
        try {
          const input = query ? config.transformer.input.deserialize(JSON.parse(query)) : undefined;
          parsedInput.parsed = { input };
          return input;
        } catch (cause) {
          if (cause instanceof TRPCError) throw cause;
          throw new TRPCError({ code: "BAD_REQUEST", message: cause instanceof Error ? cause.message : "Invalid input", cause });
        }
      };
      const getRawInput = async (): Promise<unknown> => {
        let input = readInput();
        if (lastEventId) {
          if (isObject(input)) input = { ...input, lastEventId };
          else input ??= { lastEventId };
        }
        return input;
      };
      const result = () => parsedInput.parsed?.input;
      const info: TRPCRequestInfo = {
        accept,
        type: "subscription",
        isBatchCall: false,
        calls: [{ path, getRawInput, result, procedure: procedure as TRPCRequestInfo["calls"][number]["procedure"], batchIndex: 0 }],
        connectionParams,
        signal,
        url,
      };

      let ctx: unknown;
      let source: StreamSource;
      try {
        ctx = await createContext?.({ req: request, res: reply, info });
      } catch (cause) {
        source = { error: cause };
      }
      source ??= await call({ path, getRawInput, ctx, type: "subscription", signal, batchIndex: 0 }).then(
        (data: unknown): StreamSource =>
          isObservable(data)
            ? { values: observableToAsyncIterable(data, signal) }
            : isAsyncIterable(data)
              ? { values: data }
              : {
                  error: new TRPCError({
                    message: `Subscription ${path} did not return an observable or a AsyncGenerator`,
                    code: "INTERNAL_SERVER_ERROR",
                  }),
                },
        (cause: unknown): StreamSource => ({ error: cause }),
      );

      return { source, formatError: errorFormatter(request, ctx, parsedInput) };
    };

    app.route({
      method: "GET",
      url: `${prefix}/${path}`,
      // HEAD stays with tRPC (an empty 204).
      exposeHeadRoute: false,
      handler(request, reply) {
        const raw = request.raw;
        const accept = acceptOf(raw.headers);
        const contentType = header(raw.headers, "content-type");
        let url: URL;
        let connectionParams: Dict | null = null;
        try {
          url = requestUrl(raw);
          const params = url.searchParams.get("connectionParams");
          if (params !== null) connectionParams = parseConnectionParamsFromString(params);
        } catch {
          // Let tRPC produce its own answer to a URL or connectionParams it cannot read.
          return delegate(request, reply);
        }
        if (
          url.searchParams.get("batch") === "1" ||
          accept === "application/jsonl" ||
          contentType?.startsWith("multipart/form-data") ||
          contentType?.startsWith("application/octet-stream")
        ) {
          return delegate(request, reply);
        }

        reply.hijack();
        // Fastify does not log the end of a hijacked reply. (`on`: "finish" comes once; `once` would add a wrapper.)
        reply.raw.on("finish", () => reply.log.info({ res: reply, responseTime: reply.elapsedTime }, "request completed"));
        const stream = new SubscriptionStream(reply.raw, settings);
        open(request, reply, url, accept, connectionParams, stream.signal)
          // Headers plugins put on the reply (CORS) are not sent by a hijacked reply on their own.
          .then(({ source, formatError }) => stream.send(reply.getHeaders() as Record<string, string | number | readonly string[]>, source, formatError))
          .catch((error: unknown) => {
            request.log.error({ err: error, path }, "subscription stream failed");
            reply.raw.destroy();
          });
        return undefined;
      },
    });
  }
  return { paths };
}
