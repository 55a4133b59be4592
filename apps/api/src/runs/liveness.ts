import { hostname } from "node:os";
import { randomBytes } from "node:crypto";

/**
 * Which API processes are alive, so that the runs of a dead one can be closed (recovery.ts) and no live one's.
 * Every process has a replica id, random per start, recorded as the owner of the runs it executes.
 *
 * Implementations: `localLiveness` (SQLite and memory: one process per store, so every other owner is a previous,
 * dead process; on a SQLite file `openSqliteLiveness` makes sure of it, sqlite-liveness.ts) and `openPostgresLiveness` (postgres-liveness.ts: a session advisory lock per process). A Redis
 * lease can take their place behind this interface.
 */
export interface ReplicaLiveness {
  readonly replicaId: string;
  /** How often to look for orphaned runs after start-up; null: only at start-up (nobody else can die meanwhile). */
  readonly sweepIntervalMs: number | null;
  /**
   * The owners among `owners` that are gone for good: their running runs are orphans. Never this replica. An owner
   * this implementation cannot judge now (the database is unreachable) is not reported.
   */
  deadOwners(owners: ReadonlySet<string | null>): Promise<Set<string | null>>;
  /**
   * Runs `work` unless another process (or another call here) is closing the same run right now; false then, and
   * `work` did not run. Two live processes sweeping the same orphan must not both close it.
   */
  exclusive(runId: string, work: () => Promise<void>): Promise<boolean>;
  /** Gives up this process's liveness (at shutdown, after its runs are closed). */
  close(): Promise<void>;
}

/** "host:pid:random": unique per start, and says in SQL (runs.owner) which process ran a run. */
export function newReplicaId(): string {
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, "_").slice(0, 64) || "host";
  return `${host}:${process.pid}:${randomBytes(4).toString("hex")}`;
}

/** Runs `work` unless a call for the same key is still running (in this process). */
export class LocalExclusion {
  private readonly busy = new Set<string>();

  async run(key: string, work: () => Promise<void>): Promise<boolean> {
    if (this.busy.has(key)) return false;
    this.busy.add(key);
    try {
      await work();
      return true;
    } finally {
      this.busy.delete(key);
    }
  }
}

/**
 * One process per store (SQLite: one process per file; memory): every owner but this process is a previous process,
 * which is gone. Recovery runs once, at start-up.
 */
export function localLiveness(replicaId: string = newReplicaId()): ReplicaLiveness {
  const exclusion = new LocalExclusion();
  return {
    replicaId,
    sweepIntervalMs: null,
    async deadOwners(owners) {
      return new Set([...owners].filter((owner) => owner !== replicaId));
    },
    exclusive: (runId, work) => exclusion.run(runId, work),
    async close() {},
  };
}
