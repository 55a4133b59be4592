import { whenRunEnded, type LiveRun, type LiveRuns } from "./live-runs.js";
import type { RunLog } from "./run-log.js";
import { isSuspended, suspendRun } from "./suspend.js";

/** How long aborted runs get to end before they are left to a later recovery. */
const abortedRunsMs = 5000;

/** Which runs wait for a person's approval (approvals.ts). */
export interface WaitingRuns {
  isWaiting(runId: string): boolean;
  onWait(listener: (runId: string) => void): () => void;
}

const noneWaiting: WaitingRuns = { isWaiting: () => false, onWait: () => () => {} };

/**
 * Ends the runs of a process that stops: they may finish within `graceMs`; then the rest are aborted, which ends
 * them as interrupted (execute-run.ts turns the cancel of a shutdown into error{interrupted} + done{interrupted}).
 * A run stuck even then is closed by the recovery of a later start (or, on PostgreSQL, of a live process).
 *
 * A run that waits for a person's approval is not ended: a person may take minutes, so it is suspended at once (and
 * one that starts waiting during the grace period as soon as it does). It stops without an end, stays `running`,
 * and the next start continues it (recovery.ts).
 */
export async function endRunsForShutdown(live: LiveRuns, graceMs: number, log: RunLog, waiting: WaitingRuns = noneWaiting): Promise<void> {
  const allEnded = () => Promise.all(live.all().map(whenRunEnded));
  if (live.size === 0) return;
  const suspended: string[] = [];
  // On the next turn of the event loop: a run asks its hook before it emits the approval-request. The round's other
  // requests may still be on their way to the log then (a PostgreSQL commit takes longer than a turn): the executor
  // logs them after the suspension too (execute-run.ts). A call decided meanwhile lets the run go on instead.
  const suspendIfWaiting = (run: LiveRun) =>
    setImmediate(() => {
      if (run.controller.signal.aborted || !waiting.isWaiting(run.record.id)) return;
      suspended.push(run.record.id);
      suspendRun(run);
    });
  const stopWatching = waiting.onWait((runId) => {
    const run = live.get(runId);
    if (run) suspendIfWaiting(run);
  });
  try {
    for (const run of live.all()) suspendIfWaiting(run);
    await raceTimeout(allEnded(), graceMs);
    for (const run of live.all()) {
      if (isSuspended(run)) continue;
      if (waiting.isWaiting(run.record.id)) {
        suspended.push(run.record.id);
        suspendRun(run);
      } else {
        run.interrupted = true;
        run.controller.abort(new Error("server shutting down"));
      }
    }
  } finally {
    stopWatching();
  }
  await raceTimeout(allEnded(), abortedRunsMs);
  if (suspended.length > 0) log.info({ runs: suspended }, "runs waiting for approval suspended; the next start continues them");
  if (live.size > 0) log.warn({ runs: live.all().map((run) => run.record.id) }, "runs still open at shutdown");
}

export async function raceTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
