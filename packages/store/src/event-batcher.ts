import type { ChatEvent, DoneReason, EventOf } from "@streamchat/core";
import { StoreError, conflict } from "./errors.js";
import type { RunAnswer, StoredEvent, StoredMessage } from "./types.js";

/** One event waiting for its commit, serialised at append time (later changes to the caller's object never reach the log). */
export interface QueuedEvent {
  runId: string;
  seq: number;
  type: ChatEvent["type"];
  json: string;
  /**
   * Set on a `done` row: the run is marked done with these (as finishRun would) in the transaction that commits
   * the row, so a log that ends with `done` never belongs to a run still marked running.
   */
  finish?: RunFinish;
  /** Set on a `done` row of appendDone: the sink appends these messages in the transaction that commits the row. */
  answer?: QueuedAnswer;
}

/** A run's answer waiting for its `done`'s commit (ChatStore.appendDone). */
export interface QueuedAnswer extends RunAnswer {
  /** Set by the sink's insert, each attempt anew: the messages as the attempt stored them. */
  stored?: StoredMessage[];
}

/** How a committed `done` finishes its run: its reason and its usage (as the JSON the runs table stores). */
export interface RunFinish {
  reason: DoneReason;
  usage: string;
}

/** How a database-specific failure is to be treated. */
export type FailureKind =
  /** The database is unreachable, restarting or busy: keep the rows and try again. */
  | "transient"
  /** A (runId, seq) is already in the log (maybe our own rows, committed by an attempt whose answer was lost). */
  | "duplicate"
  /** Anything else that will not get better by retrying (an unknown run, a constraint, bad data). */
  | "definitive";

/** What the SQLite and PostgreSQL backends give the batcher: where rows go and what their errors mean. */
export interface EventSink {
  /**
   * Inserts the rows in ONE transaction: all or none, and marks the run of each row with `finish` done in it (a run
   * already finished keeps its first finish). A row with an `answer` (appendDone queues one) has its messages
   * appended in the same transaction, and their stored form set on `answer.stored`. May finish synchronously (SQLite).
   */
  insert(rows: readonly QueuedEvent[]): void | Promise<void>;
  classify(error: unknown): FailureKind;
  /** The error the appenders see for a definitive failure (e.g. StoreError not_found / conflict "seq"). */
  describe(error: unknown, rows: readonly QueuedEvent[]): Error;
  /**
   * The rows that are not in the log yet with exactly this payload. Asked only after a "duplicate" failure of
   * rows that had already failed transiently once: the earlier attempt may have committed them (the connection
   * dropped before the commit was acknowledged), and then they must count as committed, not as a conflict. A
   * committed row with an `answer` gets `answer.stored` set to its messages as that attempt stored them.
   */
  notYetCommitted(rows: readonly QueuedEvent[]): QueuedEvent[] | Promise<QueuedEvent[]>;
}

export interface EventBatcherOptions {
  /** Longest an appended event waits before its batch is committed. Default 100 ms (defaultFlushIntervalMs). */
  flushIntervalMs?: number;
  /** Queued events that start a commit at once. Default 256. */
  maxBatch?: number;
  /** How long a batch is retried while the database is unreachable before it is rejected for good. Default 60 s. */
  retryForMs?: number;
  now?: () => number;
  /** Every failed commit attempt (a retry included), as the StoreError the appenders would see. */
  onFlushError?: (error: StoreError | Error) => void;
}

export interface EventBatcherStats {
  /** Event-batch transactions committed so far. Lets tests and the benchmark count commits, not time them. */
  commits: number;
  /** Events appended and not committed yet (queued, being committed, or waiting for a retry). */
  pendingEvents: number;
  /** Commit attempts that failed (each retry counts). */
  flushErrors: number;
  /** Events whose batch was rejected for good. */
  rejectedEvents: number;
  /** How long an event waits for its commit at most (the option; the API's EVENT_FLUSH_MS). */
  flushIntervalMs: number;
}

