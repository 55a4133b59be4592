import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { maxTimerMs } from "@streamchat/core";
import { attachmentBodyLimit, ConfigError, databaseTarget, defaultDatabasePath, defaultSystemPrompt, durationVariables, isLoopbackHost, loadConfig } from "./config.js";

function configError(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: "127.0.0.1",
      provider: "auto",
      ollamaHost: "http://127.0.0.1:11434",
      openaiBaseUrl: undefined,
      openaiApiKey: undefined,
      chatModel: undefined,
      databasePath: defaultDatabasePath,
      databaseUrl: undefined,
      databasePoolSize: 10,
      eventFlushMs: 100,
      tokenEventsMaxAgeDays: undefined,
      redisUnansweredMs: 10_000,
      authTokens: null,
      systemPrompt: defaultSystemPrompt,
      maxMessageChars: 32_000,
      maxRunsPerUser: 4,
      toolTimeoutMs: 15_000,
      toolApprovalTimeoutMs: 600_000,
      mcpConfigPath: undefined,
      maxSteps: 5,
      maxContextMessages: 50,
      maxContextTokens: 32_768,
      maxImageBytes: 5 * 1024 * 1024,
      maxFileChars: 100_000,
      keepAlive: undefined,
      ollamaContextLength: undefined,
      chatIdleTimeoutMs: 60_000,
      chatLoadTimeoutMs: 300_000,
      chatMaxAnswerTokens: undefined,
      shutdownGraceMs: 10_000,
      maxBodyBytes: 1_048_576,
      maxImportBytes: 10_485_760,
      corsOrigins: [],
      allowedHosts: [],
      logLevel: "info",
      simShowFaultModels: false,
      coalesceTokens: true,
      leanSse: true,
      leanMutations: true,
      generateTitles: true,
    });
  });

  it("reads every variable", () => {
    const config = loadConfig({
      PORT: "8080",
      HOST: "0.0.0.0",
      CHAT_PROVIDER: "openai",
      OLLAMA_HOST: "http://10.0.0.2:11434/",
      OPENAI_BASE_URL: "http://127.0.0.1:8081/v1",
      OPENAI_API_KEY: "sk-test",
      CHAT_MODEL: "qwen3",
      DATABASE_PATH: "/tmp/x.db",
      AUTH_TOKENS: "alice:token-alice, bob:token-bob",
      SYSTEM_PROMPT: "Be brief.",
      MAX_MESSAGE_CHARS: "100",
      MAX_RUNS_PER_USER: "2",
      TOOL_TIMEOUT_MS: "500",
      TOOL_APPROVAL_TIMEOUT_MS: "30000",
      MCP_CONFIG: "/etc/streamchat/mcp.json",
      MAX_STEPS: "3",
      MAX_CONTEXT_MESSAGES: "10",
      CHAT_IDLE_TIMEOUT_MS: "1000",
      SHUTDOWN_GRACE_MS: "0",
      MAX_BODY_BYTES: "2048",
      MAX_IMPORT_BYTES: "4096",
      MAX_IMAGE_BYTES: "65536",
      MAX_CONTEXT_TOKENS: "8192",
      KEEP_ALIVE: "10m",
      OLLAMA_CONTEXT_LENGTH: "4096",
      CORS_ORIGINS: "http://localhost:5173, https://chat.example.com",
      ALLOWED_HOSTS: "Chat.Example.com, box.lan",
      LOG_LEVEL: "debug",
      SIM_SHOW_FAULT_MODELS: "1",
      COALESCE_TOKENS: "0",
      LEAN_SSE: "0",
      LEAN_MUTATIONS: "0",
      GENERATE_TITLES: "0",
    });
    expect(config).toMatchObject({
      port: 8080,
      host: "0.0.0.0",
      provider: "openai",
      ollamaHost: "http://10.0.0.2:11434",
      openaiBaseUrl: "http://127.0.0.1:8081/v1",
      openaiApiKey: "sk-test",
      chatModel: "qwen3",
      authTokens: [
        { userId: "alice", token: "token-alice" },
        { userId: "bob", token: "token-bob" },
      ],
      systemPrompt: "Be brief.",
      maxMessageChars: 100,
      maxRunsPerUser: 2,
      toolApprovalTimeoutMs: 30_000,
      mcpConfigPath: "/etc/streamchat/mcp.json",
      shutdownGraceMs: 0,
      maxBodyBytes: 2048,
      maxImportBytes: 4096,
      maxImageBytes: 65_536,
      maxContextTokens: 8192,
      keepAlive: "10m",
      ollamaContextLength: 4096,
      corsOrigins: ["http://localhost:5173", "https://chat.example.com"],
      allowedHosts: ["chat.example.com", "box.lan"],
      logLevel: "debug",
      simShowFaultModels: true,
      coalesceTokens: false,
      leanSse: false,
      leanMutations: false,
      generateTitles: false,
    });
  });

  it("reads KEEP_ALIVE as Ollama does: a bare number is seconds, anything else a Go duration", () => {
    expect(loadConfig({ KEEP_ALIVE: "300" }).keepAlive).toBe(300);
    expect(loadConfig({ KEEP_ALIVE: "-1" }).keepAlive).toBe(-1);
    expect(loadConfig({ KEEP_ALIVE: "1h30m" }).keepAlive).toBe("1h30m");
    expect(configError({ KEEP_ALIVE: "5 minutes" })).toMatch(/KEEP_ALIVE: must be a duration such as "5m"/);
    // The value once, by loadConfig (the schema's message does not repeat it).
    expect(configError({ KEEP_ALIVE: "forever" }).match(/forever/g)).toHaveLength(1);
  });

  it("sizes the attachment routes' body limit for 4 images of MAX_IMAGE_BYTES in base64, 8 files of MAX_FILE_CHARS as JSON, plus MAX_BODY_BYTES", () => {
    const config = loadConfig({});
    expect(attachmentBodyLimit(config)).toBe(Math.ceil((4 * 5 * 1024 * 1024 * 4) / 3) + 8 * 100_000 * 6 + 1024 * 1024);
    expect(attachmentBodyLimit(loadConfig({ MAX_IMAGE_BYTES: "3000", MAX_FILE_CHARS: "10", MAX_BODY_BYTES: "2048" }))).toBe(16_000 + 480 + 2048);
  });

  it("treats empty values as unset", () => {
    expect(loadConfig({ PORT: "", CHAT_MODEL: " " })).toMatchObject({ port: 3000, chatModel: undefined });
  });

  it("reads numbers, switches and names with whitespace around them (cmd.exe `set PORT=3000 &&`, CRLF env files)", () => {
    expect(
      loadConfig({
        PORT: "3000 ",
        MAX_RUNS_PER_USER: " 2\r",
        OLLAMA_CONTEXT_LENGTH: "8192\r\n",
        SIM_SHOW_FAULT_MODELS: "1 ",
        LOG_LEVEL: "warn\r",
        CHAT_PROVIDER: " sim",
        KEEP_ALIVE: "10m ",
      }),
    ).toMatchObject({ port: 3000, maxRunsPerUser: 2, ollamaContextLength: 8192, simShowFaultModels: true, logLevel: "warn", provider: "sim", keepAlive: "10m" });
    // Still refused when the value itself is wrong, and shown as given.
    expect(configError({ PORT: "30 00" })).toContain('PORT: must be a whole number between 0 and 65535 (got "30 00")');
    expect(configError({ PORT: "-1 " })).toContain("PORT: must be a whole number");
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["CHAT_PROVIDER", "llamafile"],
    ["OLLAMA_HOST", "localhost:11434"],
    ["MAX_RUNS_PER_USER", "0"],
    ["MAX_MESSAGE_CHARS", "-5"],
    ["TOOL_TIMEOUT_MS", "1.5"],
    ["TOOL_APPROVAL_TIMEOUT_MS", "0"],
    ["TOOL_APPROVAL_TIMEOUT_MS", "ten minutes"],
    ["MAX_STEPS", "many"],
    ["MAX_CONTEXT_MESSAGES", "0"],
    ["CHAT_IDLE_TIMEOUT_MS", "soon"],
    ["SHUTDOWN_GRACE_MS", "x"],
    ["MAX_BODY_BYTES", "10"],
    ["MAX_IMAGE_BYTES", "5MB"],
    ["MAX_CONTEXT_TOKENS", "100"],
    ["KEEP_ALIVE", "five minutes"],
    ["OLLAMA_CONTEXT_LENGTH", "big"],
    ["CORS_ORIGINS", "not a url"],
    ["ALLOWED_HOSTS", "http://chat.example.com"],
    ["LOG_LEVEL", "loud"],
    ["SIM_SHOW_FAULT_MODELS", "yes"],
    ["AUTH_TOKENS", "no-colon"],
    ["AUTH_TOKENS", "alice:short"],
  ])("names %s when it is %j", (name, value) => {
    const message = configError({ [name]: value });
    expect(message).toContain(`${name}:`);
  });

  it("lists every bad variable at once", () => {
    const message = configError({ PORT: "x", LOG_LEVEL: "y" });
    expect(message).toContain("PORT:");
    expect(message).toContain("LOG_LEVEL:");
  });

  it("refuses tokens that cannot travel in an Authorization header (spaces, non-ASCII), without echoing them", () => {
    for (const tokens of ["alice:correct horse battery", "alice:пароль-пароль", "alice:token\tsecret", "alice:ok-token-1,bob:naïve-token"]) {
      const message = configError({ AUTH_TOKENS: tokens });
      expect(message, tokens).toMatch(/AUTH_TOKENS: token of user "(alice|bob)" must be printable ASCII without spaces/);
      expect(message).not.toMatch(/horse|пароль|secret|naïve/);
    }
    for (const token of ["metrics token here", "métriques-secrètes"]) {
      const message = configError({ METRICS_TOKEN: token });
      expect(message, token).toMatch(/METRICS_TOKEN: must be printable ASCII without spaces/);
      expect(message).not.toContain(token);
    }
    // Any printable ASCII is fine (the colon after the first one too); surrounding spaces are trimmed.
    expect(loadConfig({ AUTH_TOKENS: " alice : a!b$c%d^e&f*g:h=~ " }).authTokens).toEqual([{ userId: "alice", token: "a!b$c%d^e&f*g:h=~" }]);
    expect(loadConfig({ METRICS_TOKEN: " m3trics/+=token " }).metricsToken).toBe("m3trics/+=token");
  });

  it("never echoes tokens", () => {
    expect(configError({ AUTH_TOKENS: "alice:short" })).not.toContain("short\"");
  });

  it("refuses a non-loopback HOST without AUTH_TOKENS", () => {
    expect(configError({ HOST: "0.0.0.0" })).toMatch(/AUTH_TOKENS: required when HOST is not a loopback address/);
    expect(loadConfig({ HOST: "0.0.0.0", AUTH_TOKENS: "a:token-aaaa" }).host).toBe("0.0.0.0");
    expect(loadConfig({ HOST: "localhost" }).authTokens).toBeNull();
  });

  it("requires OPENAI_BASE_URL for the openai provider", () => {
    expect(configError({ CHAT_PROVIDER: "openai" })).toContain("OPENAI_BASE_URL:");
  });
});

