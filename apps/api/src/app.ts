import { existsSync, mkdirSync } from "node:fs";
import { maxHeaderSize, STATUS_CODES, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import cors from "@fastify/cors";
import helmet from "helmet";
import fastifyStatic from "@fastify/static";
import {
  fastifyTRPCPlugin,
  type CreateFastifyContextOptions,
  type FastifyTRPCPluginOptions,
} from "@trpc/server/adapters/fastify";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from "fastify";
import { createMemoryStore, isStoreError, migrationWaitMessage, openPostgresStore, openSqliteStore, type ChatStore } from "@streamchat/store";
import type { Simulator, SimulatorOptions } from "@streamchat/ollama-sim";
import { tooLargeToImportMessage, type AnyTool } from "@streamchat/core";
import type { McpConfig, McpHub, McpHubOptions } from "@streamchat/mcp";
import { createAuthenticator, unauthorizedMessage, userOfRequest, type Authenticator, type CheckedCredential, type RequestUser } from "./auth.js";
import { hasBody, jsonOnlyMessage, refuseBody } from "./body-guard.js";
import { clientErrorAnswer, protoKeyMessage } from "./errors.js";
import { defaultLingering, lingerIfBodyUnread, lingerOnClose } from "./lingering-close.js";
import { keepResponseShape } from "./response-shape.js";
import { constantHeaders } from "./security-headers.js";
import { importBodyLimit, importProcedure, registerImportRoute } from "./import-route.js";
import { attachmentProcedures, bodyLimitFor, bodyLimitsOf, registerBodyLimits } from "./body-limits.js";
import { createLogDestination, type LogDestination } from "./log-destination.js";
import { createHostGuard, hostRefusal } from "./host-guard.js";
import { databaseTarget, type Config } from "./config.js";
import type { ConversationFeed } from "./feed/conversation-feed.js";
import { FeedPublisher } from "./feed/feed-publisher.js";
import { openConversationFeed } from "./feed/open-feed.js";
import { createProvider, type LocalServer, type ProviderHandle } from "./provider.js";
import { registerRest } from "./rest.js";
import { registerExportAllRoute } from "./export-all-route.js";
import { appRouter, type AppRouter } from "./router/root.js";
import { localLiveness, newReplicaId, type ReplicaLiveness } from "./runs/liveness.js";
import { openPostgresLiveness } from "./runs/postgres-liveness.js";
import { DatabaseInUseError, openSqliteLiveness } from "./runs/sqlite-liveness.js";
import { RunManager } from "./runs/run-manager.js";
import { openRunStreams, redisTarget } from "./cluster/index.js";
import { ApiMetrics } from "./metrics.js";
import { TokenEventPruner } from "./runs/token-event-pruner.js";
import { registerLeanSubscriptions } from "./sse/subscription-route.js";
import { registerLeanMutations } from "./lean-mutations.js";
import { TitleGenerator } from "./titles/title-generator.js";
import { ToolCatalog } from "./tools.js";
import type { Context } from "./trpc.js";
import { batchTooLargeMessage, connectionParamsToken, maxBatchSize, trpcCallOf, trpcErrorBody, type TrpcCall } from "./trpc-http.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The credential userOfRequest checked on this request, and whose it is (null until then). */
    checkedCredential: CheckedCredential | null;
  }
}

export interface ApiServer {
  app: FastifyInstance;
  runs: RunManager;
  store: ChatStore;
  /** This process's replica id: the owner recorded with the runs it executes (random per start). */
  replicaId: string;
  /** The in-process simulator when the provider is the simulator. */
  sim?: Simulator;
  provider: ProviderHandle;
  /** The MCP servers of MCP_CONFIG (absent without it). */
  mcp?: McpHub;
  /** Every user's tools: built-ins, extra tools, MCP servers' tools. */
  tools: ToolCatalog;
  /** The users' live feeds of conversation changes (conversations.feed). */
  feed: ConversationFeed;
  /** Names conversations after their first answer; undefined with GENERATE_TITLES=0. */
  titles: TitleGenerator | undefined;
  /** Deletes old finished runs' token events; undefined without TOKEN_EVENTS_MAX_AGE_DAYS. */
  tokenEventPruner: TokenEventPruner | undefined;
  /** Listens on HOST:PORT; resolves to the base URL. */
  listen(): Promise<string>;
  /** Graceful: stops accepting runs, lets them finish (SHUTDOWN_GRACE_MS), closes connections and the store. */
  close(): Promise<void>;
}

