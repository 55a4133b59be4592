/**
 * Durations from options never reach a Node timer above 2^31 - 1 ms: Node would fire such a timer after
 * 1 ms (TimeoutOverflowWarning), so "practically never" (Infinity, a year) would mean "at once".
 */
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { ChatEvent } from "./events.js";
import { runChat, type RunOptions } from "./run.js";
import { collect } from "./test-support/recorder.js";
import { modelScenario, simRunOptions } from "./test-support/sim-run.js";
import { maxTimerMs, timerDelay } from "./timers.js";
import { defineTool, executeTool } from "./tools.js";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0 });
});
afterAll(() => sim.close());

let warnings: string[] = [];
const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
beforeEach(() => {
  warnings = [];
  process.on("warning", onWarning);
});
afterEach(() => {
  process.off("warning", onWarning);
  sim.clearScenarios();
});
/** Warnings are emitted on the next tick. */
const settledWarnings = async () => {
  await new Promise((resolve) => setImmediate(resolve));
  return warnings.filter((w) => w.startsWith("TimeoutOverflowWarning"));
};

const tooLong = [2 ** 31, 365 * 24 * 3600 * 1000, Infinity];

describe("timerDelay", () => {
  it("caps delays at 2^31 - 1 ms and keeps shorter ones", () => {
    expect(maxTimerMs).toBe(2_147_483_647);
    expect(tooLong.map(timerDelay)).toEqual([maxTimerMs, maxTimerMs, maxTimerMs]);
    expect([0, 1, 15_000, maxTimerMs].map(timerDelay)).toEqual([0, 1, 15_000, maxTimerMs]);
    expect([-5, Number.NaN].map(timerDelay)).toEqual([0, maxTimerMs]);
  });
});

describe("durations over 2^31 - 1 ms wait (about 24.8 days) instead of firing at once", () => {
  it.each(tooLong)("a tool timeout of %d ms lets a 30 ms tool finish", async (timeoutMs) => {
    const slow = defineTool({ name: "slow", description: "", input: z.object({}), execute: () => new Promise((resolve) => setTimeout(() => resolve("done"), 30)) });
    const outcome = await executeTool(slow, {}, { signal: new AbortController().signal, timeoutMs });
    expect(outcome).toMatchObject({ ok: true, result: "done" });
    expect(await settledWarnings()).toEqual([]);
  });

  it.each(tooLong)("an idle timeout of %d ms lets a model that pauses 50 ms between chunks answer", async (idleTimeoutMs) => {
    modelScenario(sim, "m-pause", { chunks: [{ content: "one ", delayMs: 50 }, { content: "two", delayMs: 50 }, { done: true }] });
    const { shapes } = await collect(runChat(simRunOptions(sim, "m-pause", { idleTimeoutMs, tools: [] })));
    expect(shapes.slice(-2)).toEqual(["token:one two", "done:stop"]);
    expect(await settledWarnings()).toEqual([]);
  });

  it("an approval timeout of Infinity gives a finite expiresAt, and the call still waits for the decision", async () => {
    const gated = defineTool({ name: "gated", description: "", input: z.object({}), execute: () => "ran" });
    const tool = { ...gated, requiresApproval: true };
    modelScenario(sim, "m-gated", {
      respond: (req) =>
        req.messages.at(-1)?.["role"] === "tool"
          ? [{ content: "Done." }, { done: true }]
          : [{ toolCalls: [{ name: "gated", arguments: {} }] }, { done: true }],
    });
    const options: Partial<RunOptions> = {
      tools: [tool],
      approvalTimeoutMs: Infinity,
      approve: () => new Promise((resolve) => setTimeout(() => resolve({ approved: true }), 30)),
    };
    const { events, result } = await collect(runChat(simRunOptions(sim, "m-gated", options)));
    const request = events.find((e): e is Extract<ChatEvent, { type: "approval-request" }> => e.type === "approval-request");
    expect(request && request.expiresAt - request.at).toBe(maxTimerMs);
    expect(events.find((e) => e.type === "approval-result")).toMatchObject({ approved: true, timedOut: false });
    expect(result).toMatchObject({ reason: "stop", text: "Done." });
  });
});
