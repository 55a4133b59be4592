import type { AnyTool, ChatModel, EventOf, ThinkSetting } from "@streamchat/core";
import { isStoreError, type ChatStore, type RunRecord, type StoredEvent } from "@streamchat/store";
import { AppError, notFound, storeFailure } from "../errors.js";
import { ApprovalWaits, localDecisionSignal, type DecisionSignal } from "./approvals.js";
import { approveCall, type ApproveCallInput, type ApproveCallResult } from "./approve-call.js";
import { UnownedRunCancels } from "./cancel-unowned.js";
import { RunExecutor, type ToolsFor } from "./execute-run.js";
import { FailedRunCloser } from "./failed-run-closer.js";
import { localLiveness, type ReplicaLiveness } from "./liveness.js";
import { LiveRuns, whenRunEnded, type LiveRun } from "./live-runs.js";
import { withProviderName } from "./named-model.js";
import { OrphanSweeper, defaultRecoverySeqGap } from "./recovery.js";
import { embeddedRunStreams } from "./embedded-streams.js";
import type { RunHooks } from "./run-hooks.js";
import type { RunLimits } from "./run-limits.js";
import type { RunLog } from "./run-log.js";
import { endRunsForShutdown } from "./shutdown.js";
import { isSuspended } from "./suspend.js";
import { RunStarter, type ContinueInput, type EditInput, type LaunchContext, type RegenerateInput, type StartInput, type StartedRun } from "./start-run.js";
import type { RunControl, RunStreams, RunStreamsFactory } from "./run-streams.js";
import type { DirectSlot, RunEventStream } from "./subscribe.js";

export type { RunHooks } from "./run-hooks.js";
export type { RunLimits } from "./run-limits.js";
export type { RunLog } from "./run-log.js";
export type { StartInput, StartedRun } from "./start-run.js";
export type { RunControl } from "./run-streams.js";

/**
 * Why chat.cancel did not cancel a run: `ended`, it was not running any more (or ended while the cancel was on its way);
 * `unreachable`, it is running but no process took the cancel and it could not be closed as executing nowhere.
 */
export type CancelMissReason = "ended" | "unreachable";
/** chat.cancel's answer (RunManager.cancel). */
export type CancelOutcome = { cancelled: true } | { cancelled: false; reason: CancelMissReason };

const cancelTaken: CancelOutcome = { cancelled: true };
const notCancelled = (reason: CancelMissReason): CancelOutcome => ({ cancelled: false, reason });

/** What RunManager reports about its runs (metrics.ts counts them). All optional; none may throw. */
export interface RunObserver {
  started?(run: RunRecord): void;
  /** A run another process started (and left waiting for approval) continues here; `finished` follows as for a start. */
  resumed?(run: RunRecord): void;
  /** The run ended here: its `done` as followers got it (undefined when it never got one, e.g. stuck at shutdown). */
  finished?(run: RunRecord, done: EventOf<"done"> | undefined): void;
}

