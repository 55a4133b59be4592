import { randomUUID } from "node:crypto";
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
import type { ChatStore, Conversation, RunRecord, StoredEvent } from "@streamchat/store";
import type { Config } from "../config.js";
import { AppError, notFound } from "../errors.js";
import { closeRunFromLog, type RunEnding } from "./close-run.js";
import { buildContext, titleFrom } from "./context.js";
import { withProviderName } from "./named-model.js";
import { TokenCoalescer } from "./token-coalescer.js";

export interface RunLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type RunLimits = Pick<
  Config,
  | "systemPrompt"
  | "coalesceTokens"
  | "maxMessageChars"
  | "maxRunsPerUser"
  | "toolTimeoutMs"
  | "maxSteps"
  | "maxContextMessages"
  | "chatIdleTimeoutMs"
>;

export interface RunManagerOptions {
  store: ChatStore;
  model: ChatModel;
  /** Provider name recorded with each run and announced in its run-start ("ollama", "openai", "sim"). */
  provider: string;
  defaultModel: string;
  limits: RunLimits;
  /** The tools a user's runs may call (search_conversations is per user). */
  toolsFor: (userId: string) => AnyTool[];
  log: RunLog;
  now?: () => number;
  /** Live events a subscriber may fall behind before it is switched to reading the log (default 1024). */
  subscriberQueueLimit?: number;
  /** Events read from the log at a time when replaying (default 256). */
  logPageSize?: number;
  /** Seqs skipped by the closing events of a run recovered after a crash (default 10 000). */
  recoverySeqGap?: number;
  /** First wait before closing a run again whose close failed in the store (doubles, default 1 s). */
  closeRetryMs?: number;
}

/**
 * Seqs skipped when closing a run a crashed process left open. The store commits every ~25 ms or 256
 * events, so a crash loses at most a few hundred uncommitted events; this bound is far above that.
 */
const defaultRecoverySeqGap = 10_000;
const defaultCloseRetryMs = 1000;
/** Attempts to close a run after a store failure before leaving it to the next start's recovery (~17 min at 1 s). */
const closeAttempts = 10;

const interruptedEnding: RunEnding = { code: "interrupted", message: errorCodeMessages.interrupted, reason: "interrupted" };
const storeFailureEnding: RunEnding = { code: "internal", message: errorCodeMessages.internal, reason: "error" };
const defaultSubscriberQueueLimit = 1024;
const defaultLogPageSize = 256;

export interface StartInput {
  userId: string;
  conversationId?: string | undefined;
  message: string;
  model?: string | undefined;
  clientRequestId?: string | undefined;
  /** Ask the model to think first (reasoning events). A model without that capability fails the run (model_unsupported). */
  think?: boolean | undefined;
}

export interface StartedRun {
  conversationId: string;
  runId: string;
}

type Listener = (event: StoredEvent) => void;

/** A run executing in this process. */
interface LiveRun {
  record: RunRecord;
  controller: AbortController;
  listeners: Set<Listener>;
  /** Set after the last event: subscribers waiting for more stop waiting. */
  closed: boolean;
  wake: Set<() => void>;
  /** Aborted by shutdown, not by the user: ends as interrupted instead of cancelled. */
  interrupted: boolean;
  ended: Promise<void>;
  /** Sent as the model request's `think`; undefined leaves it to the model. */
  think: boolean | undefined;
  /** Highest seq handed to listeners, and the last event handed to them. */
  lastSeq: number;
  lastPublished: ChatEvent | undefined;
  /** A store write failed: the run is stopped and nothing more is written by the run loop. */
  storeFailed: boolean;
}

export interface RunManagerStats {
  activeRuns: number;
  listeners: number;
  subscriptions: number;
  startedTotal: number;
}

/**
 * Owns the runs: starts them in the background (independent of any connection), writes every event to
 * the store's log, fans events out to live subscribers, and closes runs on cancel, stall, shutdown and
 * after a crash.
 */
