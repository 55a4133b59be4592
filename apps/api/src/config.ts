import { fileURLToPath } from "node:url";
import { z } from "zod";
import { defaultMaxContextTokens, defaultMaxFileChars, defaultMaxImageBytes, keepAliveSchema, maxFilesPerMessage, maxImagesPerMessage, maxTimerMs, type KeepAlive } from "@streamchat/core";
import { defaultFlushIntervalMs } from "@streamchat/store";
import { defaultUnansweredMs, maxUnansweredMs, minUnansweredMs } from "./cluster/redis-watchdog.js";

/** Start-up configuration problem; the message names the variable and is safe to print as is. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * `<repository>/data/chat.db`, whatever directory the server starts in: `pnpm dev` runs in apps/api and
 * `pnpm start` at the root, and a cwd-relative default gave them two different databases. Resolved from
 * this module's own place (apps/api/src or apps/api/dist, both three levels below the root). A
 * DATABASE_PATH the user sets is taken as given: a relative one stays relative to the working directory.
 */
export const defaultDatabasePath = fileURLToPath(new URL("../../../data/chat.db", import.meta.url));

export const providerNames = ["auto", "ollama", "openai", "sim"] as const;
export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const defaultSystemPrompt =
  "You are a helpful assistant. Answer concisely and use Markdown where it helps. " +
  "You can call tools: current_time (the current time, optionally in an IANA time zone), " +
  "calculator (evaluates an arithmetic expression) and search_conversations (searches the user's past conversations). " +
  "Use a tool when the answer depends on it; otherwise answer directly.";

// Environment values are strings; an empty string counts as unset so `FOO= pnpm start` means the default.
const unsetIfEmpty = (value: unknown) => (typeof value === "string" && value.trim() === "" ? undefined : value);

/**
 * For numbers, switches and names from a fixed list: surrounding whitespace is not part of the value. It comes with
 * the environment more often than not by accident — `set PORT=3000 && pnpm start` in cmd.exe sets "3000 ", an env
 * file with CRLF line ends gives "3000\r" — and was refused ("must be a whole number") though the value is plain.
 */
const trimmedOrUnset = (value: unknown) => {
  const unset = unsetIfEmpty(value);
  return typeof unset === "string" ? unset.trim() : unset;
};

const int = (min: number, max: number, fallback: number) =>
  z.preprocess(
    trimmedOrUnset,
    z
      .string()
      .regex(/^\d+$/, { error: `must be a whole number between ${min} and ${max}` })
      .transform(Number)
      .pipe(z.number().int().min(min, { error: `must be at least ${min}` }).max(max, { error: `must be at most ${max}` }))
      .default(fallback),
  );

/**
 * A duration in milliseconds (the *_MS variables). Node fires a timer asked for more than 2^31 - 1 ms (about 24.8
 * days) after 1 ms instead, with only a TimeoutOverflowWarning: a limit above that would let a setting meant as
 * "very long" make every tool call, approval or stalled-model check time out at once. Checked where the limits are
 * written, so raising one past Node's longest timer fails at start-up instead of at 1 ms.
 */
const durationMs = (min: number, max: number, fallback: number) => {
  if (max > maxTimerMs) throw new Error(`a duration variable's limit (${max} ms) is longer than Node's longest timer (${maxTimerMs} ms)`);
  return int(min, max, fallback);
};

const optionalInt = (min: number, max: number) =>
  z.preprocess(
    trimmedOrUnset,
    z
      .string()
      .regex(/^\d+$/, { error: `must be a whole number between ${min} and ${max}` })
      .transform(Number)
      .pipe(z.number().int().min(min, { error: `must be at least ${min}` }).max(max, { error: `must be at most ${max}` }))
      .optional(),
  );

const httpUrl = z
  .string()
  .trim()
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
    error: "must be an http:// or https:// URL",
  })
  .transform((value) => value.replace(/\/+$/, ""));

const optionalString = z.preprocess(unsetIfEmpty, z.string().trim().optional());

/** A PostgreSQL connection URL; selects the PostgreSQL store. */
export function isPostgresUrl(value: string): boolean {
  return URL.canParse(value) && /^postgres(ql)?:$/.test(new URL(value).protocol) && new URL(value).hostname !== "";
}

/**
 * Where a DATABASE_URL points, for logs and start-up errors: "host:port/database", never the user or password.
 */