export interface RunManagerOptions {
  store: ChatStore;
  model: ChatModel;
  /** Provider name recorded with each run and announced in its run-start ("ollama", "openai", "sim"). */
  provider: string;
  defaultModel: string;
  limits: RunLimits;
  /** The tools a user's runs may call (search_conversations is per user, MCP servers per user's switches). */
  toolsFor: ToolsFor;
  log: RunLog;
  now?: () => number;
  /** Which API processes are alive; its replica id owns this process's runs. Default: one process per store. */
  liveness?: ReplicaLiveness;
  /**
   * How a run's events reach followers and control messages reach the run (the RunStreams seam). Default: embedded
   * (in-process), built from the three options below; a cluster passes the Redis implementation (cluster/).
   */
  streams?: RunStreamsFactory;
  /** Live events a subscriber may fall behind before it is switched to reading the log (default 1024; embedded). */
  subscriberQueueLimit?: number;
  /** Events read from the log at a time when replaying (default 256; embedded). */
  logPageSize?: number;
  /** How often a subscriber reads the log of a run executing in another process (default 250 ms; embedded). */
  remotePollMs?: number;
  /** Told about runs starting and ending (metrics). */
  observer?: RunObserver;
  /** Seqs skipped by the closing events of a run recovered after a crash (default 10 000). */
  recoverySeqGap?: number;
  /** First wait before closing a run again whose close failed in the store (doubles up to 5 s, default 1 s). */
  closeRetryMs?: number;
  /** How chat.approve's decisions reach the process running the run (default: in this process; approvals.ts). */
  decisionSignal?: DecisionSignal;
  /**
   * How often a waiting call also reads the store for its decision (another process may have taken it). Default:
   * every second when other processes share the store (PostgreSQL), never otherwise.
   */
  approvalPollMs?: number | null;
  /** Told about runs starting and ending and the messages they store (the conversation feed, titles). */
  hooks?: RunHooks;
  /**
   * How long chat.cancel waits for the periodic orphan sweeps (PostgreSQL) to judge the owner of a run no process took
   * the cancel for gone, before it answers not cancelled, `unreachable` (cancel-unowned.ts); sooner once the run's log
   * grows meanwhile. Default: eight sweep intervals (8 s).
   */
  unownedCancelWaitMs?: number;
}

export interface RunManagerStats {
  activeRuns: number;
  listeners: number;
  subscriptions: number;
  startedTotal: number;
}

/**
 * Owns this process's runs. The work is split by job, each in its own module:
 * - start-run.ts: starting runs (chat.send / regenerate / edit), with the database's invariants;
 * - execute-run.ts + run-events.ts: executing a run and writing its events (seqs owned by this process);
 * - subscribe.ts: following a run (log, then live; or the log of a run on another process);
 * - failed-run-closer.ts: ending runs whose store writes failed;
 * - recovery.ts + liveness.ts: closing runs of processes that are gone (at start-up, then periodically);
 * - cancel-unowned.ts: chat.cancel of a run that executes nowhere (suspended, or its process is gone);
 * - approvals.ts + approve-call.ts: calls waiting for a person's approval, and chat.approve deciding them;
 * - resume-run.ts + suspend.ts: runs that wait for approval outlive a shutdown and continue at the next start;
 * - shutdown.ts: ending runs when the process stops.
 */
export class RunManager {
  readonly replicaId: string;
  private readonly store: ChatStore;
  private readonly opts: RunManagerOptions;
  private readonly live = new LiveRuns();
  private readonly starter: RunStarter;
  private readonly executor: RunExecutor;
  private readonly closer: FailedRunCloser;
  private readonly sweeper: OrphanSweeper;
  private readonly unowned: UnownedRunCancels;
  private readonly streams: RunStreams;
  private readonly approvals: ApprovalWaits;
  private readonly decisionSignal: DecisionSignal;
  private readonly now: () => number;
  private accepting = true;
  /** Starts under way (between their first store call and the launch): shutdown waits for them. */
  private readonly starting = new Set<Promise<unknown>>();
  private startedTotal = 0;