/** One run's share of a commit: the events it queued since its previous batch closed, and their one promise. */
interface Batch {
  log: RunLog;
  rows: QueuedEvent[];
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
  hasDone: boolean;
  /** When an attempt to commit it first failed transiently. */
  failingSince: number | undefined;
}

interface RunLog {
  runId: string;
  /** The highest seq this process queued for the run (refuses a seq that does not increase). */
  lastSeq: number;
  /** Uncommitted batches, in seq order; `open` (the last one) still takes appends. */
  batches: Batch[];
  open: Batch | undefined;
  /** Set once a batch of the run was rejected for good: later appends are refused, except `error` and `done`. */
  failure: Error | undefined;
  /**
   * Every event of the run is still queued here: this process appended its first one (seq 1: seqs of a run ascend
   * from there, and one process writes them) and none of its batches has been committed, rejected or discarded.
   */
  whole: boolean;
}

/**
 * How long an appended event may wait for its commit by default. Each commit writes every page its rows touch, and
 * at a realistic pace (one token per event) the rows of one commit belong to as many runs as are answering: 100 ms
 * writes a third of the pages 25 ms did for the same events (docs/benchmarks-log.md, stop 23). It is also what a hard kill
 * of the process can lose of the log's tail; `done` and approval requests are committed at once.
 */
export const defaultFlushIntervalMs = 100;

const empty: readonly QueuedEvent[] = Object.freeze([]);
const maxRetryDelayMs = 1000;

/**
 * The event-log write path shared by the SQLite and PostgreSQL stores.
 *
 * Appends are queued in memory and committed together, ONE transaction (one multi-row INSERT) for every run's
 * events, every `flushIntervalMs`, as soon as `maxBatch` events are queued, at once for an `approval-request`, and at
 * the end of the event loop's turn for a `done` (every run ending in that turn shares the commit). Each run's events
 * of one commit share one promise (no allocation per event), which resolves when they are committed.
 * Queued events stay readable (`queued`) until committed. One commit runs at a time: events appended meanwhile
 * form the next batch, which starts as soon as the running commit ends if it holds a `done` or is full.
 *
 * Failures:
 * - transient (database unreachable, restarting, busy): the batches go back to the queue and are retried with a
 *   backoff (50 ms doubling to 1 s); appends keep queuing. A batch still failing `retryForMs` after its first
 *   failure is rejected for good with StoreError("unavailable").
 * - definitive (a seq already in the log, an unknown run, bad data): when the commit held several runs, each run's
 *   rows are committed again separately, so one run's bad event never costs another run its events. The failing
 *   run's batch is rejected (StoreError conflict "seq" / not_found …).
 * - after a rejection the run's log has lost events: its later batches queued by then are rejected with the same
 *   error, and later appends of that run are refused with it, EXCEPT `error` and `done` events (with seqs above
 *   the lost ones), so the caller can still close the log, leaving a gap as crash recovery does. A committed
 *   `done` clears the run's state. (A not_found rejection — the run does not exist — leaves no state: every
 *   later append is refused by the database on its own.)
 * - an attempt whose commit was lost with the connection may have committed anyway: when such rows later hit
 *   their own duplicates, the ones already in the log with the same payload count as committed.
 *
 * `close` makes one last attempt and rejects whatever is still uncommitted with StoreError("closed").
 */
export class EventBatcher {
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly retryForMs: number;
  private readonly now: () => number;
  private readonly runs = new Map<string, RunLog>();
  /** Batches waiting for the next commit (open ones and retries), in the order they were queued. */
  private readonly queue = new Set<Batch>();
  private pendingCount = 0;
  private inflightCount = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The commit of the `done`s appended in this turn of the event loop (endOfTurn). */
  private endOfTurn: NodeJS.Immediate | undefined;
  private cycle: Promise<Error | undefined> | undefined;
  /** A `done` or a full queue is waiting for the running commit to end. */
  private urgent = false;
  private consecutiveFailures = 0;
  private closed = false;
  private readonly counters = { commits: 0, flushErrors: 0, rejectedEvents: 0 };

