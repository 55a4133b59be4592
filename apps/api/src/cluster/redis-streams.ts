import type { ChatEvent, ChatMessage, EventOf } from "@streamchat/core";
import type { RunRecord, StoredEvent } from "@streamchat/store";
import { AppError } from "../errors.js";
import type { LiveRun } from "../runs/live-runs.js";
import { RunEvents } from "../runs/run-events.js";
import type { FollowOptions, PendingEnd, RunControl, RunStreams, RunStreamsDeps, CommittedDone } from "../runs/run-streams.js";
import { followOptions, followRun, localLiveHandle, type DirectSlot, type FollowSource, type RunEventStream } from "../runs/subscribe.js";
import { ControlChannel } from "./control-channel.js";
import { closeRedis, openRedis, type Redis } from "./redis-connection.js";
import { entryToEvent, ownerField, ownershipOf, pendingEndsKey, runStreamKey, streamId, userField } from "./redis-keys.js";
import { runEventCommand } from "./run-event-script.js";
import { ReplicaRedis } from "./replica-redis.js";
import { RunStreamFollowers } from "./run-stream-followers.js";

export const redisUnavailableMessage = "The event bus (Redis) is unreachable; try again in a moment.";
/** How long health() waits for Redis's PING. */
const healthDeadlineMs = 1000;

/** New sends while Redis is down: code internal, HTTP 503 (as when the database is unreachable). */
export function redisUnavailable(): AppError {
  return new AppError("internal", redisUnavailableMessage, "SERVICE_UNAVAILABLE");
}

export interface RedisStreamsOptions extends FollowOptions {
  url: string;
  /** How long a run's stream stays in Redis after its `done` (default 10 min); later, history comes from the database. */
  ttlAfterDoneMs?: number;
  /** Longest a run's stream lives in Redis, ended or not (default 24 h): a stream nobody ended does not stay forever. */
  maxTtlMs?: number;
  /** How often a follower reads the database while Redis is down (default 250 ms). */
  pollMs?: number;
  /** A followed stream silent this long has its followers check the run's record (default 3000 ms). */
  stallMs?: number;
  /** How long a control message waits for the owner's reply (default 2000 ms). */
  controlReplyTimeoutMs?: number;
  /**
   * How long one blocking XREAD of the stream reader waits before it starts over (default 5000 ms). Only where
   * openRedisRunStreams opens the replica's connections itself (no `redis` given).
   */
  blockMs?: number;
  /**
   * The watchdog deadline of the replica's Redis connections (RedisConnectionOptions.unansweredMs; REDIS_UNANSWERED_MS),
   * default 10 000 ms. Only where openRedisRunStreams opens the replica's connections itself (no `redis` given): the
   * subscriber always takes the deadline of the replica's connections (ReplicaRedis.unansweredMs).
   */
  unansweredMs?: number;
}

/**
 * The three connections of a replica: commands and the blocking reader (shared with the feed), the subscriber (control
 * messages, and the runs followed live).
 */
export interface RedisConnections {
  redis: ReplicaRedis;
  subscriber: Redis;
}

type RedisStreamsDeps = RunStreamsDeps;

/**
 * RunStreams over Redis Streams (cluster mode, REDIS_URL): any replica follows and controls any run.
 *
 * - Write (owner): each event goes to the durable log (batched, as embedded), to this replica's in-process followers,
 *   to the run's stream (`XADD streamchat:run:<id> <seq>-0`), then to the run's channel (`PUBLISH`): one script
 *   (run-event-script.ts), pipelined, not awaited. A failed XADD stops the run (it ends with error{internal}). `done`
 *   is committed to the database before it is published.
 * - Follow: a run executing here is followed in-process (as embedded); any other through this replica's
 *   RunStreamFollowers, one subscription to the run's channel on the replica's subscriber connection (shared with
 *   the control channel). History is the stream (XRANGE), and the database where the stream has expired or lost
 *   entries. While Redis is down, followers read the database.
 * - Control: pub/sub to the owner's channel (ControlChannel).
 * - Liveness is not here: it is the database's (PostgreSQL session locks, postgres-liveness.ts), which also works
 *   while Redis is down; see docs/architecture.md.
 */
export class RedisRunStreams implements RunStreams {
  readonly kind = "redis";
  followers = 0;
  private readonly writer: RunEvents;
  /** The runs executing on other replicas that are followed here, each through its channel. */
  private readonly remote: RunStreamFollowers;
  private readonly closing = new AbortController();
  private readonly source: FollowSource;
  private readonly followOptions: ReturnType<typeof followOptions>;
  private readonly command: Redis;
  private readonly ttlAfterDone: string;
  private readonly maxTtl: string;
  private closed = false;
  private readonly release: () => Promise<void>;