export class RunManager {
  private readonly store: ChatStore;
  private readonly model: ChatModel;
  private readonly opts: RunManagerOptions;
  private readonly now: () => number;
  private readonly live = new Map<string, LiveRun>();
  private accepting = true;
  /** Runs whose close failed in the store, with the timer of their next attempt. */
  private readonly pendingCloses = new Map<string, { timer: NodeJS.Timeout; retry: () => void }>();
  private subscriptions = 0;
  private startedTotal = 0;

  constructor(opts: RunManagerOptions) {
    this.opts = opts;
    this.store = opts.store;
    this.model = withProviderName(opts.model, opts.provider);
    this.now = opts.now ?? Date.now;
  }

  // ---- starting runs -------------------------------------------------------------------------

  /** Stores the user message and starts answering it. Synchronous up to the launch, so idempotency holds. */
  start(input: StartInput): StartedRun {
    this.assertAccepting();
    const message = this.validMessage(input.message);
    if (input.clientRequestId) {
      const existing = this.store.findRunByClientRequestId(input.userId, input.clientRequestId);
      if (existing) return { conversationId: existing.conversationId, runId: existing.id };
    }
    this.assertCapacity(input.userId);
    const conversation = input.conversationId
      ? this.ownConversation(input.userId, input.conversationId)
      : this.store.createConversation({ id: randomUUID(), userId: input.userId, title: titleFrom(message) });
    this.assertIdle(conversation.id);
    const record = this.createRun(conversation, input.userId, input.model, input.clientRequestId);
    this.beforeLaunch(record, () =>
      this.store.appendMessage({ conversationId: conversation.id, runId: record.id, message: { role: "user", content: message } }),
    );
    this.launch(record, input.think);
    return { conversationId: conversation.id, runId: record.id };
  }

  /** Answers the last user message again, dropping what came after it (chat.regenerate). */
  regenerate(input: { userId: string; conversationId: string; model?: string | undefined; think?: boolean | undefined }): StartedRun {
    this.assertAccepting();
    const conversation = this.ownConversation(input.userId, input.conversationId);
    this.assertIdle(conversation.id);
    this.assertCapacity(input.userId);
    const messages = this.store.listMessages(conversation.id);
    const lastUser = messages.findLastIndex((m) => m.message.role === "user");
    if (lastUser < 0) throw new AppError("bad_request", "The conversation has no message to answer.");
    const after = messages[lastUser + 1];
    if (after) this.store.deleteMessagesFrom(conversation.id, after.id);
    const record = this.createRun(conversation, input.userId, input.model, undefined);
    this.launch(record, input.think);
    return { conversationId: conversation.id, runId: record.id };
  }

  /** Replaces a user message, drops everything after it, and answers anew (chat.edit). */
  edit(input: {
    userId: string;
    conversationId: string;
    messageId: number;
    message: string;
    model?: string | undefined;
    think?: boolean | undefined;
  }): StartedRun {
    this.assertAccepting();
    const message = this.validMessage(input.message);
    const conversation = this.ownConversation(input.userId, input.conversationId);
    this.assertIdle(conversation.id);
    this.assertCapacity(input.userId);
    const target = this.store.listMessages(conversation.id).find((m) => m.id === input.messageId);
    if (!target || target.message.role !== "user") throw notFound("User message");
    this.store.deleteMessagesFrom(conversation.id, target.id);
    const record = this.createRun(conversation, input.userId, input.model, undefined);
    this.beforeLaunch(record, () =>
      this.store.appendMessage({ conversationId: conversation.id, runId: record.id, message: { role: "user", content: message } }),
    );
    this.launch(record, input.think);
    return { conversationId: conversation.id, runId: record.id };
  }

  private assertAccepting() {
    if (!this.accepting) throw new AppError("interrupted", "The server is shutting down; try again in a moment.");
  }

  private validMessage(message: string): string {
    if (message.trim() === "") throw new AppError("bad_request", "Message is required");
    if (message.length > this.opts.limits.maxMessageChars) {
      throw new AppError("bad_request", `Message is too long (at most ${this.opts.limits.maxMessageChars} characters).`);
    }
    return message;
  }

