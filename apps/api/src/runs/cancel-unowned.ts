import { errorCodeMessages, type EventOf, type RunEnding } from "@streamchat/core";
import type { ChatStore, RunRecord, StoredEvent } from "@streamchat/store";
import { closeRunFromLog } from "./close-run.js";
import type { ReplicaLiveness } from "./liveness.js";
import { defaultRecoverySeqGap } from "./recovery.js";
import type { RunHooks } from "./run-hooks.js";
import type { RunLog } from "./run-log.js";
import type { RunStreams } from "./run-streams.js";

/** How a cancel ends a run: `done{cancelled}` (no error event: closeRunFromLog's `errorEvent: false`), calls cut short answered `cancelled`. */
export const cancelledEnding: RunEnding = { code: "cancelled", message: errorCodeMessages.cancelled, reason: "cancelled" };

/** First wait before closing again a run whose close failed in the store (doubles up to `maxRetryMs`). */
const firstRetryMs = 1000;
const maxRetryMs = 30_000;

/**
 * What a cancel of a run no process took the cancel for did: `closed` it (ended as cancelled); found another closer
 * at it right now (`closing-elsewhere`: a recovery or a background close holds the run's exclusion, its end is on its
 * way); or `left` it: its owner may be executing it, it was closed or taken over meanwhile, or the liveness was out of
 * reach (the caller reads the run again to tell which).
 */
export type UnownedCancelResult = "closed" | "closing-elsewhere" | "left";

export interface UnownedCancelsOptions {
  store: ChatStore;
  /** This process's liveness, as recovery gets it: who is gone, and the per-run exclusion runs are closed under. */
  liveness: ReplicaLiveness;
  /** Where followers on any replica see the closing events, and what they may have seen already (recovery's). */
  streams: Pick<RunStreams, "lastSeenSeq" | "publishClosing" | "takePendingEnd">;
  log: RunLog;
  now: () => number;
  /** Told of the messages and the end the close stores (the conversation feed). */
  hooks?: RunHooks | undefined;
  /** Seqs skipped past the log's end (recovery's gap: the owner may have handed out a tail the log never got). */
  seqGap?: number;
  /** The run executes in this process right now (live, or being closed after a store failure): not ours to close. */
  executesHere: (runId: string) => boolean;
  /**
   * One orphan sweep (OrphanSweeper.sweep on `sweeperLiveness`). With periodic sweeps (PostgreSQL) it is what asks the
   * liveness about owners, so that a cancel judges an owner exactly as recovery does.
   */
  sweep: () => Promise<unknown>;
  /**
   * How long a cancel waits for the sweeps to judge the run's owner gone, when they are periodic (PostgreSQL confirms a
   * death over checks 2.5 s apart, the first one up to a sweep after it). Default: eight sweep intervals (8 s). Then it
   * answers as before (not cancelled); sooner when the run's log grows meanwhile (a live process executes it).
   */
  judgeWithinMs?: number;
  /** A run this process stopped without an end (suspended) was closed here: it ends here (metrics count it). */
  endedHere?: (run: RunRecord, done: EventOf<"done">) => void;
}

/**
 * chat.cancel for a run that is `running` in the store while no process executes it: suspended by a graceful
 * shutdown while it waits for approval (its owner stopped, or is this process), or left by a process that is gone
 * and not yet closed or taken over by recovery. The cancel ends it itself, as a cancel of a live run ends: its log
 * gets `done{cancelled}`, its answer so far is stored, calls without a result (one waiting for approval too) are
 * answered `cancelled`.
 *
 * Whose runs it may close is recovery's decision (recovery.ts): a run of another owner only once the liveness reports
 * that owner gone, in this process's sweep (with periodic sweeps, the cancel waits for them to judge, and holds the run
 * back from this process's recovery meanwhile); a run of this process only when it stopped here without an end. And it
 * closes as recovery takes a run over: under the liveness's per-run exclusion, after re-reading the run, with the
 * store's compare-and-set claim (ChatStore.claimRun), so a recovery or a resume elsewhere and the cancel never both act.
 * A run taken by someone else meanwhile is left to them (the caller answers as before).
 */
