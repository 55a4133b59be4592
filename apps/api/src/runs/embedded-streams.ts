import type { ChatEvent, ChatMessage, EventOf } from "@streamchat/core";
import type { RunRecord, StoredEvent } from "@streamchat/store";
import type { LiveRun } from "./live-runs.js";
import { RunEvents } from "./run-events.js";
import type { FollowOptions, PendingEnd, RunControl, RunStreams, RunStreamsDeps, CommittedDone } from "./run-streams.js";
import { followOptions, followRun, localLiveHandle, type DirectSlot, type FollowSource, type RunEventStream } from "./subscribe.js";

export interface EmbeddedStreamsOptions extends FollowOptions {
  /** How often a follower reads the log of a run executing in another process (default 250 ms). */
  pollMs?: number;
}

/**
 * RunStreams within one process: followers of a run executing here get its events from the in-process listeners,
 * history is the store's log. A run executing in another process on the same PostgreSQL (several processes without
 * Redis) is followed by reading its log every `pollMs`, and cannot be controlled from here.
 */
export class EmbeddedRunStreams implements RunStreams {
  readonly kind = "embedded";
  followers = 0;
  private readonly writer: RunEvents;
  private readonly closing = new AbortController();
  private readonly source: FollowSource;
  private readonly followOptions: ReturnType<typeof followOptions>;

  constructor(
    private readonly deps: RunStreamsDeps,
    private readonly opts: EmbeddedStreamsOptions = {},
  ) {
    const { store, live } = deps;
    this.writer = new RunEvents(store, (run, stored, json) => live.publish(run, stored, json), deps.onWriteFailure);
    this.followOptions = followOptions(this, opts);
    this.source = {
      read: (runId, afterSeq, limit) => store.readEvents(runId, afterSeq, limit),
      listen: async (runId, _fromSeq, listener, wake) => localLiveHandle(live, runId, listener, wake),
      isRunning: async (runId) => (await store.getRun(runId))?.status === "running",
      ...(opts.pollMs === undefined ? {} : { pollMs: opts.pollMs }),
      closing: this.closing.signal,
    };
  }

  assertWritable(): void {}

  append(run: LiveRun, event: ChatEvent): void {
    this.writer.emit(run, event);
  }

  appendCommitted(run: LiveRun, event: ChatEvent): Promise<void> {
    return this.writer.emitCommitted(run, event);
  }

  commitDone(run: LiveRun, done: EventOf<"done">, messages: readonly ChatMessage[]): Promise<CommittedDone> {
    return this.writer.commitDone(run, done, messages);
  }

  publish(run: LiveRun, stored: StoredEvent): void {
    this.deps.live.publish(run, stored);
  }

  lastSeenSeq(runId: string): Promise<number> {
    return this.deps.store.lastSeq(runId);
  }

  /** Followers of a run that does not execute here read its log: they find the closing events there. */
  async publishClosing(): Promise<void> {}

  /** None: followers of another process's run read its log, and the feed is this process's own. */
  async pendingEnds(): Promise<PendingEnd[]> {
    return [];
  }

  async takePendingEnd(): Promise<boolean> {
    return false;
  }

  read(runId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return this.deps.store.readEvents(runId, afterSeq, limit);
  }

  follow(runId: string, afterSeq: number, signal?: AbortSignal, direct?: DirectSlot): RunEventStream {
    return followRun(this.source, runId, afterSeq, signal, direct ? { ...this.followOptions, direct } : this.followOptions);
  }

  /** Only a run executing in this process: there is no channel to another one. */
  async control(run: Pick<RunRecord, "id" | "owner">, message: RunControl): Promise<boolean> {
    return this.deps.live.has(run.id) ? this.deps.onControl(run.id, message) : false;
  }

  async liveOwnership(): Promise<null> {
    return null;
  }

  async health(): Promise<null> {
    return null;
  }

  async close(): Promise<void> {
    this.closing.abort();
  }
}

export function embeddedRunStreams(opts: EmbeddedStreamsOptions = {}): (deps: RunStreamsDeps) => RunStreams {
  return (deps) => new EmbeddedRunStreams(deps, opts);
}
