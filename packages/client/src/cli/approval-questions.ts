import type { EventOf } from "@streamchat/core";
import type { ChatClient } from "../client.js";
import { approvalConflictWords, toChatClientError } from "../errors.js";
import { askApproval, type NextLine } from "./approval-prompt.js";
import type { Output } from "./printer.js";

export interface ApprovalQuestionsOptions {
  client: ChatClient;
  nextLine: NextLine;
  stderr: Output;
  autoDeny: boolean;
  /** Input comes from a terminal, which echoes the answer typed (piped input is not shown). */
  inputEchoed: boolean;
  /** How long a question waits for its answer; undefined: until the run decides otherwise (a terminal). */
  waitMs?: number | undefined;
  /** The answer's signal (Ctrl-C): gives every question up. */
  signal: AbortSignal;
}

/**
 * The y/N questions of one answer's approval requests, asked one at a time while the run's stream is read on: a
 * decision another client makes first (its approval-result) ends the question instead of leaving it waiting for
 * input that no longer matters. A decision that cannot be sent aborts `failed` (the run would wait for it until it
 * expires), with the error in `failure`.
 */
export class ApprovalQuestions {
  private readonly open = new Map<string, { controller: AbortController; shown: boolean }>();
  private chain: Promise<void> = Promise.resolve();
  private readonly failedController = new AbortController();
  /** Aborted when a decision could not be sent. */
  readonly failed = this.failedController.signal;
  failure: unknown;

  constructor(private readonly opts: ApprovalQuestionsOptions) {}

  /** An approval-request of the run: asked once the questions before it are answered. */
  request(request: EventOf<"approval-request">): void {
    const question = { controller: new AbortController(), shown: false };
    this.open.set(request.callId, question);
    const signal = AbortSignal.any([this.opts.signal, question.controller.signal]);
    this.chain = this.chain.then(async () => {
      if (signal.aborted) return;
      question.shown = true;
      try {
        await this.decide(request, signal);
      } catch (error) {
        this.failure ??= error;
        this.failedController.abort();
      }
    });
  }

  /** An approval-result of the run: a question still open for it was decided elsewhere (or ran out of time). */
  result(result: EventOf<"approval-result">): void {
    const question = this.open.get(result.callId);
    if (!question) return;
    this.open.delete(result.callId);
    question.controller.abort();
    // Said at the end of the open question's line, or on a line of its own for a question not asked yet.
    const decided = result.timedOut ? "not decided in time" : result.approved ? "approved elsewhere" : "denied elsewhere";
    this.opts.stderr.write(`${question.shown ? "\n" : ""}(${result.name}: ${decided})\n`);
  }

  /** Waits for the questions asked so far (and their decisions being sent). */
  settled(): Promise<void> {
    return this.chain;
  }

  /** The answer ended early (Ctrl-C, the connection lost): every question is given up; an open one's line ends. */
  async giveUp(): Promise<void> {
    if ([...this.open.values()].some((q) => q.shown)) this.opts.stderr.write("\n");
    for (const question of this.open.values()) question.controller.abort();
    await this.chain;
  }

  /** Asks the person (or denies with --auto-deny) and sends the decision; one made elsewhere first is reported. */
  private async decide(request: EventOf<"approval-request">, signal: AbortSignal): Promise<void> {
    const { client, nextLine, stderr, autoDeny, inputEchoed, waitMs } = this.opts;
    const answer = await askApproval(request, { autoDeny, nextLine, stderr, signal, inputEchoed, waitMs });
    if (signal.aborted) return;
    // Answered here: an approval-result that follows is this decision's, not one made elsewhere.
    this.open.delete(request.callId);
    try {
      await client.approve(request.runId, request.callId, answer.approved, { reason: answer.reason });
    } catch (error) {
      const failure = toChatClientError(error);
      // Another client (or the timeout) decided first: the run goes on with that decision. Said as a decision made
      // elsewhere is; a server that does not say which (older than `conflict`) leaves its own sentence.
      if (failure.trpcCode !== "CONFLICT") throw error;
      stderr.write(failure.conflict === undefined ? `(${failure.message})\n` : `(${request.name}: ${approvalConflictWords[failure.conflict]})\n`);
    }
  }
}
