import type { ChatEvent, DoneReason, EventOf } from "@streamchat/core";
import { shorten } from "./shorten.js";

export interface Output {
  write(text: string): unknown;
}

export interface PrinterOptions {
  stdout: Output;
  stderr: Output;
  /** NDJSON on stdout instead of text. */
  json: boolean;
  /** ANSI styling on stderr (only when it is a TTY and NO_COLOR is unset). */
  color: boolean;
  /** Both streams go to the same terminal: keep stderr lines off a half-written stdout line. */
  sharedTerminal: boolean;
  /** "Loading <model>…" and a usage line after the answer, on stderr. */
  usage?: boolean;
}

/** What a finished run means for the exit code. */
export interface RunOutcome {
  reason: DoneReason | undefined;
  error: { code: string; message: string } | undefined;
}

const style = (on: boolean, open: string, close: string) => (text: string) => (on ? `${open}${text}${close}` : text);

export function colorEnabled(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  // https://no-color.org: any non-empty NO_COLOR disables colour.
  return stream.isTTY === true && !env.NO_COLOR;
}

function formatArgs(args: unknown): string {
  const json = JSON.stringify(args);
  if (json === undefined || json === "{}") return "";
  return ` ${shorten(json, 200)}`;
}

export function formatToolLine(
  call: Pick<EventOf<"tool-call">, "name" | "args"> | undefined,
  result: EventOf<"tool-result">,
  color = false,
): string {
  const dim = style(color, "\x1b[2m", "\x1b[22m");
  const args = call ? formatArgs(call.args) : "";
  const ms = dim(`${Math.round(result.durationMs)} ms`);
  const outcome = result.ok
    ? `${style(color, "\x1b[32m", "\x1b[39m")("✓")} ${ms}`
    : `${style(color, "\x1b[31m", "\x1b[39m")("✗")} ${result.error ? `${result.error.code} — ${result.error.message} ` : ""}(${ms})`;
  return `→ ${result.name}${args} ${outcome}\n`;
}

/** "12 prompt + 40 answer tokens · 38 tok/s · context 1.2K of 32K (4%)". */
export function formatUsage(usage: EventOf<"done">["usage"]): string {
  const parts = [`${usage.promptTokens} prompt + ${usage.completionTokens} answer tokens`];
  if (usage.loadMs !== null && usage.loadMs >= 1000) parts.push(`model loaded in ${(usage.loadMs / 1000).toFixed(1)} s`);
  if (usage.tokensPerSecond !== null) parts.push(`${Math.round(usage.tokensPerSecond)} tok/s`);
  const context = usage.context;
  if (context?.limitTokens !== undefined) {
    const used = context.promptTokens + context.completionTokens;
    const percent = Math.min(100, Math.round((used / context.limitTokens) * 100));
    parts.push(`context ${compact(used)} of ${compact(context.limitTokens)} (${percent}%)${context.promptTokensEstimated ? " est." : ""}`);
  }
  if (context?.truncated) parts.push("the server cut the prompt");
  return parts.join(" · ");
}

/** Windows as people write them (32768 → "32K"); other counts to one decimal (1234 → "1.2K"). */
function compact(tokens: number): string {
  if (tokens >= 1024 && tokens % 1024 === 0) return `${tokens / 1024}K`;
  return tokens >= 1000 ? `${(tokens / 1000).toFixed(1).replace(/\.0$/, "")}K` : String(tokens);
}

export function formatError(code: string, message: string): string {
  return `error: ${code} — ${message}\n`;
}

/** Writes a run's events: the answer to stdout as it arrives, everything else to stderr. */
export class EventPrinter {
  private readonly opts: PrinterOptions;
  private readonly dim: (text: string) => string;
  private readonly calls = new Map<string, EventOf<"tool-call">>();
  /** stdout / stderr hold a line without its newline yet. */
  private stdoutOpen = false;
  private stderrOpen = false;
  private outcome: RunOutcome = { reason: undefined, error: undefined };

  constructor(opts: PrinterOptions) {
    this.opts = opts;
    this.dim = style(opts.color, "\x1b[2m", "\x1b[22m");
  }

  handle(event: ChatEvent): void {
    if (event.type === "error") this.outcome.error = { code: event.code, message: event.message };
    if (event.type === "done") this.outcome.reason = event.reason;
    if (this.opts.json) {
      this.opts.stdout.write(`${JSON.stringify(event)}\n`);
      if (event.type === "error") this.opts.stderr.write(formatError(event.code, event.message));
      return;
    }
    switch (event.type) {
      case "status":
        // Left-out history and left-out tools are always said: an answer that forgot the start of the conversation, or
        // that could not use a tool it was asked to, should not surprise.
        if (event.contextTrimmed || event.unsupportedFeature) this.stderrLine(this.dim(`(${event.message})`) + "\n");
        else if (event.phase === "loading-model" && this.opts.usage) this.stderrLine(this.dim(event.message) + "\n");
        break;
      case "run-start":
      // The approval prompt is the CLI's (issue 15); a denial still prints as the call's tool-result line.
      case "approval-request":
      case "approval-result":
        break;
      case "reasoning":
        this.toStderr(this.dim(event.text), event.text);
        break;
      case "token":
        this.toStdout(event.text);
        break;
      case "tool-call":
        this.calls.set(event.callId, event);
        break;
      case "tool-result":
        this.stderrLine(formatToolLine(this.calls.get(event.callId), event, this.opts.color));
        break;
      case "error":
        this.stderrLine(formatError(event.code, event.message));
        break;
      case "done":
        this.finish();
        if (this.opts.usage && event.reason !== "error") this.stderrLine(this.dim(formatUsage(event.usage)) + "\n");
        break;
      default: {
        const exhaustive: never = event;
        return exhaustive;
      }
    }
  }

  /** Ends half-written lines (after done, or when the run stopped early). */
  finish(): RunOutcome {
    if (this.stdoutOpen) this.opts.stdout.write("\n");
    if (this.stderrOpen) this.opts.stderr.write("\n");
    this.stdoutOpen = this.stderrOpen = false;
    return this.outcome;
  }

  private toStdout(text: string): void {
    if (!text) return;
    if (this.stderrOpen && this.opts.sharedTerminal) {
      this.opts.stderr.write("\n");
      this.stderrOpen = false;
    }
    this.opts.stdout.write(text);
    this.stdoutOpen = !text.endsWith("\n");
  }

  private toStderr(styled: string, plain: string): void {
    if (!plain) return;
    if (this.stdoutOpen && this.opts.sharedTerminal) {
      this.opts.stdout.write("\n");
      this.stdoutOpen = false;
    }
    this.opts.stderr.write(styled);
    this.stderrOpen = !plain.endsWith("\n");
  }

  private stderrLine(line: string): void {
    if (this.stderrOpen) {
      this.opts.stderr.write("\n");
      this.stderrOpen = false;
    }
    this.toStderr(line, line);
  }
}
