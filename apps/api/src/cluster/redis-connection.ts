import { createClient } from "redis";
import type { RunLog } from "../runs/run-log.js";
import { redisTarget } from "./redis-target.js";

export { redisTarget } from "./redis-target.js";

/** The client as created here (RESP3, node-redis 6's default). */
export type Redis = ReturnType<typeof newClient>;

function newClient(url: string, name: string | undefined, connectTimeoutMs: number, reconnectDelay: (retries: number, cause: Error) => number | Error) {
  return createClient({
    url,
    ...(name === undefined ? {} : { name }),
    disableOfflineQueue: true,
    // No per-command timeout (node-redis 6 gives each command 5 s by default): it covers only a command's wait to be
    // written, not its answer, and its AbortSignal.timeout fires 5 s later whatever happened, building a DOMException
    // per command (~2 % of a replica's CPU). A Redis that stops answering is seen by health()'s own deadline.
    commandOptions: { timeout: 0 },
    socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: reconnectDelay },
  });
}

export interface RedisConnectionOptions {
  url: string;
  /** What this connection is for, in logs ("commands", "reader", "control"). */
  role: string;
  /** Names the connection in Redis (CLIENT LIST: `streamchat:<replicaId>:<role>`), so an operator tells whose it is. */
  replicaId?: string;
  log: RunLog;
  /** How long to wait for the first connection. Default 5000 ms. */
  connectTimeoutMs?: number;
}

/**
 * One connection to Redis. Commands fail at once while it is down (no offline queue: a send must fail fast, not
 * wait for Redis to come back), and it reconnects by itself (backoff up to 1 s). Errors of an idle connection are
 * logged once per outage instead of crashing the process (node-redis emits them as 'error' events).
 */
export async function openRedis(options: RedisConnectionOptions): Promise<Redis> {
  const { url, role, log } = options;
  let connected = false;
  let down = false;
  // Before the first connection: give up soon (start-up reports it); afterwards: retry for as long as it takes.
  const name = options.replicaId === undefined ? undefined : connectionName(options.replicaId, role);
  const client = newClient(url, name, options.connectTimeoutMs ?? 5000, (retries, cause) =>
    connected ? Math.min(50 * 2 ** Math.min(retries, 5), 1000) : retries >= 2 ? cause : 200,
  );
  client.on("error", (error: unknown) => {
    if (!connected || down) return;
    down = true;
    log.warn({ err: error, redis: redisTarget(url), role }, "lost the connection to Redis; reconnecting");
  });
  client.on("ready", () => {
    if (down) log.info({ redis: redisTarget(url), role }, "connected to Redis again");
    down = false;
  });
  await client.connect();
  connected = true;
  return client;
}

/** A connection's name in Redis (CLIENT SETNAME takes no spaces). */
export function connectionName(replicaId: string, role: string): string {
  return `streamchat:${replicaId}:${role}`.replace(/\s+/g, "-");
}

/** Closes a connection: waits for its pending commands when it is up, else drops them. Never throws. */
export async function closeRedis(client: Redis): Promise<void> {
  if (!client.isOpen) return;
  if (client.isReady) {
    await client.close().catch(() => client.destroy());
  } else {
    client.destroy();
  }
}
