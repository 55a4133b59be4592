import type { RunLog } from "../runs/run-log.js";
import type { RunStreamsFactory } from "../runs/run-streams.js";
import { embeddedRunStreams } from "../runs/embedded-streams.js";
import { redisTarget } from "./redis-target.js";
import type { ReplicaRedis } from "./replica-redis.js";

/**
 * Cluster mode lives in this folder: with REDIS_URL the runs' events, their followers and their control messages go
 * through Redis (redis-streams.ts); without it, through this process alone (runs/embedded-streams.ts). This is the
 * one place that chooses; everything else talks to the RunStreams interface.
 */
export interface RunStreamsChoice {
  factory: RunStreamsFactory;
  /** "embedded", or "redis host:port" (start-up log line). */
  describe: string;
  /** Releases what was opened when start-up fails before a RunManager took it. */
  abort(): Promise<void>;
  /**
   * Cluster mode: the replica's command connection and its one blocking stream reader, for the conversation feed
   * to share (feed/open-feed.ts), so that a replica holds one blocking Redis connection, not one per user of it.
   */
  redis?: ReplicaRedis;
}

export async function openRunStreams(opts: {
  redisUrl: string | undefined;
  replicaId: string;
  log: RunLog;
  /** The watchdog deadline of every Redis connection of the replica (REDIS_UNANSWERED_MS); default 10 000 ms. */
  unansweredMs?: number;
}): Promise<RunStreamsChoice> {
  if (!opts.redisUrl) return { factory: embeddedRunStreams(), describe: "embedded", abort: async () => {} };
  // Loaded only in cluster mode: an embedded process does not pay for the Redis client at start-up.
  const { openRedisRunStreams } = await import("./redis-streams.js");
  const redis = await openRedisRunStreams({
    url: opts.redisUrl,
    replicaId: opts.replicaId,
    log: opts.log,
    ...(opts.unansweredMs === undefined ? {} : { unansweredMs: opts.unansweredMs }),
  });
  return { factory: redis.factory, describe: `redis ${redisTarget(opts.redisUrl)}`, abort: redis.abort, redis: redis.redis };
}

export { redisTarget } from "./redis-target.js";
