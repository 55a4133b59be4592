import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError, type TRPCClient } from "@trpc/client";
import { EventSource } from "eventsource";
import { chatEventSchema, type AnyTool, type ChatEvent } from "@streamchat/core";
import { startSimulator, type Simulator, type SimulatorOptions } from "@streamchat/ollama-sim";
import { buildServer, type ApiServer, type BuildServerOptions } from "../app.js";
import { loadConfig } from "../config.js";
import type { AppRouter } from "../router/root.js";
import { freshTestData, type TestData, type TestStore, type TestStoreOptions } from "./backend.js";
import { maxBatchSize } from "../trpc-http.js";

export { testBackend } from "./backend.js";

export type ApiClient = TRPCClient<AppRouter>;

export interface TestApi {
  url: string;
  server: ApiServer;
  /** The simulator the API talks to (Ollama protocol). */
  sim: Simulator;
  /** Temp dir holding the SQLite file (on PostgreSQL: where none may appear). */
  dir: string;
  dbPath: string;
  /** The API's data on this project's backend (SQLite file or PostgreSQL schema). */
  data: TestData;
  /** Opens another store on the API's data (a second process's view; also after the API closed). Caller closes it. */
  openStore(options?: TestStoreOptions): Promise<TestStore>;
  /** A tRPC client; `token` goes in Authorization: Bearer on every request, SSE included. */
  client(token?: string): ApiClient;
  close(): Promise<void>;
}

/** The system message of the last request the model server was sent (undefined: none, or no system message). */
export function lastSystemMessage(sim: Simulator): string | undefined {
  const body = sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> } | undefined;
  return body?.messages.find((m) => m.role === "system")?.content;
}

export function makeClient(url: string, token?: string): ApiClient {
  const authorization = token ? `Bearer ${token}` : undefined;
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url: `${url}/trpc`,
          EventSource,
          eventSourceOptions: () => ({
            fetch: (input, init) =>
              fetch(input, { ...init, headers: { ...init?.headers, ...(authorization ? { authorization } : {}) } }),
          }),
        }),
        false: httpBatchLink({
          url: `${url}/trpc`,
          maxItems: maxBatchSize,
          headers: () => (authorization ? { authorization } : {}),
        }),
      }),
    ],
  });
}

/**
 * The API on 127.0.0.1:0 with fresh data on this project's backend (a SQLite file in a temp dir, or a PostgreSQL
 * schema of its own) and a simulator as Ollama (model "demo").
 */
export async function startTestApi(
  opts: {
    /** Extra environment; a function gets the simulator (for URLs that point at it). */
    env?: Record<string, string> | ((sim: Simulator) => Record<string, string>);
    sim?: SimulatorOptions;
    dir?: string;
    /** Test-only tools (e.g. ones that throw or hang) next to the built-ins. */
    extraTools?: AnyTool[];
    /** A built web app to serve at `/`; none by default. */
    webDistDir?: string | null;
    /** Existing data to start on (a restart), instead of fresh data in `dir`. */
    data?: TestData;
    /** MCP client options (tests shorten restarts and shutdown grace); MCP_CONFIG goes in `env`. */
    mcp?: BuildServerOptions["mcp"];
    /** The REST stream's keep-alive interval (default 15 s). */
    restPingIntervalMs?: number;
    /** The event log's retry window while the database is unreachable (default 60 s). */
    storeRetryForMs?: number;
  } = {},
): Promise<TestApi> {
  const sim = await startSimulator({ tokenDelayMs: 1, ...opts.sim });
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "streamchat-api-"));
  const removeDir = () => {
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  };
  let server: ApiServer;
  let data: TestData;
  try {
    data = opts.data ?? (await freshTestData(dir));
    const config = loadConfig({
      HOST: "127.0.0.1",
      PORT: "0",
      CHAT_PROVIDER: "ollama",
      OLLAMA_HOST: sim.url,
      CHAT_MODEL: "demo",
      ...data.env,
      LOG_LEVEL: "silent",
      // Tests push model chunks one by one and assert per-chunk events; coalescing has its own tests.
      COALESCE_TOKENS: "0",
      // A title request after each first answer would change titles and the simulator's request log under tests
      // that assert them; title generation has its own tests (titles/*.test.ts), which turn it on.
      GENERATE_TITLES: "0",
      SHUTDOWN_GRACE_MS: "500",
      ...(typeof opts.env === "function" ? opts.env(sim) : opts.env),
    });
    server = await buildServer({
      config,
      logger: false,
      webDistDir: opts.webDistDir ?? null,
      ...(opts.extraTools ? { extraTools: opts.extraTools } : {}),
      ...(opts.mcp ? { mcp: opts.mcp } : {}),
      ...(opts.restPingIntervalMs === undefined ? {} : { restPingIntervalMs: opts.restPingIntervalMs }),
      ...(opts.storeRetryForMs === undefined ? {} : { storeRetryForMs: opts.storeRetryForMs }),
    });
  } catch (error) {
    await sim.close();
    removeDir();
    throw error;
  }
  const url = await server.listen();
  return {
    url,
    server,
    sim,
    dir,
    dbPath: data.dbPath,
    data,
    openStore: (options) => data.openStore(options),
    client: (token) => makeClient(url, token),
    async close() {
      await server.close();
      await sim.close();
      // With DATABASE_URL set, nothing is created at DATABASE_PATH (checked for every API of the postgres project).
      const sqliteFile = data.url !== undefined && existsSync(data.dbPath);
      removeDir();
      if (sqliteFile) throw new Error(`a SQLite file was created at DATABASE_PATH although DATABASE_URL was set (${data.dbPath})`);
    },
  };
}