  constructor(
    private readonly deps: RedisStreamsDeps,
    private readonly redis: RedisConnections,
    private readonly control_: ControlChannel,
    private readonly opts: RedisStreamsOptions,
  ) {
    const { store, live } = deps;
    this.command = redis.redis.command;
    this.release = redis.redis.retain();
    this.ttlAfterDone = String(opts.ttlAfterDoneMs ?? 600_000);
    this.maxTtl = String(opts.maxTtlMs ?? 86_400_000);
    this.writer = new RunEvents(store, (run, stored, json) => this.publishLive(run, stored, json), deps.onWriteFailure);
    this.remote = new RunStreamFollowers({
      subscriber: redis.subscriber,
      runningAmong: (runIds) => store.runningAmong(runIds),
      log: deps.log,
      logContext: { replicaId: deps.replicaId },
      ...(opts.stallMs === undefined ? {} : { stallMs: opts.stallMs }),
    });
    this.followOptions = followOptions(this, opts);
    this.source = {
      read: (runId, afterSeq, limit) => this.read(runId, afterSeq, limit),
      listen: async (runId, _fromSeq, listener, wake) =>
        localLiveHandle(live, runId, listener, wake) ?? (await this.remote.listen(runId, listener, wake)),
      isRunning: async (runId) => (await store.getRun(runId))?.status === "running",
      ...(opts.pollMs === undefined ? {} : { pollMs: opts.pollMs }),
      closing: this.closing.signal,
    };
  }

  assertWritable(): void {
    if (this.closed || !this.command.isReady || !this.remote.isHealthy) throw redisUnavailable();
  }

  append(run: LiveRun, event: ChatEvent): void {
    this.writer.emit(run, event);
  }

  appendCommitted(run: LiveRun, event: ChatEvent): Promise<void> {
    return this.writer.emitCommitted(run, event);
  }

  commitDone(run: LiveRun, done: EventOf<"done">, messages: readonly ChatMessage[]): Promise<CommittedDone> {
    // Marked before the commit is sent (same connection as the end's publishes, ahead of them): should this replica die
    // after the commit and before its end is out, a survivor finds the run here and announces it (recovery.ts). Not
    // awaited: it leaves before the commit's statement does, and the commit takes a database round trip. A failure is
    // Redis being down, when this run's end cannot reach the other replicas anyway.
    this.command.sendCommand(["HSET", pendingEndsKey, run.record.id, `${this.deps.replicaId} ${Date.now()}`]).catch(() => {});
    return this.writer.commitDone(run, done, messages);
  }

  publish(run: LiveRun, stored: StoredEvent): void {
    this.publishLive(run, stored);
    if (stored.event.type === "done") {
      // Unmarked once the end is out: the caller tells the feed (RunHooks.runFinished, an XADD on this same connection)
      // right after this, in this turn of the event loop or its microtasks; commands of one connection run in order.
      const runId = run.record.id;
      setImmediate(() => this.command.sendCommand(["HDEL", pendingEndsKey, runId]).catch(() => {}));
    }
  }

  async lastSeenSeq(runId: string): Promise<number> {
    const logEnd = await this.deps.store.lastSeq(runId);
    try {
      return Math.max(logEnd, await this.streamTop(runId));
    } catch {
      // Redis is down: the recovery gap (10 000 seqs) is far above what a stream can be ahead of the log.
      return logEnd;
    }
  }

  async publishClosing(runId: string, stored: StoredEvent): Promise<void> {
    await this.addEvent(runId, stored, undefined).catch((error: unknown) => {
      // Already there (a replica published it before it died, or another closer did): followers have it.
      if (!isIdTooSmall(error)) throw error;
    });
  }

