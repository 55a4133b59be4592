import type { IncomingHttpHeaders } from "node:http";
import { Transform, type TransformCallback } from "node:stream";
import type { FastifyInstance, preParsingHookHandler } from "fastify";
import { attachmentBodyLimit, type Config } from "./config.js";

/** The tRPC procedures that take image attachments: their requests may be as large as four images. */
export const attachmentProcedures: ReadonlySet<string> = new Set(["chat.send", "chat.complete", "chat.edit"]);
/** The REST endpoints that take image attachments. */
export const attachmentRestPaths: ReadonlySet<string> = new Set(["/api/chat", "/api/chat/stream"]);

const trpcPrefix = "/trpc/";
/** The route the tRPC plugin registers (`<prefix>/:path`): one route for every procedure and batch. */
const trpcRoute = "/trpc/:path";

export interface BodyLimits {
  /** MAX_BODY_BYTES: every route but those taking attachments. */
  normal: number;
  /** attachmentBodyLimit: 4 × MAX_IMAGE_BYTES as base64, 8 × MAX_FILE_CHARS as JSON, plus MAX_BODY_BYTES. */
  attachments: number;
}

export function bodyLimitsOf(config: Pick<Config, "maxBodyBytes" | "maxImageBytes" | "maxFileChars">): BodyLimits {
  return { normal: config.maxBodyBytes, attachments: attachmentBodyLimit(config) };
}

/**
 * Whether a request may carry attachments, from its URL alone: POST /api/chat(/stream), or a tRPC path naming
 * chat.send, chat.complete or chat.edit — alone (`/trpc/chat.send`) or in a batch (`/trpc/chat.send,models.list`).
 * A batch gets one limit for its whole body, however many sends it holds.
 */
export function takesAttachments(url: string): boolean {
  const path = url.split("?", 1)[0] ?? "";
  if (attachmentRestPaths.has(path)) return true;
  if (!path.startsWith(trpcPrefix)) return false;
  let procedures: string;
  try {
    procedures = decodeURIComponent(path.slice(trpcPrefix.length));
  } catch {
    return false;
  }
  return procedures.split(",").some((name) => attachmentProcedures.has(name));
}

/** The body limit of a request, by its URL. */
export function bodyLimitFor(url: string, limits: BodyLimits): number {
  return takesAttachments(url) ? limits.attachments : limits.normal;
}

/** An error Fastify answers with 413 (the app's error handler words it with the request's limit). */
function tooLarge(): Error & { statusCode: number } {
  return Object.assign(new Error("Request body is too large"), { statusCode: 413 });
}

/** Passes a body through until it exceeds `limit` bytes, then fails with a 413 error (a chunked body has no length to check). */
class BodyLimitStream extends Transform {
  private received = 0;
  /** Read by Fastify's body reader, as for its own decompressing streams. */
  receivedEncodedLength = 0;

  constructor(
    private readonly limit: number,
    private readonly onExceeded: () => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length;
    this.receivedEncodedLength = this.received;
    if (this.received <= this.limit) return callback(null, chunk);
    this.onExceeded();
    callback(tooLarge());
  }
}

function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const value = headers["content-length"];
  return value === undefined || !/^\d+$/.test(value.trim()) ? undefined : Number(value);
}

/**
 * Per-route body limits. Fastify sets one limit per route, and tRPC serves every procedure from one route, so:
 * the routes that can carry attachments (the tRPC route, POST /api/chat and /api/chat/stream) get the attachment
 * limit, and a request on the tRPC route that names none of the attachment procedures is held to MAX_BODY_BYTES
 * here, before its body is read: by its Content-Length, or, chunked, by counting as it arrives. Register before
 * the routes (an onRoute hook sees only routes added after it).
 */
export function registerBodyLimits(app: FastifyInstance, limits: BodyLimits): void {
  // A callback, not a promise: the check is synchronous (app.ts's onRequest hooks). A hook of tRPC's route alone: on
  // every other route Fastify's own limit is the request's already (a global hook read `request.routeOptions`, a new
  // object per read, on every request to find that out).
  const holdToProcedure: preParsingHookHandler = (request, reply, payload, done) => {
    const limit = bodyLimitFor(request.url, limits);
    if (limit >= limits.attachments) return done(null, payload);
    const length = contentLength(request.headers);
    if (length !== undefined) {
      // Node's parser never reads past Content-Length: a body within it is within the limit.
      if (length <= limit) return done(null, payload);
      reply.header("connection", "close");
      return done(tooLarge());
    }
    if (request.headers["transfer-encoding"] === undefined) return done(null, payload);
    // The rest of the body is never read: the connection closes after the 413.
    const limited = new BodyLimitStream(limit, () => void reply.header("connection", "close"));
    payload.on("error", (error) => limited.destroy(error));
    done(null, payload.pipe(limited));
  };
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes("POST")) return;
    if (route.url !== trpcRoute && !attachmentRestPaths.has(route.url)) return;
    route.bodyLimit = limits.attachments;
    if (route.url !== trpcRoute) return;
    const hooks = route.preParsing;
    route.preParsing = hooks === undefined ? [holdToProcedure] : [...(Array.isArray(hooks) ? hooks : [hooks]), holdToProcedure];
  });
}
