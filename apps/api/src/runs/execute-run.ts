import {
  emptyUsage,
  errorCodeMessages,
  isRetryable,
  runChat,
  runSnapshotOf,
  splitUnopenedReasoning,
  type AnyTool,
  type ApprovalDecision,
  type ChatEvent,
  type ChatModel,
  type EventOf,
  type RunResult,
} from "@streamchat/core";
import type { ChatStore, StoredEvent } from "@streamchat/store";
import { keepPreviousAnswer } from "./answer-versions.js";
import { decisionOf, type ApprovalWaits } from "./approvals.js";
import { buildContext } from "./context.js";
import type { FailedRunCloser } from "./failed-run-closer.js";
import type { LiveRun } from "./live-runs.js";
import type { RunHooks } from "./run-hooks.js";
import type { RunStreams } from "./run-streams.js";
import type { RunLimits } from "./run-limits.js";
import type { RunLog } from "./run-log.js";
import { interruptedResults } from "./resume-run.js";
import type { LaunchContext } from "./start-run.js";
import { isSuspended } from "./suspend.js";
import { TokenCoalescer } from "./token-coalescer.js";

/** The tools a user's runs may call; a resumed run may wait for tools still starting (MCP servers after a restart). */
export type ToolsFor = (userId: string, opts?: { resumed?: boolean }) => AnyTool[] | Promise<AnyTool[]>;

export interface RunExecutorOptions {
  store: ChatStore;
  model: ChatModel;
  limits: RunLimits;
  toolsFor: ToolsFor;
  /** The `approve` hooks of runs (calls of tools that need a person's approval wait on them). */
  approvals: ApprovalWaits;
  /** The run's events: appended, committed and published through the RunStreams seam. */
  events: Pick<RunStreams, "append" | "appendCommitted" | "commitDone" | "publish">;
  /** This process's replica id, in the run's log line. */
  replicaId: string;
  closer: FailedRunCloser;
  log: RunLog;
  now: () => number;
  hooks?: RunHooks;
}

/**
 * Executing one run: the engine's run loop over the stored conversation, every event to the log and to live
 * subscribers (RunEvents), the produced messages stored, then `done` — committed, the run marked finished, and only
 * then handed to subscribers: a client that sees `done` finds the answer stored and the conversation free.
 *
 * A store write that fails (a batch of events rejected for good, a message not stored) stops the run: its model
 * request is aborted, the run loop writes nothing more, and FailedRunCloser ends it (error{internal} + done{error}).
 *
 * A run suspended by a shutdown while it waits for approval (suspend.ts) stops without an end: what the run loop
 * yields after the suspension is not logged, nothing is stored, the run stays `running`. `resume` continues such a run
 * in a later process from its log (resume-run.ts).
 */
export class RunExecutor {
  /** The models whose answers were seen with their reasoning left open in the text (warned once each). */
  private readonly reasoningLeftOpen = new Set<string>();

  constructor(private readonly opts: RunExecutorOptions) {}

  /**
   * A store write failed: stop the run (its model request is aborted) and write nothing more from the run loop;
   * `execute` then hands it to the closer. Never throws: it runs from a batch promise's handler too. A failure
   * reported after the run's `done` was committed (an older batch) changes nothing.
   */
  storeFailed(run: LiveRun, error: unknown): void {
    if (run.storeFailed || run.committedDone) return;
    run.storeFailed = true;
    this.opts.log.error({ err: error, runId: run.record.id }, "storing the run failed; stopping it");
    run.controller.abort(new Error("the store failed"));
  }