describe("isLoopbackHost", () => {
  it("knows loopback addresses", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ["0.0.0.0", "::", "192.168.1.2", "example.com"]) expect(isLoopbackHost(host)).toBe(false);
  });
});

describe("the default database file", () => {
  const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
  const apiDir = fileURLToPath(new URL("../", import.meta.url));

  it("is <repository>/data/chat.db, an absolute path", () => {
    expect(existsSync(join(repoRoot, "pnpm-workspace.yaml"))).toBe(true);
    expect(isAbsolute(defaultDatabasePath)).toBe(true);
    expect(defaultDatabasePath).toBe(join(repoRoot, "data", "chat.db"));
  });

  it("is the same file from the root (pnpm start) and from apps/api (pnpm dev)", () => {
    const pathFrom = (cwd: string) =>
      execFileSync(
        process.execPath,
        ["--conditions=source", "--import", "tsx", "--input-type=module", "-e", `import { loadConfig } from "${join(apiDir, "src", "config.ts")}"; process.stdout.write(loadConfig({}).databasePath);`],
        { cwd, env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "" }, encoding: "utf8" },
      );
    const fromRoot = pathFrom(repoRoot);
    expect(fromRoot).toBe(join(repoRoot, "data", "chat.db"));
    expect(pathFrom(apiDir)).toBe(fromRoot);
  });

  it("leaves a DATABASE_PATH the user set as given (relative to the working directory)", () => {
    expect(loadConfig({ DATABASE_PATH: "./here/chat.db" }).databasePath).toBe("./here/chat.db");
    expect(loadConfig({ DATABASE_PATH: ":memory:" }).databasePath).toBe(":memory:");
  });
});

