import pg from "pg";
import { LocalExclusion, type ReplicaLiveness } from "./liveness.js";
import type { RunLog } from "./run-log.js";

export interface PostgresLivenessOptions {
  /** The store's DATABASE_URL. */
  url: string;
  replicaId: string;
  log: RunLog;
  /** How often the orphan sweep runs. Default 1000 ms. */
  sweepIntervalMs?: number;
  /**
   * How long an owner must be seen without its lock (on every check meanwhile) before its runs count as orphans.
   * Default 2500 ms: longer than a live process needs to take its lock again after the database restarted
   * (reconnects are at most `maxReconnectDelayMs` apart), so a restart of PostgreSQL does not look like dead processes.
   */
  confirmMs?: number;
  /** Longest wait between two reconnect attempts of the lock connection. Default 1000 ms. */
  maxReconnectDelayMs?: number;
  /** How long to wait for the connection. Default 5000 ms. */
  connectTimeoutMs?: number;
  now?: () => number;
}

export interface PostgresLiveness extends ReplicaLiveness {
  /** Whether this process holds its lock right now (false while its connection is being re-established). */
  holdsLock(): boolean;
}

/** Advisory-lock keys: 64-bit hashes of names, in a namespace of their own (the store uses streamchat:migrations …). */
const replicaKey = "hashtextextended('streamchat:replica:' || o, 0)";
const closeRunKey = "hashtextextended('streamchat:close-run:' || $1, 0)";

/**
 * Liveness on PostgreSQL: each process holds a session-level advisory lock keyed by its replica id on a dedicated
 * connection for as long as it lives. PostgreSQL releases the lock when that session ends: the process exited or was
 * killed (the kernel closes its socket), or its host vanished (TCP keepalives, set on the session, end it within
 * ~25 s). A process whose lock another one can take is dead, and its running runs are orphans.
 *
 * The lock connection reconnects by itself (the database restarted, the connection broke) and takes the lock again.
 * An owner is reported dead only after being seen without its lock for `confirmMs`, on every check meanwhile: a
 * restart of PostgreSQL drops every lock at once, and the live processes need a moment to take theirs back.
 *
 * The same connection serialises the closing of an orphan across processes (`exclusive`: a try-lock per run).
 */
