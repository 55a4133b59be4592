import { describe, expect, it } from "vitest";
import type { ChatEvent } from "@streamchat/core";
import { emptyUsage } from "@streamchat/core";
import { runOutcomeFromEvents } from "./run-outcome.js";

const base = { runId: "r1", at: 1 };
const log = (events: ChatEvent[]) => events.map((event, i) => ({ seq: i + 1, event }));

describe("runOutcomeFromEvents", () => {
  it("collects tool results in completion order with durations and errors", () => {
    const outcome = runOutcomeFromEvents(
      log([
        { type: "run-start", ...base, conversationId: "c1", model: "demo", provider: "sim" },
        { type: "tool-call", ...base, callId: "a", name: "calculator", args: { expression: "1/" } },
        { type: "tool-call", ...base, callId: "b", name: "current_time", args: {} },
        { type: "tool-result", ...base, callId: "b", name: "current_time", ok: true, result: { iso: "x" }, durationMs: 3 },
        {
          type: "tool-result",
          ...base,
          callId: "a",
          name: "calculator",
          ok: false,
          error: { code: "tool_failed", message: "Bad expression" },
          durationMs: 12.5,
        },
        { type: "token", ...base, text: "Done." },
        { type: "done", ...base, reason: "stop", usage: emptyUsage() },
      ]),
    );
    expect(outcome).toEqual({
      error: null,
      toolResults: [
        { callId: "b", name: "current_time", ok: true, durationMs: 3, error: null },
        { callId: "a", name: "calculator", ok: false, durationMs: 12.5, error: { code: "tool_failed", message: "Bad expression" } },
      ],
      continued: false,
    });
  });

  it("keeps the run's error code and message", () => {
    const outcome = runOutcomeFromEvents(
      log([
        { type: "token", ...base, text: "Hel" },
        { type: "error", ...base, code: "provider_error", message: "an error was encountered", retryable: true },
        { type: "done", ...base, reason: "error", usage: emptyUsage() },
      ]),
    );
    expect(outcome).toEqual({ error: { code: "provider_error", message: "an error was encountered" }, toolResults: [], continued: false });
  });

  it("says whether the run continued an earlier answer (its run-start's continues)", () => {
    const start = { type: "run-start", ...base, conversationId: "c1", model: "demo", provider: "sim" } as const;
    const failed = { type: "error", ...base, code: "provider_error", message: "down", retryable: true } as const;
    expect(runOutcomeFromEvents(log([{ ...start, continues: true }, failed])).continued).toBe(true);
    expect(runOutcomeFromEvents(log([start, failed])).continued).toBe(false);
  });
});
