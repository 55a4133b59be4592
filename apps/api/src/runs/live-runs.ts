import type { ChatEvent, EventOf, ThinkSetting } from "@streamchat/core";
import type { RunRecord, StoredEvent } from "@streamchat/store";

export type Listener = (event: StoredEvent) => void;

/** A run executing in this process. */
export interface LiveRun {
  record: RunRecord;
  controller: AbortController;
  listeners: Set<Listener>;
  /** Set after the last event: subscribers waiting for more stop waiting. */
  closed: boolean;
  wake: Set<() => void>;
  /** Aborted by shutdown, not by the user: ends as interrupted instead of cancelled. */
  interrupted: boolean;
  ended: Promise<void>;
  /** Sent as the model request's `think`; undefined leaves it to the model. */
  think: ThinkSetting | undefined;
  /**
   * The last seq this process assigned to the run: this process owns the run's seqs (the store refuses one that
   * does not increase). Every seq appended or handed to listeners is at most this.
   */
  seq: number;
  /** The last event handed to listeners. */
  lastPublished: ChatEvent | undefined;
  /** Its seq (0 before the first): an end told to listeners without the log follows it without a gap. */
  publishedSeq: number;
  /** A store write failed: the run is stopped and nothing more is written by the run loop. */
  storeFailed: boolean;
  /** The run's `done` is committed to the log (set before it is handed to listeners). */
  committedDone: StoredEvent & { event: EventOf<"done"> } | undefined;
  /** The promise of the event batch the run's last append joined: one failure handler per batch, not per event. */
  batch: Promise<void> | undefined;
}

export interface LiveRunStats {
  activeRuns: number;
  listeners: number;
}

/**
 * The runs executing in this process, and their fan-out to live subscribers. Other processes' runs are only in
 * the store (subscribe.ts follows them through the log).
 */
export class LiveRuns {
  private readonly runs = new Map<string, LiveRun>();

  /** Registers a run about to execute; `end()` unregisters it and wakes its subscribers. */
  add(record: RunRecord, think: ThinkSetting | undefined): { live: LiveRun; end: () => void } {
    let resolveEnded!: () => void;
    const live: LiveRun = {
      record,
      controller: new AbortController(),
      listeners: new Set(),
      closed: false,
      wake: new Set(),
      interrupted: false,
      ended: new Promise<void>((resolve) => (resolveEnded = resolve)),
      think,
      seq: 0,
      lastPublished: undefined,
      publishedSeq: 0,
      storeFailed: false,
      committedDone: undefined,
      batch: undefined,
    };
    this.runs.set(record.id, live);
    const end = () => {
      live.closed = true;
      for (const wake of live.wake) wake();
      this.runs.delete(record.id);
      resolveEnded();
    };
    return { live, end };
  }

  get(runId: string): LiveRun | undefined {
    return this.runs.get(runId);
  }

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  /** The conversation's run executing in this process, if any. */
  forConversation(conversationId: string): LiveRun | undefined {
    for (const run of this.runs.values()) if (run.record.conversationId === conversationId) return run;
    return undefined;
  }

  all(): LiveRun[] {
    return [...this.runs.values()];
  }

  get size(): number {
    return this.runs.size;
  }

  /** Hands an event to the run's live subscribers (it is in this process's view of the log already). */
  publish(live: LiveRun, stored: StoredEvent): void {
    if (stored.seq > live.seq) live.seq = stored.seq;
    live.lastPublished = stored.event;
    live.publishedSeq = stored.seq;
    for (const listener of live.listeners) listener(stored);
  }

  stats(): LiveRunStats {
    let listeners = 0;
    for (const run of this.runs.values()) listeners += run.listeners.size;
    return { activeRuns: this.runs.size, listeners };
  }
}
