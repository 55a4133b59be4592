import { getErrorShape, getTRPCErrorFromUnknown, transformTRPCResponse, TRPCError, type AnyTRPCRouter } from "@trpc/server";
import { fastifyRequestHandler, type FastifyTRPCPluginOptions } from "@trpc/server/adapters/fastify";
import { getHTTPStatusCode, parseConnectionParamsFromString, type TRPCRequestInfo } from "@trpc/server/http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { procedureCaller, type Procedure } from "./trpc-call.js";
import { acceptOf, header, isObject, requestUrl } from "./trpc-http.js";

export interface LeanMutationOptions<TRouter extends AnyTRPCRouter> {
  /** The prefix the tRPC plugin is registered under, e.g. "/trpc" ("" inside a prefixed plugin). */
  prefix: string;
  /** The very options given to the tRPC plugin: the router, createContext and onError are shared. */
  trpcOptions: FastifyTRPCPluginOptions<TRouter>["trpcOptions"];
  /** Procedures that have a route of their own (conversations.import): left alone. */
  exclude?: ReadonlySet<string>;
  /** The body limit of a procedure's route; Fastify's default (the app's bodyLimit) when undefined. */
  bodyLimit?: (path: string) => number | undefined;
}

type MutationProcedure = Procedure & { _def: { type: string } };

function isMutation(value: unknown): value is MutationProcedure {
  return typeof value === "function" && (value as Partial<MutationProcedure>)._def?.type === "mutation";
}

const isAsyncIterable = (value: unknown): boolean => isObject(value) && Symbol.asyncIterator in value;
const isPromise = (value: unknown): boolean =>
  (isObject(value) || typeof value === "function") &&
  typeof (value as { then?: unknown }).then === "function" &&
  typeof (value as { catch?: unknown }).catch === "function";

/** tRPC's isDataStream: a result its JSON answer cannot carry (an async iterable, or promises or iterables inside). */
function isDataStream(value: unknown): boolean {
  if (!isObject(value)) return false;
  if (isAsyncIterable(value)) return true;
  return Object.values(value).some(isPromise) || Object.values(value).some(isAsyncIterable);
}

/**
 * The reason a call's signal aborts with when its response closes: what `abort()` without a reason makes, built once
 * (a DOMException captures a stack, a visible cost on every short request).
 */
const responseClosed = new DOMException("This operation was aborted", "AbortError");

/** What tRPC's answers to a JSON call carry besides the body (resolveResponse.ts). */
const responseHeaders = { vary: "trpc-accept, accept", "content-type": "application/json" } as const;

/**
 * Serves every mutation procedure of the router (`POST <prefix>/<path>`, alone or as a batch of one) without tRPC's
 * fetch adapter: no `Request`/`Response` per call and no web streams. The call's `AbortSignal` is aborted when the
 * response closes, as tRPC's adapter aborts it, with the same kind of reason (an AbortError `DOMException`, one shared
 * instance instead of a fresh one per request). The procedure itself runs through tRPC exactly as before — its
 * middlewares, its input parser, its output — and its answer is tRPC's: the same JSON (`transformTRPCResponse`), the
 * same error shape (`getErrorShape`, the router's errorFormatter), the same HTTP status (`getHTTPStatusCode`), `onError`
 * called as tRPC's adapter calls it.
 *
 * Everything else goes to tRPC's own Fastify handler and is answered as it always was: batches of several calls
 * (another route), `application/jsonl` streaming calls, bodies that are not JSON (multipart, octet streams), a
 * `connectionParams` that does not parse, batches when batching is off. `lean-mutations.test.ts` drives the same
 * requests through both and compares the bytes. Register it inside the scope that registers tRPC's plugin, before it:
 * its static routes win over the plugin's `<prefix>/:path` for POST.
 */
