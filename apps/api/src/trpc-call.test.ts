import { initTRPC, TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { procedureCaller, type Procedure, type ProcedureCall } from "./trpc-call.js";

/**
 * The lean caller against tRPC's own: the same procedures, called with the same options both ways, must show every
 * middleware the same options and give the caller the same data or the same error.
 */

interface Ctx {
  user: string | null;
  n: number;
}

const t = initTRPC.context<Ctx>().meta<{ tag: string }>().create();
let seen: unknown[] = [];

/** Records what a middleware is given, and what its `next` answered. */
const record = (at: string) =>
  t.middleware(async (opts) => {
    seen.push({
      at,
      keys: Object.keys(opts).sort(),
      ctx: opts.ctx,
      input: opts.input,
      meta: opts.meta,
      path: opts.path,
      type: opts.type,
      batchIndex: opts.batchIndex,
      signal: opts.signal,
      raw: await opts.getRawInput(),
    });
    const result = await opts.next();
    seen.push({ at, after: true, ok: result.ok, marker: result.marker, ...(result.ok ? {} : { code: result.error.code, message: result.error.message }) });
    return result;
  });

async function* countTo(n: number) {
  for (let i = 1; i <= n; i++) yield i;
}

const procedures = {
  input: t.procedure.use(record("a")).input(z.object({ a: z.number() })).use(record("b")).query(({ input, ctx }) => ({ input, ctx })),
  contextMerged: t.procedure
    .use(({ next }) => next({ ctx: { user: "u1", extra: 1 } }))
    .use(record("after-ctx"))
    .mutation(({ ctx }) => ctx),
  inputGiven: t.procedure
    .use(({ next }) => next({ input: { a: 5 } }))
    .use(record("after-input"))
    .query(({ input }) => input),
  rawInputGiven: t.procedure
    .use(({ next }) => next({ getRawInput: async () => ({ a: 7 }) }))
    .input(z.object({ a: z.number() }))
    .use(record("after-raw"))
    .query(({ input }) => input),
  twoInputs: t.procedure
    .input(z.object({ a: z.number() }))
    .input(z.object({ b: z.string() }))
    .use(record("merged"))
    .query(({ input }) => input),
  // The resolver gets the meta too (its type does not say so).
  meta: t.procedure.meta({ tag: "x" }).use(record("meta")).query((opts) => (opts as unknown as { meta: unknown }).meta),
  forbidden: t.procedure
    .use(record("outer"))
    .use(() => {
      throw new TRPCError({ code: "FORBIDDEN", message: "no" });
    })
    .query(() => "never"),
  resolverThrows: t.procedure.use(record("outer")).query(() => {
    throw new Error("boom");
  }),
  badInput: t.procedure.use(record("outer")).input(z.object({ a: z.number() })).query(({ input }) => input),
  noNext: t.procedure.use((() => undefined) as unknown as Parameters<typeof t.procedure.use>[0]).query(() => "never"),
  subscription: t.procedure.use(record("sub")).subscription(() => countTo(3)),
};

const callOf = (procedure: Procedure, getRawInput: () => Promise<unknown>): ProcedureCall => ({
  path: "some.path",
  getRawInput,
  ctx: { user: null, n: 1 },
  type: (procedure._def as { type: ProcedureCall["type"] }).type,
  signal: undefined,
  batchIndex: 0,
});

type Outcome = { data: unknown } | { error: { name: string; code: unknown; message: string; cause: unknown } };

async function outcomeOf(call: () => Promise<unknown>): Promise<{ outcome: Outcome; seen: unknown[] }> {
  seen = [];
  let outcome: Outcome;
  try {
    let data = await call();
    if (data !== null && typeof data === "object" && Symbol.asyncIterator in data) {
      const values: unknown[] = [];
      for await (const value of data as AsyncIterable<unknown>) values.push(value);
      data = { iterated: values };
    }
    outcome = { data };
  } catch (error) {
    const e = error as TRPCError;
    outcome = { error: { name: e.name, code: e.code, message: e.message, cause: e.cause instanceof Error ? `${e.cause.name}: ${e.cause.message}` : e.cause } };
  }
  return { outcome, seen };
}

const inputs: Record<keyof typeof procedures, unknown> = {
  input: { a: 1 },
  contextMerged: undefined,
  inputGiven: undefined,
  rawInputGiven: { a: "ignored: next gave another reader" },
  twoInputs: { a: 1, b: "two" },
  meta: undefined,
  forbidden: undefined,
  resolverThrows: undefined,
  badInput: { a: "not a number" },
  noNext: undefined,
  subscription: undefined,
};

describe("procedureCaller", () => {
  for (const name of Object.keys(procedures) as (keyof typeof procedures)[]) {
    it(`calls "${name}" as tRPC does: the same options to every middleware, the same answer`, async () => {
      const procedure = procedures[name] as unknown as Procedure;
      const raw = async () => inputs[name];
      const theirs = await outcomeOf(() => procedure(callOf(procedure, raw)));
      let direct = 0;
      const counted = Object.assign((call: ProcedureCall) => ((direct += 1), procedure(call)), { _def: procedure._def });
      const ours = await outcomeOf(() => procedureCaller(counted)(callOf(procedure, raw)));
      expect(ours).toEqual(theirs);
      expect(direct).toBe(0); // the chain ran here, not through tRPC's caller
    });
  }

  it("gives the answers and errors the cases above are about", async () => {
    const run = async (name: keyof typeof procedures) =>
      (await outcomeOf(() => procedureCaller(procedures[name] as unknown as Procedure)(callOf(procedures[name] as unknown as Procedure, async () => inputs[name])))).outcome;
    expect(await run("contextMerged")).toEqual({ data: { user: "u1", n: 1, extra: 1 } });
    expect(await run("inputGiven")).toEqual({ data: { a: 5 } });
    expect(await run("rawInputGiven")).toEqual({ data: { a: 7 } });
    expect(await run("twoInputs")).toEqual({ data: { a: 1, b: "two" } });
    expect(await run("meta")).toEqual({ data: { tag: "x" } });
    expect(await run("forbidden")).toMatchObject({ error: { code: "FORBIDDEN", message: "no" } });
    expect(await run("resolverThrows")).toMatchObject({ error: { code: "INTERNAL_SERVER_ERROR", message: "boom" } });
    expect(await run("badInput")).toMatchObject({ error: { code: "BAD_REQUEST" } });
    expect(await run("noNext")).toMatchObject({ error: { code: "INTERNAL_SERVER_ERROR", message: expect.stringContaining("No result from middlewares") } });
    expect(await run("subscription")).toEqual({ data: { iterated: [1, 2, 3] } });
  });

  it("calls a procedure of another shape as it is", async () => {
    const calls: ProcedureCall[] = [];
    const other = Object.assign(async (call: ProcedureCall) => (calls.push(call), "theirs"), { _def: { type: "query" } });
    const call = callOf(other, async () => undefined);
    expect(await procedureCaller(other)(call)).toBe("theirs");
    expect(calls).toEqual([call]);
  });
});