  async pendingEnds(): Promise<PendingEnd[]> {
    const reply = await this.command.sendCommand<unknown>(["HGETALL", pendingEndsKey]);
    const pending: PendingEnd[] = [];
    // RESP2: [field, value, …]; RESP3: { field: value }.
    const pairs = Array.isArray(reply) ? reply : reply && typeof reply === "object" ? Object.entries(reply).flat() : [];
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const runId: unknown = pairs[i];
      const value: unknown = pairs[i + 1];
      if (typeof runId !== "string" || typeof value !== "string") continue;
      // "<owner> <markedAt>" (a replica id has no space).
      const space = value.lastIndexOf(" ");
      pending.push({ runId, owner: space < 0 ? value : value.slice(0, space), markedAt: space < 0 ? 0 : Number(value.slice(space + 1)) || 0 });
    }
    return pending;
  }

  async takePendingEnd(runId: string): Promise<boolean> {
    return Number(await this.command.sendCommand<unknown>(["HDEL", pendingEndsKey, runId])) > 0;
  }

  /**
   * History from the stream; from the database where the stream does not continue right after `afterSeq` or skips a
   * seq (expired after the run ended, lost by a Redis restart, a recovery gap, or events the owner could not add while
   * its connection to Redis was down: those are in the database, and the run's closing events come after them in
   * the stream). Events only the stream has after a gap the database does not confirm are held back: the database
   * gets them within a commit interval, and the follower reads again.
   */
  async read(runId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    let fromStream: StoredEvent[] = [];
    try {
      const reply = await this.command.sendCommand<unknown>([
        "XRANGE",
        runStreamKey(runId),
        `(${streamId(afterSeq)}`,
        "+",
        "COUNT",
        String(limit),
      ]);
      if (Array.isArray(reply)) {
        for (const entry of reply) {
          const stored = entryToEvent(entry);
          if (stored) fromStream.push(stored);
        }
      }
    } catch {
      fromStream = [];
    }
    if (isContiguous(afterSeq, fromStream)) return fromStream;
    const fromLog = await this.deps.store.readEvents(runId, afterSeq, limit);
    if (fromStream.length === 0) return fromLog;
    return mergeHistory(afterSeq, fromLog, fromStream, limit);
  }

  follow(runId: string, afterSeq: number, signal?: AbortSignal, direct?: DirectSlot): RunEventStream {
    return followRun(this.source, runId, afterSeq, signal, direct ? { ...this.followOptions, direct } : this.followOptions);
  }

  async liveOwnership(runId: string): Promise<{ userId: string; owner: string } | null> {
    const reply = await this.command.sendCommand<unknown>(["XRANGE", runStreamKey(runId), "-", "+", "COUNT", "1"]);
    return Array.isArray(reply) ? ownershipOf(reply[0]) : null;
  }

  async control(run: Pick<RunRecord, "id" | "owner">, message: RunControl): Promise<boolean> {
    if (this.deps.live.has(run.id)) return this.deps.onControl(run.id, message);
    if (!run.owner || run.owner === this.deps.replicaId || this.closed) return false;
    return this.control_.send(run.owner, run.id, message);
  }

  /**
   * Down unless a PING is answered within a second. The deadline is this method's own: node-redis's command timeout
   * only covers a command's wait to be written, so a Redis that stops answering kept /healthz waiting forever.
   */
  async health(): Promise<{ ok: boolean }> {
    if (this.closed || !this.command.isReady) return { ok: false };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), healthDeadlineMs)));
    const answered = this.command.sendCommand(["PING"]).then(
      // The subscriber (the runs followed live) and the blocking reader (the conversation feeds).
      () => this.remote.isHealthy && this.redis.redis.reader.isHealthy,
      () => false,
    );
    try {
      return { ok: await Promise.race([answered, late]) };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    await this.control_.close();
    this.remote.close();
    await closeRedis(this.redis.subscriber);
    // Last: the closing events of this replica's runs are still on their way to the streams. The command
    // connection and the blocking reader close when the feed has given its share back too.
    await this.release();
  }

  private publishLive(run: LiveRun, stored: StoredEvent, json?: string): void {
    this.deps.live.publish(run, stored, json);
    this.addEvent(run.record.id, stored, json, stored.event.type === "run-start" ? run.record.userId : undefined).catch((error: unknown) => {
      if (isIdTooSmall(error)) return;
      // Followers elsewhere would miss the rest of the run: stop it (it ends with error{internal}).
      this.deps.onWriteFailure(run, error);
    });
  }

  /**
   * The event into the run's stream and channel (run-event-script.ts). `json`: the event's, when the run serialized it
   * already. `userId`: the run-start's, which carries the run's user and owner too (liveOwnership).
   */
  private addEvent(runId: string, stored: StoredEvent, json: string | undefined, userId?: string): Promise<unknown> {
    const type = stored.event.type;
    const expireMs = type === "done" ? this.ttlAfterDone : type === "run-start" ? this.maxTtl : undefined;
    const fields = userId === undefined ? [] : [userField, userId, ownerField, this.deps.replicaId];
    const command = runEventCommand(runId, stored.seq, json ?? JSON.stringify(stored.event), expireMs, fields);
    // Commands of one connection are sent and answered in order: the stream and the channel get the run's events in
    // seq order.
    return this.command.sendCommand(command);
  }

  private async streamTop(runId: string): Promise<number> {
    const reply = await this.command.sendCommand<unknown>(["XREVRANGE", runStreamKey(runId), "+", "-", "COUNT", "1"]);
    const stored = Array.isArray(reply) ? entryToEvent(reply[0]) : undefined;
    return stored?.seq ?? 0;
  }
}

