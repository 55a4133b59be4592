import type { Config } from "../config.js";
import type { ConversationFeed } from "./conversation-feed.js";
import { InProcessFeed } from "./in-process-feed.js";

/**
 * The feed backend for this configuration. One process: in memory. (Several processes need a shared backend —
 * Redis — implementing the same ConversationFeed contract, chosen here from REDIS_URL.)
 */
export function openConversationFeed(_config: Config): ConversationFeed {
  return new InProcessFeed();
}