  constructor(opts: RunManagerOptions) {
    this.opts = opts;
    this.store = opts.store;
    const now = opts.now ?? Date.now;
    this.now = now;
    const liveness = opts.liveness ?? localLiveness();
    this.replicaId = liveness.replicaId;
    this.decisionSignal = opts.decisionSignal ?? this.routedDecisionSignal();
    this.approvals = new ApprovalWaits({
      store: opts.store,
      signal: this.decisionSignal,
      pollMs: opts.approvalPollMs !== undefined ? opts.approvalPollMs : liveness.sweepIntervalMs === null ? null : 1000,
      log: opts.log,
    });
    const streams = (opts.streams ??
      embeddedRunStreams({
        ...(opts.subscriberQueueLimit === undefined ? {} : { queueLimit: opts.subscriberQueueLimit }),
        ...(opts.logPageSize === undefined ? {} : { pageSize: opts.logPageSize }),
        ...(opts.remotePollMs === undefined ? {} : { pollMs: opts.remotePollMs }),
      }))({
      store: opts.store,
      live: this.live,
      replicaId: this.replicaId,
      log: opts.log,
      onWriteFailure: (run, error) => this.executor.storeFailed(run, error),
      onControl: (runId, message) => this.handleControl(runId, message),
    });
    this.streams = streams;
    this.closer = new FailedRunCloser({
      store: opts.store,
      publish: (run, stored) => streams.publish(run, stored),
      log: opts.log,
      now,
      ...(opts.closeRetryMs === undefined ? {} : { retryMs: opts.closeRetryMs }),
      hooks: opts.hooks,
    });
    this.executor = new RunExecutor({
      store: opts.store,
      model: withProviderName(opts.model, opts.provider),
      limits: opts.limits,
      toolsFor: opts.toolsFor,
      approvals: this.approvals,
      events: streams,
      replicaId: this.replicaId,
      closer: this.closer,
      log: opts.log,
      now,
      ...(opts.hooks ? { hooks: opts.hooks } : {}),
    });
    this.starter = new RunStarter({
      store: opts.store,
      limits: opts.limits,
      defaultModel: opts.defaultModel,
      provider: opts.provider,
      replicaId: this.replicaId,
      launch: (record, think, context) => this.launch(record, think, context),
      ...(opts.hooks ? { hooks: opts.hooks } : {}),
    });
    this.unowned = new UnownedRunCancels({
      store: opts.store,
      liveness,
      streams,
      log: opts.log,
      now,
      hooks: opts.hooks,
      ...(opts.recoverySeqGap === undefined ? {} : { seqGap: opts.recoverySeqGap }),
      executesHere: (runId) => this.live.has(runId) || this.closer.isPending(runId),
      sweep: () => this.sweeper.sweep(),
      ...(opts.unownedCancelWaitMs === undefined ? {} : { judgeWithinMs: opts.unownedCancelWaitMs }),
      endedHere: (run, done) => this.opts.observer?.finished?.(run, done),
    });
    this.sweeper = new OrphanSweeper({
      store: opts.store,
      // The cancels of runs no process executes judge owners by what this sweep's checks found (cancel-unowned.ts).
      liveness: this.unowned.sweeperLiveness,
      log: opts.log,
      now,
      streams,
      // A run a cancel is judging or closing (cancel-unowned.ts) is that cancel's, as recovery's own closes are.
      isOwnedHere: (runId) => this.live.has(runId) || this.closer.isPending(runId) || this.unowned.holds(runId),
      hooks: opts.hooks,
      ...(opts.recoverySeqGap === undefined ? {} : { seqGap: opts.recoverySeqGap }),
      resume: (record, log, minSeq) => this.resume(record, log, minSeq),
    });
  }

  // ---- starting runs -------------------------------------------------------------------------

  /** Stores the user message and starts answering it; the same clientRequestId again returns the same run. */
  start(input: StartInput): Promise<StartedRun> {
    return this.guardedStart((starter) => starter.start(input));
  }

  /** Answers a question again as a new version of its answer (chat.regenerate). */
  regenerate(input: RegenerateInput): Promise<StartedRun> {
    return this.guardedStart((starter) => starter.regenerate(input));
  }

  /** Writes on from the cut-short answer at the end of a conversation, as a new version of it (chat.continue). */
  continue(input: ContinueInput): Promise<StartedRun> {
    return this.guardedStart((starter) => starter.continue(input));
  }

  /** Asks an edited user message as a new version of it, and answers it (chat.edit). */
  edit(input: EditInput): Promise<StartedRun> {
    return this.guardedStart((starter) => starter.edit(input));
  }

