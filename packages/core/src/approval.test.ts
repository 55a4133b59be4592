import { describe, expect, it } from "vitest";
import { z } from "zod";
import { approvalDecisionSchema, askApproval, type ApprovalRequest, type ApproveHook } from "./approval.js";
import { defineTool } from "./tools.js";

const tool = defineTool({ name: "t", description: "d", input: z.object({}), requiresApproval: true, execute: () => "ran" });
const request = (expiresAt: number): ApprovalRequest => ({ callId: "k1", name: "t", args: {}, source: "builtin", tool, expiresAt, resumed: false });

describe("askApproval", () => {
  it("only approved:true approves; a malformed decision denies; a long reason is cut and trimmed", async () => {
    const ask = (decision: unknown) =>
      askApproval((() => Promise.resolve(decision)) as ApproveHook, request(Date.now() + 60_000), { signal: new AbortController().signal, now: Date.now });
    expect(await ask({ approved: true })).toEqual({ approved: true, timedOut: false });
    expect(await ask({ approved: "yes" })).toEqual({ approved: false, timedOut: false });
    expect(await ask(undefined)).toEqual({ approved: false, timedOut: false });
    expect(await ask({ approved: false, reason: "   " })).toEqual({ approved: false, timedOut: false });
    const long = await ask({ approved: false, reason: ` ${"x".repeat(600)}` });
    expect(long.reason).toHaveLength(500);
  });

  it("a hook that throws synchronously denies the call", async () => {
    const hook: ApproveHook = () => {
      throw new Error("bug");
    };
    expect(await askApproval(hook, request(Date.now() + 60_000), { signal: new AbortController().signal, now: Date.now })).toEqual({
      approved: false,
      reason: "The approval could not be obtained.",
      timedOut: false,
    });
  });

  it("a deadline beyond setTimeout's range does not fire at once", async () => {
    const abort = new AbortController();
    let hookSignal: AbortSignal | undefined;
    const pending = askApproval(
      (_r, { signal }) => {
        hookSignal = signal;
        return new Promise(() => undefined);
      },
      request(Date.now() + 30 * 24 * 3600_000),
      { signal: abort.signal, now: Date.now },
    );
    // Node fires an out-of-range timer after 1 ms: a 20 ms deadline asked later times out after it would have.
    const later = await askApproval(() => new Promise(() => undefined), request(Date.now() + 20), { signal: abort.signal, now: Date.now });
    expect(later).toEqual({ approved: false, timedOut: true });
    expect(hookSignal?.aborted).toBe(false);
    abort.abort();
    await expect(pending).rejects.toMatchObject({ code: "cancelled" });
    expect(hookSignal?.aborted).toBe(true);
  });

  it("approvalDecisionSchema is chat.approve's decision", () => {
    expect(approvalDecisionSchema.parse({ approved: false, reason: "no" })).toEqual({ approved: false, reason: "no" });
    expect(approvalDecisionSchema.safeParse({ approved: "true" }).success).toBe(false);
    expect(approvalDecisionSchema.safeParse({ approved: true, reason: "x".repeat(501) }).success).toBe(false);
    // Kept as a text column, not JSON: NUL and unpaired surrogates are refused; a surrogate pair is fine.
    expect(approvalDecisionSchema.safeParse({ approved: false, reason: "a\u0000b" }).success).toBe(false);
    expect(approvalDecisionSchema.safeParse({ approved: false, reason: "a\ud800" }).success).toBe(false);
    expect(approvalDecisionSchema.safeParse({ approved: false, reason: "\udc00b" }).success).toBe(false);
    expect(approvalDecisionSchema.parse({ approved: false, reason: "\ud83d\ude00" })).toEqual({ approved: false, reason: "\ud83d\ude00" });
  });
});
