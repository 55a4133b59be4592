import type { OutgoingHttpHeaders } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from "fastify";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import type { ChatEvent, ErrorCode } from "@streamchat/core";
import { attachmentsSchema, checkAttachments, thinkSchema } from "./attachments.js";
import { unauthorizedMessage, type Authenticator, type RequestUser } from "./auth.js";
import { hasBody } from "./body-guard.js";
import type { Config } from "./config.js";
import { appCodeOf, httpStatusOf, publicMessage, AppError } from "./errors.js";
import { idSchema } from "./input-schemas.js";
import { lingerIfBodyUnread } from "./lingering-close.js";
import type { ProviderHandle } from "./provider.js";
import type { RunManager, StartedRun } from "./runs/run-manager.js";
import type { DirectSlot } from "./runs/subscribe.js";
import { summarize } from "./runs/transcript.js";
import { PingClock, type PingTarget } from "./sse/ping-clock.js";

/**
 * The REST endpoints of the original plan, for existing clients and `curl -N`. Both are a run of the
 * RunManager plus a subscription to it, so they share limits, storage and the model code path.
 */

const bodySchema = z.object(
  {
    message: z
      .string({ error: (issue) => (issue.input == null ? "Message is required" : "message must be a string") })
      .refine((m) => m.trim() !== "", { error: "Message is required" }),
    conversationId: idSchema.nullish(),
    model: idSchema.optional(),
    think: thinkSchema,
    attachments: attachmentsSchema,
  },
  { error: "The request body must be a JSON object" },
);

/** Every REST error body has a code: ours (ErrorCode), or not_found for an unknown or foreign id. */
export type RestErrorCode = ErrorCode | "not_found";

/** "Message is required" alone when that is the problem; else each field named with its problem. */
function bodyErrorMessage(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  const messageIssue = issues.find((issue) => issue.path[0] === "message");
  if (messageIssue) return messageIssue.message;
  return issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}

/** A REST stream quiet this long gets a comment line (within a quarter more: ping-clock.ts), so proxies keep it open. */
const defaultRestPingIntervalMs = 15_000;

interface Deps {
  runs: RunManager;
  auth: Authenticator;
  /** A request's user, checked once per request (auth.ts userOfRequest: the early refusal and the route share it). */
  userOf: RequestUser;
  /** For checking attachments against the model (attachments.ts). */
  provider: Pick<ProviderHandle, "model" | "defaultModel">;
  config: Pick<Config, "maxImageBytes" | "maxFileChars">;
  /** How long a stream may stay quiet before it is pinged; default defaultRestPingIntervalMs. */
  pingIntervalMs?: number | undefined;
}

function sendError(reply: FastifyReply, status: number, error: string, code: RestErrorCode) {
  return reply.code(status).type("application/json").send({ error, code });
}

function sendTRPCError(reply: FastifyReply, error: TRPCError) {
  const status = httpStatusOf(error);
  const code = appCodeOf(error) ?? (status === 404 ? "not_found" : status >= 500 ? "internal" : "bad_request");
  return sendError(reply, status, publicMessage(error), code);
}

/** Authenticates and validates; starts the run or answers with an error (and returns undefined). */
async function startRun(request: FastifyRequest, reply: FastifyReply, { runs, userOf, provider, config }: Deps): Promise<StartedRun | undefined> {
  // The request's own check (refuseAnonymous) answers this one when auth is on.
  const userId = userOf(request, undefined);
  if (userId === null) {
    void sendError(reply, 401, unauthorizedMessage, "unauthorized");
    return undefined;
  }
  const body = bodySchema.safeParse(request.body);
  if (!body.success) {
    void sendError(reply, 400, bodyErrorMessage(body.error.issues), "bad_request");
    return undefined;
  }
  try {
    const { attachments, model } = body.data;
    await checkAttachments(attachments, { model: provider.model, modelName: model ?? provider.defaultModel, config });
    return await runs.start({
      userId,
      conversationId: body.data.conversationId ?? undefined,
      message: body.data.message,
      model,
      think: body.data.think,
      attachments,
    });
  } catch (error) {
    if (error instanceof TRPCError) {
      void sendTRPCError(reply, error);
      return undefined;
    }
    throw error;
  }
}

/** An AbortSignal that fires when the client goes away (the run itself keeps going). */
function disconnectSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once("close", () => controller.abort());
  return controller.signal;
}

/** Other methods on the REST paths: 405 with the one method they take (not a 404: the path exists). */
function methodNotAllowed(_request: FastifyRequest, reply: FastifyReply) {
  return sendError(reply.header("allow", "POST"), 405, "Method not allowed: use POST.", "bad_request");
}

/**
 * With AUTH_TOKENS, a request without a valid token is refused on its headers, before its body is read: these routes
 * take bodies of up to four images (tens of MB), which an anonymous client could otherwise make the server receive
 * and parse only to answer 401. As with a 415, the connection then closes after the answer (lingering, so a client
 * still uploading reads it).
 */
function refuseAnonymous(userOf: RequestUser) {
  // A callback, not a promise (as app.ts's onRequest hooks): answering sends the reply and does not call `done`.
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    if (userOf(request, undefined) !== null) return done();
    if (hasBody(request.headers)) {
      reply.header("connection", "close");
      lingerIfBodyUnread(request, reply);
    }
    sendError(reply, 401, unauthorizedMessage, "unauthorized");
  };
}

