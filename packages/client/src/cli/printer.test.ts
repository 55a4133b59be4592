import { describe, expect, it } from "vitest";
import { emptyUsage, type ChatEvent } from "@streamchat/core";
import { colorEnabled, EventPrinter, formatToolLine, formatUsage, type PrinterOptions } from "./printer.js";

const base = { runId: "r1", at: 1 };
const toolRun: ChatEvent[] = [
  { type: "run-start", ...base, conversationId: "c1", model: "demo", provider: "sim" },
  { type: "status", ...base, phase: "thinking", message: "Processing your question…" },
  { type: "reasoning", ...base, text: "The user wants the time." },
  { type: "tool-call", ...base, callId: "k1", name: "current_time", args: { timeZone: "Asia/Tokyo" } },
  { type: "status", ...base, phase: "tool", message: "Using tool: current_time…" },
  { type: "tool-result", ...base, callId: "k1", name: "current_time", ok: true, result: {}, durationMs: 3.4 },
  { type: "token", ...base, text: "It is " },
  { type: "token", ...base, text: "14:05." },
  { type: "done", ...base, reason: "stop", usage: emptyUsage() },
];

function capture(opts: Partial<PrinterOptions> = {}) {
  const out = { stdout: "", stderr: "" };
  const printer = new EventPrinter({
    stdout: { write: (t: string) => (out.stdout += t) },
    stderr: { write: (t: string) => (out.stderr += t) },
    json: false,
    color: false,
    sharedTerminal: false,
    ...opts,
  });
  return { out, printer };
}

describe("EventPrinter", () => {
  it("writes the answer to stdout and reasoning and tool lines to stderr", () => {
    const { out, printer } = capture();
    for (const event of toolRun) printer.handle(event);
    expect(out.stdout).toBe("It is 14:05.\n");
    expect(out.stderr).toBe('The user wants the time.\n→ current_time {"timeZone":"Asia/Tokyo"} ✓ 3 ms\n');
    expect(printer.finish()).toEqual({ reason: "stop", error: undefined });
  });

  it("dims reasoning and colours the tool outcome only when colour is on", () => {
    const { out, printer } = capture({ color: true });
    for (const event of toolRun) printer.handle(event);
    expect(out.stderr).toContain("\x1b[2mThe user wants the time.\x1b[22m");
    expect(out.stderr).toContain("\x1b[32m✓\x1b[39m");
    expect(out.stdout).toBe("It is 14:05.\n");
  });

  it("keeps stderr lines off a half-written answer line on a shared terminal", () => {
    const { out, printer } = capture({ sharedTerminal: true });
    printer.handle({ type: "token", ...base, text: "Let me check" });
    printer.handle({ type: "reasoning", ...base, text: "thinking" });
    printer.handle({ type: "token", ...base, text: "Done" });
    printer.finish();
    expect(out.stdout).toBe("Let me check\nDone\n");
    expect(out.stderr).toBe("thinking\n");
  });

  it("records the error event and prints it with its code", () => {
    const { out, printer } = capture();
    printer.handle({ type: "error", ...base, code: "model_not_found", message: "That model is not installed.", retryable: false });
    printer.handle({ type: "done", ...base, reason: "error", usage: emptyUsage() });
    expect(out.stderr).toBe("error: model_not_found — That model is not installed.\n");
    expect(printer.finish()).toEqual({ reason: "error", error: { code: "model_not_found", message: "That model is not installed." } });
  });

  it("writes one JSON line per event in json mode", () => {
    const { out, printer } = capture({ json: true });
    for (const event of toolRun) printer.handle(event);
    expect(out.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as unknown)).toEqual(toolRun);
    expect(out.stderr).toBe("");
  });

  it("formats a failed tool call with its error", () => {
    const line = formatToolLine(
      { name: "calculator", args: { expression: "1/" } },
      {
        type: "tool-result",
        ...base,
        callId: "k",
        name: "calculator",
        ok: false,
        error: { code: "tool_failed", message: "Unexpected end of expression" },
        durationMs: 0.6,
      },
    );
    expect(line).toBe('→ calculator {"expression":"1/"} ✗ tool_failed — Unexpected end of expression (1 ms)\n');
  });

  it("uses colour only on a TTY without NO_COLOR", () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
  });
});

describe("usage and context lines", () => {
  const usage = {
    ...emptyUsage(),
    promptTokens: 1234,
    completionTokens: 56,
    tokensPerSecond: 41.6,
    loadMs: 2300,
    context: { contextLength: 131_072, limitTokens: 32_768, promptTokens: 1234, promptTokensEstimated: false, completionTokens: 56, droppedMessages: 0, truncated: false },
  };

  it("formats tokens, load time, speed and how full the context is", () => {
    expect(formatUsage(usage)).toBe("1234 prompt + 56 answer tokens · model loaded in 2.3 s · 42 tok/s · context 1.3K of 32K (4%)");
    expect(formatUsage({ ...emptyUsage(), promptTokens: 3, completionTokens: 4 })).toBe("3 prompt + 4 answer tokens");
    expect(formatUsage({ ...usage, loadMs: null, tokensPerSecond: null, context: { ...usage.context, promptTokensEstimated: true, truncated: true } })).toBe(
      "1234 prompt + 56 answer tokens · context 1.3K of 32K (4%) est. · the server cut the prompt",
    );
  });

  it("always says when the model answers without tools it refused", () => {
    const refused: ChatEvent = { type: "status", ...base, phase: "thinking", message: '"gemma" does not support tools: answering without them.', unsupportedFeature: "tools" };
    const quiet = capture();
    quiet.printer.handle(refused);
    expect(quiet.out.stderr).toBe('("gemma" does not support tools: answering without them.)\n');
  });

  it("always says when older messages were left out; loading and usage lines only when asked", () => {
    const trimmed: ChatEvent = { type: "status", ...base, phase: "thinking", message: "2 older messages were left out to fit the context window.", contextTrimmed: { droppedMessages: 2 } };
    const loading: ChatEvent = { type: "status", ...base, phase: "loading-model", message: "Loading demo…" };
    const done: ChatEvent = { type: "done", ...base, reason: "stop", usage };
    const quiet = capture();
    for (const e of [trimmed, loading, done]) quiet.printer.handle(e);
    expect(quiet.out.stderr).toBe("(2 older messages were left out to fit the context window.)\n");
    const told = capture({ usage: true });
    for (const e of [trimmed, loading, done]) told.printer.handle(e);
    expect(told.out.stderr.split("\n")).toEqual([
      "(2 older messages were left out to fit the context window.)",
      "Loading demo…",
      formatUsage(usage),
      "",
    ]);
  });
});