  constructor(
    private readonly sink: EventSink,
    private readonly options: EventBatcherOptions = {},
  ) {
    checkBatcherOptions(options);
    this.flushIntervalMs = options.flushIntervalMs ?? defaultFlushIntervalMs;
    this.maxBatch = options.maxBatch ?? 256;
    this.retryForMs = options.retryForMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Queues the run's `done` with its answer (ChatStore.appendDone): the sink stores the messages in the transaction
   * that commits the done. Resolves with them as stored.
   */
  appendDone(runId: string, seq: number, done: EventOf<"done">, answer: RunAnswer): Promise<StoredMessage[]> {
    const queued: QueuedAnswer = { conversationId: answer.conversationId, messages: answer.messages };
    return this.append(runId, seq, done, undefined, queued).then(() => queued.stored ?? []);
  }

  /**
   * Queues the event; the promise of its batch. Refuses a seq that is not above the run's last queued one. `json`:
   * the event serialized by the caller (ChatStore.appendEvent), stored as given.
   */
  append(runId: string, seq: number, event: ChatEvent, json?: string, answer?: QueuedAnswer): Promise<void> {
    if (this.closed) return Promise.reject(new StoreError("closed", "The store is closed."));
    if (!Number.isSafeInteger(seq) || seq < 1) return Promise.reject(new RangeError(`seq must be a positive integer (got ${seq}).`));
    let log = this.runs.get(runId);
    if (log?.failure && event.type !== "error" && event.type !== "done") return Promise.reject(log.failure);
    if (log && seq <= log.lastSeq) {
      return Promise.reject(conflict("seq", `Run ${runId}: seq ${seq} is not above ${log.lastSeq}, the last one queued.`));
    }
    if (json === undefined) {
      try {
        json = JSON.stringify(event);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new TypeError(String(error)));
      }
    }
    if (!log) {
      log = { runId, lastSeq: 0, batches: [], open: undefined, failure: undefined, whole: seq === 1 };
      this.runs.set(runId, log);
    }
    log.lastSeq = seq;
    let batch = log.open;
    if (!batch) {
      batch = newBatch(log);
      log.open = batch;
      log.batches.push(batch);
      this.queue.add(batch);
    }
    this.pendingCount++;
    if (event.type === "done") {
      const finish = { reason: event.reason, usage: JSON.stringify(event.usage) };
      batch.rows.push(answer ? { runId, seq, type: event.type, json, finish, answer } : { runId, seq, type: event.type, json, finish });
      // The caller reports the run finished once this resolves: commit at the end of this turn, not in flushIntervalMs.
      batch.hasDone = true;
      this.kickAtEndOfTurn();
      return batch.promise;
    }
    batch.rows.push({ runId, seq, type: event.type, json });
    // A run waits for its approval request to be durable before anyone is shown it: commit now, like a `done`.
    if (event.type === "approval-request" || this.pendingCount >= this.maxBatch) this.kick();
    else this.arm(this.flushIntervalMs);
    return batch.promise;
  }

  /** The run's uncommitted events, in seq order (a copy). */
  queued(runId: string): readonly QueuedEvent[] {
    const log = this.runs.get(runId);
    if (!log || log.batches.length === 0) return empty;
    return log.batches.length === 1 ? [...log.batches[0]!.rows] : log.batches.flatMap((batch) => batch.rows);
  }

  /**
   * The run's whole log is in the queue (see RunLog.whole): a read of it needs no query. Every subscriber of a fresh
   * answer asks for its history within its first flush interval, when it is only here.
   */
  holdsWholeLog(runId: string): boolean {
    const log = this.runs.get(runId);
    if (log?.whole !== true) return false;
    // Not while its last event is one a read shows only once committed (a `done`, an approval request; nothing is
    // appended after it until then): the database may have it already, before this process heard of the commit, and
    // a reader that saw the run finished there must find it in the log.
    const last = log.batches.at(-1)?.rows.at(-1);
    return last === undefined || !shownOnceCommitted(last.type);
  }

  /** The highest seq among the run's uncommitted events; 0 for none. */
  lastQueuedSeq(runId: string): number {
    return this.runs.get(runId)?.batches.at(-1)?.rows.at(-1)?.seq ?? 0;
  }

