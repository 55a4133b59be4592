import type { ApprovalDecision, ApproveHook } from "@streamchat/core";
import type { ApprovalDecisionRecord, ChatStore } from "@streamchat/store";
import type { RunLog } from "./run-log.js";

/** A call whose decision is in the store: what `DecisionSignal` carries. */
export interface DecidedCall {
  runId: string;
  callId: string;
  /** The replica id recorded as running the run (null when unknown): where a routing channel sends the news. */
  owner: string | null;
}

/**
 * How the news "this call was decided" reaches the process whose run waits for it. The decision itself is in the
 * store (chat.approve records it first), so a signal only says when to read it, and a lost signal delays a decision
 * without losing it: hooks also read the store when they start waiting and, with several processes, every `pollMs`.
 *
 * Embedded (one process): `localDecisionSignal`, in-process. RunManager adds the RunStreams control channel for a
 * run owned by another replica (Redis pub/sub on the owner's replica id, cluster mode); without one (several
 * processes on PostgreSQL without Redis) the store polling carries decisions between processes.
 */
export interface DecisionSignal {
  publish(decided: DecidedCall): Promise<void>;
  /** Called for every published decision this process can hear of; returns the unsubscribe function. */
  subscribe(listener: (decided: DecidedCall) => void): () => void;
}

export function localDecisionSignal(): DecisionSignal {
  const listeners = new Set<(decided: DecidedCall) => void>();
  return {
    async publish(decided) {
      for (const listener of listeners) listener(decided);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export interface ApprovalWaitsOptions {
  store: ChatStore;
  signal: DecisionSignal;
  /** Also read the store this often while a call waits (another process may decide it); null: only when signalled. */
  pollMs: number | null;
  log: RunLog;
  /** Wait before reading the store again after a read failed. Default 1000 ms. */
  retryMs?: number;
}

interface Waiter {
  /** Reads the store for the call's decision and settles the wait when there is one. */
  check(): void;
}

/**
 * The waiting side of approvals in this process: the `approve` hook each run gets (runChat calls it for a call that
 * needs approval, before the call's approval-request is emitted), and which runs wait right now (shutdown suspends
 * them instead of ending them).
 *
 * A hook registers its call at once, then resolves with the decision chat.approve stored for it: read when it
 * starts (a decision made while no process ran the run: a restart, another process), when signalled, and every
 * `pollMs`. It rejects when its signal aborts (cancel, timeout, suspension); the registration goes with it.
 */
/** A stored decision as the run's hook answers it. */
export function decisionOf(record: ApprovalDecisionRecord): ApprovalDecision {
  return { approved: record.approved, ...(record.reason ? { reason: record.reason } : {}) };
}

export class ApprovalWaits {
  private readonly waiting = new Map<string, Map<string, Waiter>>();
  /** Runs being resumed that have not asked their hook yet: they count as waiting (shutdown suspends them). */
  private readonly expected = new Set<string>();
  private readonly waitListeners = new Set<(runId: string) => void>();
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: ApprovalWaitsOptions) {
    this.unsubscribe = opts.signal.subscribe(({ runId, callId }) => this.decided(runId, callId));
  }

  /**
   * The `approve` hook of one run. `known`: decisions already read from the store (a resumed run's, stored while no
   * process ran it), answered at once: the run's deadline timer may be due at once too (the request expired during the
   * downtime), and an answer that needs a store read would lose that race on a database slower than a turn of the loop.
   */
  hookFor(runId: string, known?: ReadonlyMap<string, ApprovalDecision>): ApproveHook {
    return (request, { signal }) => {
      const decision = known?.get(request.callId);
      if (decision === undefined) return this.wait(runId, request.callId, signal);
      this.expected.delete(runId);
      return Promise.resolve(decision);
    };
  }

  /** True while a call of the run waits for a decision (or the run is being resumed to wait again). */
  isWaiting(runId: string): boolean {
    return (this.waiting.get(runId)?.size ?? 0) > 0 || this.expected.has(runId);
  }

  /** A resumed run will wait again: it counts as waiting until it asks its hook, or `forget(runId)`. */
  expect(runId: string): void {
    this.expected.add(runId);
  }

  /** The run ended here: it is not expected to wait any more. */
  forget(runId: string): void {
    this.expected.delete(runId);
  }

  /** A call's decision landed in the store: a waiting call reads it now. True when the call waits here. */
  decided(runId: string, callId: string): boolean {
    const waiter = this.waiting.get(runId)?.get(callId);
    waiter?.check();
    return waiter !== undefined;
  }

  /** `listener(runId)` whenever a call starts waiting (after its hook registered it); returns the unsubscribe function. */
  onWait(listener: (runId: string) => void): () => void {
    this.waitListeners.add(listener);
    return () => this.waitListeners.delete(listener);
  }

  close(): void {
    this.unsubscribe();
  }

  private wait(runId: string, callId: string, signal: AbortSignal): Promise<ApprovalDecision> {
    const { store, log } = this.opts;
    return new Promise<ApprovalDecision>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      let settled = false;
      let reading = false;
      let readAgain = false;
      let poll: NodeJS.Timeout | undefined;
      let retry: NodeJS.Timeout | undefined;
      const calls = this.waiting.get(runId) ?? new Map<string, Waiter>();
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearInterval(poll);
        clearTimeout(retry);
        signal.removeEventListener("abort", onAbort);
        if (calls.get(callId) === waiter) calls.delete(callId);
        if (calls.size === 0 && this.waiting.get(runId) === calls) this.waiting.delete(runId);
        settle();
      };
      const onAbort = () => finish(() => reject(signal.reason));
      const decided = (record: ApprovalDecisionRecord) => finish(() => resolve(decisionOf(record)));
      // One read at a time; a signal during a read reads once more after it (the decision may have landed meanwhile).
      const check = () => {
        if (settled) return;
        if (reading) {
          readAgain = true;
          return;
        }
        reading = true;
        store.getApprovalDecision(runId, callId).then(
          (record) => {
            reading = false;
            if (record) decided(record);
            else if (readAgain) {
              readAgain = false;
              check();
            }
          },
          (error: unknown) => {
            reading = false;
            if (settled) return;
            log.warn({ err: error, runId, callId }, "reading an approval decision failed; retrying");
            clearTimeout(retry);
            retry = setTimeout(check, this.opts.retryMs ?? 1000);
            retry.unref();
          },
        );
      };
      const waiter: Waiter = { check };
      calls.set(callId, waiter);
      this.waiting.set(runId, calls);
      this.expected.delete(runId);
      signal.addEventListener("abort", onAbort, { once: true });
      if (this.opts.pollMs !== null) {
        poll = setInterval(check, this.opts.pollMs);
        poll.unref();
      }
      check();
      for (const listener of this.waitListeners) listener(runId);
    });
  }
}