  /** `from.log`: a suspended run resumed from its log. Otherwise what its starter knew (LaunchContext). */
  async execute(run: LiveRun, from?: { log: readonly StoredEvent[] } | LaunchContext): Promise<void> {
    const resume = from && "log" in from ? from : undefined;
    const launched = from && !("log" in from) ? from : undefined;
    const { record } = run;
    const { store, limits, events, log } = this.opts;
    const startedAt = this.opts.now();
    let result: RunResult | undefined;
    let done: EventOf<"done"> | undefined;
    let tokens = 0;
    // Never throws: a store failure stops the run instead (also when the coalescer flushes on its own).
    const emit = (event: ChatEvent) => events.append(run, event);
    const coalescer = limits.coalesceTokens ? new TokenCoalescer(emit) : { push: emit, flush: () => {} };
    let suspendedAt: number | undefined;
    /** An event of the run's story, in order: to the log and its followers (coalesced), unless the run is suspended. */
    const forward = (event: ChatEvent): void => {
      // Suspended: what the run loop says from now on (its cancel) is not the run's story; the next start goes on.
      if (isSuspended(run)) {
        if (suspendedAt === undefined) {
          suspendedAt = run.seq;
          coalescer.flush();
        }
        return;
      }
      if (event.type === "token") tokens++;
      coalescer.push(event);
    };
    try {
      // Read while the history and the tools are (on PostgreSQL a round trip of its own); its failure, if the reads
      // before it fail first, has no one else to go to.
      const settingsRead = store.getRunSettings(record.userId, record.conversationId);
      settingsRead.catch(() => undefined);
      // The active path only: other branches (earlier versions) are not the model's context.
      const history = launched?.history ?? (await store.activePath(record.conversationId));
      const tools = await this.opts.toolsFor(record.userId, { resumed: resume !== undefined });
      const settings = await settingsRead;
      let resumeFrom: ChatEvent[] | undefined;
      let decided: Map<string, ApprovalDecision> | undefined;
      if (resume) {
        const logged = resume.log.map((stored) => stored.event);
        const answered = interruptedResults(logged, record.id, this.opts.now());
        for (const result of answered) emit(result);
        resumeFrom = [...logged, ...answered];
        decided = await storedDecisions(store, record.id, logged);
      }
      const chat = runChat({
        model: this.opts.model,
        modelName: record.model,
        conversationId: record.conversationId,
        runId: record.id,
        messages: buildContext(limits.systemPrompt, history, settings),
        // The conversation's sampling as it is when the run starts (a change meanwhile is for the next answer).
        sampling: settings.sampling,
        maxContextMessages: limits.maxContextMessages,
        maxContextTokens: limits.maxContextTokens,
        ...(limits.keepAlive === undefined ? {} : { keepAlive: limits.keepAlive }),
        tools,
        maxSteps: limits.maxSteps,
        toolTimeoutMs: limits.toolTimeoutMs,
        // A model silent this long fails the run with provider_error and its request is aborted.
        idleTimeoutMs: limits.chatIdleTimeoutMs,
        // A model the server loads first may be silent longer (a big model from a slow disk).
        loadTimeoutMs: limits.chatLoadTimeoutMs,
        loadTimeoutName: "CHAT_LOAD_TIMEOUT_MS",
        ...(limits.chatMaxAnswerTokens === undefined ? {} : { maxAnswerTokens: limits.chatMaxAnswerTokens }),
        think: run.think,
        approve: this.opts.approvals.hookFor(record.id, decided),
        approvalTimeoutMs: limits.toolApprovalTimeoutMs,
        ...(resumeFrom ? { resume: { events: resumeFrom } } : {}),
        ...(launched?.continueAnswer ? { continueAnswer: launched.continueAnswer, continuedToolResults: launched.continuedToolResults ?? [] } : {}),
        signal: run.controller.signal,
        now: this.opts.now,
        // The answer's tokens come as they arrive, not through the generator: one step less per model chunk.
        onStreamEvent: forward,
      });
      for (;;) {
        const step = await chat.next();
        if (step.done) {
          result = step.value;
          break;
        }
        // A round's later approval requests may come after the shutdown suspended the run (it did so once the first
        // one waited, while this was on its way): they are the run's story all the same, and the next start asks them
        // again only if they are in the log (a call without one would be answered as interrupted, never asked).
        const asksApproval = step.value.type === "approval-request";
        if (isSuspended(run) && !asksApproval) {
          forward(step.value);
          continue;
        }
        // `done` is held back until the produced messages are stored: a client that sees `done` and
        // reloads the conversation must find the answer there.
        if (step.value.type === "done") done = step.value;
        else if (asksApproval || step.value.type === "approval-result") {
          // Durable before anyone sees it: the pause must survive a crash once a person may act on it, and the
          // decision taken is what chat.approve answers (approve-call.ts), so a crash must not take it back.
          coalescer.flush();
          await events.appendCommitted(run, step.value);
        } else {
          forward(step.value);
        }
      }
      coalescer.flush();
    } catch (err) {
      // runChat reports failures as events; reaching here is a bug (or the store failed reading the
      // history), still closed properly: the model request is stopped and the run ends with internal.
      log.error({ err, runId: record.id }, "run loop threw");
      run.controller.abort(new Error("the run loop failed"));
      coalescer.flush();
      if (!isSuspended(run)) emit(this.errorEvent(record.id, "internal", errorCodeMessages.internal));
      done = undefined;
      result = undefined;
    }
    if (run.storeFailed) {
      await this.opts.closer.close(run);
      return;
    }
    if (isSuspended(run)) {
      log.info({ runId: record.id, lastSeq: suspendedAt ?? run.seq }, "run suspended while it waits for approval");
      return;
    }
    done ??= {
      type: "done",
      runId: record.id,
      at: this.opts.now(),
      reason: result?.reason ?? "error",
      usage: result?.usage ?? emptyUsage(),
    };
    try {
      if (run.interrupted && done.reason === "cancelled") {
        emit(this.errorEvent(record.id, "interrupted", "The server shut down while answering."));
        done = { ...done, reason: "interrupted" };
      }
      const messages = result?.messages ?? [];
      if (messages.length === 0) await keepPreviousAnswer(store, record.conversationId, launched?.previousHead);
      if (run.storeFailed) throw new Error("an event batch of the run failed");
      // The answer is stored with the done, which also marks the run finished: subscribers get the done after all
      // of it is committed, and a client that then reloads the conversation finds the answer.
      const { messages: added, ...stored } = await events.commitDone(run, done, messages);
      for (const message of added) this.opts.hooks?.messageAdded?.(record.userId, message);
      events.publish(run, stored);
      this.opts.hooks?.runFinished?.(record, stored.event);
    } catch (error) {
      this.storeFailed(run, error);
      run.storeFailed = true; // also after `done` was committed: the closer finishes the job
      await this.opts.closer.close(run);
      return;
    }
    log.info(
      {
        runId: record.id,
        replicaId: this.opts.replicaId,
        model: record.model,
        ttftMs: done.usage.ttftMs,
        durationMs: done.usage.durationMs || this.opts.now() - startedAt,
        tokens,
        completionTokens: done.usage.completionTokens,
        outcome: done.reason,
      },
      "run finished",
    );
    this.warnIfReasoningLeftOpen(record, result?.messages);
  }

