import type { ChatEvent, ChatMessage, EventOf } from "@streamchat/core";
import type { ChatStore, RunRecord, StoredEvent } from "@streamchat/store";
import type { LiveRun, LiveRuns } from "./live-runs.js";
import type { RunLog } from "./run-log.js";
import type { CommittedDone } from "./run-events.js";
import type { DirectSlot, RunEventStream } from "./subscribe.js";

export type { CommittedDone };

/** A run whose `done` its owner committed and may not have announced yet (RunStreams.pendingEnds). */
export interface PendingEnd {
  runId: string;
  /** The replica that committed it. */
  owner: string;
  /** When it was marked (ms since the epoch, the owner's clock). */
  markedAt: number;
}

/**
 * A message for the replica executing a run, sent from any replica: `cancel` (chat.cancel), and `approval`: a
 * call of a run waiting for one was decided (chat.approve stored the decision; the waiting side reads it there). The receiving replica hands it to RunManager.handleControl.
 */
export type RunControl =
  | { type: "cancel" }
  | { type: "approval"; callId: string };

/** What a RunStreams implementation is built from (RunManager hands these over). */
export interface RunStreamsDeps {
  store: ChatStore;
  /** The runs this replica executes (their seqs, their in-process subscribers). */
  live: LiveRuns;
  replicaId: string;
  log: RunLog;
  /** A write of the run failed for good (durable log or live stream): stop the run. Must not throw. */
  onWriteFailure: (run: LiveRun, error: unknown) => void;
  /** A control message for a run executing here arrived (from this replica or another); true when it was applied. */
  onControl: (runId: string, message: RunControl) => boolean;
}

export interface FollowOptions {
  /** Live events a follower may fall behind before it is switched to reading history (default 1024). */
  queueLimit?: number;
  /** Events read from history at a time (default 256). */
  pageSize?: number;
}

/**
 * THE seam for a run's events: everything RunManager does with a run's events goes through it, and what differs
 * between one process and a cluster of replicas is which implementation it gets:
 * - embedded (runs/embedded-streams.ts): in-process fan-out to followers on this process, the store's log as
 *   history; a run executing in another process (several processes on one PostgreSQL) is followed by polling its log,
 *   and cannot be cancelled from here;
 * - Redis (cluster/redis-streams.ts): additionally one Redis stream per run (XADD on the owner), live reads on a
 *   dedicated multiplexed connection per replica, and a control channel per replica, so that any replica follows and
 *   controls any run.
 * One conformance suite (run-streams.conformance.test.ts) runs against both.
 *
 * Seqs are owned by the replica executing the run (LiveRun.seq). The durable log (ChatStore) is the same in both
 * implementations: every event is appended to it (batched), `done` is committed before anyone sees it.
 */
export interface RunStreams {
  readonly kind: "embedded" | "redis";

  // ---- the write side (on the replica executing the run) --------------------------------------------

  /** Throws the typed error (AppError) when no run may start now: its events could not be streamed (Redis down). */
  assertWritable(): void;
  /**
   * Appends `event` under the run's next seq: to the durable log (batched, not awaited) and live to every follower.
   * Never throws; a no-op once a write of the run failed (deps.onWriteFailure was called).
   */
  append(run: LiveRun, event: ChatEvent): void;
  /**
   * Appends `event` like `append`, but hands it to followers (in-process and, in a cluster, the run's live stream)
   * only once the durable log committed it: an `approval-request`, so that no client shows a pause a crash could
   * still take out of the log. The caller awaits it before it appends anything else. Never rejects; a failed commit
   * stops the run as for `append`.
   */
  appendCommitted(run: LiveRun, event: ChatEvent): Promise<void>;
  /**
   * Appends the run's `done` to the durable log with the messages the run produced (its answer) and waits until
   * both are committed. The caller publishes it after.
   */
  commitDone(run: LiveRun, done: EventOf<"done">, messages: readonly ChatMessage[]): Promise<CommittedDone>;
  /** Hands an event that is in the durable log already (done, closing events) to every follower. */
  publish(run: LiveRun, stored: StoredEvent): void;

  // ---- closing runs of others (orphans of a dead replica) --------------------------------------------

  /** The highest seq any follower may have seen of the run (durable log or live stream): closing events go above it. */
  lastSeenSeq(runId: string): Promise<number>;
  /** Hands a closing event of a run that does not execute here (already durable) to every follower. */
  publishClosing(runId: string, stored: StoredEvent): Promise<void>;
  /**
   * Runs whose `done` was (or is being) committed by their owner and whose end the owner may not have announced yet:
   * published to followers on other replicas and to the conversation feed (RunHooks.runFinished). An owner that dies
   * between the commit and those publishes leaves a run that is no longer `running`, which the orphan sweep would
   * never look at: the sweep announces the ends its dead owners left here (recovery.ts). In a cluster each run is
   * marked before its done's commit and unmarked once its end went out; embedded has none (its followers read the
   * log, and its feed is in-process: a dead process's clients resync).
   */
  pendingEnds(): Promise<PendingEnd[]>;
  /** Removes the run's mark: true when this call removed it (and so announces the end), false when it was gone. */
  takePendingEnd(runId: string): Promise<boolean>;

  // ---- reading ---------------------------------------------------------------------------------------

  /** History: the run's events with seq > afterSeq, in order, at most `limit`. */
  read(runId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;
  /**
   * History then live: every event after `afterSeq`, each seq exactly once and in order, until `done` (or `signal`
   * aborts). Memory per follower is bounded whatever the reader does. When the replica closes, followers of runs that
   * execute elsewhere end with an AbortError (their clients reconnect to another replica and resume).
   */
  follow(runId: string, afterSeq: number, signal?: AbortSignal, direct?: DirectSlot): RunEventStream;
  /** Followers right now (for stats and metrics). */
  readonly followers: number;

  // ---- control ---------------------------------------------------------------------------------------

  /**
   * Delivers `message` to the replica executing `run` (this one or another); resolves to whether it was applied
   * there. False when the run is not executing anywhere reachable.
   */
  control(run: Pick<RunRecord, "id" | "owner">, message: RunControl): Promise<boolean>;
  /**
   * Whose run it is and which replica executes it, as the live channel knows it (without the database): what a cancel
   * needs while the database is unreachable. Null when the channel cannot tell (embedded, whose live runs are known in
   * process; a run whose live stream is gone or was written by an older replica).
   */
  liveOwnership(runId: string): Promise<{ userId: string; owner: string } | null>;

  // ---- life cycle ------------------------------------------------------------------------------------

  /** The live channel's health: null when there is none besides this process (embedded). Never throws. */
  health(): Promise<{ ok: boolean } | null>;
  /** Ends followers of runs executing elsewhere (AbortError) and closes connections. Call after the runs ended. */
  close(): Promise<void>;
}

export type RunStreamsFactory = (deps: RunStreamsDeps) => RunStreams;

/** The error a follower ends with when its replica shuts down: the SSE writer ends the response without `return`. */
export function replicaClosing(): DOMException {
  return new DOMException("This replica is shutting down", "AbortError");
}
