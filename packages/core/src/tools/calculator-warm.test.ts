import { describe, expect, it, vi } from "vitest";
import { executeTool, prepareTools, validateToolCall, type ToolOutcome } from "../tools.js";
import { calculatorTool } from "./builtin.js";
import { calculatorPoolState } from "./calculator.js";

/**
 * The calculator's worker builds a mathjs instance when it starts (about a second of CPU, more under load). A
 * server prepares the tool when it offers it (prepareTools), so the first call finds a ready worker instead of
 * starting one; and one stays ready after a calculation was terminated. Its own file: the pool is per module
 * graph, and these tests start from an empty one.
 */

function calc(expression: string, opts: { timeoutMs?: number } = {}): Promise<ToolOutcome> {
  const check = validateToolCall([calculatorTool], { id: "c", name: "calculator", args: { expression } });
  if (!check.ok) throw new Error(check.error.message);
  return executeTool(check.tool, check.args, { signal: new AbortController().signal, timeoutMs: opts.timeoutMs ?? 60_000 });
}

describe("calculator prepared ahead of its first call", () => {
  it("importing the tool starts nothing; preparing it starts one worker that becomes ready; the first call uses it", { timeout: 30_000 }, async () => {
    expect(calculatorPoolState()).toEqual({ workers: 0, ready: 0, started: 0 });

    const prepared = prepareTools([calculatorTool]);
    const again = prepareTools([calculatorTool]); // again: still one
    expect(calculatorPoolState()).toMatchObject({ workers: 1, ready: 0, started: 1 });
    // Each promise settles once that worker is ready (a benchmark waits for it before measuring).
    await Promise.all([prepared, again]);
    expect(calculatorPoolState()).toEqual({ workers: 1, ready: 1, started: 1 });
    await prepareTools([calculatorTool]); // ready already: at once, no other worker
    expect(calculatorPoolState()).toEqual({ workers: 1, ready: 1, started: 1 });

    // The first call is served by the prepared worker: no worker starts for it.
    expect(await calc("12 * 7")).toMatchObject({ ok: true, result: { result: "84" } });
    expect(calculatorPoolState()).toEqual({ workers: 1, ready: 1, started: 1 });
  });

  it("a calculation terminated by its timeout is replaced by a ready worker before the next call", { timeout: 30_000 }, async () => {
    const before = calculatorPoolState().started;
    // Seconds of mathjs work, far beyond the timeout: the worker is terminated.
    expect(await calc("inv(diag(1:1000) + 1)", { timeoutMs: 200 })).toMatchObject({ ok: false, error: { code: "tool_timeout" } });
    await vi.waitFor(() => expect(calculatorPoolState()).toEqual({ workers: 1, ready: 1, started: before + 1 }), { timeout: 20_000 });
    expect(await calc("2 ^ 10")).toMatchObject({ ok: true, result: { result: "1024" } });
    expect(calculatorPoolState()).toEqual({ workers: 1, ready: 1, started: before + 1 });
  });

  it("a worker that exhausts its heap is replaced too, and its limits still hold", { timeout: 60_000 }, async () => {
    const before = calculatorPoolState().started;
    expect(await calc("size(diag(1:30000))")).toMatchObject({
      ok: false,
      error: { code: "tool_failed", message: expect.stringContaining("needs more memory than the calculator allows") },
    });
    await vi.waitFor(() => expect(calculatorPoolState()).toMatchObject({ workers: 1, ready: 1, started: before + 1 }), { timeout: 20_000 });
    expect(await calc("sqrt(16)")).toMatchObject({ ok: true, result: { result: "4" } });
    expect(calculatorPoolState()).toMatchObject({ workers: 1, started: before + 1 });
  });
});