describe("DATABASE_URL", () => {
  it("selects PostgreSQL with a postgres:// or postgresql:// URL, with DATABASE_POOL_SIZE", () => {
    expect(loadConfig({ DATABASE_URL: "postgres://chat:secret@db.internal:5433/chat" })).toMatchObject({
      databaseUrl: "postgres://chat:secret@db.internal:5433/chat",
      databasePoolSize: 10,
    });
    expect(loadConfig({ DATABASE_URL: "postgresql://127.0.0.1/chat", DATABASE_POOL_SIZE: "25" })).toMatchObject({
      databaseUrl: "postgresql://127.0.0.1/chat",
      databasePoolSize: 25,
    });
    expect(loadConfig({ DATABASE_URL: "" }).databaseUrl).toBeUndefined();
  });

  it("refuses other URLs and bad pool sizes, naming the variable but never echoing the URL (it may hold a password)", () => {
    for (const url of ["mysql://u:hunter2@h/db", "postgres:///nohost", "not a url hunter2", "http://h/db"]) {
      const message = configError({ DATABASE_URL: url });
      expect(message).toMatch(/DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
      expect(message).not.toContain("hunter2");
    }
    expect(() => loadConfig({ DATABASE_URL: "postgres://h/db", DATABASE_POOL_SIZE: "0" })).toThrow(/DATABASE_POOL_SIZE: must be at least 1/);
  });

  it("refuses every duration (*_MS) longer than Node's longest timer, 2^31 - 1 ms, naming the variable and its limit", () => {
    // Node fires a longer timer after 1 ms (TimeoutOverflowWarning): a "very long" timeout would time out at once.
    expect(durationVariables).toEqual(
      expect.arrayContaining([
        "EVENT_FLUSH_MS",
        "TOOL_TIMEOUT_MS",
        "TOOL_APPROVAL_TIMEOUT_MS",
        "CHAT_IDLE_TIMEOUT_MS",
        "CHAT_LOAD_TIMEOUT_MS",
        "SHUTDOWN_GRACE_MS",
        "REDIS_UNANSWERED_MS",
      ]),
    );
    for (const name of durationVariables) {
      for (const value of [String(maxTimerMs + 1), "99999999999999999999"]) {
        const message = configError({ [name]: value });
        const limit = new RegExp(`${name}: must be at most (\\d+)`).exec(message)?.[1];
        expect(limit, `${name}=${value}: ${message}`).toBeDefined();
        expect(Number(limit)).toBeLessThanOrEqual(maxTimerMs);
      }
    }
  });

  it("reads EVENT_FLUSH_MS, the event log's commit interval, within 1–1000 ms", () => {
    expect(loadConfig({}).eventFlushMs).toBe(100);
    expect(loadConfig({ EVENT_FLUSH_MS: "25" }).eventFlushMs).toBe(25);
    expect(() => loadConfig({ EVENT_FLUSH_MS: "0" })).toThrow(/EVENT_FLUSH_MS: must be at least 1/);
    expect(() => loadConfig({ EVENT_FLUSH_MS: "5000" })).toThrow(/EVENT_FLUSH_MS/);
  });

  it("reads TOKEN_EVENTS_MAX_AGE_DAYS, whole days from 1, unset by default", () => {
    expect(loadConfig({}).tokenEventsMaxAgeDays).toBeUndefined();
    expect(loadConfig({ TOKEN_EVENTS_MAX_AGE_DAYS: "" }).tokenEventsMaxAgeDays).toBeUndefined();
    expect(loadConfig({ TOKEN_EVENTS_MAX_AGE_DAYS: " 30 " }).tokenEventsMaxAgeDays).toBe(30);
    expect(() => loadConfig({ TOKEN_EVENTS_MAX_AGE_DAYS: "0" })).toThrow(/TOKEN_EVENTS_MAX_AGE_DAYS: must be at least 1/);
    expect(() => loadConfig({ TOKEN_EVENTS_MAX_AGE_DAYS: "1.5" })).toThrow(/TOKEN_EVENTS_MAX_AGE_DAYS: must be a whole number/);
  });

  it("names where it points without user or password", () => {
    expect(databaseTarget("postgres://chat:secret@db.internal:5433/chat")).toBe("db.internal:5433/chat");
    expect(databaseTarget("postgresql://127.0.0.1/chat?sslmode=require")).toBe("127.0.0.1:5432/chat");
  });
});

describe("REDIS_URL and METRICS_TOKEN", () => {
  const pg = "postgres://chat:secret@db.internal:5433/chat";
  it("REDIS_URL turns on cluster mode with DATABASE_URL; empty or unset is embedded mode", () => {
    expect(loadConfig({ DATABASE_URL: pg, REDIS_URL: "redis://10.0.0.5:6379" }).redisUrl).toBe("redis://10.0.0.5:6379");
    expect(loadConfig({ DATABASE_URL: pg, REDIS_URL: "rediss://cache.internal" }).redisUrl).toBe("rediss://cache.internal");
    expect(loadConfig({ REDIS_URL: "" }).redisUrl).toBeUndefined();
    expect(loadConfig({}).redisUrl).toBeUndefined();
  });

  it("refuses REDIS_URL with SQLite, naming both variables", () => {
    const message = configError({ REDIS_URL: "redis://127.0.0.1:6379" });
    expect(message).toMatch(/REDIS_URL: requires DATABASE_URL/);
    expect(message).toContain("DATABASE_PATH");
  });

  it("refuses a REDIS_URL that is not redis:// or rediss://, without echoing it (it may hold a password)", () => {
    for (const url of ["http://u:hunter2@h:6379", "redis://", "not a url hunter2"]) {
      const message = configError({ DATABASE_URL: pg, REDIS_URL: url });
      expect(message).toMatch(/REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
      expect(message).not.toContain("hunter2");
    }
  });

  it("REDIS_UNANSWERED_MS: the Redis connections' watchdog deadline, default 10 s, whole milliseconds from 1 s to 10 min", () => {
    expect(loadConfig({}).redisUnansweredMs).toBe(10_000);
    expect(loadConfig({ REDIS_UNANSWERED_MS: "" }).redisUnansweredMs).toBe(10_000);
    expect(loadConfig({ DATABASE_URL: pg, REDIS_URL: "redis://10.0.0.5:6379", REDIS_UNANSWERED_MS: "3000" }).redisUnansweredMs).toBe(3000);
    expect(loadConfig({ REDIS_UNANSWERED_MS: " 1000\r" }).redisUnansweredMs).toBe(1000);
    expect(loadConfig({ REDIS_UNANSWERED_MS: "600000" }).redisUnansweredMs).toBe(600_000);
    // Below a second a healthy Redis's slow answer (a fork, an fsync) would break connections off, failing runs.
    expect(configError({ REDIS_UNANSWERED_MS: "999" })).toBe('Invalid configuration:\n  REDIS_UNANSWERED_MS: must be at least 1000 (got "999")');
    expect(configError({ REDIS_UNANSWERED_MS: "0" })).toMatch(/REDIS_UNANSWERED_MS: must be at least 1000 \(got "0"\)/);
    expect(configError({ REDIS_UNANSWERED_MS: "600001" })).toMatch(/REDIS_UNANSWERED_MS: must be at most 600000 \(got "600001"\)/);
    for (const bad of ["-5000", "2.5s", "10s", "1e4", "ten"]) {
      expect(configError({ REDIS_UNANSWERED_MS: bad })).toMatch(/REDIS_UNANSWERED_MS: must be a whole number between 1000 and 600000/);
    }
  });

  it("METRICS_TOKEN: at least 8 characters, never echoed; unset means /metrics needs no auth", () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: "long-enough" }).metricsToken).toBe("long-enough");
    const message = configError({ METRICS_TOKEN: "short7!" });
    expect(message).toMatch(/METRICS_TOKEN: must be at least 8 characters/);
    expect(message).not.toContain("short7!");
  });
});
