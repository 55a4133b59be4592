import type { EventOf } from "@streamchat/core";
import type { Output } from "./printer.js";
import { shorten } from "./shorten.js";

/** Lines a person types, one at a time; undefined once input has ended, or when `signal` aborts first. */
export type NextLine = (signal?: AbortSignal) => Promise<string | undefined>;

export interface ApprovalAnswer {
  approved: boolean;
  reason?: string;
}

function shownArgs(args: unknown): string {
  return shorten(JSON.stringify(args) ?? "", 500);
}

/** The question asked on stderr: the tool, where it comes from, and the exact arguments it would run with. */
export function approvalQuestion(request: EventOf<"approval-request">): string {
  const from = request.source === "builtin" ? "built-in tool" : `MCP server "${request.source}"`;
  const about = request.description ? `\n  ${request.description}` : "";
  return `? The model wants to run ${request.name} (${from}) with ${shownArgs(request.args)}${about}\n  Approve? [y/N] `;
}

/** Only an explicit yes approves: a tool with side effects must never run on a stray Enter. */
export function isYes(answer: string | undefined): boolean {
  return answer !== undefined && /^\s*(y|yes)\s*$/i.test(answer);
}

/** How long a question waits for its answer on an input that is no terminal (a pipe), by default. */
export const pipedAnswerWaitMs = 10_000;

/** "10 s", "1.5 s", "300 ms". */
function duration(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${ms} ms`;
}

/**
 * Decides an approval request at the terminal: denied at once with `autoDeny`, else asked as a y/N question.
 * The end of input denies (a script piping a question in cannot approve by accident); so does Ctrl-C, and a decision
 * made elsewhere first (`signal`: the caller then sends nothing). `waitMs` bounds the wait for the answer (input that
 * is no terminal: a program that runs chat with a pipe it never writes to must not wait for the run's approval timeout).
 */
export async function askApproval(
  request: EventOf<"approval-request">,
  opts: { autoDeny: boolean; nextLine: NextLine; stderr: Output; signal: AbortSignal; inputEchoed: boolean; waitMs?: number | undefined },
): Promise<ApprovalAnswer> {
  if (opts.autoDeny) {
    opts.stderr.write(`→ ${request.name}: denied (--auto-deny)\n`);
    return { approved: false, reason: "denied automatically (--auto-deny)" };
  }
  opts.stderr.write(approvalQuestion(request));
  const waited = new AbortController();
  const timer = opts.waitMs === undefined ? undefined : setTimeout(() => waited.abort(), opts.waitMs);
  // Given up when `signal` aborts: the line typed next is not taken as this answer.
  const answer = await opts.nextLine(AbortSignal.any([opts.signal, waited.signal])).finally(() => clearTimeout(timer));
  if (waited.signal.aborted && !opts.signal.aborted) {
    opts.stderr.write(`\n(no answer within ${duration(opts.waitMs!)} on input that is no terminal: denied — pipe the answer in, or pass --auto-deny)\n`);
    return { approved: false, reason: "no answer in time (chat's input is no terminal)" };
  }
  // A terminal shows the answer typed and its Enter; a piped answer, or the end of input, leaves the question's line
  // open. Whoever aborted `signal` says why on it.
  if (answer === undefined ? !opts.signal.aborted : !opts.inputEchoed) opts.stderr.write("\n");
  return isYes(answer) ? { approved: true } : { approved: false };
}
