import type { RunLog } from "../runs/run-log.js";
import type { ConversationFeed } from "./conversation-feed.js";
import { InProcessFeed } from "./in-process-feed.js";

/**
 * The feed backend for this configuration. One process: in memory. Cluster mode (REDIS_URL): Redis Streams, so a
 * change made on any replica reaches the user's clients on every replica, and a client resumes on any of them.
 */
export async function openConversationFeed(opts: { redisUrl: string | undefined; log: RunLog }): Promise<ConversationFeed> {
  if (!opts.redisUrl) return new InProcessFeed();
  // Loaded only in cluster mode, as cluster/index.ts does for the run streams.
  const { openRedisFeed } = await import("./redis-feed.js");
  return openRedisFeed({ url: opts.redisUrl, log: opts.log });
}
