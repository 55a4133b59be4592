import { initTRPC, TRPCError } from "@trpc/server";
import type { ChatStore } from "@streamchat/store";
import type { Config } from "./config.js";
import { appCodeOf, conflictOf, publicMessage, storeFailure } from "./errors.js";
import type { ConversationFeed } from "./feed/conversation-feed.js";
import type { FeedPublisher } from "./feed/feed-publisher.js";
import type { ProviderHandle } from "./provider.js";
import type { RunManager } from "./runs/run-manager.js";
import type { ToolCatalog } from "./tools.js";

// ---- context ---------------------------------------------------------------------------------

export interface Context {
  /** Null when auth is on and the request carried no valid token. */
  userId: string | null;
  runs: RunManager;
  store: ChatStore;
  provider: ProviderHandle;
  config: Config;
  /** The tools of each user's runs (built-ins, MCP servers) for tools.list. */
  tools: ToolCatalog;
  /** The users' live feeds of conversation changes (conversations.feed)… */
  feed: ConversationFeed;
  /** …and what changes them outside runs (rename, delete) tells them through. */
  publish: FeedPublisher;
}

// ---- instance --------------------------------------------------------------------------------

const t = initTRPC.context<Context>().create({
  // Never include stack traces, whatever NODE_ENV says.
  isDev: false,
  sse: {
    // Pings keep proxies (which usually allow 60 s of silence) from closing idle streams; the client
    // reconnects (with lastEventId) after 25 s without any byte, which the 10 s ping rules out while the
    // server is alive even if one ping is late. Every ping costs a pipeline pass per open stream, so they
    // are kept rare.
    ping: { enabled: true, intervalMs: 10_000 },
    client: { reconnectAfterInactivityMs: 25_000 },
  },
  errorFormatter({ shape, error }) {
    const conflict = conflictOf(error);
    return {
      code: shape.code,
      message: publicMessage(error),
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        appCode: appCodeOf(error),
        // chat.approve's CONFLICT only: what became of the call. Absent elsewhere, so every other error keeps its shape
        // (also the ones answered at the edges of /trpc, trpc-http.ts).
        ...(conflict === null ? {} : { conflict }),
      },
    };
  },
});

// ---- procedures ------------------------------------------------------------------------------

export const router = t.router;

/** The database unreachable (or the store closing) answers 503 with a clear message, not a generic 500. */
function mapStoreFailure<R extends { ok: true } | { ok: false; error: TRPCError }>(result: R): R {
  if (!result.ok) {
    const failure = storeFailure(result.error.cause);
    if (failure) throw failure;
  }
  return result;
}

export const publicProcedure = t.procedure.use(async ({ next }) => mapStoreFailure(await next()));

// One middleware, not the store mapping and the check stacked: tRPC copies a call's options at every level, and every
// chat.send and chat.events passes through here. The narrowed `userId` is said in the type only: the context already
// holds the checked string, and a `ctx` given to `next` would make tRPC copy the whole context into a new object.
export const authedProcedure = t.procedure.use(async ({ ctx, next }) => {
  if (ctx.userId === null) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "A valid token is required (Authorization: Bearer <token>)." });
  }
  return mapStoreFailure(await next<{ userId: string }>({}));
});
