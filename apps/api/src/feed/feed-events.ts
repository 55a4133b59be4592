import { z } from "zod";

const conversationId = z.string().min(1);
const runId = z.string().min(1);
/** Server time (ms) of the change. */
const at = z.number();

/**
 * What `conversations.feed` tells a user's clients about their conversations, as it happens. Events name what
 * changed, not the whole new state: a client refetches what it shows (conversations.get / list), so an event that
 * arrives late or twice does no harm. A feed backend that carries events between processes (Redis) parses them with
 * this schema on the way in.
 */
export const feedEventSchema = z.discriminatedUnion("type", [
  /**
   * A run started answering (chat.send, regenerate, edit, continue): follow it with chat.events. `continues`: it writes
   * on from the conversation's last answer (chat.continue), which a client may keep showing until the run's log arrives.
   */
  z.object({ type: z.literal("run-started"), conversationId, runId, continues: z.literal(true).optional(), at }),
  /** The run ended (its `done` is in its log). */
  z.object({
    type: z.literal("run-finished"),
    conversationId,
    runId,
    reason: z.enum(["stop", "length", "cancelled", "max-steps", "error", "interrupted"]),
    at,
  }),
  /** A message was stored (the user's, or what a run produced). */
  z.object({
    type: z.literal("message-added"),
    conversationId,
    runId: runId.nullable(),
    messageId: z.number().int(),
    role: z.enum(["system", "user", "assistant", "tool"]),
    at,
  }),
  /** Renamed by the user or given a generated title. */
  z.object({ type: z.literal("title-changed"), conversationId, title: z.string(), at }),
  z.object({ type: z.literal("conversation-deleted"), conversationId, at }),
  /** A conversation that did not come from a first message: imported, or a branch of another. */
  z.object({ type: z.literal("conversation-added"), conversationId, at }),
  /** Pinned (`pinnedAt`: when) or unpinned (null) by the user. */
  z.object({ type: z.literal("pin-changed"), conversationId, pinnedAt: z.number().nullable(), at }),
  /** Archived (`archivedAt`: when; out of the list) or brought back (null) by the user. */
  z.object({ type: z.literal("archive-changed"), conversationId, archivedAt: z.number().nullable(), at }),
  /** The conversation's own instructions were set or cleared (conversations.setInstructions): refetch them. */
  z.object({ type: z.literal("instructions-changed"), conversationId, at }),
  /** The conversation's sampling was set (conversations.setSampling): refetch its settings. */
  z.object({ type: z.literal("sampling-changed"), conversationId, at }),
  /**
   * The user's own settings, for all their chats, were set (settings.setInstructions, settings.setSampling): refetch
   * settings.get. Names no conversation.
   */
  z.object({ type: z.literal("settings-changed"), at }),
]);

export type FeedEvent = z.infer<typeof feedEventSchema>;

/**
 * Sent instead of what a reconnecting client missed when the feed no longer holds it (too far behind, or the id is
 * from another server process): the client refetches everything it shows.
 */
export interface ResyncEvent {
  type: "resync";
  at: number;
}

/** One item of a subscription: `id` goes out as the SSE id, and comes back as Last-Event-ID on a reconnect. */
export interface FeedDelivery {
  id: string;
  event: FeedEvent | ResyncEvent;
}