  private assertCapacity(userId: string) {
    let running = 0;
    for (const run of this.live.values()) if (run.record.userId === userId) running++;
    if (running >= this.opts.limits.maxRunsPerUser) {
      throw new AppError(
        "rate_limited",
        `Too many answers at once (at most ${this.opts.limits.maxRunsPerUser}). Wait for one to finish or stop it.`,
      );
    }
  }

  private ownConversation(userId: string, conversationId: string): Conversation {
    const conversation = this.store.getConversation(userId, conversationId);
    if (!conversation) throw notFound("Conversation");
    return conversation;
  }

  // Two runs answering the same conversation would interleave their histories.
  private assertIdle(conversationId: string) {
    for (const run of this.live.values()) {
      if (run.record.conversationId === conversationId) {
        throw new AppError(
          "bad_request",
          "This conversation is still answering. Wait for it or stop it first.",
          "CONFLICT",
        );
      }
    }
  }

  private createRun(conversation: Conversation, userId: string, model: string | undefined, clientRequestId: string | undefined) {
    return this.store.createRun({
      id: randomUUID(),
      conversationId: conversation.id,
      userId,
      model: model ?? this.opts.defaultModel,
      provider: this.opts.provider,
      clientRequestId: clientRequestId ?? null,
    });
  }

  /** Store work between creating a run and launching it: when it fails, the run is not left `running`. */
  private beforeLaunch(record: RunRecord, work: () => void) {
    try {
      work();
    } catch (error) {
      try {
        this.store.finishRun(record.id, { reason: "error", usage: null });
      } catch {
        // The store is failing: the next start's recovery closes the run.
      }
      throw error;
    }
  }

  private launch(record: RunRecord, think: boolean | undefined) {
    let resolveEnded!: () => void;
    const live: LiveRun = {
      record,
      controller: new AbortController(),
      listeners: new Set(),
      closed: false,
      wake: new Set(),
      interrupted: false,
      ended: new Promise<void>((resolve) => (resolveEnded = resolve)),
      think,
      lastSeq: 0,
      lastPublished: undefined,
      storeFailed: false,
    };
    this.live.set(record.id, live);
    this.startedTotal++;
    void this.execute(live)
      .catch((err: unknown) => this.opts.log.error({ err, runId: record.id }, "run failed outside the engine"))
      .finally(() => {
        live.closed = true;
        for (const wake of live.wake) wake();
        this.live.delete(record.id);
        resolveEnded();
      });
  }

  // ---- executing -----------------------------------------------------------------------------

  /** Appends the event to the log and hands it to live subscribers; throws what the store throws. */
  private emit(live: LiveRun, event: ChatEvent) {
    const seq = this.store.appendEvent(live.record.id, event);
    this.publish(live, { seq, event });
  }

  private publish(live: LiveRun, stored: StoredEvent) {
    live.lastSeq = Math.max(live.lastSeq, stored.seq);
    live.lastPublished = stored.event;
    for (const listener of live.listeners) listener(stored);
  }

  /**
   * A store write failed: stop the run (its model request is aborted) and write nothing more from the
   * run loop; closeAfterStoreFailure ends it. Never throws: it runs inside the coalescer's setImmediate too.
   */
  private storeFailed(live: LiveRun, error: unknown) {
    if (live.storeFailed) return;
    live.storeFailed = true;
    this.opts.log.error({ err: error, runId: live.record.id }, "storing the run failed; stopping it");
    live.controller.abort(new Error("the store failed"));
  }