  /**
   * A model whose template opens its reasoning block in the prompt, on a server that leaves reasoning in the text,
   * sends "…reasoning</think>answer": the reasoning streamed as the answer (core's splitUnopenedReasoning). Only the
   * server can be set up to separate it, so whoever runs it is told, once per model and process.
   */
  private warnIfReasoningLeftOpen(record: LiveRun["record"], messages: RunResult["messages"] | undefined): void {
    if (messages === undefined || this.reasoningLeftOpen.has(record.model)) return;
    for (const message of messages) {
      if (message.role !== "assistant" || message.thinking) continue;
      const close = splitUnopenedReasoning(message.content)?.marker;
      if (close === undefined) continue;
      this.reasoningLeftOpen.add(record.model);
      this.opts.log.warn(
        { runId: record.id, model: record.model, marker: close },
        "the model's answer holds its reasoning: a closing marker without an opening one, so the chat template opened the block and the model server did not separate it; start the server with its reasoning parser (vLLM: --reasoning-parser, llama.cpp: --reasoning-format)",
      );
      return;
    }
  }

  private errorEvent(runId: string, code: EventOf<"error">["code"], message: string): EventOf<"error"> {
    return { type: "error", runId, at: this.opts.now(), code, message, retryable: isRetryable(code) };
  }
}

/** The decisions stored for the calls a resumed run's log leaves waiting (made while no process ran it). */
async function storedDecisions(store: ChatStore, runId: string, logged: readonly ChatEvent[]): Promise<Map<string, ApprovalDecision>> {
  const decided = new Map<string, ApprovalDecision>();
  for (const call of runSnapshotOf(logged).waitingForApproval) {
    const record = await store.getApprovalDecision(runId, call.id);
    if (record) decided.set(call.id, decisionOf(record));
  }
  return decided;
}
