import { createClient } from "redis";
import type { RunLog } from "../runs/run-log.js";
import { redisTarget } from "./redis-target.js";
import { defaultUnansweredMs, probeIntervalMs } from "./redis-watchdog.js";

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
  /** What this connection is for, in logs ("commands", "stream reader", "subscriber"). */
  role: string;
  /** Names the connection in Redis (CLIENT LIST: `streamchat:<replicaId>:<role>`), so an operator tells whose it is. */
  replicaId?: string;
  log: RunLog;
  /** How long to wait for the first connection. Default 5000 ms. */
  connectTimeoutMs?: number;
  /**
   * The watchdog's deadline: a connection whose Redis leaves a PING (sent behind the commands already pending)
   * unanswered this long, or that cannot get ready again for this long, is broken off and reconnected, and its
   * pending commands fail as in an outage. Default 10 000 ms (defaultUnansweredMs; an API process: REDIS_UNANSWERED_MS,
   * the same for each of its connections); 0: no watchdog.
   */
  unansweredMs?: number;
  /** The longest a command of this connection waits for its answer by design (a blocking XREAD's BLOCK): added to the deadline. */
  blockingMs?: number;
}

/** The deadline of each watched connection, for closeRedis (a close waits for pending answers). */
const deadlines = new WeakMap<Redis, { deadlineMs: number; stop: () => void }>();

/**
 * One connection to Redis. Commands fail at once while it is down (no offline queue: a send must fail fast, not
 * wait for Redis to come back), and it reconnects by itself (backoff up to 1 s). Errors of an idle connection are
 * logged once per outage instead of crashing the process (node-redis emits them as 'error' events).
 *
 * A Redis that keeps the connection open but stops answering (a paused container, a partition without resets, a
 * fork stalling it) is no outage to TCP for minutes, and with no per-command timeout every command sent meanwhile
 * would wait that long, held in memory. The connection's watchdog (one timer, no timer per command) sees it and
 * breaks the connection off, so it is an outage like any other: pending commands fail, new ones fail fast until
 * Redis answers again.
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
  const unansweredMs = options.unansweredMs ?? defaultUnansweredMs;
  if (unansweredMs > 0) {
    const deadlineMs = unansweredMs + (options.blockingMs ?? 0);
    const stop = watch(client, deadlineMs, () => {
      if (!down) log.warn({ redis: redisTarget(url), role, deadlineMs }, "Redis stopped answering; reconnecting");
      down = true;
      // destroy() fails every pending command at once (node-redis rejects them), connect() starts over with the
      // reconnect strategy above: to the callers, the same as a connection lost.
      client.destroy();
      client.connect().catch(() => {
        // Closed again meanwhile (closeRedis, a reader's close): nothing to reconnect.
      });
    });
    deadlines.set(client, { deadlineMs, stop });
  }
  return client;
}

/**
 * Calls `silent` when the connection has left a PING unanswered for `deadlineMs` (it is sent behind whatever is
 * pending, so it is answered once everything before it is), or has not become ready again for `deadlineMs`. One
 * PING in flight at a time, from one interval timer; stops once the connection is closed.
 */
function watch(client: Redis, deadlineMs: number, silent: () => void): () => void {
  let probe: { sentAt: number } | undefined;
  let notReadySince: number | undefined;
  const tick = () => {
    if (!client.isOpen) {
      // Closed (destroyed by its user, or closing: closeRedis bounds that wait itself).
      clearInterval(timer);
      return;
    }
    const now = performance.now();
    if (!client.isReady) {
      // Reconnecting: a handshake can hang on a silent Redis as well as a command.
      probe = undefined;
      notReadySince ??= now;
      if (now - notReadySince >= deadlineMs) {
        notReadySince = now;
        silent();
      }
      return;
    }
    notReadySince = undefined;
    if (probe) {
      if (now - probe.sentAt >= deadlineMs) {
        probe = undefined;
        silent();
      }
      return;
    }
    const sent = { sentAt: now };
    probe = sent;
    const settled = () => {
      if (probe === sent) probe = undefined;
    };
    client.sendCommand(["PING"]).then(settled, settled);
  };
  const timer = setInterval(tick, probeIntervalMs(deadlineMs));
  timer.unref();
  return () => clearInterval(timer);
}

/** A connection's name in Redis (CLIENT SETNAME takes no spaces). */
export function connectionName(replicaId: string, role: string): string {
  return `streamchat:${replicaId}:${role}`.replace(/\s+/g, "-");
}

/**
 * Closes a connection: waits for its pending commands when it is up (for at most its watchdog's deadline: a Redis
 * that stopped answering would hold the close forever), else drops them. Never throws.
 */
export async function closeRedis(client: Redis): Promise<void> {
  const watched = deadlines.get(client);
  watched?.stop();
  if (!client.isOpen) return;
  if (!client.isReady) {
    client.destroy();
    return;
  }
  const closed = client.close().catch(() => client.destroy());
  if (!watched) return closed;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), watched.deadlineMs)));
  try {
    // destroy() fails what is still pending, and the close resolves with it.
    if ((await Promise.race([closed, late])) === "late") client.destroy();
    await closed;
  } finally {
    clearTimeout(timer);
  }
}