  private async execute(live: LiveRun) {
    const { record } = live;
    const startedAt = this.now();
    let result: RunResult | undefined;
    let done: EventOf<"done"> | undefined;
    let tokens = 0;
    // Never throws: a store failure stops the run instead (also when the coalescer flushes on its own).
    const emit = (event: ChatEvent) => {
      if (live.storeFailed) return;
      try {
        this.emit(live, event);
      } catch (error) {
        this.storeFailed(live, error);
      }
    };
    const coalescer = this.opts.limits.coalesceTokens ? new TokenCoalescer(emit) : { push: emit, flush: () => {} };
    try {
      const context = buildContext(this.opts.limits.systemPrompt, this.store.listMessages(record.conversationId), {
        maxMessages: this.opts.limits.maxContextMessages,
      });
      const run = runChat({
        model: this.model,
        modelName: record.model,
        conversationId: record.conversationId,
        runId: record.id,
        messages: context,
        tools: this.opts.toolsFor(record.userId),
        maxSteps: this.opts.limits.maxSteps,
        toolTimeoutMs: this.opts.limits.toolTimeoutMs,
        // A model silent this long fails the run with provider_error and its request is aborted.
        idleTimeoutMs: this.opts.limits.chatIdleTimeoutMs,
        think: live.think,
        signal: live.controller.signal,
        now: this.now,
      });
      for (;;) {
        const step = await run.next();
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
      this.opts.log.error({ err, runId: record.id }, "run loop threw");
      live.controller.abort(new Error("the run loop failed"));
      coalescer.flush();
      emit(this.errorEvent(record.id, "internal", errorCodeMessages.internal));
      done = undefined;
      result = undefined;
    }
    if (live.storeFailed) {
      this.closeAfterStoreFailure(live);
      return;
    }
    done ??= {
      type: "done",
      runId: record.id,
      at: this.now(),
      reason: result?.reason ?? "error",
      usage: result?.usage ?? emptyUsage(),
    };
    try {
      if (live.interrupted && done.reason === "cancelled") {
        this.emit(live, this.errorEvent(record.id, "interrupted", "The server shut down while answering."));
        done = { ...done, reason: "interrupted" };
      }
      for (const message of result?.messages ?? []) {
        this.store.appendMessage({ conversationId: record.conversationId, runId: record.id, message });
      }
      this.emit(live, done);
      this.store.finishRun(record.id, { reason: done.reason, usage: done.usage });
    } catch (error) {
      this.storeFailed(live, error);
      this.closeAfterStoreFailure(live);
      return;
    }
    this.opts.log.info(
      {
        runId: record.id,
        model: record.model,
        ttftMs: done.usage.ttftMs,
        durationMs: done.usage.durationMs || this.now() - startedAt,
        tokens,
        completionTokens: done.usage.completionTokens,
        outcome: done.reason,
      },
      "run finished",
    );
  }

  /**
   * Ends a run whose store write failed: from its stored log (closeRunFromLog) with error{internal} +
   * done{error}. When the store still fails, subscribers watching get that end anyway (best effort, with
   * seqs past anything handed out: the log never reuses them) and the close is retried in the background,
   * else by the next start's recovery.
   */
  private closeAfterStoreFailure(live: LiveRun) {
    const { record } = live;
    try {
      closeRunFromLog(this.store, record, storeFailureEnding, {
        now: this.now,
        minSeq: this.nextSeqOf(live),
        publish: (stored) => this.publish(live, stored),
      });
      this.opts.log.warn({ runId: record.id }, "run closed with an internal error after a store failure");
    } catch (error) {
      this.opts.log.error({ err: error, runId: record.id }, "closing the run failed in the store; retrying in the background");
      const ended = live.lastPublished?.type === "done";
      if (!ended) {
        const erred = live.lastPublished?.type === "error" && live.lastPublished.code === storeFailureEnding.code;
        if (!erred) {
          const event = this.errorEvent(record.id, storeFailureEnding.code, storeFailureEnding.message);
          this.publish(live, { seq: this.nextSeqOf(live), event });
        }
        const usage = emptyUsage();
        const doneEvent: EventOf<"done"> = { type: "done", runId: record.id, at: this.now(), reason: storeFailureEnding.reason, usage };
        this.publish(live, { seq: this.nextSeqOf(live), event: doneEvent });
      }
      this.closeLater(record, live.lastSeq + 1, 1);
    }
  }

  /** A seq after every one the store or the listeners have seen for this run. */
  private nextSeqOf(live: LiveRun): number {
    let stored = 0;
    try {
      stored = this.store.lastSeq(live.record.id);
    } catch {
      // the store is failing; what the listeners saw is all we know
    }
    return Math.max(live.lastSeq, stored) + 1;
  }

  private closeLater(record: RunRecord, minSeq: number, attempt: number) {
    if (!this.accepting) {
      this.opts.log.error({ runId: record.id }, "shutting down: the next start's recovery closes the run");
      return;
    }
    const retry = () => {
      this.pendingCloses.delete(record.id);
      try {
        closeRunFromLog(this.store, record, storeFailureEnding, { now: this.now, minSeq });
        this.opts.log.warn({ runId: record.id, attempt }, "run closed with an internal error after a store failure");
      } catch (error) {
        if (attempt < closeAttempts) this.closeLater(record, minSeq, attempt + 1);
        else this.opts.log.error({ err: error, runId: record.id }, "closing the run failed; the next start's recovery closes it");
      }
    };
    const delay = (this.opts.closeRetryMs ?? defaultCloseRetryMs) * 2 ** (attempt - 1);
    const timer = setTimeout(retry, delay);
    timer.unref();
    this.pendingCloses.set(record.id, { timer, retry });
  }

  private errorEvent(runId: string, code: EventOf<"error">["code"], message: string): EventOf<"error"> {
    return { type: "error", runId, at: this.now(), code, message, retryable: isRetryable(code) };
  }

  // ---- reading and controlling runs ----------------------------------------------------------

  /** The run when it belongs to the user; undefined otherwise (callers answer NOT_FOUND either way). */
  getRunForUser(userId: string, runId: string): RunRecord | undefined {
    const run = this.store.getRun(runId);
    return run && run.userId === userId ? run : undefined;
  }

  /** The conversation's run executing now, if any. */
  activeRunId(conversationId: string): string | null {
    for (const run of this.live.values()) if (run.record.conversationId === conversationId) return run.record.id;
    return null;
  }

  /** Aborts the user's run (the model request's socket closes). False when it already ended. */
  cancel(userId: string, runId: string): boolean {
    if (!this.getRunForUser(userId, runId)) throw notFound("Run");
    const live = this.live.get(runId);
    if (!live || live.controller.signal.aborted) return false;
    live.controller.abort(new Error("cancelled by the user"));
    return true;
  }

  /** Resolves when the run has ended (immediately when it is not running here). */
  whenEnded(runId: string): Promise<void> {
    return this.live.get(runId)?.ended ?? Promise.resolve();
  }

  /**
   * The run's events after `afterSeq`: the stored log, then live events, each seq exactly once and in
   * order; ends after `done` or when `signal` aborts.
   *
   * Memory per subscriber is bounded whatever the reader does: the log is read in pages, and a subscriber
   * that falls more than `subscriberQueueLimit` live events behind (a client that stopped reading while
   * the run keeps writing) drops its queue and catches up from the log instead of buffering the run.
   */
  async *subscribe(runId: string, afterSeq: number, signal?: AbortSignal): AsyncGenerator<StoredEvent, void, void> {
    const live = this.live.get(runId);
    const queueLimit = this.opts.subscriberQueueLimit ?? defaultSubscriberQueueLimit;
    const pageSize = this.opts.logPageSize ?? defaultLogPageSize;
    const queue: StoredEvent[] = [];
    let lagging = false;
    let wake: (() => void) | null = null;
    const wakeUp = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const listener: Listener = (event) => {
      if (lagging) return;
      if (queue.length >= queueLimit) {
        lagging = true;
        queue.length = 0;
      } else {
        queue.push(event);
      }
      wakeUp();
    };
    // Listen before reading the log: an event appended in between is then in the queue, the log, or
    // both (deduplicated by seq), never in neither.
    live?.listeners.add(listener);
    live?.wake.add(wakeUp);
    signal?.addEventListener("abort", wakeUp);
    this.subscriptions++;
    try {
      let last = afterSeq;
      let fromLog = true;
      /** A queued event after a gap, for which the log has since been read to its end. */
      let gapChecked: number | undefined;
      while (!signal?.aborted) {
        if (fromLog || lagging) {
          // Queue again before reading: whatever is appended after this read lands in the queue.
          lagging = false;
          const page = this.store.readEvents(runId, last, pageSize);
          for (const stored of page) {
            if (signal?.aborted) return;
            if (stored.seq <= last) continue;
            yield stored;
            last = stored.seq;
            if (stored.event.type === "done") return;
          }
          // A full page: there may be more in the log. Otherwise live events take over (if the run is live).
          fromLog = page.length === pageSize;
          if (!fromLog && !live) return;
          continue;
        }
        const next = queue[0];
        if (next) {
          if (next.seq <= last) {
            queue.shift();
            continue;
          }
          // Never skip an event: what is missing before it is in the log (every event is in the log before it
          // is queued). Only when the log, read after this event was queued, has nothing more before it is
          // the gap real (seqs skipped on purpose, or the end of a run the store failed to keep).
          if (next.seq !== last + 1 && gapChecked !== next.seq) {
            gapChecked = next.seq;
            fromLog = true;
            continue;
          }
          queue.shift();
          yield next;
          last = next.seq;
          if (next.event.type === "done") return;
        } else if (live?.closed) {
          // The run ended; its done may have been dropped from an overflowing queue.
          if (this.store.readEvents(runId, last, 1).length === 0) return;
          fromLog = true;
        } else {
          await new Promise<void>((resolve) => (wake = resolve));
        }
      }
    } finally {
      live?.listeners.delete(listener);
      live?.wake.delete(wakeUp);
      signal?.removeEventListener("abort", wakeUp);
      this.subscriptions--;
    }
  }

  stats(): RunManagerStats {
    let listeners = 0;
    for (const run of this.live.values()) listeners += run.listeners.size;
    return { activeRuns: this.live.size, listeners, subscriptions: this.subscriptions, startedTotal: this.startedTotal };
  }

  // ---- start-up and shutdown -----------------------------------------------------------------

  /**
   * Closes runs a previous process left `running` (it crashed or was killed): keeps what they had
   * streamed, answers their unanswered tool calls, then appends error{interrupted} + done{interrupted}.
   * Call once, before serving. Safe to repeat after it failed half-way (closeRunFromLog is idempotent);
   * a run the store refuses to close is logged and left for the next start.
   */
  recoverInterrupted(): number {
    let closed = 0;
    for (const run of this.store.listRunningRuns()) {
      if (this.live.has(run.id) || this.pendingCloses.has(run.id)) continue;
      try {
        // The crash lost the log's uncommitted tail, which live subscribers may have seen: the closing
        // events skip past those seqs so a client resuming from the last id it saw still gets the end.
        const outcome = closeRunFromLog(this.store, run, interruptedEnding, {
          now: this.now,
          seqGap: this.opts.recoverySeqGap ?? defaultRecoverySeqGap,
        });
        if (outcome === "closed") closed++;
      } catch (error) {
        this.opts.log.error({ err: error, runId: run.id }, "could not close a run left running; the next start retries");
      }
    }
    return closed;
  }

  /**
   * Stops accepting runs, lets running ones finish for up to `graceMs`, then aborts the rest and closes
   * them as interrupted.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.accepting = false;
    // Runs whose close failed in the store: one last attempt now, else the next start closes them.
    for (const { timer, retry } of [...this.pendingCloses.values()]) {
      clearTimeout(timer);
      retry();
    }
    const allEnded = () => Promise.all([...this.live.values()].map((run) => run.ended));
    if (this.live.size === 0) return;
    await raceTimeout(allEnded(), graceMs);
    for (const run of this.live.values()) {
      run.interrupted = true;
      run.controller.abort(new Error("server shutting down"));
    }
    // Aborted runs end within a moment; a run stuck anyway is closed by recoverInterrupted next start.
    await raceTimeout(allEnded(), 5000);
    if (this.live.size > 0) this.opts.log.warn({ runs: [...this.live.keys()] }, "runs still open at shutdown");
  }
}

async function raceTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