export interface Received {
  id: string;
  event: ChatEvent;
}

/** A live subscription to chat.events that records what arrives. */
export interface EventRecorder {
  received: Received[];
  /** Resolves when the subscription completes (after done); rejects on a subscription error. */
  completed: Promise<Received[]>;
  /** Resolves once an event matching `predicate` has arrived. */
  waitFor(predicate: (event: ChatEvent) => boolean): Promise<Received>;
  unsubscribe(): void;
}

export function recordEvents(client: ApiClient, runId: string, lastEventId?: string): EventRecorder {
  const received: Received[] = [];
  const waiters: Array<{ predicate: (e: ChatEvent) => boolean; resolve: (r: Received) => void }> = [];
  let complete!: (value: Received[]) => void;
  let fail!: (error: unknown) => void;
  const completed = new Promise<Received[]>((resolve, reject) => {
    complete = resolve;
    fail = reject;
  });
  completed.catch(() => {});
  const subscription = client.chat.events.subscribe(
    { runId, ...(lastEventId ? { lastEventId } : {}) },
    {
      onData(data) {
        // Parsing also checks that what went over the wire is a valid event.
        const item: Received = { id: data.id, event: chatEventSchema.parse(data.data) };
        received.push(item);
        for (const waiter of [...waiters]) {
          if (waiter.predicate(item.event)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(item);
          }
        }
      },
      onComplete: () => complete(received),
      onError: (error) => fail(error),
    },
  );
  return {
    received,
    completed,
    waitFor(predicate) {
      const found = received.find((r) => predicate(r.event));
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    unsubscribe: () => subscription.unsubscribe(),
  };
}

/** All events of a run, from the start (or after lastEventId) to done. */
export function collectRun(client: ApiClient, runId: string, lastEventId?: string): Promise<Received[]> {
  return recordEvents(client, runId, lastEventId).completed;
}

export const types = (received: Received[]) => received.map((r) => r.event.type);
export const tokenText = (received: Received[]) =>
  received.map((r) => (r.event.type === "token" ? r.event.text : "")).join("");

/** Polls `check` on the event loop until it holds (for server-side state with no event to wait on). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** How a tRPC call failed: its tRPC code, the API's error code and the message. Throws when it did not fail so. */
export async function trpcFailure(promise: Promise<unknown>): Promise<{ code: string | undefined; appCode: string | null | undefined; message: string }> {
  const error = await promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCClientError)) throw error;
  const data = (error as TRPCClientError<never>).data as { code: string; appCode: string | null } | undefined;
  return { code: data?.code, appCode: data?.appCode, message: error.message };
}
