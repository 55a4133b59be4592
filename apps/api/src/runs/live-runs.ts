import type { ChatEvent, EventOf, ThinkSetting } from "@streamchat/core";
import type { RunRecord, StoredEvent } from "@streamchat/store";

/** `json`: `JSON.stringify(event.event)` when the publisher has it (RunEvents, a cluster stream's entry). */
export type Listener = (event: StoredEvent, json?: string) => void;

/** A live subscriber of a run executing in this process: its events, and a wake-up when the run ends. */
export interface RunFollower {
  deliver: Listener;
  wake(): void;
}

/** A run executing in this process. */
export interface LiveRun {
  record: RunRecord;
  controller: AbortController;
  /** One set for both the events and the end's wake-up: a held run kept two tables of one entry each. */
  followers: Set<RunFollower>;
  /** Set after the last event: subscribers waiting for more stop waiting. */
  closed: boolean;
  /** Aborted by shutdown, not by the user: ends as interrupted instead of cancelled. */
  interrupted: boolean;
  /** Made when someone first waits for the run's end (`whenRunEnded`): most runs end with no one waiting. */
  ending: { promise: Promise<void>; resolve: () => void } | undefined;
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
  /**
   * The run's first events as published, from seq 1 without a gap, before its answer's first streamed piece (token or
   * reasoning) and at most `liveHeadLimit`; null after (or when its seqs did not start at 1: a resumed run). See
   * `headAfter`.
   */
  head: StoredEvent[] | null;
}

/**
 * The most first events a run keeps for followers that arrive early. A client subscribes right after `chat.send`,
 * when its run has published two or three and its model has not answered yet; a run keeps them until its answer's
 * first streamed piece, so that an answer being streamed (an open stream's usual state) keeps none.
 */
export const liveHeadLimit = 16;

const isStreamedPiece = (stored: StoredEvent): boolean => stored.event.type === "token" || stored.event.type === "reasoning";

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

  /** Registers a run about to execute; `end(run)` unregisters it and wakes its subscribers. */
  add(record: RunRecord, think: ThinkSetting | undefined): LiveRun {
    const live: LiveRun = {
      record,
      controller: new AbortController(),
      followers: new Set(),
      closed: false,
      interrupted: false,
      ending: undefined,
      think,
      seq: 0,
      lastPublished: undefined,
      publishedSeq: 0,
      storeFailed: false,
      committedDone: undefined,
      batch: undefined,
      head: [],
    };
    this.runs.set(record.id, live);
    return live;
  }

  /** The run stopped executing here: unregistered, its subscribers woken, whoever waits for its end told. */
  end(live: LiveRun): void {
    live.closed = true;
    for (const follower of live.followers) follower.wake();
    this.runs.delete(live.record.id);
    live.ending?.resolve();
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
  publish(live: LiveRun, stored: StoredEvent, json?: string): void {
    if (stored.seq > live.seq) live.seq = stored.seq;
    live.lastPublished = stored.event;
    live.publishedSeq = stored.seq;
    const head = live.head;
    if (head) {
      if (head.length < liveHeadLimit && stored.seq === (head.at(-1)?.seq ?? 0) + 1 && !isStreamedPiece(stored)) head.push(stored);
      else live.head = null;
    }
    for (const follower of live.followers) follower.deliver(stored, json);
  }

  stats(): LiveRunStats {
    let listeners = 0;
    for (const run of this.runs.values()) listeners += run.followers.size;
    return { activeRuns: this.runs.size, listeners };
  }
}

/** Resolves once `run` has ended here (`LiveRuns.end`); at once when it has. */
export function whenRunEnded(run: LiveRun): Promise<void> {
  if (run.closed) return Promise.resolve();
  if (!run.ending) {
    let resolve!: () => void;
    const promise = new Promise<void>((done) => (resolve = done));
    run.ending = { promise, resolve };
  }
  return run.ending.promise;
}

/**
 * History of a run executing here without reading the log, when its head still holds everything it published
 * (each seq from 1 up): the events after `afterSeq`, at most `limit`. Undefined when the log must be read: the run
 * ended, its head was dropped, it published nothing yet (a resumed run's history is in the log), or its store failed
 * (the log may lack what it published). The log may hold one more event than the head (one appended and waiting for
 * its commit before it is published, as `done` is): a follower reads history after it listens, so that event reaches
 * it live.
 */
export function headAfter(run: LiveRun, afterSeq: number, limit: number): StoredEvent[] | undefined {
  const head = run.head;
  if (!head || head.length === 0 || run.closed || run.storeFailed) return undefined;
  const events: StoredEvent[] = [];
  for (const stored of head) {
    if (events.length >= limit) break;
    if (stored.seq > afterSeq) events.push(stored);
  }
  return events;
}
