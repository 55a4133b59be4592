import type { Redis } from "../cluster/redis-connection.js";
import { testBackend } from "./backend.js";

/** The throwaway Redis of `scripts/test-services.sh run …`, if any. */
export const testRedisUrl = process.env["STREAMCHAT_TEST_REDIS_URL"];

/**
 * Why a cluster-mode test (REDIS_URL + DATABASE_URL) is skipped here, or undefined when it runs: it needs the
 * postgres project and a Redis. Under CI=true a missing Redis in the postgres project is an error, not a skip.
 */
export function clusterSkipReason(suite: string): string | undefined {
  const reason =
    testBackend !== "postgres"
      ? "cluster mode needs PostgreSQL (postgres project)"
      : testRedisUrl
        ? undefined
        : "STREAMCHAT_TEST_REDIS_URL is not set (run it under scripts/test-services.sh run …)";
  const inCi = process.env["CI"] === "true" || process.env["CI"] === "1";
  if (reason && testBackend === "postgres" && inCi) throw new Error(`under CI=true the ${suite} tests must run: ${reason}`);
  if (reason && testBackend === "postgres") console.warn(`[${suite}] SKIPPED: ${reason}`);
  return reason;
}

/**
 * Why a suite that needs a Redis only (connections of its own, no store) is skipped here, or undefined when it runs.
 * Under CI=true a missing Redis is an error, not a skip: CI never passes without these suites.
 */
export function redisSkipReason(suite: string): string | undefined {
  if (testRedisUrl) return undefined;
  const inCi = process.env["CI"] === "true" || process.env["CI"] === "1";
  if (inCi) throw new Error(`STREAMCHAT_TEST_REDIS_URL is not set: under CI=true the ${suite} suite must run.`);
  const reason = "STREAMCHAT_TEST_REDIS_URL is not set (run it under scripts/test-services.sh run …)";
  console.warn(`[${suite}] SKIPPED: ${reason}`);
  return reason;
}

/** CLIENT LIST as Redis answers it: one record of its fields (id, name, cmd, flags …) per connection. */
export async function clientList(probe: Redis): Promise<Array<Record<string, string>>> {
  const reply = String(await probe.sendCommand(["CLIENT", "LIST"]));
  return reply
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => Object.fromEntries(line.trim().split(" ").map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)])));
}

/** A connection waiting in a blocking XREAD. */
export const isBlockedRead = (client: Record<string, string> | undefined): boolean =>
  client?.["cmd"] === "xread" && (client["flags"] ?? "").includes("b");