  /**
   * Drops the runs' uncommitted events (their conversation is being deleted): their promises reject with `error`.
   * A commit already running is left to finish (or fail on the deleted run).
   */
  discard(runIds: Iterable<string>, error: Error): void {
    for (const runId of runIds) {
      const log = this.runs.get(runId);
      if (!log) continue;
      log.whole = false;
      for (const batch of [...log.batches]) {
        if (this.queue.delete(batch)) {
          this.pendingCount -= batch.rows.length;
          this.settle(batch, error);
        }
      }
      if (log.batches.length === 0) this.runs.delete(runId);
    }
  }

  /** Commits everything queued now; rejects with the first failure (failed batches stay queued when transient). */
  async flush(): Promise<void> {
    while (this.cycle) await this.cycle;
    if (this.queue.size === 0) return;
    const error = await this.startCycle();
    if (error) throw error;
  }

  /** One last commit attempt, then everything still uncommitted is rejected with StoreError("closed"). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.disarm();
    while (this.cycle) await this.cycle;
    if (this.queue.size > 0) await this.startCycle();
    const error = new StoreError("closed", "The store closed before these events were committed.");
    for (const batch of [...this.queue]) {
      this.queue.delete(batch);
      this.pendingCount -= batch.rows.length;
      this.settle(batch, error);
    }
  }

  stats(): EventBatcherStats {
    return { ...this.counters, pendingEvents: this.pendingCount + this.inflightCount, flushIntervalMs: this.flushIntervalMs };
  }

  // ---- scheduling ----------------------------------------------------------------------------

  private kick(): void {
    if (this.cycle) this.urgent = true;
    else void this.startCycle();
  }

  /**
   * Group commit of the runs that end in one turn of the event loop, as the store's starts are grouped: one commit
   * for every `done` appended before setImmediate's phase, which comes right after the I/O that brought the model
   * answers' last lines. Each run's end wrote its own commit before, ~20 pages of which its neighbours' ends write
   * again (the right edges of the same tables and indexes; docs/benchmarks-log.md, stop 46).
   */
  private kickAtEndOfTurn(): void {
    if (this.cycle) this.urgent = true;
    else this.endOfTurn ??= setImmediate(this.commitEndOfTurn);
  }

  private readonly commitEndOfTurn = (): void => {
    this.endOfTurn = undefined;
    if (this.queue.size > 0) this.kick();
  };

