import type { ChatEvent, ChatMessage, EventOf } from "@streamchat/core";
import type { ChatStore, StoredEvent, StoredMessage } from "@streamchat/store";
import type { LiveRun } from "./live-runs.js";

/** A run's committed `done`, with the messages stored in its commit. */
export type CommittedDone = StoredEvent & { event: EventOf<"done">; messages: StoredMessage[] };

/**
 * A run's write path, shared by every RunStreams implementation: each event gets the run's next seq, goes to the
 * store's log, and then to live followers (`publish`: in-process, and in a cluster the run's Redis stream).
 *
 * The token path stays lean: `emit` does not wait for the commit (the store batches appends and commits every
 * ~25 ms) and allocates nothing per event for the commit's outcome. The store hands back the promise of the batch
 * the event joined, shared by the run's events of one commit; a failure handler is attached once per batch (when
 * the promise differs from the last one seen), never per token.
 *
 * An event is serialized once, here: the log stores that JSON, and chat.events' SSE writer and a cluster's stream send it
 * (`publish`'s `json`), so what was streamed is byte for byte what is stored.
 *
 * Subscribers may therefore see an event before it is committed, as they always could (a crash loses the log's
 * uncommitted tail): closing events of a run whose log lost events skip past every seq handed out (close-run.ts).
 * `done` is different: `commitDone` waits for the commit, and the caller hands it to subscribers only after.
 */
export class RunEvents {
  constructor(
    private readonly store: ChatStore,
    /**
     * Hands an event to live followers (it is in this process's view of the log already), with `JSON.stringify` of
     * the event when it could be serialized.
     */
    private readonly publish: (run: LiveRun, stored: StoredEvent, json: string | undefined) => void,
    /** A commit of the run's events failed for good (or the store threw): stop the run. Must not throw. */
    private readonly onStoreFailure: (run: LiveRun, error: unknown) => void,
  ) {}

  /** Appends `event` under the run's next seq and hands it to live subscribers. Never throws; a no-op once the store failed. */
  emit(run: LiveRun, event: ChatEvent): void {
    if (run.storeFailed) return;
    const seq = run.seq + 1;
    const json = serialized(event);
    if (this.append(run, seq, event, json)) this.publish(run, { seq, event }, json);
  }

  /**
   * Appends `event` and hands it to subscribers only once it is committed, like `done`: for an `approval-request`,
   * so that no client shows an approval card a crash of this process could still take out of the log (the run is
   * then closed instead of continued by the next start). The caller awaits it before it emits anything else.
   * Never rejects; a failed commit stops the run as for `emit`.
   */
  async emitCommitted(run: LiveRun, event: ChatEvent): Promise<void> {
    if (run.storeFailed) return;
    const seq = run.seq + 1;
    run.seq = seq; // taken now: nothing else is emitted until it is published
    const json = serialized(event);
    const batch = this.append(run, seq, event, json);
    if (!batch) return;
    try {
      await batch;
    } catch {
      return; // onStoreFailure stops the run
    }
    this.publish(run, { seq, event }, json);
  }

  /**
   * Queues the event in the store's log; the promise of the batch it joined, or undefined when the store threw. A
   * failure handler is attached once per batch; either failure stops the run through onStoreFailure.
   */
  private append(run: LiveRun, seq: number, event: ChatEvent, json: string | undefined): Promise<void> | undefined {
    let batch: Promise<void>;
    try {
      batch = this.store.appendEvent(run.record.id, seq, event, json);
    } catch (error) {
      // The contract rejects instead of throwing; a store that throws anyway must not break the run loop.
      this.onStoreFailure(run, error);
      return undefined;
    }
    if (batch !== run.batch) {
      run.batch = batch;
      batch.then(undefined, (error: unknown) => this.onStoreFailure(run, error));
    }
    return batch;
  }

  /**
   * Appends the run's `done` with the messages it produced (ChatStore.appendDone: one commit on SQLite) and waits
   * until it is committed — the same commit marks the run finished — and rejects when it is not. The caller hands
   * the returned event to subscribers after, so a client never sees an end the log (or the run's status, or the
   * conversation's messages) lacks.
   */
  async commitDone(run: LiveRun, done: EventOf<"done">, messages: readonly ChatMessage[]): Promise<CommittedDone> {
    const seq = run.seq + 1;
    run.seq = seq; // taken even if the append fails: no later event reuses it
    const stored = await this.store.appendDone(run.record.id, seq, done, { conversationId: run.record.conversationId, messages });
    const event = { seq, event: done };
    run.committedDone = event;
    return { ...event, messages: stored };
  }
}

/** The event's JSON; undefined when it cannot be serialized (the store then refuses it, which stops the run). */
function serialized(event: ChatEvent): string | undefined {
  try {
    return JSON.stringify(event);
  } catch {
    return undefined;
  }
}
