import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { freshSchemaUrl, testBackend } from "../test-support/backend.js";
import { eventually } from "../test-support/harness.js";
import { localLiveness } from "./liveness.js";
import { openPostgresLiveness, type PostgresLiveness, type PostgresLivenessOptions } from "./postgres-liveness.js";
import { silentLog } from "./run-log.js";

/**
 * Which processes are alive, on PostgreSQL: a session advisory lock per process. Several "processes" here are
 * several livenesses in one test process, each with its own connection: exactly what PostgreSQL sees of processes.
 */

const opened: PostgresLiveness[] = [];
afterEach(async () => {
  for (const liveness of opened.splice(0)) await liveness.close();
});

async function open(url: string, replicaId: string, options: Partial<PostgresLivenessOptions> = {}): Promise<PostgresLiveness> {
  const liveness = await openPostgresLiveness({ url, replicaId, log: silentLog, ...options });
  opened.push(liveness);
  return liveness;
}

async function sql(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** The session holding a replica's liveness lock, if any (an advisory lock on a bigint key: classid, objid). */
async function lockPid(url: string, replicaId: string): Promise<number | undefined> {
  const rows = await sql(
    url,
    `WITH key AS (SELECT hashtextextended('streamchat:replica:' || $1::text, 0) AS k)
     SELECT l.pid FROM pg_locks l, key WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
       AND l.classid::text::bigint = (k >> 32) & 4294967295 AND l.objid::text::bigint = k & 4294967295`,
    [replicaId],
  );
  return rows[0]?.["pid"] as number | undefined;
}

/** A process's liveness lock as PostgreSQL sees it, on a session the test controls (ending it is losing the lock). */
async function takeLiveLock(url: string, replicaId: string): Promise<pg.Client> {
  const session = new pg.Client({ connectionString: url });
  await session.connect();
  await session.query("SELECT pg_advisory_lock(hashtextextended('streamchat:replica:' || $1::text, 0))", [replicaId]);
  return session;
}

describe.runIf(testBackend === "postgres")("PostgreSQL liveness", () => {
  it("a live process is never dead; a closed one is, once seen without its lock for confirmMs", async () => {
    const url = await freshSchemaUrl();
    const a = await open(url, "proc-a");
    const b = await open(url, "proc-b", { confirmMs: 300 });
    const owners = new Set(["proc-a", "proc-b"]);
    expect(await b.deadOwners(owners)).toEqual(new Set());
    expect(await a.deadOwners(owners)).toEqual(new Set());

    await a.close();
    // The first sighting only makes it a suspect: a restart of the database drops every lock at once.
    expect(await b.deadOwners(owners)).toEqual(new Set());
    await eventually(async () => (await b.deadOwners(owners)).has("proc-a"), "proc-a to be confirmed dead", 5000);
    // Never itself.
    expect((await b.deadOwners(owners)).has("proc-b")).toBe(false);
  });

  it("runs of no recorded owner and of owners no process ever had are orphans; the checks take no lock for good", async () => {
    const url = await freshSchemaUrl();
    const b = await open(url, "proc-b", { confirmMs: 0 });
    expect(await b.deadOwners(new Set([null]))).toEqual(new Set([null]));
    await b.deadOwners(new Set(["never-existed"])); // suspect
    expect(await b.deadOwners(new Set(["never-existed"]))).toEqual(new Set(["never-existed"]));
    // The check's try-lock was given back: that process could start now and take its lock.
    const late = await open(url, "never-existed");
    expect(late.holdsLock()).toBe(true);
    expect(await b.deadOwners(new Set(["never-existed"]))).toEqual(new Set());
  });

  it("a process whose lock connection is cut takes its lock again, and is not taken for dead meanwhile", async () => {
    const url = await freshSchemaUrl();
    const a = await open(url, "proc-a", { maxReconnectDelayMs: 200 });
    const b = await open(url, "proc-b");
    const owners = new Set(["proc-a"]);
    const [{ terminated }] = (await sql(
      url,
      "SELECT count(pg_terminate_backend(pid))::integer AS terminated FROM pg_stat_activity WHERE application_name = 'streamchat-liveness' AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted) AND pid <> pg_backend_pid()",
    )) as [{ terminated: number }];
    expect(terminated).toBeGreaterThanOrEqual(1); // a's (and maybe b's) session
    await b.deadOwners(owners); // may see proc-a without its lock: a suspect, not dead
    await eventually(() => a.holdsLock(), "proc-a to take its lock again", 10_000);
    await eventually(() => b.holdsLock(), "proc-b to take its lock again", 10_000);
    expect(await b.deadOwners(owners)).toEqual(new Set());
  });

  it("after its own session was lost (a database restart), a process forgets whom it suspected: the others get confirmMs to take their locks back", async () => {
    const url = await freshSchemaUrl();
    // Advisory locks are database-wide: ids of this test only (the other test files share the database).
    const tag = randomBytes(3).toString("hex");
    const [idB, idX] = [`proc-b-${tag}`, `proc-x-${tag}`];
    const confirmMs = 500;
    const b = await open(url, idB, { confirmMs, maxReconnectDelayMs: 50 });
    // proc-x: a live process's lock, as PostgreSQL sees it, on a session this test controls.
    let x = await takeLiveLock(url, idX);
    const owners = new Set([idX]);
    try {
      expect(await b.deadOwners(owners)).toEqual(new Set());

      // The database restarts: x's session ends a moment before b's, and b's check in between sees x without its lock.
      await x.end();
      expect(await b.deadOwners(owners)).toEqual(new Set()); // a suspect
      const before = await lockPid(url, idB);
      await sql(url, "SELECT pg_terminate_backend($1)", [before]);
      await eventually(async () => b.holdsLock() && (await lockPid(url, idB)) !== before, "b to take its lock again", 10_000);
      // Longer than confirmMs since that sighting; x reconnects more slowly than b (it would take its lock back now).
      await new Promise((resolve) => setTimeout(resolve, confirmMs + 200));
      expect(await b.deadOwners(owners)).toEqual(new Set());
      x = await takeLiveLock(url, idX);
      expect(await b.deadOwners(owners)).toEqual(new Set());

      // A process that never comes back is still found dead, confirmMs after b first sees it so on its new session.
      await x.end();
      expect(await b.deadOwners(owners)).toEqual(new Set());
      await eventually(async () => (await b.deadOwners(owners)).has(idX), "proc-x to be confirmed dead", 5000);
    } finally {
      await x.end().catch(() => {});
    }
  });

  it("a sighting followed by a while without checks (the owner had no running run) is forgotten: two blips apart are not a death", async () => {
    const url = await freshSchemaUrl();
    const tag = randomBytes(3).toString("hex");
    const [idB, idX] = [`proc-b-${tag}`, `proc-x-${tag}`];
    // Checks 500 ms apart at most count as consecutive (5 sweep intervals; twice confirmMs is less).
    const b = await open(url, idB, { confirmMs: 150, sweepIntervalMs: 100 });
    const owners = new Set([idX]);
    let x = await takeLiveLock(url, idX);
    try {
      // x's lock connection blips (an idle connection cut by a proxy): b's check falls into it.
      await x.end();
      expect(await b.deadOwners(owners)).toEqual(new Set()); // a suspect
      x = await takeLiveLock(url, idX);
      // x's answer ends: no running run of x, so the sweep asks nothing about it for a while.
      await new Promise((resolve) => setTimeout(resolve, 800));
      // x answers again, and its connection blips again just as b looks: one sighting, not a death.
      await x.end();
      expect(await b.deadOwners(owners)).toEqual(new Set());
      x = await takeLiveLock(url, idX);
      expect(await b.deadOwners(owners)).toEqual(new Set());
    } finally {
      await x.end().catch(() => {});
    }
  });

  it("a check whose own session is cut under it judges nobody, and does not fail", async () => {
    const url = await freshSchemaUrl();
    const livenessPids = async () =>
      (await sql(url, "SELECT pid FROM pg_stat_activity WHERE application_name = 'streamchat-liveness'")).map((row) => row["pid"] as number);
    await open(url, "proc-a");
    const others = new Set(await livenessPids()); // proc-a's session and those of earlier tests' schemas
    const b = await open(url, "proc-b", { maxReconnectDelayMs: 50, confirmMs: 0 });
    const owners = new Set(["proc-a"]);
    const killer = new pg.Client({ connectionString: url });
    await killer.connect();
    try {
      // The session's end reaches b on its own socket, in a race with the next check: repeated, the check meets it
      // both before and after b has noticed.
      const killed = new Set<number>();
      for (let round = 0; round < 20; round++) {
        let pid: number | undefined;
        await eventually(async () => {
          pid = (await livenessPids()).find((candidate) => !others.has(candidate) && !killed.has(candidate));
          return pid !== undefined && b.holdsLock();
        }, "proc-b to hold its lock on a new session", 10_000);
        killed.add(pid!);
        await Promise.all([killer.query("SELECT pg_terminate_backend($1)", [pid]), b.deadOwners(owners).then((dead) => expect(dead).toEqual(new Set()))]);
      }
    } finally {
      await killer.end();
    }
  });

  it("closing a run is exclusive across processes", async () => {
    const url = await freshSchemaUrl();
    const a = await open(url, "proc-a");
    const b = await open(url, "proc-b");
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const first = a.exclusive("run-1", async () => {
      entered();
      await held;
    });
    await inside;
    expect(await b.exclusive("run-1", async () => {})).toBe(false);
    expect(await a.exclusive("run-1", async () => {})).toBe(false); // the same process too
    expect(await b.exclusive("run-2", async () => {})).toBe(true); // another run is free
    release();
    expect(await first).toBe(true);
    let ran = false;
    expect(
      await b.exclusive("run-1", async () => {
        ran = true;
      }),
    ).toBe(true);
    expect(ran).toBe(true);
  });
});

describe("local liveness (SQLite, memory: one process per store)", () => {
  it("every other owner is a previous process, gone; this one is alive; recovery runs once", async () => {
    const liveness = localLiveness("me");
    expect(liveness.sweepIntervalMs).toBeNull();
    expect(await liveness.deadOwners(new Set(["me", "before", null]))).toEqual(new Set(["before", null]));
  });
});