export interface BuildServerOptions {
  config: Config;
  /** false: silent; true/undefined: pino at LOG_LEVEL; an object: pino options, or a pino logger instance. */
  logger?: boolean | object;
  /** Options for the in-process simulator (tests use a short token delay). */
  simulator?: SimulatorOptions;
  /** Where CHAT_PROVIDER=auto looks for LM Studio or llama.cpp when no Ollama answers (default: their usual ports here). */
  localServers?: readonly LocalServer[];
  /** The built web app to serve at `/`; null disables it. Default: apps/web/dist of this repo. */
  webDistDir?: string | URL | null;
  /** Tools offered to every run besides the built-ins (embedders; tests define failing or hanging tools). */
  extraTools?: AnyTool[];
  /** Options of the MCP client besides its logger and TOOL_TIMEOUT_MS (tests shorten restarts). */
  mcp?: Omit<McpHubOptions, "log" | "toolTimeoutMs">;
  /** How long a REST stream (`POST /api/chat/stream`) stays quiet before a keep-alive comment; default 15 s (tests shorten it). */
  restPingIntervalMs?: number;
  /**
   * How long the event log retries a batch while the database is unreachable before the runs it belongs to fail;
   * default 60 s (the store's). Tests of an outage longer than that shorten it.
   */
  storeRetryForMs?: number;
}

// From src/app.ts (tsx, vitest) and dist/app.js alike: <repo>/apps/api/<dir>/ → <repo>/apps/web/dist.
const defaultWebDist = new URL("../../web/dist", import.meta.url);

/** The API's own paths (`/api`, `/api/…`, `/trpc…`): JSON and event streams, never one of the web app's documents. */
function isApiPath(url: string): boolean {
  return url.startsWith("/trpc") || url.startsWith("/api/") || url === "/api" || url.startsWith("/api?");
}

/** Removes credentials a URL may carry (tRPC puts browser connectionParams in the SSE query string). */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:connectionParams|token)=)[^&]*/gi, "$1[redacted]");
}

function loggerOptions(
  config: Config,
  logger: BuildServerOptions["logger"],
): { options: Partial<FastifyServerOptions>; destination?: LogDestination } {
  if (logger === false) return { options: { logger: false } };
  if (logger && typeof logger === "object" && typeof (logger as { child?: unknown }).child === "function") {
    return { options: { loggerInstance: logger as FastifyServerOptions["loggerInstance"] } };
  }
  const given = typeof logger === "object" ? logger : {};
  // stdout through a destination that never blocks (log-destination.ts), unless the caller brings a stream.
  const destination = "stream" in given ? undefined : createLogDestination();
  return {
    options: {
      logger: {
        level: config.logLevel,
        redact: { paths: ["req.headers.authorization", "headers.authorization"], censor: "[redacted]" },
        serializers: {
          req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), ip: req.ip }),
        },
        ...(destination ? { stream: destination } : {}),
        ...given,
      },
    },
    ...(destination ? { destination } : {}),
  };
}

/** Start-up cannot go on (the database is unreachable …); the message is one line, safe to print as is. */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StartupError";
  }
}

/** The error of a database that cannot be opened, naming DATABASE_URL and where it points (never the password). */
function databaseStartupError(config: Config, error: unknown): StartupError {
  const target = databaseTarget(config.databaseUrl ?? "");
  const cause = isStoreError(error) && error.cause instanceof Error ? error.cause : error;
  // A refused connection to a name with several addresses is an AggregateError with an empty message.
  const code = (cause as { code?: unknown } | null)?.code;
  const detail = ((cause instanceof Error && cause.message) || (typeof code === "string" && code) || String(cause)).replace(/\s+/g, " ");
  const what = isStoreError(error, "unavailable") ? "cannot reach PostgreSQL" : "cannot open the PostgreSQL database";
  return new StartupError(`DATABASE_URL: ${what} at ${target}: ${detail}`, { cause: error });
}

type McpModule = typeof import("@streamchat/mcp");

/**
 * MCP_CONFIG, read and checked before anything starts: a bad file stops start-up with one line naming the problem.
 * The MCP client (the SDK, ajv) is loaded only then: without MCP_CONFIG start-up does not pay for it.
 */
async function readMcpConfig(config: Config): Promise<{ mcpModule: McpModule; mcpConfig: McpConfig } | undefined> {
  if (!config.mcpConfigPath) return undefined;
  const mcpModule = await import("@streamchat/mcp");
  try {
    return { mcpModule, mcpConfig: await mcpModule.loadMcpConfig(config.mcpConfigPath) };
  } catch (error) {
    if (error instanceof mcpModule.McpConfigError) throw new StartupError(error.message, { cause: error });
    throw error;
  }
}