  private async guardedStart(work: (starter: RunStarter) => Promise<StartedRun>): Promise<StartedRun> {
    if (!this.accepting) throw new AppError("interrupted", "The server is shutting down; try again in a moment.");
    // Fails fast when the run's events could not reach its followers (Redis unreachable).
    this.streams.assertWritable();
    const started = work(this.starter);
    this.starting.add(started);
    try {
      return await started;
    } catch (error) {
      throw storeFailure(error) ?? error;
    } finally {
      this.starting.delete(started);
    }
  }

  private launch(record: RunRecord, think: ThinkSetting | undefined, context?: LaunchContext) {
    const live = this.live.add(record, think);
    this.startedTotal++;
    this.opts.observer?.started?.(record);
    this.opts.hooks?.runStarted?.(record, { continues: context?.continueAnswer !== undefined });
    // One reaction for both outcomes, not a catch and a finally: it stays with the run for as long as it executes.
    void this.executor.execute(live, context).then(
      () => this.executed(live),
      (err: unknown) => this.executed(live, err, "run failed outside the engine"),
    );
  }

  /**
   * Continues a run an earlier process left waiting for approval (recovery.ts found it and this process owns it now).
   * Its seqs continue past the log's end plus the recovery gap, and past `minSeq` (what its live stream may have
   * handed out): a process that died may have handed seqs to subscribers that never reached the log, and an id a
   * client saw must not name another event.
   */
  private resume(record: RunRecord, log: StoredEvent[], minSeq: number) {
    const live = this.live.add(record, undefined);
    live.seq = Math.max((log.at(-1)?.seq ?? 0) + (this.opts.recoverySeqGap ?? defaultRecoverySeqGap), minSeq - 1);
    this.approvals.expect(record.id);
    this.opts.observer?.resumed?.(record);
    void this.executor.execute(live, { log }).then(
      () => {
        this.approvals.forget(record.id);
        this.executed(live);
      },
      (err: unknown) => {
        this.approvals.forget(record.id);
        this.executed(live, err, "resumed run failed outside the engine");
      },
    );
  }

  /** A run's executor returned (or threw: `failure`, logged as `message`): the run ends here. */
  private executed(live: LiveRun, failure?: unknown, message?: string): void {
    if (message !== undefined) this.opts.log.error({ err: failure, runId: live.record.id }, message);
    this.live.end(live);
    this.observeEnd(live);
  }

  /** A run that stopped here, unless a shutdown suspended it: that one ends (and is counted) where it is continued. */
  private observeEnd(live: LiveRun): void {
    if (isSuspended(live)) {
      // It executes nowhere now: a cancel that comes before the next start (or another replica) continues it ends it here.
      this.unowned.stoppedWithoutEnd(live.record.id);
      return;
    }
    const last = live.lastPublished;
    this.opts.observer?.finished?.(live.record, last?.type === "done" ? last : undefined);
  }

  // ---- reading and controlling runs ----------------------------------------------------------

  /** The run when it belongs to the user; undefined otherwise (callers answer NOT_FOUND either way). */
  async getRunForUser(userId: string, runId: string): Promise<RunRecord | undefined> {
    // A run executing here is known without a store read (every chat.events of a fresh answer asks for it).
    const live = this.live.get(runId)?.record;
    if (live) return live.userId === userId ? live : undefined;
    const run = await this.store.getRun(runId);
    return run && run.userId === userId ? run : undefined;
  }

  /**
   * The last seq the run has sent, where this process can know it: a run executing here assigns its seqs here, and a
   * finished run's log ends with its done, above every seq it sent. Null for a run executing on another replica.
   */
  async lastSentSeq(run: RunRecord): Promise<number | null> {
    const live = this.live.get(run.id);
    if (live) return live.seq;
    return run.status === "done" ? this.store.lastSeq(run.id) : null;
  }

  /** The conversation's run executing in this process, if any (the store knows every process's: `activeRun`). */
  activeRunId(conversationId: string): string | null {
    return this.live.forConversation(conversationId)?.record.id ?? null;
  }