export class UnownedRunCancels {
  /** The liveness to sweep with: every verdict recovery gets is remembered here, for the cancels to decide alike. */
  readonly sweeperLiveness: ReplicaLiveness;
  /** Runs owned by this process that execute nowhere: suspended here, or claimed by a cancel whose close failed. */
  private readonly stoppedHere = new Map<string, "suspended" | "claimed">();
  /** Failed closes per run claimed here (the background retries slow down). */
  private readonly attempts = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<UnownedCancelResult>>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private readonly wakeWaits = new Set<() => void>();
  /** Owners the last sweep's check found gone. */
  private deadAtLastCheck: ReadonlySet<string | null> = new Set();
  private stopped = false;

  constructor(private readonly opts: UnownedCancelsOptions) {
    const { liveness } = opts;
    this.sweeperLiveness = {
      replicaId: liveness.replicaId,
      sweepIntervalMs: liveness.sweepIntervalMs,
      deadOwners: async (owners) => {
        const dead = await liveness.deadOwners(owners);
        this.deadAtLastCheck = new Set(dead);
        return dead;
      },
      exclusive: (runId, work) => liveness.exclusive(runId, work),
      close: () => liveness.close(),
    };
  }

  /** The run stopped in this process without an end (a shutdown suspended it): it executes nowhere now. */
  stoppedWithoutEnd(runId: string): void {
    this.stoppedHere.set(runId, "suspended");
  }

  /** A cancel is judging or closing the run: this process's recovery leaves it alone meanwhile. */
  holds(runId: string): boolean {
    return this.inFlight.has(runId) || this.retries.has(runId);
  }

  /**
   * Ends the run as cancelled when no process executes it; `closed` when this call (or one under way for the same run)
   * closed it (UnownedCancelResult). Throws what the store throws while closing (the run stays claimed here, and is
   * closed again in the background).
   */
  cancel(run: RunRecord): Promise<UnownedCancelResult> {
    let pending = this.inFlight.get(run.id);
    if (!pending) {
      const started = this.judgeAndClose(run).finally(() => {
        if (this.inFlight.get(run.id) === started) this.inFlight.delete(run.id);
      });
      pending = started;
      this.inFlight.set(run.id, pending);
    }
    return pending;
  }

  /** Ends waits for a verdict (they answer `left`) and background retries; waits for closes under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.wakeWaits) wake();
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private async judgeAndClose(run: RunRecord): Promise<UnownedCancelResult> {
    if (!(await this.executesNowhere(run))) return "left";
    return this.close(run);
  }

  /** Recovery's rule for whose runs may be closed, plus this process's own runs it knows stopped without an end. */
  private async executesNowhere(run: RunRecord): Promise<boolean> {
    const { liveness, executesHere } = this.opts;
    if (executesHere(run.id)) return false;
    if (run.owner === liveness.replicaId) return this.stoppedHere.has(run.id);
    // One process per store (SQLite, memory): every other owner is a previous process; asking keeps no state.
    if (liveness.sweepIntervalMs === null) return (await liveness.deadOwners(new Set([run.owner]))).has(run.owner);
    return this.judgedGone(run, liveness.sweepIntervalMs);
  }

  /**
   * Periodic sweeps (PostgreSQL): the liveness confirms a death over consecutive checks of every owner, so asking it
   * here about this one owner would restart that count for the others. The sweeps ask (one is started now, joining one
   * under way), and the cancel waits for their verdict on the run's owner, a bounded time.
   *
   * The liveness reports owners gone, never one seen alive, so its verdicts alone hold a cancel on a live owner that
   * no control message reached (its control channel cut off, Redis out of this process's reach) for the whole bound.
   * The run's log tells sooner: while it grows, a live process is committing its events, and the run is not this
   * cancel's to close. (A run that writes nothing meanwhile, waiting for approval or for its model's first token,
   * still waits out the bound: ending that early needs the liveness to report owners seen holding their lock.)
   */
  private async judgedGone(run: RunRecord, intervalMs: number): Promise<boolean> {
    const { store, executesHere, sweep } = this.opts;
    // Real time: the liveness judges in real time.
    const deadline = Date.now() + (this.opts.judgeWithinMs ?? 8 * intervalMs);
    // The durable log, not the live stream: only a live process commits to it (a Redis coming back could show a
    // dead owner's uncommitted tail as news).
    const loggedAtStart = await store.lastSeq(run.id);
    for (;;) {
      if (this.deadAtLastCheck.has(run.owner)) return true;
      if (this.stopped || Date.now() >= deadline) return false;
      await sweep().catch(() => {}); // a failed sweep is logged by recovery; it judged nobody
      if (this.deadAtLastCheck.has(run.owner)) return true;
      await this.pause(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
      const current = await store.getRun(run.id);
      // Ended, or taken over by another process (it resumed the run): the caller asks its current owner.
      if (current?.status !== "running" || current.owner !== run.owner || executesHere(run.id)) return false;
      // Executing somewhere no control message reached (the caller answers as before, not cancelled): no verdict to
      // wait for. A closer elsewhere writes events too, and then the run is not this cancel's either.
      if ((await store.lastSeq(run.id)) > loggedAtStart) return false;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeWaits.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeWaits.add(done);
    });
  }