async function openStore(config: Config, log: FastifyBaseLogger, retryForMs: number | undefined): Promise<ChatStore> {
  // A batch the timer could not commit (database away, disk error, a lock held elsewhere) stays queued and is retried.
  const onFlushError = (error: unknown) => log.error({ err: error }, "committing the event log failed; retrying");
  const retry = retryForMs === undefined ? {} : { retryForMs };
  if (config.databaseUrl) {
    try {
      return await openPostgresStore({
        url: config.databaseUrl,
        poolSize: config.databasePoolSize,
        flushIntervalMs: config.eventFlushMs,
        ...retry,
        onFlushError,
        // Start-up waits for it with no end of its own: the log says what it waits for.
        onMigrationWait: (holder) => log.warn({ holder }, migrationWaitMessage(holder)),
      });
    } catch (error) {
      throw databaseStartupError(config, error);
    }
  }
  if (config.databasePath === ":memory:") return createMemoryStore();
  const path = resolve(config.databasePath);
  mkdirSync(dirname(path), { recursive: true });
  return openSqliteStore({
    path,
    flushIntervalMs: config.eventFlushMs,
    ...retry,
    onFlushError,
    onCheckpointFallback: (reason) => log.warn({ reason }, "SQLite checkpoints run on the event loop again"),
  });
}

/** REDIS_URL could not be used at start-up: one line naming it and where it points (never a password). */
function redisStartupError(config: Config, error: unknown): StartupError {
  const detail = (error instanceof Error && error.message) || String(error);
  return new StartupError(`REDIS_URL: cannot reach Redis at ${redisTarget(config.redisUrl ?? "")}: ${detail.replace(/\s+/g, " ")}`, {
    cause: error,
  });
}

/**
 * Which processes are alive: on PostgreSQL, one advisory lock per process; else this process is the only one (on a
 * SQLite file, made sure of: a second process on the same file stops at start-up, sqlite-liveness.ts).
 */
async function openLiveness(config: Config, replicaId: string, log: FastifyBaseLogger): Promise<ReplicaLiveness> {
  if (!config.databaseUrl && config.databasePath === ":memory:") return localLiveness(replicaId);
  if (!config.databaseUrl) {
    const path = resolve(config.databasePath);
    try {
      return openSqliteLiveness(path, replicaId);
    } catch (error) {
      if (!(error instanceof DatabaseInUseError)) throw error;
      throw new StartupError(
        `DATABASE_PATH: ${path} is in use by another API process (one process serves a SQLite file): stop that one, ` +
          "give this one another DATABASE_PATH, or use DATABASE_URL (PostgreSQL) for several processes.",
        { cause: error },
      );
    }
  }
  try {
    return await openPostgresLiveness({ url: config.databaseUrl, replicaId, log });
  } catch (error) {
    throw databaseStartupError(config, error);
  }
}

/** Connections whose parse error has been answered (or is to be, after the response under way). */
const refusedConnections = new WeakSet<Socket>();

/**
 * Answers a request Node's HTTP parser refused (headers over the size limit, a malformed request line or header) in
 * the API's error shape, with `Connection: close`: nothing more can be read from a connection after a parse error.
 * The close lingers (lingering-close.ts) as after a refused upload, so a client still sending reads the answer rather
 * than a reset.
 */
function answerClientError(error: Error & { code?: string; reason?: unknown }, socket: Socket): void {
  // The parser reports each later chunk of the connection again.
  if (refusedConnections.has(socket)) return;
  refusedConnections.add(socket);
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const answer = () => writeClientError(error, socket);
  const pending = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (pending && !pending.writableFinished) {
    // A whole request read before the bad bytes (pipelined on a keep-alive connection) is still being answered: the
    // refusal follows its response instead of cutting it off.
    if (pending.req.complete) return void pending.once("finish", answer);
    // The bad bytes are this request's own body, whose answer has begun: nothing can be said any more.
    if (pending.headersSent) return void socket.destroy();
  }
  answer();
}

function writeClientError(error: Error & { code?: string; reason?: unknown }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { status, body } = clientErrorAnswer(error, maxHeaderSize);
  const json = JSON.stringify(body);
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nContent-Type: application/json; charset=utf-8\r\n`;
  socket.write(`${head}Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
  lingerOnClose(socket, defaultLingering);
  socket.destroySoon();
}