  /**
   * Aborts the user's run (the model request's socket closes), on whichever replica executes it. A run `running` in
   * the store that no process executes (suspended while it waits for approval, or its process is gone and recovery
   * has not closed it yet) is ended here as cancelled (cancel-unowned.ts). Not cancelled: `ended` when it already
   * ended (or its end is under way), `unreachable` when it executes where no control channel reaches (another live
   * process without a cluster channel) or could not be closed as executing nowhere (CancelOutcome).
   */
  async cancel(userId: string, runId: string): Promise<CancelOutcome> {
    let run: RunRecord | undefined;
    try {
      run = await this.getRunForUser(userId, runId);
    } catch (error) {
      // The database is unreachable: Stop still reaches a run executing on another replica when the live channel knows
      // whose run it is and where it executes (cluster mode). Otherwise (or when that replica did not take it: the
      // run ended, or moved to another replica since it started) the caller is told to try again.
      if (!isStoreError(error, "unavailable")) throw error;
      const live = await this.streams.liveOwnership(runId).catch(() => null);
      if (!live) throw error;
      if (live.userId !== userId) throw notFound("Run");
      if (await this.streams.control({ id: runId, owner: live.owner }, { type: "cancel" })) return cancelTaken;
      throw error;
    }
    if (!run) throw notFound("Run");
    if (run.status !== "running" && !this.live.has(runId)) return notCancelled("ended");
    if (await this.streams.control(run, { type: "cancel" })) return cancelTaken;
    return this.cancelUnowned(run);
  }

  /** No process took the cancel: the run may execute nowhere (cancel-unowned.ts), else why it was not cancelled. */
  private async cancelUnowned(run: RunRecord): Promise<CancelOutcome> {
    const live = this.live.get(run.id);
    // A shutdown is suspending it: it stops here without an end in a moment.
    if (live && isSuspended(live)) await whenRunEnded(live);
    // Live here past the end its record has already: it is only finishing.
    if (run.status !== "running") return notCancelled("ended");
    try {
      const unowned = await this.unowned.cancel(run);
      if (unowned === "closed") return cancelTaken;
      // A recovery (or a background close here) is closing it right now: its end is on its way.
      if (unowned === "closing-elsewhere") return notCancelled("ended");
      let current = await this.store.getRun(run.id);
      if (current?.status === "running" && current.owner !== run.owner) {
        // Taken over meanwhile (a recovery resumed it on a replica a control message may reach): its new owner is asked.
        if (await this.streams.control(current, { type: "cancel" })) return cancelTaken;
        current = await this.store.getRun(run.id);
      }
      return notCancelled(this.missReason(current));
    } catch (error) {
      throw storeFailure(error) ?? error;
    }
  }

  /**
   * Why a run that no process took the cancel for, and that could not be closed as executing nowhere, is not
   * cancelled, from its record read after those tries:
   * - `ended`: it is not running any more (its owner, a recovery or another cancel closed it meanwhile, or it is gone
   *   with its conversation); or it is this process's and ending here (an earlier Stop's abort, or a close after a
   *   store failure, is under way: its done is on its way).
   * - `unreachable`: it is running on another process no control message reached (no cluster channel, or out of its
   *   reach), or executes nowhere and its close could not start (the liveness's exclusion was out of reach).
   */
  private missReason(current: RunRecord | undefined): CancelMissReason {
    if (current?.status !== "running") return "ended";
    if (current.owner === this.replicaId && (this.live.has(current.id) || this.closer.isPending(current.id))) return "ended";
    return "unreachable";
  }

  /**
   * chat.approve's news "this call was decided": in this process, and, for a run recorded as executing on another
   * replica, over the control channel to it (cluster mode; embedded has no channel and the store polling carries it).
   * The decision is in the store already, so a lost message only delays it until the waiting side's next poll.
   */
  private routedDecisionSignal(): DecisionSignal {
    const local = localDecisionSignal();
    return {
      subscribe: (listener) => local.subscribe(listener),
      publish: async (decided) => {
        await local.publish(decided);
        if (!decided.owner || decided.owner === this.replicaId || this.live.has(decided.runId)) return;
        await this.streams.control({ id: decided.runId, owner: decided.owner }, { type: "approval", callId: decided.callId }).catch(
          (error: unknown) => this.opts.log.warn({ err: error, runId: decided.runId }, "could not signal an approval decision; the run's poll finds it"),
        );
      },
    };
  }

