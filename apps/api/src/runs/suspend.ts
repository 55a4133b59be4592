import type { LiveRun } from "./live-runs.js";

/**
 * The abort reason of a run suspended by a shutdown while it waits for a person's approval: the run stops here
 * without an end (no done, no messages stored, still `running` in the store), and the next start continues it
 * (recovery.ts), so the same call can still be approved.
 */
export class RunSuspended extends Error {
  constructor() {
    super("suspended while waiting for approval: the server is shutting down");
    this.name = "RunSuspended";
  }
}

export function suspendRun(run: LiveRun): void {
  if (!run.controller.signal.aborted) run.controller.abort(new RunSuspended());
}

export function isSuspended(run: LiveRun): boolean {
  return run.controller.signal.aborted && run.controller.signal.reason instanceof RunSuspended;
}
