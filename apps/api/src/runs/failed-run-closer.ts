import { closingEvents, errorCodeMessages, type RunEnding } from "@streamchat/core";
import { isStoreError, type ChatStore } from "@streamchat/store";
import { closeRunFromLog } from "./close-run.js";
import type { LiveRun } from "./live-runs.js";
import type { StoredEvent } from "@streamchat/store";
import type { RunLog } from "./run-log.js";
import type { RunHooks } from "./run-hooks.js";

export const storeFailureEnding: RunEnding = { code: "internal", message: errorCodeMessages.internal, reason: "error" };

export interface FailedRunCloserOptions {
  store: ChatStore;
  /** Hands a closing event to the run's followers (RunStreams.publish: in-process, and on every replica in a cluster). */
  publish: (run: LiveRun, stored: StoredEvent) => void;
  log: RunLog;
  now: () => number;
  /** First wait before closing a run again whose close failed in the store (doubles up to `maxRetryMs`). Default 1 s. */
  retryMs?: number;
  /** Longest wait between two attempts. Default 5 s: a run is closed within seconds of the database coming back. */
  maxRetryMs?: number;
  /**
   * Wait between attempts once `closeAttempts` failed for another reason than an unreachable database (a full disk on
   * PostgreSQL, an I/O error). Default 60 s, at least `maxRetryMs`.
   */
  slowRetryMs?: number;
  /** Told of the messages and the end closing stores (the conversation feed). */
  hooks?: RunHooks | undefined;
}

/** Attempts after a failure other than "the database is unreachable" before retrying only every `slowRetryMs`. */
const closeAttempts = 10;

/**
 * Ends the runs of this process whose store writes failed (the database went away, a disk error, a lock held too
 * long): from the stored log (closeRunFromLog) with error{internal} + done{error}.
 *
 * When the store still fails, subscribers watching get that end anyway (best effort, with seqs past anything handed
 * out, so the log never reuses them) and the close is retried in the background until it succeeds: every few seconds
 * while the database is merely unreachable (so the run is closed as soon as it is back), and after `closeAttempts`
 * other failures every `slowRetryMs`. Never given up while this process lives: its runs are nobody else's to close
 * (recovery closes only the runs of processes that are gone), and a run left `running` holds its conversation (every
 * new message is refused) and counts against its user's limit. At shutdown the rest is left to recovery.
 */
export class FailedRunCloser {
  private readonly pending = new Map<string, { timer: NodeJS.Timeout; retry: () => Promise<void> }>();
  private accepting = true;

  constructor(private readonly opts: FailedRunCloserOptions) {}

  isPending(runId: string): boolean {
    return this.pending.has(runId);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  async close(run: LiveRun): Promise<void> {
    const { record } = run;
    try {
      await this.attempt(run);
      this.opts.log.warn({ runId: record.id }, "run closed with an internal error after a store failure");
    } catch (error) {
      this.opts.log.error({ err: error, runId: record.id }, "closing the run failed in the store; retrying in the background");
      this.endForSubscribers(run);
      this.later(run, 1);
    }
  }

  /**
   * Stops retrying in the background: one last attempt for each run now, else recovery closes it once this process is
   * gone (another process on PostgreSQL, the next start on SQLite).
   */
  async shutdown(): Promise<void> {
    this.accepting = false;
    const pending = [...this.pending.values()];
    for (const { timer } of pending) clearTimeout(timer);
    await Promise.all(pending.map(({ retry }) => retry()));
  }

  private attempt(run: LiveRun) {
    return closeRunFromLog(this.opts.store, run.record, storeFailureEnding, {
      now: this.opts.now,
      minSeq: run.seq + 1,
      hooks: this.opts.hooks,
      onSeqTried: (seq) => {
        if (seq > run.seq) run.seq = seq;
      },
      publish: (stored) => {
        if (run.lastPublished?.type !== "done") this.opts.publish(run, stored);
      },
    });
  }

  /**
   * The store could not take the end: subscribers still get one (the log gets it later, past these seqs). It follows
   * the last event they were handed without a gap, also when the run took a seq for a done that failed: a follower
   * that sees a gap looks for the missing events in the log, which may be what failed.
   */
  private endForSubscribers(run: LiveRun) {
    if (run.lastPublished?.type === "done") return;
    const { publish, now } = this.opts;
    if (run.committedDone) {
      // The log ended already (only marking the run finished failed): that is the end to tell.
      publish(run, run.committedDone);
      return;
    }
    const { error, done } = closingEvents(run.record.id, run.lastPublished, storeFailureEnding, now());
    if (error) publish(run, { seq: run.publishedSeq + 1, event: error });
    publish(run, { seq: run.publishedSeq + 1, event: done });
  }

  /** `slow`: `closeAttempts` failed for another reason than an unreachable database; retried every `slowRetryMs`. */
  private later(run: LiveRun, attempt: number, slow = false) {
    const runId = run.record.id;
    if (!this.accepting) {
      this.opts.log.error({ runId }, "shutting down: recovery closes the run once this process is gone");
      return;
    }
    const retry = async () => {
      this.pending.delete(runId);
      try {
        await this.attempt(run);
        this.opts.log.warn({ runId, attempt }, "run closed with an internal error after a store failure");
      } catch (error) {
        if (isStoreError(error, "not_found")) {
          this.opts.log.warn({ runId }, "the run's conversation was deleted meanwhile: nothing left to close");
        } else if (!this.accepting) {
          this.opts.log.error({ err: error, runId }, "closing the run failed at shutdown; recovery closes it once this process is gone");
        } else {
          // An unreachable database is retried every few seconds: the run is closed as soon as it is back.
          const slowNow = !isStoreError(error, "unavailable") && attempt >= closeAttempts;
          // Said once, when the attempts slow down: the run stays open (its conversation busy) until one succeeds.
          if (slowNow && !slow) {
            this.opts.log.error({ err: error, runId, attempts: attempt }, "closing the run keeps failing in the store; retrying slowly until it is closed");
          }
          this.later(run, attempt + 1, slowNow);
        }
      }
    };
    const first = this.opts.retryMs ?? 1000;
    const fast = Math.max(first, this.opts.maxRetryMs ?? 5000);
    const delay = slow ? Math.max(fast, this.opts.slowRetryMs ?? 60_000) : Math.min(first * 2 ** Math.min(attempt - 1, 20), fast);
    const timer = setTimeout(() => void retry(), delay);
    timer.unref();
    this.pending.set(runId, { timer, retry });
  }
}