  /** `closed` when this call closed the run. */
  private async close(run: RunRecord): Promise<UnownedCancelResult> {
    const { store, liveness, streams, log, executesHere } = this.opts;
    let closed = false;
    let entered = false;
    const locked = liveness.exclusive(run.id, async () => {
      entered = true;
      // Closed, or taken over (a recovery resumed it elsewhere), between the cancel's read and the lock.
      const current = await store.getRun(run.id);
      if (current?.status !== "running" || current.owner !== run.owner || executesHere(run.id)) return;
      const suspendedHere = current.owner === liveness.replicaId && this.stoppedHere.get(current.id) === "suspended";
      if (!(await store.claimRun(current.id, { from: current.owner, to: liveness.replicaId }))) return;
      const claimed: RunRecord = { ...current, owner: liveness.replicaId };
      // Ours now, executing nowhere: nobody else closes it while this process lives, so a failed close is retried here.
      if (!suspendedHere) this.stoppedHere.set(claimed.id, "claimed");
      let done: EventOf<"done"> | undefined;
      try {
        // Followers may have seen events the durable log never got (the live stream is written first): go above them.
        const seen = await streams.lastSeenSeq(claimed.id);
        const { outcome } = await closeRunFromLog(store, claimed, cancelledEnding, {
          now: this.opts.now,
          seqGap: this.opts.seqGap ?? defaultRecoverySeqGap,
          minSeq: seen + 1,
          hooks: this.opts.hooks,
          errorEvent: false,
          publish: (stored: StoredEvent) => {
            if (stored.event.type === "done") done = stored.event;
            streams.publishClosing(claimed.id, stored).catch((error: unknown) => {
              log.warn({ err: error, runId: claimed.id }, "could not publish a closing event; followers find it in the log");
            });
          },
        });
        // "finished": its log had ended already (only the status was stale), not by this cancel.
        closed = outcome === "closed";
      } catch (error) {
        log.error({ err: error, runId: claimed.id }, "cancelling a run no process executes failed in the store; retrying in the background");
        const attempt = (this.attempts.get(claimed.id) ?? 0) + 1;
        this.attempts.set(claimed.id, attempt);
        this.retryLater(claimed, attempt);
        throw error;
      }
      this.stoppedHere.delete(claimed.id);
      this.attempts.delete(claimed.id);
      clearTimeout(this.retries.get(claimed.id));
      this.retries.delete(claimed.id);
      // Announced just now: a mark its owner left (it died while committing a done) must not announce it again.
      await streams.takePendingEnd(claimed.id).catch(() => {});
      log.info({ runId: claimed.id, previousOwner: current.owner }, "cancelled a run no process executes");
      if (suspendedHere && done) this.opts.endedHere?.(claimed, done);
    });
    let ran: boolean;
    try {
      ran = await locked;
    } catch (error) {
      // The lock could not be asked for (the liveness connection is down): nobody can be judged now, as in a sweep.
      if (entered) throw error;
      log.warn({ err: error, runId: run.id }, "could not take a run no process executes to cancel it");
      return "left";
    }
    // Another process (or a close here) holds the run's exclusion: it is closing the run right now.
    if (!ran) return "closing-elsewhere";
    return closed ? "closed" : "left";
  }

  /** Closes again a run this process claimed and could not close: never given up while the process lives. */
  private retryLater(run: RunRecord, attempt: number): void {
    if (this.stopped || this.retries.has(run.id)) return;
    const delay = Math.min(firstRetryMs * 2 ** Math.min(attempt - 1, 20), maxRetryMs);
    const timer = setTimeout(() => {
      this.retries.delete(run.id);
      this.cancel(run).catch(() => {
        // Logged by close, which scheduled the next attempt.
      });
    }, delay);
    timer.unref();
    this.retries.set(run.id, timer);
  }
}