  private arm(delayMs: number): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, delayMs);
    // Like any timer of a library: never keeps the process alive. close() commits what is left.
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.endOfTurn !== undefined) clearImmediate(this.endOfTurn);
    this.endOfTurn = undefined;
  }

  private startCycle(): Promise<Error | undefined> {
    this.disarm();
    this.urgent = false;
    const batches = [...this.queue];
    this.queue.clear();
    for (const batch of batches) {
      if (batch.log.open === batch) batch.log.open = undefined;
      this.pendingCount -= batch.rows.length;
      this.inflightCount += batch.rows.length;
    }
    const cycle = this.commit(batches).then(
      (error) => this.endCycle(error),
      (error: unknown) => this.endCycle(error instanceof Error ? error : new Error(String(error))), // not expected: commit() catches
    );
    this.cycle = cycle;
    return cycle;
  }

  private endCycle(error: Error | undefined): Error | undefined {
    this.cycle = undefined;
    if (this.closed || this.queue.size === 0) return error;
    if (this.consecutiveFailures > 0) {
      // Back off while the database is away; an appended `done` still tries at once (kick).
      this.arm(Math.min(maxRetryDelayMs, 50 * 2 ** (this.consecutiveFailures - 1)));
    } else if (this.urgent || this.pendingCount >= this.maxBatch) {
      void this.startCycle();
    } else {
      this.arm(this.flushIntervalMs);
    }
    return error;
  }

  // ---- committing ----------------------------------------------------------------------------

  /** Never rejects: returns the first failure (for flush()) after settling or requeuing every batch. */
  private async commit(batches: Batch[]): Promise<Error | undefined> {
    if (batches.length === 0) return undefined;
    const rows = batches.length === 1 ? batches[0]!.rows : batches.flatMap((batch) => batch.rows);
    try {
      // Called synchronously from startCycle: SQLite commits before append() returns.
      await this.sink.insert(rows);
    } catch (error) {
      this.attemptFailed(error);
      if (this.sink.classify(error) === "transient") return this.retryLater(batches, error);
      const byRun = groupByRun(batches);
      if (byRun.length === 1) return this.resolveDefinitive(byRun[0]!, error);
      // Isolate: each run's rows in their own transaction, so one run's bad row costs no other run anything.
      let first: Error | undefined;
      for (const group of byRun) {
        const error = await this.commitGroup(group); // every group, also after a failure (`??=` would skip the call)
        first ??= error;
      }
      return first;
    }
    this.committed(batches);
    return undefined;
  }

  private async commitGroup(group: Batch[]): Promise<Error | undefined> {
    try {
      await this.sink.insert(group.flatMap((batch) => batch.rows));
    } catch (error) {
      this.attemptFailed(error);
      if (this.sink.classify(error) === "transient") return this.retryLater(group, error);
      return this.resolveDefinitive(group, error);
    }
    this.committed(group);
    return undefined;
  }

  /** One run's batches failed for good, unless they are duplicates of our own earlier, unacknowledged commit. */
  private async resolveDefinitive(group: Batch[], error: unknown): Promise<Error | undefined> {
    const rows = group.flatMap((batch) => batch.rows);
    if (this.sink.classify(error) === "duplicate" && group.some((batch) => batch.failingSince !== undefined)) {
      try {
        const missing = await this.sink.notYetCommitted(rows);
        if (missing.length < rows.length) {
          if (missing.length > 0) await this.sink.insert(missing);
          this.committed(group);
          return undefined;
        }
      } catch (again) {
        this.attemptFailed(again);
        if (this.sink.classify(again) === "transient") return this.retryLater(group, again);
        error = again;
      }
    }
    const failure = this.sink.describe(error, rows);
    this.reject(group, failure);
    return failure;
  }

  private attemptFailed(error: unknown): void {
    this.counters.flushErrors++;
    try {
      this.options.onFlushError?.(this.unavailable(error));
    } catch {
      // a reporting hook must not break the write path
    }
  }

  private unavailable(error: unknown): StoreError {
    const detail = error instanceof Error ? error.message : String(error);
    return new StoreError("unavailable", `Could not commit events: ${detail}`, { cause: error });
  }

  private retryLater(group: Batch[], error: unknown): Error {
    this.consecutiveFailures++;
    const at = this.now();
    const expired: Batch[] = [];
    for (const batch of group) {
      batch.failingSince ??= at;
      if (at - batch.failingSince >= this.retryForMs) {
        expired.push(batch);
      } else {
        this.inflightCount -= batch.rows.length;
        this.pendingCount += batch.rows.length;
        this.queue.add(batch);
      }
    }
    const failure = this.unavailable(error);
    if (expired.length > 0) {
      const given = new StoreError(
        "unavailable",
        `Events not committed: the database stayed unreachable for ${this.retryForMs} ms (${failure.message}).`,
        { cause: error },
      );
      for (const batches of groupByRun(expired)) this.reject(batches, given);
    }
    return failure;
  }

  private committed(batches: Batch[]): void {
    this.counters.commits++;
    this.consecutiveFailures = 0;
    for (const batch of batches) {
      this.inflightCount -= batch.rows.length;
      const log = batch.log;
      log.whole = false;
      log.batches.splice(log.batches.indexOf(batch), 1);
      // A finished run needs no state: bounded memory. An append after `done` (recovery) starts afresh.
      if (batch.hasDone && log.batches.length === 0 && this.runs.get(log.runId) === log) this.runs.delete(log.runId);
      batch.resolve();
    }
  }

  /** Rejects the run's failed batches and, since its log now has a hole, its later batches queued by now. */
  private reject(group: Batch[], failure: Error): void {
    const log = group[0]!.log;
    log.whole = false;
    for (const batch of group) {
      this.inflightCount -= batch.rows.length;
      this.settle(batch, failure);
    }
    for (const batch of [...log.batches]) {
      if (this.queue.delete(batch)) {
        this.pendingCount -= batch.rows.length;
        this.settle(batch, failure);
      }
    }
    if (failure instanceof StoreError && failure.code === "not_found") {
      // The run does not exist (or was deleted): every later append fails on its own; nothing to remember.
      if (this.runs.get(log.runId) === log && log.batches.length === 0) this.runs.delete(log.runId);
      return;
    }
    log.failure = failure;
    if (this.runs.get(log.runId) !== log) this.runs.set(log.runId, log);
  }

  /** Rejects one batch that is no longer queued or in flight. */
  private settle(batch: Batch, error: Error): void {
    const log = batch.log;
    const at = log.batches.indexOf(batch);
    if (at >= 0) log.batches.splice(at, 1);
    if (log.open === batch) log.open = undefined;
    this.counters.rejectedEvents += batch.rows.length;
    batch.reject(error);
  }
}

