import type { LiveRuns } from "./live-runs.js";
import type { RunLog } from "./run-log.js";

/** How long aborted runs get to end before they are left to a later recovery. */
const abortedRunsMs = 5000;

/**
 * Ends the runs of a process that stops: they may finish within `graceMs`; then the rest are aborted, which ends
 * them as interrupted (execute-run.ts turns the cancel of a shutdown into error{interrupted} + done{interrupted}).
 * A run stuck even then is closed by the recovery of a later start (or, on PostgreSQL, of a live process).
 */
export async function endRunsForShutdown(live: LiveRuns, graceMs: number, log: RunLog): Promise<void> {
  const allEnded = () => Promise.all(live.all().map((run) => run.ended));
  if (live.size === 0) return;
  await raceTimeout(allEnded(), graceMs);
  for (const run of live.all()) {
    run.interrupted = true;
    run.controller.abort(new Error("server shutting down"));
  }
  await raceTimeout(allEnded(), abortedRunsMs);
  if (live.size > 0) log.warn({ runs: live.all().map((run) => run.record.id) }, "runs still open at shutdown");
}

export async function raceTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