  /** A control message for a run executing here, from this replica or another (RunStreams delivers it). */
  private handleControl(runId: string, message: RunControl): boolean {
    const live = this.live.get(runId);
    if (!live) return false;
    switch (message.type) {
      case "cancel":
        if (live.controller.signal.aborted) return false;
        live.controller.abort(new Error("cancelled by the user"));
        return true;
      case "approval":
        // The decision is in the store already (chat.approve wrote it on whichever replica): the wait reads it now.
        return this.approvals.decided(runId, message.callId);
    }
  }

  /** Decides a call of the user's run that waits for approval (chat.approve; approve-call.ts). */
  /** `signal`: the caller's; once it aborts, the run is no longer followed for the answer (approve-call.ts). */
  async approve(userId: string, input: ApproveCallInput, signal?: AbortSignal): Promise<ApproveCallResult> {
    try {
      // Followed to learn what the run did with the decision (approve-call.ts).
      const follow = (runId: string, afterSeq: number, stop: AbortSignal) => this.streams.follow(runId, afterSeq, stop);
      return await approveCall({ store: this.store, signal: this.decisionSignal, now: this.now, follow, callerSignal: signal }, userId, input);
    } catch (error) {
      throw storeFailure(error) ?? error;
    }
  }

  /** Resolves when the run has ended (immediately when it is not running here). */
  whenEnded(runId: string): Promise<void> {
    const live = this.live.get(runId);
    return live ? whenRunEnded(live) : Promise.resolve();
  }

  /**
   * The run's events after `afterSeq`, each seq once and in order, to `done` (RunStreams.follow); `direct`: a reader
   * that takes events straight from the run while it is caught up (subscribe.ts).
   */
  subscribe(runId: string, afterSeq: number, signal?: AbortSignal, direct?: DirectSlot): RunEventStream {
    return this.streams.follow(runId, afterSeq, signal, direct);
  }

  /** The live channel between replicas: null without one (embedded); `ok` false while it is unreachable. */
  streamsHealth(): Promise<{ ok: boolean } | null> {
    return this.streams.health();
  }

  get streamsKind(): RunStreams["kind"] {
    return this.streams.kind;
  }

  stats(): RunManagerStats {
    return { ...this.live.stats(), subscriptions: this.streams.followers, startedTotal: this.startedTotal };
  }

  // ---- start-up and shutdown -----------------------------------------------------------------

  /**
   * Closes runs whose process is gone as interrupted (recovery.ts); resolves to how many it closed. Call before
   * serving; safe to repeat (idempotent, also after it failed half-way).
   */
  recoverInterrupted(): Promise<number> {
    return this.sweeper.sweep();
  }

  /** Looks for orphaned runs periodically from now on, when the liveness asks for it (PostgreSQL). */
  startRecovery(): void {
    this.sweeper.start();
  }

  /**
   * Stops accepting runs, lets running ones finish for up to `graceMs`, then aborts the rest and closes
   * them as interrupted.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.accepting = false;
    await Promise.allSettled([...this.starting]);
    await this.sweeper.stop();
    await endRunsForShutdown(this.live, graceMs, this.opts.log, this.approvals);
    // Cancels of runs that execute nowhere stop waiting for a verdict; the closes under way finish first.
    await this.unowned.stop();
    this.approvals.close();
    // Runs whose close failed in the store: one last attempt now, else a later recovery closes them.
    await this.closer.shutdown();
    // Followers of runs executing elsewhere end now (their clients resume on another replica).
    await this.streams.close();
  }
}