/** Throws RangeError for nonsensical options (the stores call it before opening their database). */
export function checkBatcherOptions(options: EventBatcherOptions): void {
  const { flushIntervalMs = defaultFlushIntervalMs, maxBatch = 256, retryForMs = 60_000 } = options;
  if (!(flushIntervalMs >= 0)) throw new RangeError("flushIntervalMs must be >= 0");
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError("maxBatch must be a positive integer");
  if (!(retryForMs >= 0)) throw new RangeError("retryForMs must be >= 0");
}

function newBatch(log: RunLog): Batch {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Appenders that ignore the promise must not crash the process with an unhandled rejection: the failure is also
  // reported through onFlushError and refuses the run's later appends. Awaiting it still sees the rejection.
  promise.catch(() => {});
  return { log, rows: [], promise, resolve, reject, hasDone: false, failingSince: undefined };
}

function groupByRun(batches: Batch[]): Batch[][] {
  const byRun = new Map<RunLog, Batch[]>();
  for (const batch of batches) {
    const group = byRun.get(batch.log);
    if (group) group.push(batch);
    else byRun.set(batch.log, [batch]);
  }
  return [...byRun.values()];
}

function shownOnceCommitted(type: ChatEvent["type"]): boolean {
  return type === "done" || type === "approval-request";
}

/**
 * A page of a run's log: the committed events (read from the database AFTER `queued` was taken, so an event
 * committed in between is in one or both, never in neither) merged with the queued ones, by seq.
 *
 * A queued `done` or `approval-request` is left out: the API shows both only once durable (nothing of the run is
 * appended after either until it is). A `done` is read with its run marked finished and its answer stored: a client
 * that saw its run end from a read before that (a subscription opened meanwhile) sent its next message to a
 * conversation still busy, or past MAX_RUNS_PER_USER. An approval request is read once a crash can no longer take
 * it out of the log.
 */
export function mergeQueued(
  committed: StoredEvent[],
  queued: readonly QueuedEvent[],
  afterSeq: number,
  limit = Infinity,
  types?: ReadonlySet<string>,
): StoredEvent[] {
  if (queued.length === 0) return committed.length > limit ? committed.slice(0, limit) : committed;
  const out: StoredEvent[] = [];
  let i = 0;
  for (const row of queued) {
    if (row.seq <= afterSeq || shownOnceCommitted(row.type) || (types && !types.has(row.type))) continue;
    while (i < committed.length && committed[i]!.seq < row.seq && out.length < limit) out.push(committed[i++]!);
    if (out.length >= limit) return out;
    if (i < committed.length && committed[i]!.seq === row.seq) continue; // committed while we read: the database's copy wins
    out.push({ seq: row.seq, event: JSON.parse(row.json) as ChatEvent });
    if (out.length >= limit) return out;
  }
  while (i < committed.length && out.length < limit) out.push(committed[i++]!);
  return out;
}