/**
 * What Fastify's router refuses before any route or hook runs (a URL that is not valid percent-encoding, a path
 * segment over maxParamLength: a tRPC batch of many calls) in the API's error shape: Fastify's own body echoed the
 * path back and had no typed code.
 */
function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode ?? 500;
  if (status >= 500) {
    void reply.code(500).send({ error: "Something went wrong on the server.", code: "internal" });
    return;
  }
  const message =
    error.code === "FST_ERR_MAX_PARAM_LENGTH"
      ? "The URL path is too long: shorten it (for a tRPC batch, send fewer calls at a time)."
      : "The URL is not valid (broken percent-encoding?): check the request path.";
  void reply.code(status).send({ error: message, code: "bad_request" });
}

/**
 * Fastify's JSON parser refuses a body with a `__proto__` key (onProtoPoisoning) with the message of malformed JSON,
 * which such a body is not: the same parser, with that case named. The tRPC routes parse their bodies themselves
 * (JSON.parse makes the key a plain property there, and their input schemas drop unknown keys).
 */
function parseJsonNamingProtoKeys(app: FastifyInstance): void {
  type Done = (error: Error | null, value?: unknown) => void;
  const parse = app.getDefaultJsonParser("error", "ignore") as (request: FastifyRequest, body: string, done: Done) => void;
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    parse(request, text, (error, value) => done(error && isJson(text) ? Object.assign(new Error(protoKeyMessage), { statusCode: 400 }) : error, value));
  });
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * An OPTIONS request that is no CORS preflight (no Origin, or no Access-Control-Request-Method): @fastify/cors
 * refuses it with a plain-text 400, which this says in the API's error shape.
 */
async function refuseNonPreflightOptions(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.method !== "OPTIONS" || (request.headers.origin && request.headers["access-control-request-method"])) return;
  await reply.code(400).send({
    error: "OPTIONS is only answered as a CORS preflight: send Origin and Access-Control-Request-Method.",
    code: "bad_request",
  });
}

/** The procedures anonymous callers may use when AUTH_TOKENS is set (router/health.ts: publicProcedure). */
const publicProcedures: ReadonlySet<string> = new Set(["health"]);

/** A POST (a mutation: a body to read) to procedures that need a user, without a valid token. */
function anonymousMutation(call: TrpcCall, request: FastifyRequest, auth: Authenticator, userOf: RequestUser): boolean {
  if (!auth.enabled || request.method !== "POST" || call.paths.every((path) => publicProcedures.has(path))) return false;
  const params = connectionParamsToken(call.search);
  // connectionParams that do not parse: tRPC answers them as it always has.
  if (params === null) return false;
  return userOf(request, params.token) === null;
}

/**
 * What a /trpc request is refused with before tRPC reads it, or undefined: a path that names no procedure (404), a
 * batch over maxBatchSize (400), an anonymous mutation when AUTH_TOKENS is set (401, on the headers as REST's
 * refuseAnonymous: otherwise a body of up to four images is received and parsed only to be refused).
 */
function trpcRefusal(request: FastifyRequest, auth: Authenticator, userOf: RequestUser): { status: number; body: ReturnType<typeof trpcErrorBody> } | undefined {
  const call = trpcCallOf(request.url);
  if (!call) return { status: 404, body: trpcErrorBody("NOT_FOUND", 404, "No procedure found on this path", null) };
  if (call.batch && call.paths.length > maxBatchSize) {
    return { status: 400, body: trpcErrorBody("BAD_REQUEST", 400, batchTooLargeMessage(call.paths.length), "bad_request") };
  }
  if (anonymousMutation(call, request, auth, userOf)) {
    const path = call.batch ? undefined : call.paths[0];
    return { status: 401, body: trpcErrorBody("UNAUTHORIZED", 401, unauthorizedMessage, "unauthorized", path) };
  }
  return undefined;
}

/**
 * What start-up has opened so far, closed again (the last opened first) when a later step fails: an in-process caller
 * of buildServer (a test, an embedder) then gets the error, not also a locked SQLite file, timers, sockets and child
 * processes that keep its process from exiting. A close that fails too is logged: the caller needs the start-up error.
 */
class StartupResources {
  private readonly closers: Array<{ what: string; close: () => Promise<void> }> = [];

  constructor(private readonly log: FastifyBaseLogger) {}

  opened(what: string, close: () => Promise<void>): void {
    this.closers.push({ what, close });
  }