export function databaseTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname.length > 1 ? parsed.pathname : "/"}`;
  } catch {
    return "the configured database";
  }
}

/** A Redis connection URL (redis:// or rediss://); turns on cluster mode. */
export function isRedisUrl(value: string): boolean {
  return URL.canParse(value) && /^rediss?:$/.test(new URL(value).protocol) && new URL(value).hostname !== "";
}

/** Tokens sent as `Authorization: Bearer <token>` (AUTH_TOKENS, METRICS_TOKEN): printable ASCII, no spaces. */
const headerSafeToken = /^[\x21-\x7E]+$/;
const headerSafeTokenRule = "must be printable ASCII without spaces (it is sent as Authorization: Bearer <token>)";

const authTokens = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .transform((value, ctx) => {
      const entries: Array<{ userId: string; token: string }> = [];
      for (const item of value.split(",").map((part) => part.trim()).filter(Boolean)) {
        const at = item.indexOf(":");
        const userId = at > 0 ? item.slice(0, at).trim() : "";
        const token = at > 0 ? item.slice(at + 1).trim() : "";
        if (!userId || !token) {
          ctx.addIssue({ code: "custom", message: 'must be a comma list of "user:token" pairs' });
          return z.NEVER;
        }
        // Short tokens are guessable; the check costs nothing at start-up.
        if (token.length < 8) {
          ctx.addIssue({ code: "custom", message: `token of user "${userId}" must be at least 8 characters` });
          return z.NEVER;
        }
        // The token travels in an HTTP header (Authorization: Bearer <token>): one with a space or a character outside
        // ASCII could never be presented (the header ends the token at the space; bytes beyond ASCII arrive as Latin-1).
        if (!headerSafeToken.test(token)) {
          ctx.addIssue({ code: "custom", message: `token of user "${userId}" ${headerSafeTokenRule}` });
          return z.NEVER;
        }
        entries.push({ userId, token });
      }
      if (entries.length === 0) {
        ctx.addIssue({ code: "custom", message: 'must be a comma list of "user:token" pairs' });
        return z.NEVER;
      }
      return entries;
    })
    .optional(),
);

/** A 1/0 (or true/false) switch. */
const flag = (fallback: "0" | "1") =>
  z.preprocess(
    trimmedOrUnset,
    z.enum(["0", "1", "false", "true"], { error: "must be 1 or 0" }).default(fallback).transform((v) => v === "1" || v === "true"),
  );

const envSchema = z.object({
  PORT: int(0, 65_535, 3000),
  HOST: z.preprocess(unsetIfEmpty, z.string().trim().default("127.0.0.1")),
  CHAT_PROVIDER: z.preprocess(
    trimmedOrUnset,
    z.enum(providerNames, { error: `must be one of ${providerNames.join(", ")}` }).default("auto"),
  ),
  OLLAMA_HOST: z.preprocess(unsetIfEmpty, httpUrl.default("http://127.0.0.1:11434")),
  OPENAI_BASE_URL: z.preprocess(unsetIfEmpty, httpUrl.optional()),
  OPENAI_API_KEY: optionalString,
  CHAT_MODEL: optionalString,
  DATABASE_PATH: z.preprocess(unsetIfEmpty, z.string().default(defaultDatabasePath)),
  DATABASE_URL: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .trim()
      .refine(isPostgresUrl, { error: "must be a postgres:// or postgresql:// URL (postgres://user:password@host:5432/database)" })
      .optional(),
  ),
  DATABASE_POOL_SIZE: int(1, 1000, 10),
  EVENT_FLUSH_MS: durationMs(1, 1000, defaultFlushIntervalMs),
  TOKEN_EVENTS_MAX_AGE_DAYS: optionalInt(1, 36_500),
  REDIS_URL: z.preprocess(
    unsetIfEmpty,
    z.string().trim().refine(isRedisUrl, { error: "must be a redis:// or rediss:// URL (redis://host:6379)" }).optional(),
  ),
  // At least 1 s: a connection broken off fails every command pending on it, among them the XADDs of the runs this
  // replica executes, which then end with an internal error. So the deadline must stay well above the slowest answer
  // of a healthy Redis (a fork for BGSAVE, an fsync stall, a large command ahead of the PING: up to hundreds of ms).
  // The PING interval follows the deadline (a quarter of it, redis-watchdog.ts, so a PING always has several ticks to
  // be answered): a shorter deadline also means more PINGs, at 1 s one per connection every 250 ms already. At most
  // 10 min: a Redis silent that long is not coming back by itself, and every command sent meanwhile waits in memory.
  REDIS_UNANSWERED_MS: durationMs(minUnansweredMs, maxUnansweredMs, defaultUnansweredMs),
  METRICS_TOKEN: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .trim()
      .min(8, { error: "must be at least 8 characters" })
      .regex(headerSafeToken, { error: headerSafeTokenRule })
      .optional(),
  ),
  AUTH_TOKENS: authTokens,
  SYSTEM_PROMPT: z.preprocess(unsetIfEmpty, z.string().default(defaultSystemPrompt)),
  MAX_MESSAGE_CHARS: int(1, 10_000_000, 32_000),
  MAX_RUNS_PER_USER: int(1, 1000, 4),
  TOOL_TIMEOUT_MS: durationMs(1, 3_600_000, 15_000),
  TOOL_APPROVAL_TIMEOUT_MS: durationMs(1, 604_800_000, 600_000),
  MCP_CONFIG: optionalString,
  MAX_STEPS: int(1, 100, 5),
  MAX_CONTEXT_MESSAGES: int(1, 10_000, 50),
  CHAT_IDLE_TIMEOUT_MS: durationMs(1, 3_600_000, 60_000),
  CHAT_LOAD_TIMEOUT_MS: durationMs(1, 3_600_000, 300_000),
  CHAT_MAX_ANSWER_TOKENS: optionalInt(1, 10_000_000),
  SHUTDOWN_GRACE_MS: durationMs(0, 3_600_000, 10_000),
  MAX_BODY_BYTES: int(1024, 1024 * 1024 * 1024, 1024 * 1024),
  MAX_IMPORT_BYTES: int(1024, 1024 * 1024 * 1024, 10 * 1024 * 1024),
  MAX_IMAGE_BYTES: int(1024, 100 * 1024 * 1024, defaultMaxImageBytes),
  MAX_FILE_CHARS: int(1, 10_000_000, defaultMaxFileChars),
  MAX_CONTEXT_TOKENS: int(256, 10_000_000, defaultMaxContextTokens),
  KEEP_ALIVE: z.preprocess(trimmedOrUnset, keepAliveSchema.optional()),
  OLLAMA_CONTEXT_LENGTH: optionalInt(256, 10_000_000),
  CORS_ORIGINS: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .transform((value) => value.split(",").map((origin) => origin.trim()).filter(Boolean))
      .pipe(z.array(httpUrl))
      .optional(),
  ),
  ALLOWED_HOSTS: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .transform((value) => value.split(",").map((host) => host.trim().toLowerCase()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^[a-z0-9.-]+$/, { error: "must be a comma list of host names (no ports or schemes)" })))
      .optional(),
  ),
  LOG_LEVEL: z.preprocess(
    trimmedOrUnset,
    z.enum(logLevels, { error: `must be one of ${logLevels.join(", ")}` }).default("info"),
  ),
  SIM_SHOW_FAULT_MODELS: flag("0"),
  COALESCE_TOKENS: flag("1"),
  LEAN_SSE: flag("1"),
  LEAN_MUTATIONS: flag("1"),
  GENERATE_TITLES: flag("1"),
});

export type Env = z.input<typeof envSchema>;

/** The variables holding durations in milliseconds (named *_MS): each is checked against Node's longest timer. */
export const durationVariables = Object.keys(envSchema.shape).filter((name) => name.endsWith("_MS"));

export interface Config {
  port: number;
  host: string;
  provider: (typeof providerNames)[number];
  ollamaHost: string;
  openaiBaseUrl: string | undefined;
  openaiApiKey: string | undefined;
  /** Undefined when CHAT_MODEL is not set: the provider picks ("demo" on the simulator, else "llama3.2"). */
  chatModel: string | undefined;
  /**
   * SQLite file when `databaseUrl` is unset; ":memory:" selects the in-memory store. Default: defaultDatabasePath
   * (absolute); a set value may be cwd-relative. Ignored (nothing is created there) when `databaseUrl` is set.
   */
  databasePath: string;
  /** postgres:// URL: selects the PostgreSQL store. */
  databaseUrl: string | undefined;
  /** Connections in the PostgreSQL pool. */
  databasePoolSize: number;
  /** How long an event waits for the log's commit (SQLite, PostgreSQL); what a hard kill can lose of the tail. */
  eventFlushMs: number;
  /**
   * Runs that finished more than this many days ago lose their `token` events (their text is the answer's messages;
   * token-event-pruner.ts). Undefined: every event is kept as long as its conversation.
   */
  tokenEventsMaxAgeDays: number | undefined;
  /** redis:// URL: cluster mode (runs shared between replicas through Redis Streams); requires databaseUrl. */
  redisUrl: string | undefined;
  /**
   * Cluster mode: how long a Redis connection may leave its watchdog's PING unanswered before it is broken off and
   * reconnected (every connection of the replica: commands, the stream reader on top of its block time, control).
   */
  redisUnansweredMs: number;
  /** When set, GET /metrics requires `Authorization: Bearer <metricsToken>`. */
  metricsToken: string | undefined;
  /** Null when auth is off (one local user). */
  authTokens: Array<{ userId: string; token: string }> | null;
  systemPrompt: string;
  maxMessageChars: number;
  maxRunsPerUser: number;
  toolTimeoutMs: number;
  /** How long a tool call waits for a person's approval before it is denied as timed out. */
  toolApprovalTimeoutMs: number;
  /** Path of the MCP servers' JSON file (read at start-up); undefined: no MCP servers. */
  mcpConfigPath: string | undefined;
  maxSteps: number;
  maxContextMessages: number;
  /**
   * Most tokens a request may fill (prompt + room for the answer) on Ollama, which sizes the window per request:
   * the model's context length is capped to it (memory for the KV cache grows with it).
   */
  maxContextTokens: number;
  /** Largest decoded image on a message (attachments); at most 4 per message. */
  maxImageBytes: number;
  /** Most characters of one text file on a message (attachments); at most 8 per message. */
  maxFileChars: number;
  /** Ollama `keep_alive` sent with every request: how long the model stays loaded afterwards. Undefined: Ollama's default. */
  keepAlive: KeepAlive | undefined;
  /** The window Ollama gives a request without num_ctx (set this to the server's OLLAMA_CONTEXT_LENGTH); default 2048. */
  ollamaContextLength: number | undefined;
  chatIdleTimeoutMs: number;
  /** How long a run waits for a model the server still has to load before its first data (never less than the idle limit). */
  chatLoadTimeoutMs: number;
  /** The most tokens the model may write per round (num_predict / max_tokens); undefined: the model server's own limit. */
  chatMaxAnswerTokens: number | undefined;
  shutdownGraceMs: number;
  maxBodyBytes: number;
  /**
   * The largest conversation file conversations.import takes (UTF-8 bytes of its content). Its route's body limit is
   * sized for it (import-route.ts), not MAX_BODY_BYTES.
   */
  maxImportBytes: number;
  /** Empty: same-origin only. */
  corsOrigins: string[];
  /** Host names (besides loopback) the API answers when auth is off; with auth, narrows it when set. */
  allowedHosts: string[];
  logLevel: (typeof logLevels)[number];
  /** models.list also lists the simulator's fault models (sim-*); for tests, off by default. */
  simShowFaultModels: boolean;
  /** Merge the token events that arrive in one event-loop turn (runs/token-coalescer.ts); on by default. */
  coalesceTokens: boolean;
  /** Serve subscriptions with the lean SSE writer (sse/subscription-route.ts) rather than tRPC's producer; on by default. */
  leanSse: boolean;
  /** Serve mutations (chat.send) without tRPC's fetch adapter (lean-mutations.ts); on by default. */
  leanMutations: boolean;
  /** Name a conversation with the model after its first answer (titles/title-generator.ts); on by default. */
  generateTitles: boolean;
}

export const defaultChatModel = "llama3.2";
export const demoChatModel = "demo";

/**
 * The body limit of the routes that take attachments (chat.send, chat.complete, chat.edit, POST /api/chat,
 * /api/chat/stream): 4 images of MAX_IMAGE_BYTES as base64 (4/3 of their size), 8 files of MAX_FILE_CHARS as JSON
 * (6 bytes a character at most: a control character is written `\u001f`), plus MAX_BODY_BYTES for the rest of the
 * request (the message, a tRPC batch around it). Never below MAX_BODY_BYTES.
 */
export function attachmentBodyLimit(config: Pick<Config, "maxImageBytes" | "maxFileChars" | "maxBodyBytes">): number {
  const images = Math.ceil((maxImagesPerMessage * config.maxImageBytes * 4) / 3);
  return images + maxFilesPerMessage * config.maxFileChars * 6 + config.maxBodyBytes;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Validates the environment; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      const raw = env[name];
      const got = raw === undefined ? "" : ` (got ${JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw)})`;
      // Never echo secrets back (a database URL may carry a password).
      const secret = ["AUTH_TOKENS", "OPENAI_API_KEY", "DATABASE_URL", "REDIS_URL", "METRICS_TOKEN"].includes(name);
      const shown = secret ? "" : got;
      return `${name}: ${issue.message}${shown}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  if (e.CHAT_PROVIDER === "openai" && !e.OPENAI_BASE_URL) {
    throw new ConfigError(
      "Invalid configuration:\n  OPENAI_BASE_URL: required when CHAT_PROVIDER=openai (e.g. http://127.0.0.1:8080/v1)",
    );
  }
  if (e.REDIS_URL && !e.DATABASE_URL) {
    throw new ConfigError(
      "Invalid configuration:\n  REDIS_URL: requires DATABASE_URL (PostgreSQL): replicas share runs through Redis and " +
        "their data through PostgreSQL; a SQLite file (DATABASE_PATH) belongs to one process. Set DATABASE_URL or unset REDIS_URL.",
    );
  }
  if (!isLoopbackHost(e.HOST) && !e.AUTH_TOKENS) {
    throw new ConfigError(
      `Invalid configuration:\n  AUTH_TOKENS: required when HOST is not a loopback address (HOST=${e.HOST}); ` +
        'set AUTH_TOKENS="user:token,..." or listen on 127.0.0.1',
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    provider: e.CHAT_PROVIDER,
    ollamaHost: e.OLLAMA_HOST,
    openaiBaseUrl: e.OPENAI_BASE_URL,
    openaiApiKey: e.OPENAI_API_KEY,
    chatModel: e.CHAT_MODEL,
    databasePath: e.DATABASE_PATH,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    eventFlushMs: e.EVENT_FLUSH_MS,
    tokenEventsMaxAgeDays: e.TOKEN_EVENTS_MAX_AGE_DAYS,
    redisUrl: e.REDIS_URL,
    redisUnansweredMs: e.REDIS_UNANSWERED_MS,
    metricsToken: e.METRICS_TOKEN,
    authTokens: e.AUTH_TOKENS ?? null,
    systemPrompt: e.SYSTEM_PROMPT,
    maxMessageChars: e.MAX_MESSAGE_CHARS,
    maxRunsPerUser: e.MAX_RUNS_PER_USER,
    toolTimeoutMs: e.TOOL_TIMEOUT_MS,
    toolApprovalTimeoutMs: e.TOOL_APPROVAL_TIMEOUT_MS,
    mcpConfigPath: e.MCP_CONFIG,
    maxSteps: e.MAX_STEPS,
    maxContextMessages: e.MAX_CONTEXT_MESSAGES,
    maxContextTokens: e.MAX_CONTEXT_TOKENS,
    maxImageBytes: e.MAX_IMAGE_BYTES,
    maxFileChars: e.MAX_FILE_CHARS,
    keepAlive: e.KEEP_ALIVE,
    ollamaContextLength: e.OLLAMA_CONTEXT_LENGTH,
    chatIdleTimeoutMs: e.CHAT_IDLE_TIMEOUT_MS,
    chatLoadTimeoutMs: e.CHAT_LOAD_TIMEOUT_MS,
    chatMaxAnswerTokens: e.CHAT_MAX_ANSWER_TOKENS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxImportBytes: e.MAX_IMPORT_BYTES,
    corsOrigins: e.CORS_ORIGINS ?? [],
    allowedHosts: e.ALLOWED_HOSTS ?? [],
    logLevel: e.LOG_LEVEL,
    simShowFaultModels: e.SIM_SHOW_FAULT_MODELS,
    coalesceTokens: e.COALESCE_TOKENS,
    leanSse: e.LEAN_SSE,
    leanMutations: e.LEAN_MUTATIONS,
    generateTitles: e.GENERATE_TITLES,
  };
}