export async function openPostgresLiveness(options: PostgresLivenessOptions): Promise<PostgresLiveness> {
  const { url, replicaId, log } = options;
  const now = options.now ?? Date.now;
  const confirmMs = options.confirmMs ?? 2500;
  const maxReconnectDelayMs = options.maxReconnectDelayMs ?? 1000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const sweepIntervalMs = options.sweepIntervalMs ?? 1000;
  /**
   * Checks further apart than this are not consecutive: what the earlier one saw is forgotten. Generous (a pass that
   * closes runs, or a slow database, spaces them out) so that a slow sweep still confirms deaths.
   */
  const maxCheckGapMs = Math.max(2 * confirmMs, 5 * sweepIntervalMs);
  const exclusion = new LocalExclusion();
  /** Owners seen without their lock, since when (cleared when one is seen with it). */
  const suspects = new Map<string, number>();
  /**
   * The session `suspects` were seen with, and when it last looked. A sighting counts towards a death only while checks
   * kept looking: once this process lost its own session (the database restarted, dropping every lock at once), the
   * others were reconnecting as it was; and an owner not looked at for a while (the sweep asks only about owners of
   * running runs) may have taken its lock back and lost it again since. Either way a sighting from before says nothing.
   */
  let judgedWith: pg.Client | undefined;
  let lastCheckAt = 0;
  let client: pg.Client | undefined;
  let closed = false;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let connecting: Promise<void> | undefined;
  let failures = 0;

  async function connect(): Promise<void> {
    const next = new pg.Client({
      connectionString: url,
      application_name: "streamchat-liveness",
      connectionTimeoutMillis: connectTimeoutMs,
      keepAlive: true,
    });
    // Errors of an idle connection arrive as events; without a listener they would crash the process.
    next.on("error", (error) => lost(next, error));
    next.on("end", () => lost(next));
    try {
      await next.connect();
      // The server ends this session (releasing the lock) within ~25 s of our host vanishing without a word.
      await next.query("SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3");
      await next.query(`SELECT pg_advisory_lock(${replicaKey}) FROM (SELECT $1::text AS o) AS owner`, [replicaId]);
    } catch (error) {
      next.removeAllListeners("end");
      await next.end().catch(() => {});
      throw error;
    }
    if (closed) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
  }

  function lost(which: pg.Client, error?: Error) {
    if (client !== which) return;
    client = undefined;
    which.end().catch(() => {});
    if (closed) return;
    log.warn({ err: error, replicaId }, "lost the liveness connection to PostgreSQL; reconnecting");
    reconnectLater();
  }

  function reconnectLater() {
    if (closed || reconnectTimer !== undefined || connecting) return;
    const delay = Math.min(maxReconnectDelayMs, 100 * 2 ** Math.min(failures, 10));
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      connecting = connect()
        .then(
          () => {
            if (client) log.info({ replicaId }, "liveness lock taken again");
            failures = 0;
          },
          () => {
            failures++;
          },
        )
        .finally(() => {
          connecting = undefined;
          if (!client) reconnectLater();
        });
    }, delay);
    reconnectTimer.unref();
  }

  await connect();

  return {
    replicaId,
    sweepIntervalMs,

    holdsLock: () => client !== undefined,

    async deadOwners(owners) {
      const dead = new Set<string | null>();
      const named: string[] = [];
      for (const owner of owners) {
        if (owner === null) dead.add(null); // no process can hold a lock for it
        else if (owner !== replicaId) named.push(owner);
      }
      for (const owner of suspects.keys()) if (!owners.has(owner)) suspects.delete(owner);
      const session = client;
      const checkAt = now();
      if (session !== judgedWith || checkAt - lastCheckAt > maxCheckGapMs) suspects.clear();
      judgedWith = session;
      lastCheckAt = checkAt;
      // Without our own lock we cannot tell a dead process from one that is reconnecting as we are.
      if (!session || named.length === 0) return session ? dead : new Set();
      let free: string[];
      try {
        const { rows } = await session.query<{ owner: string; free: boolean }>(
          `SELECT o AS owner, pg_try_advisory_lock(${replicaKey}) AS free FROM unnest($1::text[]) AS o`,
          [named],
        );
        free = rows.filter((row) => row.free).map((row) => row.owner);
        if (free.length > 0) await session.query(`SELECT pg_advisory_unlock(${replicaKey}) FROM unnest($1::text[]) AS o`, [free]);
      } catch (error) {
        // Our own session broke under the check (it is reconnecting; its 'error' may come after this rejection):
        // as without a session, nobody can be judged now. The next sweep asks again.
        log.warn({ err: error, replicaId }, "liveness check failed; no owner judged this sweep");
        suspects.clear();
        judgedWith = undefined;
        return new Set();
      }
      const at = now();
      for (const owner of named) {
        if (!free.includes(owner)) {
          suspects.delete(owner);
          continue;
        }
        const since = suspects.get(owner);
        if (since === undefined) suspects.set(owner, at);
        else if (at - since >= confirmMs) dead.add(owner);
      }
      return dead;
    },

    exclusive(runId, work) {
      return exclusion.run(runId, async () => {
        const session = client;
        if (!session) throw new Error("the liveness connection is down");
        const { rows } = await session.query<{ got: boolean }>(`SELECT pg_try_advisory_lock(${closeRunKey}) AS got`, [runId]);
        if (!rows[0]?.got) throw new NotTaken();
        try {
          await work();
        } finally {
          // A session that broke meanwhile released the lock with itself.
          await session.query(`SELECT pg_advisory_unlock(${closeRunKey})`, [runId]).catch(() => {});
        }
      }).catch((error: unknown) => {
        if (error instanceof NotTaken) return false;
        throw error;
      });
    },

    async close() {
      closed = true;
      if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      await connecting;
      const session = client;
      client = undefined;
      await session?.end().catch(() => {});
    },
  };
}

class NotTaken extends Error {}
