import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { TRPCClientError } from "@trpc/client";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { freshTestData, type TestData } from "./backend.js";
import { startRedisServer, stopRedisServer } from "./redis-server.js";
import { spawnApi, tempDir, type ChildApi } from "./reliability.js";

/**
 * What the suites that run the API as child processes (the replica and cluster tests) share: one simulator and one
 * temp directory per file, replicas SIGKILLed after each test, and whatever else a test started (relays, a
 * redis-server of its own) closed after it.
 */
export interface ReplicaBed {
  /** The simulator every replica answers from (started before the file's tests). */
  readonly sim: Simulator;
  /** The file's temp directory (removed after its tests). */
  readonly dir: string;
  /**
   * An API child process on `data`'s database: the bed's environment, then `env`. Killed after the test, or after
   * the file's tests with `forFile` (a replica several tests share).
   */
  replica(data: TestData, env?: Record<string, string>, opts?: { forFile?: boolean }): Promise<ChildApi>;
  /** A database of its own for a test (SQLite file in the bed's directory, or a fresh PostgreSQL schema). */
  freshData(): Promise<TestData>;
  /** A redis-server of the test's own on `port` (data in the bed's directory), stopped after the test. */
  redisServer(port: number): Promise<ChildProcess>;
  /** Called after the test, in the order given (after its replicas were killed). */
  afterTest(close: () => Promise<void>): void;
}

/**
 * Registers the bed's hooks in the calling test file (call it at the file's top level) and returns it. `env` is
 * what every replica of the file runs with on top of the simulator's model settings (CHAT_PROVIDER, OLLAMA_HOST,
 * CHAT_MODEL=demo, LOG_LEVEL=info).
 */
export function replicaBed(env: Record<string, string> = {}): ReplicaBed {
  let sim: Simulator | undefined;
  let dir: string | undefined;
  const children: ChildApi[] = [];
  const fileChildren: ChildApi[] = [];
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    sim = await startSimulator({ tokenDelayMs: 1 });
    dir = tempDir();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) await child.kill("SIGKILL");
    for (const close of closers.splice(0)) await close();
  });
  afterAll(async () => {
    for (const child of fileChildren.splice(0)) await child.kill("SIGKILL");
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the replica bed's ${what} is used before its beforeAll ran`);
    return value;
  };

  const bed: ReplicaBed = {
    get sim() {
      return started(sim, "simulator");
    },
    get dir() {
      return started(dir, "directory");
    },
    async replica(data, extra = {}, opts = {}) {
      const child = await spawnApi({
        CHAT_PROVIDER: "ollama",
        OLLAMA_HOST: bed.sim.url,
        CHAT_MODEL: "demo",
        LOG_LEVEL: "info",
        ...env,
        ...data.env,
        ...extra,
      });
      (opts.forFile ? fileChildren : children).push(child);
      return child;
    },
    freshData: () => freshTestData(bed.dir),
    async redisServer(port) {
      const server = await startRedisServer(bed.dir, port);
      closers.push(() => stopRedisServer(server));
      return server;
    },
    afterTest(close) {
      closers.push(close);
    },
  };
  return bed;
}

/** The tRPC error data a call failed with (it must fail with a TRPCClientError). */
export async function trpcFailure(promise: Promise<unknown>): Promise<{ code: string; appCode: string | null; httpStatus: number }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  return (error as TRPCClientError<never>).data as unknown as { code: string; appCode: string | null; httpStatus: number };
}