export async function registerLeanMutations<TRouter extends AnyTRPCRouter>(
  app: FastifyInstance,
  opts: LeanMutationOptions<TRouter>,
): Promise<{ paths: string[] }> {
  const { trpcOptions, prefix } = opts;
  const { router, onError } = trpcOptions;
  const createContext = (trpcOptions as { createContext?: (o: { req: FastifyRequest; res: FastifyReply; info: TRPCRequestInfo }) => unknown })
    .createContext;
  if (trpcOptions.responseMeta) throw new Error("the lean mutation routes do not apply trpcOptions.responseMeta; serve mutations with tRPC's adapter");
  const allowBatching = trpcOptions.allowBatching ?? trpcOptions.batching?.enabled ?? true;
  const maxBatchSize = trpcOptions.maxBatchSize;
  const batchOfOne = allowBatching && (typeof maxBatchSize !== "number" || maxBatchSize >= 1);
  const config = router._def._config;

  const procedures = router._def.procedures as Record<string, unknown>;
  const paths = Object.keys(procedures).filter((path) => isMutation(procedures[path]) && !opts.exclude?.has(path));

  await app.register(async (scope) => {
    // The body as text, as tRPC's plugin takes it (it parses the JSON itself).
    scope.removeContentTypeParser("application/json");
    scope.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => done(null, body));
    scope.removeContentTypeParser("multipart/form-data");
    scope.addContentTypeParser("multipart/form-data", {}, (_request, body, done) => done(null, body));

    for (const path of paths) {
      const procedure = procedures[path] as MutationProcedure;
      const call = procedureCaller(procedure);
      const delegate = (request: FastifyRequest, reply: FastifyReply) =>
        fastifyRequestHandler({ ...trpcOptions, req: request, res: reply, path });

      const serve = async (
        request: FastifyRequest,
        reply: FastifyReply,
        body: string,
        isBatchCall: boolean,
        accept: TRPCRequestInfo["accept"],
        url: URL,
        connectionParams: TRPCRequestInfo["connectionParams"],
      ) => {
        // Aborted when the response closes, as tRPC's adapter does: when the client leaves before the answer (a long
        // chat.complete stops following its run), and after every answer.
        const controller = new AbortController();
        reply.raw.once("close", () => controller.abort(responseClosed));

        // The input as tRPC's JSON handler reads it (contentType.ts): parsed once, a batch's entry 0 when batched.
        let input: { value: unknown } | { error: unknown } | undefined;
        const readInput = (): unknown => {
          if (!input) {
            try {
              const json: unknown = JSON.parse(body);
              if (!isBatchCall) input = { value: config.transformer.input.deserialize(json) };
              else if (!isObject(json)) throw new TRPCError({ code: "BAD_REQUEST", message: '"input" needs to be an object when doing a batch call' });
              else input = { value: json[0] === undefined ? undefined : config.transformer.input.deserialize(json[0]) };
            } catch (cause) {
              // tRPC's memo of the inputs: a body it cannot read is the client's fault.
              const error = cause instanceof TRPCError
                ? cause
                : new TRPCError({ code: "BAD_REQUEST", message: cause instanceof Error ? cause.message : "Invalid input", cause });
              input = { error };
            }
          }
          if ("error" in input) throw input.error;
          return input.value;
        };
        const result = () => (input && "value" in input ? input.value : undefined);
        const info: TRPCRequestInfo = {
          accept,
          type: "mutation",
          isBatchCall,
          calls: [
            {
              path,
              getRawInput: async () => readInput(),
              result,
              procedure: procedure as unknown as TRPCRequestInfo["calls"][number]["procedure"],
              batchIndex: 0,
            },
          ],
          connectionParams,
          signal: controller.signal,
          url,
        };

        let ctx: unknown;
        let outcome: { data: unknown } | { error: TRPCError };
        try {
          ctx = await createContext?.({ req: request, res: reply, info });
          outcome = { data: await call({ path, getRawInput: info.calls[0]!.getRawInput, ctx, type: "mutation", signal: controller.signal, batchIndex: 0 }) };
        } catch (cause) {
          const error = getTRPCErrorFromUnknown(cause);
          onError?.({ error, path, input: result(), ctx, type: "mutation", req: request });
          outcome = { error };
        }

        let answer: unknown;
        if ("data" in outcome && isDataStream(outcome.data)) {
          const error = new TRPCError({
            code: "UNSUPPORTED_MEDIA_TYPE",
            message: "Cannot use stream-like response in non-streaming request - use httpBatchStreamLink",
          });
          if (isBatchCall) {
            // A batch reports it in its entry, without onError (resolveResponse's batch branch).
            answer = [{ error: getErrorShape({ config, ctx, error, input: result(), path, type: "mutation" }) }];
          } else {
            // A single call throws it to the handler's catch-all: onError and the shape without a path or input.
            onError?.({ error, path: undefined, input: undefined, ctx, type: "mutation", req: request });
            answer = { error: getErrorShape({ config, ctx, error, input: undefined, path: undefined, type: "mutation" }) };
          }
        } else if ("data" in outcome) {
          // What transformTRPCResponse makes of a result, built as it builds it: it copies the entry and its result
          // with a spread helper (property descriptors, key arrays), 1.7 % of the API's allocations per chat.send.
          const entry = { result: { data: config.transformer.output.serialize(outcome.data) as unknown } };
          const status = getHTTPStatusCode([entry] as Parameters<typeof getHTTPStatusCode>[0]);
          return reply
            .code(status)
            .headers(responseHeaders)
            .send(Buffer.from(JSON.stringify(isBatchCall ? [entry] : entry)));
        } else {
          const entry = { error: getErrorShape({ config, ctx, error: outcome.error, input: result(), path, type: "mutation" }) };
          answer = isBatchCall ? [entry] : entry;
        }
        const status = getHTTPStatusCode((Array.isArray(answer) ? answer : [answer]) as Parameters<typeof getHTTPStatusCode>[0]);
        return reply
          .code(status)
          .headers(responseHeaders)
          // A Buffer: Fastify adds "; charset=utf-8" to a string's content type, tRPC's answers have none.
          .send(Buffer.from(JSON.stringify(transformTRPCResponse(config, answer as Parameters<typeof transformTRPCResponse>[1]))));
      };

      const bodyLimit = opts.bodyLimit?.(path);
      scope.post(`${prefix}/${path}`, bodyLimit === undefined ? {} : { bodyLimit }, (request, reply) => {
        const raw = request.raw;
        const body = request.body;
        const rawUrl = raw.url ?? "/";
        const query = rawUrl.indexOf("?");
        const search = new URLSearchParams(query === -1 ? "" : rawUrl.slice(query + 1));
        const isBatchCall = search.get("batch") === "1";
        const accept = acceptOf(raw.headers);
        if (
          typeof body !== "string" ||
          !header(raw.headers, "content-type")?.startsWith("application/json") ||
          // A streaming call (httpBatchStreamLink).
          accept === "application/jsonl" ||
          (isBatchCall && !batchOfOne)
        ) {
          return delegate(request, reply);
        }
        let url: URL;
        let connectionParams: TRPCRequestInfo["connectionParams"] = null;
        try {
          url = requestUrl(raw);
          const params = search.get("connectionParams");
          if (params !== null) connectionParams = parseConnectionParamsFromString(params);
        } catch {
          // Let tRPC produce its own answer to a URL or connectionParams it cannot read.
          return delegate(request, reply);
        }
        return serve(request, reply, body, isBatchCall, accept, url, connectionParams);
      });
    }
  });
  return { paths };
}
