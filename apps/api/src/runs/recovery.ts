import { interruptedEnding } from "@streamchat/core";
import type { ChatStore, RunRecord, StoredEvent } from "@streamchat/store";
import { closeRunFromLog } from "./close-run.js";
import type { ReplicaLiveness } from "./liveness.js";
import { takeoverStatus, waitingLog } from "./resume-run.js";
import type { RunHooks } from "./run-hooks.js";
import type { RunLog } from "./run-log.js";
import type { PendingEnd, RunStreams } from "./run-streams.js";

/**
 * Seqs skipped when closing a run a dead process left open. The store commits every ~25 ms or 256 events (and
 * holds a batch at most while it retries), so a crash loses at most a few hundred uncommitted events that
 * subscribers may have seen; this bound is far above that.
 */
export const defaultRecoverySeqGap = 10_000;

/** A pending-end mark of a run this store does not know is dropped after this long (see announceEnd). */
const staleMarkMs = 3_600_000;

/**
 * Without periodic sweeps (SQLite, memory), how long after a pass that left runs open (the store refused to close
 * them: a full disk, a lock) the next one tries: doubling up to `maxRetryMs`, until a pass closes them all.
 */
const defaultRetryMs = 1000;
const maxRetryMs = 30_000;

export interface OrphanSweeperOptions {
  store: ChatStore;
  liveness: ReplicaLiveness;
  log: RunLog;
  now: () => number;
  /**
   * Where followers on any replica see the closing events (and what they may have seen already), and which ends their
   * owners may not have announced.
   */
  streams: Pick<RunStreams, "lastSeenSeq" | "publishClosing" | "pendingEnds" | "takePendingEnd">;
  /** Runs this process is executing or closing itself: never orphans. */
  isOwnedHere: (runId: string) => boolean;
  seqGap?: number;
  /**
   * Continues an orphan that waits for a person's approval, in this process (which now owns it): its record and its
   * log, and the lowest seq its next event may take (above anything a follower may have seen, and above the status
   * recovery committed for it: takeoverStatus). Without it such runs are closed like the others.
   */
  resume?: (run: RunRecord, log: StoredEvent[], minSeq: number) => void;
  /** Told of the messages and the end closing stores (the conversation feed). */
  hooks?: RunHooks | undefined;
  /** First wait before sweeping again after a pass left runs open, when the liveness has no sweep interval. */
  retryMs?: number;
}

/**
 * Closes orphaned runs: runs left `running` by a process that is gone (it crashed or was killed). Keeps what they
 * had streamed, answers their unanswered tool calls, then appends error{interrupted} + done{interrupted}, with seqs
 * past the log's end plus a gap (the crash lost the log's uncommitted tail, which live subscribers may have seen: a
 * client resuming from the last id it saw still gets the end).
 *
 * Which owners are gone is the liveness's call (liveness.ts): on SQLite every previous process, once at start-up; on
 * PostgreSQL a process whose advisory lock can be taken, checked at start-up and then every `sweepIntervalMs`, so a
 * crashed process's runs are closed by a live one within seconds. Closing is idempotent and exclusive across
 * processes; a run the store refuses to close is logged and left for the next sweep (or start).
 *
 * An orphan whose log ends waiting for a person's approval is not closed: a person may still decide, after a
 * restart too. This process takes it over (claimRun: exactly one process does) and continues it (`resume`). Unless a
 * close of it began (some of its answer is stored: a process died closing it): that close is completed, never
 * continued, or the answer would be stored twice (waitingLog).
 *
 * A process can also die after committing a run's `done` (which marks the run finished) and before announcing it:
 * publishing it to the followers on other replicas and telling the conversation feed. Such a run is not running, so
 * nothing above finds it; its owner marked it beforehand (RunStreams.pendingEnds), and the sweep announces the ends a
 * dead owner left marked: the log's done to the followers, `runFinished` to the hooks (the feed) — once, the mark
 * being taken under the run's exclusive lock.
 */
