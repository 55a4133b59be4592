import { tracked, TRPCError } from "@trpc/server";
import { z } from "zod";
import { FeedClosedError } from "../feed/conversation-feed.js";
import { authedProcedure } from "../trpc.js";

/**
 * conversations.feed: the user's conversation changes as they happen (feed/feed-events.ts), for keeping other tabs
 * and devices current. Resumable: each item is tracked, and a reconnect (Last-Event-ID, or `lastEventId`) gets
 * what it missed, or one `resync` item when the server no longer holds it. Never ends on its own.
 */
export const conversationFeedProcedure = authedProcedure
  .input(z.object({ lastEventId: z.string().max(200).nullish() }))
  .subscription(async function* ({ ctx, input, signal }) {
    const stop = signal ?? new AbortController().signal;
    try {
      for await (const { id, event } of ctx.feed.subscribe(ctx.userId, { lastEventId: input.lastEventId ?? null, signal: stop })) {
        yield tracked(id, event);
      }
    } catch (error) {
      // SERVICE_UNAVAILABLE makes tRPC clients reconnect (with the last id): the process is stopping.
      if (error instanceof FeedClosedError) throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: error.message });
      throw error;
    }
  });