/**
 * The stream and the log merged by seq: every event of the log, and the stream's events up to the first gap the log
 * does not confirm (a gap in the log is real: seqs skipped on purpose; one only in the stream may be events the log
 * has not committed yet). The log confirms a gap before a seq when it has that seq or a later one: a run's events
 * are committed in seq order, so what the log lacks below its last seq it never gets (the uncommitted tail of a
 * replica that died, whose run was closed above it).
 */
export function mergeHistory(afterSeq: number, fromLog: StoredEvent[], fromStream: StoredEvent[], limit: number): StoredEvent[] {
  const bySeq = new Map<number, StoredEvent>();
  for (const stored of fromStream) bySeq.set(stored.seq, stored);
  let lastLogged = afterSeq;
  for (const stored of fromLog) {
    bySeq.set(stored.seq, stored);
    if (stored.seq > lastLogged) lastLogged = stored.seq;
  }
  const merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  const out: StoredEvent[] = [];
  let last = afterSeq;
  for (const stored of merged) {
    if (out.length >= limit) break;
    if (stored.seq !== last + 1 && stored.seq > lastLogged) break;
    out.push(stored);
    last = stored.seq;
  }
  return out;
}

/** The stream's entries are afterSeq + 1, afterSeq + 2, … with none skipped (and there is at least one). */
function isContiguous(afterSeq: number, fromStream: readonly StoredEvent[]): boolean {
  if (fromStream.length === 0) return false;
  for (let i = 0; i < fromStream.length; i++) if (fromStream[i]!.seq !== afterSeq + 1 + i) return false;
  return true;
}

function isIdTooSmall(error: unknown): boolean {
  return error instanceof Error && /equal or smaller than the target stream top item/.test(error.message);
}

/**
 * Opens the control channel, and the replica's shared connections unless `redis` gives them; the factory builds the
 * RunStreams for a RunManager (which takes a share of `redis`, given back when it closes).
 */
export async function openRedisRunStreams(
  opts: RedisStreamsOptions & { replicaId: string; log: RedisStreamsDeps["log"]; redis?: ReplicaRedis },
): Promise<{ factory: (deps: RunStreamsDeps) => RedisRunStreams; abort: () => Promise<void>; redis: ReplicaRedis }> {
  const { url, replicaId, log } = opts;
  const redis =
    opts.redis ??
    (await ReplicaRedis.open({
      url,
      replicaId,
      log,
      ...(opts.blockMs === undefined ? {} : { blockMs: opts.blockMs }),
      ...(opts.unansweredMs === undefined ? {} : { unansweredMs: opts.unansweredMs }),
    }));
  let subscriber: Redis | undefined;
  let control: ControlChannel;
  let apply: (runId: string, control: RunControl) => boolean = () => false;
  try {
    // The replica's deadline, whoever opened its other connections: it used to be left at the default here, so a
    // silent Redis was seen late on this connection alone.
    subscriber = await openRedis({ url, role: "subscriber", replicaId, log, unansweredMs: redis.unansweredMs });
    control = await ControlChannel.open({
      command: redis.command,
      subscriber,
      replicaId,
      log,
      apply: (runId, message) => apply(runId, message),
      ...(opts.controlReplyTimeoutMs === undefined ? {} : { replyTimeoutMs: opts.controlReplyTimeoutMs }),
    });
  } catch (error) {
    subscriber?.destroy();
    if (!opts.redis) await redis.abort();
    throw error;
  }
  const connections: RedisConnections = { redis, subscriber };
  return {
    factory: (deps) => {
      apply = deps.onControl;
      return new RedisRunStreams(deps, connections, control, opts);
    },
    // Start-up failed after the connections were opened (before a RunManager took them).
    abort: async () => {
      subscriber.destroy();
      await redis.abort();
    },
    redis,
  };
}