export class OrphanSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  /** The last sweep failed (logged once per outage, not every second). */
  private failing = false;
  private stopped = false;
  /** Runs (and ends) the last pass could not close (or announce): they wait for the next pass. */
  private leftOpen = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: OrphanSweeperOptions) {}

  /** One pass; resolves to the number of runs it closed. A pass already under way is joined, not repeated. */
  sweep(): Promise<number> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * Sweeps every `liveness.sweepIntervalMs` until `stop()`. Without an interval (one process per store: nobody else can
   * die meanwhile), only while the last pass left runs open: nothing else would ever close them before the next start,
   * and their conversations would refuse every new message meanwhile.
   */
  start(): void {
    const interval = this.opts.liveness.sweepIntervalMs;
    if (this.timer !== undefined || this.retryTimer !== undefined || this.stopped) return;
    if (interval === null) {
      this.retryLater(this.opts.retryMs ?? defaultRetryMs);
      return;
    }
    this.timer = setInterval(() => void this.sweepAndReport(), interval);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.timer = undefined;
    this.retryTimer = undefined;
    await this.running?.catch(() => {});
  }

  /** One pass, its outcome logged; true when it left nothing open. */
  private sweepAndReport(): Promise<boolean> {
    return this.sweep().then(
      (closed) => {
        if (this.failing) this.opts.log.info({}, "orphan sweep works again");
        this.failing = false;
        if (closed > 0) this.opts.log.warn({ runs: closed }, "closed runs of a process that is gone as interrupted");
        return this.leftOpen === 0;
      },
      (error: unknown) => {
        if (!this.failing) this.opts.log.error({ err: error }, "looking for orphaned runs failed; retrying");
        this.failing = true;
        return false;
      },
    );
  }

  /** Sweeps again in `delayMs` while passes leave runs open (no sweep interval). */
  private retryLater(delayMs: number): void {
    if (this.leftOpen === 0 || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.sweepAndReport().then((done) => {
        if (!done) this.retryLater(Math.min(delayMs * 2, Math.max(delayMs, maxRetryMs)));
      });
    }, delayMs);
    this.retryTimer.unref();
  }

  private async pass(): Promise<number> {
    const { store, liveness } = this.opts;
    // The owners first (a few ids), the runs only of the owners that are gone: a sweep every second must not read
    // every running run of every replica.
    const owners = new Set((await store.runningOwners()).filter((owner) => owner !== liveness.replicaId));
    const pendingEnds = (await this.pendingEnds()).filter((end) => end.owner !== liveness.replicaId);
    for (const end of pendingEnds) owners.add(end.owner);
    // One call with every owner: the liveness confirms a death over consecutive calls.
    const dead = owners.size === 0 ? new Set<string | null>() : await liveness.deadOwners(owners);
    if (dead.size === 0) {
      this.leftOpen = 0;
      return 0;
    }
    const candidates: RunRecord[] = [];
    for (const owner of dead) {
      // Runs started before owners were recorded have none: only the full list finds them.
      const runs = owner === null ? (await store.listRunningRuns()).filter((run) => run.owner === null) : await store.listRunningRuns({ owner });
      candidates.push(...runs.filter((run) => !this.opts.isOwnedHere(run.id)));
    }
    let closed = 0;
    let leftOpen = 0;
    for (const run of candidates) {
      if (this.stopped) continue;
      try {
        if (await this.close(run)) closed++;
      } catch (error) {
        leftOpen++;
        this.opts.log.error({ err: error, runId: run.id }, "could not close a run left running; retrying later");
      }
    }
    for (const end of pendingEnds) {
      if (this.stopped || !dead.has(end.owner) || this.opts.isOwnedHere(end.runId)) continue;
      try {
        await this.announceEnd(end);
      } catch (error) {
        leftOpen++;
        this.opts.log.error({ err: error, runId: end.runId }, "could not announce the end of a run of a process that is gone; retrying later");
      }
    }
    this.leftOpen = leftOpen;
    return closed;
  }

  /** The ends dead owners may have left unannounced; none when they cannot be read now (the next sweep asks again). */
  private async pendingEnds(): Promise<PendingEnd[]> {
    try {
      return await this.opts.streams.pendingEnds();
    } catch {
      return [];
    }
  }

  /**
   * Announces the end of a run whose owner died around its done's commit: the log's done to the followers, and the
   * run's end to the hooks (the feed).
   */
  private async announceEnd(end: PendingEnd): Promise<void> {
    const { store, liveness, streams, log } = this.opts;
    await liveness.exclusive(end.runId, async () => {
      const current = await store.getRun(end.runId);
      // An orphan (closed above, or by the next sweep, which takes the mark), or a run another process took over
      // (resumed: it marks the run again when it ends).
      if (current?.status === "running") return;
      // Unknown here: deleted since, or a run of processes on another database sharing this Redis (their survivors
      // announce it); its mark is left to them, and dropped only once it is old.
      if (!current && this.opts.now() - end.markedAt < staleMarkMs) return;
      // Taken: another sweeper (before this one got the lock) announced it, or will not.
      if (!(await streams.takePendingEnd(end.runId))) return;
      if (!current) return; // deleted
      // Its log ends with the done that finished it (the same commit).
      const lastSeq = await store.lastSeq(current.id);
      const [last] = await store.readEvents(current.id, lastSeq - 1, 1);
      if (last?.event.type !== "done") return;
      streams.publishClosing(current.id, last).catch((error: unknown) => {
        log.warn({ err: error, runId: current.id }, "could not publish a run's end; followers find it in the log");
      });
      this.opts.hooks?.runFinished?.(current, last.event);
      log.warn({ runId: current.id, previousOwner: end.owner }, "announced the end of a run whose process died before it could");
    });
  }

  /** True when this call closed the run (another process may be doing it, or have done it). */
  private async close(run: RunRecord): Promise<boolean> {
    let closed = false;
    const { store, liveness, resume, streams, log } = this.opts;
    await liveness.exclusive(run.id, async () => {
      // Someone may have closed it, or taken it over, between the list and the lock.
      const current = await store.getRun(run.id);
      if (current?.status !== "running" || current.owner !== run.owner) return;
      // Followers may have seen events the durable log never got (the live stream is written first): go above them.
      const seen = await streams.lastSeenSeq(run.id);
      const waiting = resume ? await waitingLog(store, current) : undefined;
      if (resume && waiting) {
        // Committed before the run goes on: a process dying before the continued run's first commit must not leave the
        // next one the same base to number from (takeoverStatus). The continued run's seqs follow it. And before the
        // claim: when it fails, the run is still its dead owner's and the next sweep tries again (claimed, it would be
        // this process's, which no sweep here takes).
        const base = Math.max((waiting.at(-1)?.seq ?? 0) + (this.opts.seqGap ?? defaultRecoverySeqGap) + 1, seen + 1);
        const takeover: StoredEvent = { seq: base, event: takeoverStatus(waiting, current.id, this.opts.now()) };
        await Promise.all([store.appendEvent(current.id, base, takeover.event), store.flush()]);
        if (!(await store.claimRun(current.id, { from: current.owner, to: liveness.replicaId }))) return;
        log.info({ runId: current.id, previousOwner: current.owner }, "continuing a run that waits for approval");
        // Handed out before the run's own events, which follow it on the live stream (a Redis stream takes them in the
        // order they are sent, on one connection). Not awaited, as closing events are not: a frozen Redis must not hold
        // the sweep; followers missing it find it in the log.
        streams.publishClosing(current.id, takeover).catch((error: unknown) => {
          log.warn({ err: error, runId: current.id }, "could not publish a continued run's status; followers find it in the log");
        });
        resume({ ...current, owner: liveness.replicaId }, waiting, base + 1);
        return;
      }
      const { outcome } = await closeRunFromLog(this.opts.store, current, interruptedEnding, {
        now: this.opts.now,
        seqGap: this.opts.seqGap ?? defaultRecoverySeqGap,
        minSeq: seen + 1,
        hooks: this.opts.hooks,
        publish: (stored) => {
          streams.publishClosing(run.id, stored).catch((error: unknown) => {
            log.warn({ err: error, runId: run.id }, "could not publish a closing event; followers find it in the log");
          });
        },
      });
      closed = outcome === "closed";
      // Announced just now: a mark its owner left (it died while committing its done) must not announce it again.
      await streams.takePendingEnd(run.id).catch(() => {});
    });
    return closed;
  }
}
