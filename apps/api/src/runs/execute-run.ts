import {
  emptyUsage,
  errorCodeMessages,
  isRetryable,
  runChat,
  type AnyTool,
  type ChatEvent,
  type ChatModel,
  type EventOf,
  type RunResult,
} from "@streamchat/core";
import type { ChatStore } from "@streamchat/store";
import { buildContext } from "./context.js";
import type { FailedRunCloser } from "./failed-run-closer.js";
import type { LiveRun } from "./live-runs.js";
import type { RunHooks } from "./run-hooks.js";
import type { RunStreams } from "./run-streams.js";
import type { RunLimits } from "./run-limits.js";
import type { RunLog } from "./run-log.js";
import { TokenCoalescer } from "./token-coalescer.js";

export interface RunExecutorOptions {
  store: ChatStore;
  model: ChatModel;
  limits: RunLimits;
  toolsFor: (userId: string) => AnyTool[];
  /** The run's events: appended, committed and published through the RunStreams seam. */
  events: Pick<RunStreams, "append" | "commitDone" | "publish">;
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
 */
export class RunExecutor {
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

  async execute(run: LiveRun): Promise<void> {
    const { record } = run;
    const { store, limits, events, log } = this.opts;
    const startedAt = this.opts.now();
    let result: RunResult | undefined;
    let done: EventOf<"done"> | undefined;
    let tokens = 0;
    // Never throws: a store failure stops the run instead (also when the coalescer flushes on its own).
    const emit = (event: ChatEvent) => events.append(run, event);
    const coalescer = limits.coalesceTokens ? new TokenCoalescer(emit) : { push: emit, flush: () => {} };
    try {
      const history = await store.listMessages(record.conversationId);
      const chat = runChat({
        model: this.opts.model,
        modelName: record.model,
        conversationId: record.conversationId,
        runId: record.id,
        messages: buildContext(limits.systemPrompt, history, { maxMessages: limits.maxContextMessages }),
        tools: this.opts.toolsFor(record.userId),
        maxSteps: limits.maxSteps,
        toolTimeoutMs: limits.toolTimeoutMs,
        // A model silent this long fails the run with provider_error and its request is aborted.
        idleTimeoutMs: limits.chatIdleTimeoutMs,
        think: run.think,
        signal: run.controller.signal,
        now: this.opts.now,
      });
      for (;;) {
        const step = await chat.next();
        if (step.done) {
          result = step.value;
          break;
        }
        // `done` is held back until the produced messages are stored: a client that sees `done` and
        // reloads the conversation must find the answer there.
        if (step.value.type === "done") done = step.value;
        else {
          if (step.value.type === "token") tokens++;
          coalescer.push(step.value);
        }
      }
      coalescer.flush();
    } catch (err) {
      // runChat reports failures as events; reaching here is a bug (or the store failed reading the
      // history), still closed properly: the model request is stopped and the run ends with internal.
      log.error({ err, runId: record.id }, "run loop threw");
      run.controller.abort(new Error("the run loop failed"));
      coalescer.flush();
      emit(this.errorEvent(record.id, "internal", errorCodeMessages.internal));
      done = undefined;
      result = undefined;
    }
    if (run.storeFailed) {
      await this.opts.closer.close(run);
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
      for (const message of result?.messages ?? []) {
        const stored = await store.appendMessage({ conversationId: record.conversationId, runId: record.id, message });
        this.opts.hooks?.messageAdded?.(record.userId, stored);
      }
      if (run.storeFailed) throw new Error("an event batch of the run failed");
      const stored = await events.commitDone(run, done);
      await store.finishRun(record.id, { reason: done.reason, usage: done.usage });
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
  }

  private errorEvent(runId: string, code: EventOf<"error">["code"], message: string): EventOf<"error"> {
    return { type: "error", runId, at: this.opts.now(), code, message, retryable: isRetryable(code) };
  }
}