export function registerRest(app: FastifyInstance, deps: Deps) {
  for (const url of ["/api/chat", "/api/chat/stream"]) {
    // HEAD comes with GET (Fastify's exposeHeadRoutes); OPTIONS stays with CORS preflight handling.
    app.route({ method: ["GET", "PUT", "DELETE", "PATCH"], url, handler: methodNotAllowed });
  }

  const onRequest = deps.auth.enabled ? refuseAnonymous(deps.userOf) : undefined;
  // One timer pings every quiet stream, as chat.events' writer does. A timer per stream woke the process once per
  // stream and interval: ~165 µs of CPU a ping with 3,000 streams open, against ~30 µs for the same pings in a tick
  // of this clock (docs/benchmarks-log.md, stop 65).
  const clock = new PingClock(deps.pingIntervalMs ?? defaultRestPingIntervalMs);

  app.post("/api/chat", { ...(onRequest ? { onRequest } : {}) }, async (request, reply) => {
    const started = await startRun(request, reply, deps);
    if (!started) return reply;
    const summary = await summarize(deps.runs.subscribe(started.runId, 0, disconnectSignal(reply)));
    if (summary.error || summary.reason === "cancelled") {
      const error = summary.error ? new AppError(summary.error.code, summary.error.message) : new AppError("cancelled");
      return sendTRPCError(reply, error);
    }
    return reply.send({
      response: summary.text,
      toolCalls: summary.toolCalls,
      usage: summary.usage,
      conversationId: started.conversationId,
      runId: started.runId,
    });
  });

  app.post("/api/chat/stream", { ...(onRequest ? { onRequest } : {}) }, async (request, reply) => {
    const started = await startRun(request, reply, deps);
    if (!started) return reply;
    const signal = disconnectSignal(reply);
    reply.hijack();
    const res = reply.raw;
    // Headers set by plugins on the reply (CORS) are not sent by a hijacked reply on their own.
    const pluginHeaders: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) pluginHeaders[name] = value;
    res.writeHead(200, {
      ...pluginHeaders,
      "Content-Type": "text/event-stream; charset=utf-8",
      // no-transform: a compressing proxy must not buffer the stream to compress it (as for chat.events, sse/wire.ts).
      "Cache-Control": "no-cache, no-transform",
      "X-Accel-Buffering": "no",
      Connection: "keep-alive",
      "X-Conversation-Id": started.conversationId,
      "X-Run-Id": started.runId,
    });
    res.flushHeaders();

    // A comment line keeps proxies from closing a quiet stream (a long tool call, a model loading).
    const keepAlive: PingTarget = { lastWriteTick: clock.tick, ping: () => void write(": ping\n\n") };
    clock.add(keepAlive);
    const write = async (chunk: string) => {
      if (signal.aborted) return;
      keepAlive.lastWriteTick = clock.tick;
      // Respect backpressure from slow readers instead of buffering the whole answer in memory.
      if (!res.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off("drain", done);
            signal.removeEventListener("abort", done);
            resolve();
          };
          res.on("drain", done);
          signal.addEventListener("abort", done);
        });
      }
    };
    const send = (event: string, data: unknown) => write(sseFrame(event, data));
    // While the loop below waits for the next event and the response takes more, the run's follower hands events
    // to this reader as they happen: a token's frame is written without the follower's step and this
    // loop's awaits (~8 promises per token). `done`, and anything it refuses (backpressure, a client gone), come
    // through the loop, so order and backpressure stay the loop's.
    const direct: DirectSlot = {
      reader: {
        take: ({ event }) => {
          if (signal.aborted || res.writableNeedDrain) return false;
          const frame = restFrame(event, started.runId);
          if (frame !== null) {
            keepAlive.lastWriteTick = clock.tick;
            res.write(frame);
          }
          return true;
        },
      },
    };
    let doneSent = false;
    try {
      await send("thinking", "Processing your question...");
      for await (const { event } of deps.runs.subscribe(started.runId, 0, signal, direct)) {
        const frame = restFrame(event, started.runId);
        if (frame !== null) await write(frame);
        if (event.type === "done") doneSent = true;
      }
      if (!doneSent) {
        // Only when the run vanished without a done (a store failure): the stream still ends properly.
        await send("error", { error: "The answer ended unexpectedly." });
        await send("done", null);
      }
    } catch (error) {
      request.log.error({ err: error, runId: started.runId }, "REST stream failed");
      if (!doneSent) {
        await send("error", { error: "Something went wrong on the server." });
        await send("done", null);
      }
    } finally {
      clock.delete(keepAlive);
      res.end();
    }
  });
}

const sseFrame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** What the REST stream sends for one of a run's events; null for the events its format does not carry. */
function restFrame(event: ChatEvent, runId: string): string | null {
  switch (event.type) {
    case "tool-call":
      return sseFrame("tool", `Using tool: ${event.name}...`);
    case "token":
      return sseFrame("token", event.text);
    case "approval-request": {
      // Without it a client of this format saw the stream go quiet for up to TOOL_APPROVAL_TIMEOUT_MS, with nothing
      // to tell it why or which call to decide (chat.approve, or the web app).
      const { callId, name, args, expiresAt } = event;
      return sseFrame("approval", { runId, callId, name, args, expiresAt });
    }
    case "error":
      return sseFrame("error", { error: event.message });
    case "done":
      return sseFrame("done", null);
    default:
      return null;
  }
}
