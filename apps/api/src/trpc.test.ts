import { callTRPCProcedure, TRPCError } from "@trpc/server";
import { StoreError } from "@streamchat/store";
import { describe, expect, it } from "vitest";
import { AppError } from "./errors.js";
import { authedProcedure, publicProcedure, router, type Context } from "./trpc.js";

/** A context whose services are never touched: the procedures below only look at it. */
const contextFor = (userId: string | null): Context => ({ userId }) as Context;

const probe = router({
  whoami: authedProcedure.query(({ ctx }) => ctx),
  storeDown: authedProcedure.query((): never => {
    throw new StoreError("unavailable", "connect ECONNREFUSED");
  }),
  publicStoreDown: publicProcedure.query((): never => {
    throw new StoreError("unavailable", "connect ECONNREFUSED");
  }),
});

const call = (path: string, ctx: Context) =>
  callTRPCProcedure({ router: probe, path, getRawInput: async () => undefined, ctx, type: "query", signal: undefined, batchIndex: 0 });

describe("authedProcedure", () => {
  it("hands the resolver the very context the request made (no copy per call), with its user", async () => {
    const ctx = contextFor("user-1");
    const seen = await call("whoami", ctx);
    expect(seen).toBe(ctx);
    expect((seen as Context).userId).toBe("user-1");
  });

  it("refuses a request without a user before the resolver runs", async () => {
    const refusal = await call("whoami", contextFor(null)).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(TRPCError);
    expect((refusal as TRPCError).code).toBe("UNAUTHORIZED");
  });

  it.each(["storeDown", "publicStoreDown"])("answers an unreachable store with SERVICE_UNAVAILABLE (%s)", async (path) => {
    const refusal = await call(path, contextFor("user-1")).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(AppError);
    expect((refusal as AppError).code).toBe("SERVICE_UNAVAILABLE");
    expect((refusal as AppError).appCode).toBe("internal");
  });
});
