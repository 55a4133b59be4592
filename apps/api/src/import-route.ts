import type { AnyTRPCRouter } from "@trpc/server";
import { fastifyRequestHandler, type FastifyTRPCPluginOptions } from "@trpc/server/adapters/fastify";
import type { FastifyInstance } from "fastify";

/** The one procedure whose request may be larger than MAX_BODY_BYTES. */
export const importProcedure = "conversations.import";

/**
 * The body limit of `POST <prefix>/conversations.import`: room for MAX_IMPORT_BYTES of file content once it is a
 * JSON string inside tRPC's request (`{"content":"…"}`, or `{"0":{"content":"…"}}` from a batching client).
 * JSON-escaping a conversation export at most doubles it: its quotes, backslashes and line breaks become two bytes,
 * everything else (non-ASCII included: JSON.stringify keeps it) stays as is. The file's own limit is checked on the
 * content by the import itself (the clearer error); this limit only stops a body that cannot be a valid import
 * before it is read.
 */
export function importBodyLimit(maxImportBytes: number): number {
  return 2 * maxImportBytes + 64 * 1024;
}

/**
 * Serves `POST <prefix>/conversations.import` with its own body limit; every other request keeps MAX_BODY_BYTES.
 *
 * Fastify's limits are per route, and tRPC serves every procedure from one route (`<prefix>/:path`), so this static
 * route (which wins over the parametric one) is the only way to take a larger body for one procedure. It covers the
 * request a client makes for the import alone: `/trpc/conversations.import`, batched (`?batch=1`, a batch of one) or
 * not. A batch of several calls (`/trpc/a,conversations.import`) is still under MAX_BODY_BYTES: clients send the import
 * on its own (the web app and @streamchat/client do).
 *
 * Registered in its own plugin scope with tRPC's body handling (the raw JSON text goes to tRPC, which parses it), so
 * the procedure runs exactly as through tRPC's plugin: same router, context, middlewares and error shape.
 */
export async function registerImportRoute<TRouter extends AnyTRPCRouter>(
  app: FastifyInstance,
  opts: { prefix: string; bodyLimit: number; trpcOptions: FastifyTRPCPluginOptions<TRouter>["trpcOptions"] },
): Promise<void> {
  await app.register(async (scope) => {
    scope.removeContentTypeParser("application/json");
    scope.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => done(null, body));
    scope.post(`${opts.prefix}/${importProcedure}`, { bodyLimit: opts.bodyLimit }, async (req, res) => {
      await fastifyRequestHandler({ ...opts.trpcOptions, req, res, path: importProcedure });
    });
  });
}
