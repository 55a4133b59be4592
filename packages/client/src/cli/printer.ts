import type { ChatEvent, DoneReason, EventOf } from "@streamchat/core";

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
  return ` ${json.length > 200 ? `${json.slice(0, 199)}…` : json}`;
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
      case "run-start":
      case "status":
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
