/**
 * What to do when a run's event stream ends before the run's `done` event. The server closes a stream
 * cleanly when it thinks the run is over or when it drops a reader that fell behind; either way the answer
 * is not finished, so the page treats it like a dropped connection: it subscribes again from the last seq
 * it has, a few times with growing pauses, and then stops and lets the user retry — it never waits forever.
 */

/** Consecutive early ends without a single new event before the page gives up. */
export const maxResumes = 3;

export type ResumeDecision = { kind: "resume"; afterMs: number } | { kind: "give-up" };

export class ResumeTracker {
  private failures = 0;

  constructor(
    private readonly limit = maxResumes,
    private readonly baseDelayMs = 400,
  ) {}

  /** New events arrived: the stream is making progress, so earlier early ends no longer count. */
  progress(): void {
    this.failures = 0;
  }

  /** The stream ended without `done`. */
  ended(): ResumeDecision {
    if (this.failures >= this.limit) return { kind: "give-up" };
    const afterMs = this.baseDelayMs * 2 ** this.failures;
    this.failures++;
    return { kind: "resume", afterMs };
  }

  /** The user asked to try again (or another run is followed): start counting afresh. */
  reset(): void {
    this.failures = 0;
  }
}
