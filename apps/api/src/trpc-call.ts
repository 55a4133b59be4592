import { getTRPCErrorFromUnknown, TRPCError } from "@trpc/server";
import { middlewareMarker } from "@trpc/server/unstable-core-do-not-import";

/** A procedure call's options, as tRPC's adapters give them to a procedure (ProcedureCallOptions). */
export interface ProcedureCall {
  path: string;
  getRawInput: () => Promise<unknown>;
  ctx: unknown;
  type: "query" | "mutation" | "subscription";
  signal: AbortSignal | undefined;
  batchIndex: number;
}

type MiddlewareResult =
  | { ok: true; data: unknown; ctx?: unknown; marker: typeof middlewareMarker }
  | { ok: false; error: TRPCError; marker: typeof middlewareMarker };

interface NextOptions {
  ctx?: Record<string, unknown>;
  input?: unknown;
  getRawInput?: () => Promise<unknown>;
}

interface MiddlewareOptions extends ProcedureCall {
  input?: unknown;
}

type Middleware = (opts: MiddlewareOptions & { meta: unknown; next: (next?: NextOptions) => Promise<MiddlewareResult> }) => Promise<MiddlewareResult>;

/** What of a procedure's definition (tRPC v11's `_def`) the lean call reads. */
interface ChainDef {
  middlewares: readonly Middleware[];
  meta: unknown;
  caller?: unknown;
}

export type Procedure = ((call: ProcedureCall) => Promise<unknown>) & { _def?: unknown };

/**
 * Calls a procedure as tRPC's own caller does (createProcedureCaller's `callRecursive`): the same middlewares of its
 * definition, in order, each with the call's options, `meta`, `input` and `next`; `next` merges a given `ctx` into
 * the context, takes a given `input` and `getRawInput`; whatever throws becomes the failed result a middleware sees
 * (getTRPCErrorFromUnknown); the caller gets the resolver's data or the error thrown.
 *
 * Why: tRPC copies the options at every step with a transpiled spread helper (a `defineProperty` per key, which also
 * leaves each copy in dictionary mode) — 12 KB of allocations and ~10 µs per call, two calls per chat.send and
 * chat.events (docs/benchmarks-log.md, stop 58). Plain spreads make the same objects. `trpc-call.test.ts` runs the
 * same procedures through both and compares what every middleware saw and what the caller got.
 *
 * A procedure whose definition is not that shape (another tRPC version, an `experimental_caller`) is called as it is.
 */
export function procedureCaller(procedure: Procedure): (call: ProcedureCall) => Promise<unknown> {
  const def = procedure._def as Partial<ChainDef> | undefined;
  if (!def || !Array.isArray(def.middlewares) || def.caller !== undefined) return (call) => procedure(call);
  const { middlewares, meta } = def as ChainDef;
  const failed = (cause: unknown): MiddlewareResult => ({ ok: false, error: getTRPCErrorFromUnknown(cause), marker: middlewareMarker });
  // Not an async function: a promise less per step (the middleware's own promise takes the failure handler).
  const callAt = (index: number, opts: MiddlewareOptions): Promise<MiddlewareResult> => {
    let result: Promise<MiddlewareResult> | MiddlewareResult;
    try {
      // An index past the chain (a resolver's middleware calling next) throws here, as in tRPC: a failed result.
      result = middlewares[index]!({
        ...opts,
        meta,
        input: opts.input,
        next: (nextOpts) =>
          callAt(index + 1, {
            ...opts,
            ctx: nextOpts?.ctx ? { ...(opts.ctx as object), ...nextOpts.ctx } : opts.ctx,
            input: nextOpts && "input" in nextOpts ? nextOpts.input : opts.input,
            getRawInput: nextOpts?.getRawInput ?? opts.getRawInput,
          }),
      });
    } catch (cause) {
      return Promise.resolve(failed(cause));
    }
    return Promise.resolve(result).then(undefined, failed);
  };
  return async (call) => {
    const result = await callAt(0, call);
    if (!result) {
      throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "No result from middlewares - did you forget to `return next()`?" });
    }
    if (!result.ok) throw result.error;
    return result.data;
  };
}
