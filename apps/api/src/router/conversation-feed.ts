import { tracked, TRPCError, type TrackedEnvelope } from "@trpc/server";
import { z } from "zod";
import { FeedClosedError } from "../feed/conversation-feed.js";
import type { FeedDelivery } from "../feed/feed-events.js";
import { authedProcedure } from "../trpc.js";

/** SERVICE_UNAVAILABLE makes tRPC clients reconnect (with the last id): the process is stopping. */
function asClientError(error: unknown): unknown {
  return error instanceof FeedClosedError ? new TRPCError({ code: "SERVICE_UNAVAILABLE", message: error.message }) : error;
}

/**
 * The deliveries as tracked items. An iterator rather than a generator: returning it before its first `next()` (a
 * client that left while the stream was being set up) still ends the feed subscription under it.
 */
function trackedDeliveries(
  deliveries: AsyncGenerator<FeedDelivery, void, void>,
): AsyncIterable<TrackedEnvelope<FeedDelivery["event"]>, undefined, undefined> {
  return {
    [Symbol.asyncIterator]: () => ({
      async next(): Promise<IteratorResult<TrackedEnvelope<FeedDelivery["event"]>, undefined>> {
        try {
          const result = await deliveries.next();
          return result.done ? { done: true, value: undefined } : { done: false, value: tracked(result.value.id, result.value.event) };
        } catch (error) {
          throw asClientError(error);
        }
      },
      async return(): Promise<IteratorResult<TrackedEnvelope<FeedDelivery["event"]>, undefined>> {
        await deliveries.return();
        return { done: true, value: undefined };
      },
    }),
  };
}

/**
 * conversations.feed: the user's conversation changes as they happen (feed/feed-events.ts), for keeping other tabs
 * and devices current. Resumable: each item is tracked, and a reconnect (Last-Event-ID, or `lastEventId`) gets
 * what it missed, or one `resync` item when the server no longer holds it. Never ends on its own.
 *
 * The feed subscription is started before the procedure returns, i.e. before the client hears that the stream is
 * open: a client that refetches its state once subscribed misses no change made in between.
 */
export const conversationFeedProcedure = authedProcedure
  .input(z.object({ lastEventId: z.string().max(200).nullish() }))
  .subscription(async ({ ctx, input, signal }) => {
    const stop = signal ?? new AbortController().signal;
    try {
      return trackedDeliveries(await ctx.feed.subscribe(ctx.userId, { lastEventId: input.lastEventId ?? null, signal: stop }));
    } catch (error) {
      throw asClientError(error);
    }
  });
