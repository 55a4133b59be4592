import type { ReplicaRedis } from "../cluster/replica-redis.js";
import type { ConversationFeed } from "./conversation-feed.js";
import { InProcessFeed } from "./in-process-feed.js";

/**
 * The feed backend for this configuration. One process: in memory. Cluster mode (REDIS_URL): Redis Streams, so a
 * change made on any replica reaches the user's clients on every replica, and a client resumes on any of them. It
 * shares the replica's Redis connections with the run streams (cluster/index.ts opens them): one command
 * connection, one blocking reader.
 */
export async function openConversationFeed(opts: { redis: ReplicaRedis | undefined }): Promise<ConversationFeed> {
  if (!opts.redis) return new InProcessFeed();
  // Loaded only in cluster mode, as cluster/index.ts does for the run streams.
  const { RedisFeed } = await import("./redis-feed.js");
  return new RedisFeed({ redis: opts.redis });
}