  async closeAll(): Promise<void> {
    for (const { what, close } of this.closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        this.log.error({ err: error }, `start-up failed, and closing ${what} failed too`);
      }
    }
  }
}

export async function buildServer(opts: BuildServerOptions): Promise<ApiServer> {
  const logging = loggerOptions(opts.config, opts.logger);
  const app = Fastify({
    ...logging.options,
    bodyLimit: opts.config.maxBodyBytes,
    routerOptions: { maxParamLength: 5000 },
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
  });
  keepResponseShape(app.server);
  const resources = new StartupResources(app.log);
  try {
    return await assembleServer(opts, app, logging, resources);
  } catch (error) {
    await resources.closeAll();
    // The log destination listens to stdout: detached, or every failed start would leave its listeners there.
    await logging.destination?.flush(1000);
    logging.destination?.detach();
    throw error;
  }
}

/** buildServer's steps; what each opens goes to `resources`, which buildServer closes when a later step fails. */
async function assembleServer(
  opts: BuildServerOptions,
  app: FastifyInstance,
  logging: ReturnType<typeof loggerOptions>,
  resources: StartupResources,
): Promise<ApiServer> {
  const { config } = opts;
  const replicaId = newReplicaId();
  const mcpSetup = await readMcpConfig(config);
  const store = await openStore(config, app.log, opts.storeRetryForMs);
  resources.opened("the store", () => store.close());
  const liveness = await openLiveness(config, replicaId, app.log);
  resources.opened("the liveness", () => liveness.close());
  const streams = await openRunStreams({ redisUrl: config.redisUrl, replicaId, log: app.log, unansweredMs: config.redisUnansweredMs }).catch((error: unknown) => {
    throw redisStartupError(config, error);
  });
  /** Set once the RunManager took the run streams: its shutdown closes them then. */
  let streamsTaken = false;
  resources.opened("the run streams", async () => {
    if (!streamsTaken) await streams.abort();
  });
  // Cluster mode: on the run streams' Redis connections (one blocking reader per replica, shared).
  const feed: ConversationFeed = await openConversationFeed({ redis: streams.redis }).catch((error: unknown) => {
    throw redisStartupError(config, error);
  });
  resources.opened("the conversation feed", () => feed.close());
  const provider = await createProvider(config, app.log, {
    ...(opts.simulator ? { simulator: opts.simulator } : {}),
    ...(opts.localServers ? { localServers: opts.localServers } : {}),
  });
  resources.opened("the provider", () => provider.close());
  app.log.info(
    {
      replicaId,
      store: store.kind,
      ...(config.databaseUrl ? { database: databaseTarget(config.databaseUrl) } : {}),
      streams: streams.describe,
    },
    `replica ${replicaId} on the ${store.kind} store, run streams: ${streams.describe}`,
  );
  // The gauges read the RunManager, which takes the metrics' observer: built first, pointed at it after.
  const scraped: { runs?: RunManager } = {};
  const metrics = new ApiMetrics(
    {
      activeRuns: () => scraped.runs?.stats().activeRuns ?? 0,
      subscriptions: () => scraped.runs?.stats().subscriptions ?? 0,
      storeUp: () => store.ping(),
      ...(config.redisUrl ? { redisUp: async () => (await scraped.runs?.streamsHealth())?.ok ?? false } : {}),
    },
    replicaId,
  );
  // Servers start in the background: start-up does not wait, their tools are offered as each one connects.
  const mcp = mcpSetup
    ? mcpSetup.mcpModule.createMcpHub(mcpSetup.mcpConfig, { ...opts.mcp, log: app.log, toolTimeoutMs: config.toolTimeoutMs })
    : undefined;
  if (mcp) resources.opened("the MCP servers", () => mcp.close());
  if (mcpSetup) app.log.info({ servers: mcpSetup.mcpConfig.servers.map((s) => s.name) }, "starting MCP servers");
  const tools = new ToolCatalog({ store, hub: mcp, extraTools: opts.extraTools });
  const publish = new FeedPublisher(feed, app.log);
  const titles = config.generateTitles
    ? new TitleGenerator({
        store,
        model: provider.model,
        log: app.log,
        onTitle: (userId, conversationId, title) => publish.titleChanged(userId, conversationId, title),
      })
    : undefined;
  if (titles) resources.opened("the title generator", () => titles.close());
  const runs = new RunManager({
    store,
    model: provider.model,
    provider: provider.kind,
    defaultModel: provider.defaultModel,
    limits: config,
    toolsFor: (userId, toolOpts) => tools.toolsFor(userId, toolOpts),
    log: app.log,
    liveness,
    streams: streams.factory,
    observer: metrics.observer,
    hooks: {
      runStarted: (record, how) => publish.runStarted(record, how),
      messageAdded: (userId, stored) => publish.messageAdded(userId, stored),
      runFinished: (record, done) => {
        publish.runFinished(record, done.reason);
        titles?.afterRun(record, done);
      },
    },
  });
  streamsTaken = true;
  // Also ends the runs recovery continues below (those that wait for approval are suspended, as at a shutdown).
  resources.opened("the runs", () => runs.shutdown(config.shutdownGraceMs));
  scraped.runs = runs;
  // Closes runs a previous process left open, and continues those that wait for approval.
  const recovered = await runs.recoverInterrupted();
  if (recovered > 0) app.log.warn({ runs: recovered }, "closed runs left running by a previous process as interrupted");
  // On PostgreSQL other processes may die while this one lives: their runs are closed within seconds.
  runs.startRecovery();
  const tokenEventPruner =
    config.tokenEventsMaxAgeDays === undefined
      ? undefined
      : new TokenEventPruner({
          store,
          maxAgeMs: config.tokenEventsMaxAgeDays * 86_400_000,
          log: app.log,
          onPruned: metrics.tokenEventsPruned,
        });
  if (tokenEventPruner) {
    resources.opened("the token event pruner", () => tokenEventPruner.stop());
    tokenEventPruner.start();
  }

  const auth = createAuthenticator(config.authTokens);
  const userOf = userOfRequest(auth);
  app.decorateRequest("checkedCredential", null);
  const bodyLimits = bodyLimitsOf(config);

  // Before any route: Fastify binds the error handler to routes when they are added.
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    // A refused upload (Fastify's body errors and body-limits.ts close the connection): the client reads the answer.
    lingerIfBodyUnread(request, reply);
    if (status >= 500) {
      request.log.error({ err: error }, "request failed");
      return reply.code(status).send({ error: "Something went wrong on the server.", code: "internal" });
    }
    const message =
      status === 413
        ? request.routeOptions.url === `/trpc/${importProcedure}`
          ? tooLargeToImportMessage(undefined, config.maxImportBytes) // the size is unknown: the body was not read
          : `Request body is too large (at most ${bodyLimitFor(request.url, bodyLimits)} bytes).`
        : status === 415
          ? jsonOnlyMessage
          : error.message;
    const code = status === 429 ? "rate_limited" : status === 404 ? "not_found" : "bad_request";
    if (status === 413 && request.url.startsWith("/trpc/")) {
      // In tRPC's error shape, so its clients show the message (a batch applies it to each of its calls).
      const data = { code: "PAYLOAD_TOO_LARGE", httpStatus: 413, appCode: code };
      return reply.code(status).send({ error: { code: TRPC_ERROR_CODES_BY_KEY.PAYLOAD_TOO_LARGE, message, data } });
    }
    return reply.code(status).send({ error: message, code });
  });
  // Before any route or plugin: they take the parsers the app has when they are added.
  parseJsonNamingProtoKeys(app);

  // helmet's headers are computed once here (security-headers.ts): @fastify/helmet rebuilds its middleware (re-parsing
  // the CSP) on every request, and even a prebuilt one sets them on each raw response. Same headers, same options.
  // The web app's documents and assets get the full set; the API's own paths (JSON and event streams, never a
  // document) get the set OWASP's REST sheet names, with a CSP that allows nothing: stricter where it applies, and a
  // third of the bytes, which an event stream's response keeps in memory for as long as it stays open.
  const securityHeaders = constantHeaders(helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", "data:"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // Served over plain HTTP on loopback by default; TLS terminators set their own HSTS.
    strictTransportSecurity: false,
  }));
  const apiSecurityHeaders = constantHeaders(helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    xFrameOptions: { action: "deny" },
    // What only a document (or a legacy plug-in loading one) reads.
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
    strictTransportSecurity: false,
  }));
  app.addHook("onRequest", (request, reply, done) => {
    reply.headers(isApiPath(request.url) ? apiSecurityHeaders : securityHeaders);
    done();
  });
  // No CORS at all by default: the web app is served from the same origin. The plugin is registered only for
  // CORS_ORIGINS: turned off, it still ran its hook on every request (a copy of its options and a closure, to add
  // nothing), and its OPTIONS route answered not found, as a server without it does.
  if (config.corsOrigins.length > 0) {
    app.addHook("onRequest", refuseNonPreflightOptions);
    await app.register(cors, {
      origin: config.corsOrigins,
      methods: ["GET", "POST", "OPTIONS"],
      exposedHeaders: ["X-Conversation-Id", "X-Run-Id"],
      maxAge: 600,
    });
  }

  // Before anything else answers: a request for a host name we do not serve gets nothing else.
  const hostVerdict = createHostGuard(config);
  // Hooks on every request take a callback, not a promise: an async hook costs each request a few promises, for a
  // check that is synchronous. A hook that answers sends the reply and does not call `done` (Fastify's early reply).
  app.addHook("onRequest", (request, reply, done) => {
    const verdict = hostVerdict(request.headers.host);
    if (verdict === "allowed") return done();
    const { status, body } = hostRefusal(verdict);
    reply.code(status).send(body);
  });

  // Bodies are JSON or nothing: any other body is refused on its headers, before a byte of it is read
  // (body-guard.ts), and the connection is closed after the answer so the rest is never read either (beyond a bounded
  // moment for the client to read the answer: lingering-close.ts).
  app.addHook("onRequest", (request, reply, done) => {
    if (!refuseBody(request.headers)) return done();
    reply.code(415).header("connection", "close");
    lingerIfBodyUnread(request, reply);
    if (request.url.startsWith("/trpc")) {
      const data = { code: "UNSUPPORTED_MEDIA_TYPE", httpStatus: 415, appCode: "bad_request" };
      reply.send({ error: { code: TRPC_ERROR_CODES_BY_KEY.UNSUPPORTED_MEDIA_TYPE, message: jsonOnlyMessage, data } });
    } else {
      reply.send({ error: jsonOnlyMessage, code: "bad_request" });
    }
  });

  // MAX_BODY_BYTES everywhere, but room for four images on the routes that take attachments (body-limits.ts).
  registerBodyLimits(app, bodyLimits);

  // Requests tRPC should not read at all (trpcRefusal), refused on their headers.
  app.addHook("onRequest", (request, reply, done) => {
    if (!request.url.startsWith("/trpc/")) return done();
    const refusal = trpcRefusal(request, auth, userOf);
    if (!refusal) return done();
    if (refusal.status === 401 && hasBody(request.headers)) {
      // As with a 415: the rest of the body is never read (after a lingering moment for the client to read this).
      reply.header("connection", "close");
      lingerIfBodyUnread(request, reply);
    }
    reply.code(refusal.status).send(refusal.body);
  });

  // tRPC answers some request errors (a missing content type, an unsupported method) with a JSON body
  // but no content type, which the Response defaults to text/plain: label them as what they are.
  app.addHook("onSend", (_request, _reply, payload, done) => {
    if (payload instanceof Response && payload.status >= 400 && payload.headers.get("content-type")?.startsWith("text/plain")) {
      payload.headers.set("content-type", "application/json");
    }
    done(null, payload);
  });

  const trpcOptions = {
    router: appRouter,
    // trpcRefusal refuses larger batches first, with a message naming the limit; this is tRPC's own check of it.
    maxBatchSize,
    createContext: ({ req, info }: CreateFastifyContextOptions): Context => ({
      userId: userOf(req, info.connectionParams?.token),
      runs,
      store,
      provider,
      config,
      tools,
      feed,
      publish,
    }),
    onError: ({ error, path, type }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") app.log.error({ err: error, path, type }, "tRPC procedure failed");
      else if (isStoreError(error.cause)) app.log.warn({ err: error.cause, path, type }, "tRPC procedure failed in the store");
    },
  } satisfies FastifyTRPCPluginOptions<AppRouter>["trpcOptions"];
  await app.register(
    async (scope) => {
      // LEAN_SSE (default): subscriptions (chat.events) through the lean SSE writer in front of tRPC's plugin.
      if (config.leanSse) registerLeanSubscriptions(scope, { prefix: "", trpcOptions });
      // LEAN_MUTATIONS (default): mutations (chat.send) answered without tRPC's fetch adapter, same answers.
      if (config.leanMutations) {
        await registerLeanMutations(scope, {
          prefix: "",
          trpcOptions,
          exclude: new Set([importProcedure]),
          bodyLimit: (path) => (attachmentProcedures.has(path) ? bodyLimits.attachments : bodyLimits.normal),
        });
      }
      await scope.register(fastifyTRPCPlugin, { trpcOptions });
    },
    { prefix: "/trpc" },
  );
  // conversations.import takes files up to MAX_IMPORT_BYTES: its route has a body limit of its own.
  await registerImportRoute(app, { prefix: "/trpc", bodyLimit: importBodyLimit(config.maxImportBytes), trpcOptions });

  registerRest(app, { runs, auth, userOf, provider, config, pingIntervalMs: opts.restPingIntervalMs });
  registerExportAllRoute(app, { store, userOf });

  // For load balancers and orchestrators: no auth, no details. 503 while the store (or Redis, when configured) does not answer.
  app.get("/healthz", async (_request, reply) => {
    const [storeOk, redis] = await Promise.all([store.ping(), runs.streamsHealth()]);
    const ok = storeOk && (redis?.ok ?? true);
    return reply
      .code(ok ? 200 : 503)
      .header("cache-control", "no-store")
      .send({ ok, store: { ok: storeOk }, ...(redis ? { redis: { ok: redis.ok } } : {}) });
  });

  metrics.register(app, config.metricsToken);

  const webDist = opts.webDistDir === undefined ? defaultWebDist : opts.webDistDir;
  const webRoot = webDist === null ? null : typeof webDist === "string" ? resolve(webDist) : fileURLToPath(webDist);
  const serveWeb = webRoot !== null && existsSync(resolve(webRoot, "index.html"));
  if (serveWeb) {
    await app.register(fastifyStatic, {
      root: webRoot,
      prefix: "/",
      index: ["index.html"],
      cacheControl: false,
      // Vite fingerprints everything under assets/: cache it for good, revalidate the rest (index.html).
      setHeaders: (res, filePath) => {
        const immutable = /[\\/]assets[\\/]/.test(filePath);
        res.header("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
      },
    });
  }

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?", 1)[0] ?? "/";
    // SPA fallback: client-side routes get index.html; missing files (with an extension) stay 404.
    if (serveWeb && (request.method === "GET" || request.method === "HEAD") && !isApiPath(path) && !/\.[a-z0-9]+$/i.test(path)) {
      return reply.type("text/html; charset=utf-8").header("Cache-Control", "no-cache").sendFile("index.html");
    }
    return reply.code(404).send({ error: "Not found", code: "not_found" });
  });

  let closing: Promise<void> | undefined;
  const close = async () => {
    // Stop taking connections and new runs (at once: shutdown refuses starts before its first await); let running
    // answers finish within the grace period. Feed streams never end on their own: they end now (their clients
    // reconnect, to another process or after the restart).
    const appClosed = app.close();
    const runsEnded = runs.shutdown(config.shutdownGraceMs);
    await tokenEventPruner?.stop();
    await feed.close();
    await runsEnded;
    await titles?.close();
    // Every run has ended, so every subscription has ended. Connections that went idle since close()
    // began are kept alive by default; a connection still busy after 2 s is a stuck client.
    app.server.closeIdleConnections();
    const idleSweep = setInterval(() => app.server.closeIdleConnections(), 50);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      appClosed,
      new Promise<void>((done) => {
        timer = setTimeout(() => {
          app.server.closeAllConnections();
          done();
        }, 2000);
      }),
    ]);
    clearTimeout(timer);
    clearInterval(idleSweep);
    // Every run has ended (or was suspended): no tool call is left for the MCP servers. They are stopped with the
    // store's last commit: a stdio server gets its stdin closed, then SIGTERM, then SIGKILL.
    await Promise.all([
      mcp?.close().catch((error: unknown) => app.log.error({ err: error }, "closing the MCP servers failed")),
      store.close().catch((error: unknown) => app.log.error({ err: error }, "closing the store failed")),
    ]);
    // Last: while this process holds its liveness, no other one closes its runs.
    await liveness.close();
    await provider.close();
    // Said last, so that a reader knows the shutdown was clean: `pnpm start` follows a Ctrl-C with its own
    // "ELIFECYCLE Command failed" whatever the server's exit code (pnpm's own behaviour, pnpm/pnpm#9938).
    app.log.info("stopped: every run has ended and the store is closed");
    // The last lines (shutdown) get a moment to reach a slow reader; a reader that is gone or stuck
    // costs this second at most.
    await logging.destination?.flush(1000);
    logging.destination?.detach();
  };

  return {
    app,
    runs,
    store,
    replicaId,
    ...(provider.sim ? { sim: provider.sim } : {}),
    provider,
    ...(mcp ? { mcp } : {}),
    tools,
    feed,
    titles,
    tokenEventPruner,
    listen: () => app.listen({ port: config.port, host: config.host }),
    close: () => (closing ??= close()),
  };
}
