import { afterAll, describe, expect, it } from "vitest";
import { startPrivateCluster, type PrivateCluster } from "@streamchat/store/test-support";
import { postgresDataAt, type TestData } from "../test-support/backend.js";
import { clusterSkipReason, testRedisUrl as redisUrl } from "../test-support/cluster-mode.js";
import { eventually, makeClient, tokenText } from "../test-support/harness.js";
import { eventsPath, rawSubscribe, type ChildApi } from "../test-support/reliability.js";
import { replicaBed, trpcFailure as failure } from "../test-support/replica-bed.js";

/**
 * Cluster mode (REDIS_URL + DATABASE_URL) with PostgreSQL killed (immediate shutdown, as in a crash) and restarted
 * under an answer that runs on replica A and is streamed from replica B. A restart drops every session, so every
 * replica loses its liveness lock at the same moment: for a while each one sees the other without its lock. Neither
 * may take the other for dead (and close its runs as interrupted) as long as it takes its own lock back in time.
 *
 * A private PostgreSQL cluster (a child process of the test), since the shared one serves every other test file; the
 * shared throwaway Redis. Postgres project only.
 */

const skipReason = clusterSkipReason("cluster-database-restart");

const alice = "alice-token-12345";
const bob = "bob-token-12345";

const bed = replicaBed({
  GENERATE_TITLES: "0",
  // One event per model chunk: the test compares ids.
  COALESCE_TOKENS: "0",
  REDIS_URL: redisUrl ?? "",
  AUTH_TOKENS: `alice:${alice},bob:${bob}`,
});
let cluster: PrivateCluster | undefined;
afterAll(async () => {
  await cluster?.destroy();
}, 60_000);

async function healthz(url: string): Promise<number> {
  return (await fetch(`${url}/healthz`)).status;
}

const asAlice = { headers: { authorization: `Bearer ${alice}` } };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function outage(a: ChildApi, b: ChildApi): Promise<void> {
  await cluster!.kill();
  await eventually(async () => (await healthz(a.url)) === 503 && (await healthz(b.url)) === 503, "both replicas to report the store down", 30_000);
}

async function recovery(a: ChildApi, b: ChildApi): Promise<void> {
  await cluster!.start();
  await eventually(async () => (await healthz(a.url)) === 200 && (await healthz(b.url)) === 200, "both replicas to report the store up", 60_000);
  await eventually(
    () => a.output().includes("liveness lock taken again") && b.output().includes("liveness lock taken again"),
    "both replicas to take their liveness locks again",
    30_000,
  );
}

/**
 * The subscription ended with the run's own done (`reason`, no error), each id once and in order, with `text`; and what
 * was streamed is what is stored, once.
 */
async function expectStreamedOnceAndStored(sub: ReturnType<typeof rawSubscribe>, data: TestData, runId: string, text: string, reason: string) {
  expect(await sub.ended).toBe("return");
  expect(tokenText(sub.received)).toBe(text);
  expect(sub.received.at(-1)?.event).toMatchObject({ type: "done", reason });
  expect(sub.received.filter((r) => r.event.type === "error")).toEqual([]);
  const ids = sub.received.map((r) => Number(r.id));
  expect(ids).toEqual(ids.map((_, i) => i + 1));
  const store = await data.openStore();
  try {
    await eventually(async () => (await store.getRun(runId))?.status === "done", "the run to be stored as done", 30_000);
    expect(await store.getRun(runId)).toMatchObject({ status: "done", reason });
    expect((await store.readEvents(runId)).map(({ seq, event }) => ({ id: String(seq), event }))).toEqual(sub.received);
  } finally {
    await store.close();
  }
}

function expectNoReplicaTakenForDead(...replicas: ChildApi[]): void {
  for (const replica of replicas) expect(replica.output()).not.toContain("closed runs of a process that is gone");
}

/** Two replicas on the private cluster (started once) and an answer the test controls, started on A. */
async function answerOnA(name: string) {
  cluster ??= await startPrivateCluster();
  const data = postgresDataAt(cluster.url, bed.dir);
  const [a, b] = await Promise.all([bed.replica(data), bed.replica(data)]);
  const tag = `[cluster-pg-${name}:${process.pid}]`;
  const control = bed.sim.control({ lastUserIncludes: tag });
  const { runId, conversationId } = await makeClient(a.url, alice).chat.send.mutate({ message: `${tag} go` });
  return { a, b, data, tag, control, runId, conversationId };
}

describe.skipIf(skipReason)("PostgreSQL restarted under two replicas", () => {
  it(
    "an answer on A streamed on B goes on through the restart: each event once and in order on B, stored once, no replica taken for dead",
    { timeout: 180_000 },
    async () => {
      const { a, b, data, tag, control, runId, conversationId } = await answerOnA("restart");
      await control.connected;
      await control.push({ content: "before " });
      const sub = rawSubscribe(b.url, eventsPath(runId), asAlice);
      await eventually(() => tokenText(sub.received) === "before ", "the first token on B", 30_000);

      await outage(a, b);
      // The live stream is Redis's: B keeps receiving while the database is away.
      await control.push({ content: "during " });
      await eventually(() => tokenText(sub.received) === "before during ", "a token during the outage on B", 30_000);
      // Longer than an owner may be seen without its lock (2.5 s) before its runs count as orphans.
      await sleep(4000);

      await recovery(a, b);
      // Sweeps after the restart (one a second) have had the time to judge A, wrongly, if they were going to.
      await sleep(4000);
      await control.push({ content: "after" });
      await control.push({ done: true });

      await expectStreamedOnceAndStored(sub, data, runId, "before during after", "stop");
      const conversation = await makeClient(b.url, alice).conversations.get.query({ conversationId });
      expect(conversation.messages.map((m) => [m.role, m.content])).toEqual([
        ["user", `${tag} go`],
        ["assistant", "before during after"],
      ]);
      expect(conversation.activeRunId).toBeNull();
      expectNoReplicaTakenForDead(a, b);
      for (const replica of [a, b]) expect(replica.output()).not.toContain("run closed with an internal error");
    },
  );

  it(
    "Stop pressed on B while PostgreSQL restarts reaches A (the run's live stream says whose it is); the end waits for the database and is stored once, B gets it without an error",
    { timeout: 180_000 },
    async () => {
      const { a, b, data, tag, control, runId, conversationId } = await answerOnA("stop");
      const onB = makeClient(b.url, alice);
      const request = await control.connected;
      await control.push({ content: "partial" });
      const sub = rawSubscribe(b.url, eventsPath(runId), asAlice);
      await eventually(() => tokenText(sub.received) === "partial", "the token on B", 30_000);

      await outage(a, b);
      // Another user's Stop on B is refused as for an unknown run (the run's live stream says whose it is).
      expect(await failure(makeClient(b.url, bob).chat.cancel.mutate({ runId }))).toMatchObject({ code: "NOT_FOUND" });
      // The tab's Stop, served by B: the run's live stream says whose run it is and that A executes it, so the cancel
      // reaches A without the database, and the model request stops at once.
      expect(await onB.chat.cancel.mutate({ runId })).toEqual({ cancelled: true });
      await request.finished;
      // The end is not sent before it is stored (the store retries for a minute): nothing yet on B.
      await sleep(1000);
      expect(sub.received.filter((r) => r.event.type === "done")).toEqual([]);

      await recovery(a, b);
      await expectStreamedOnceAndStored(sub, data, runId, "partial", "cancelled");
      // Free on both replicas: the next question starts from B and streams from A.
      expect((await onB.conversations.get.query({ conversationId })).activeRunId).toBeNull();
      const again = bed.sim.control({ lastUserIncludes: `${tag} again` });
      const next = await onB.chat.send.mutate({ conversationId, message: `${tag} again` });
      await again.connected;
      await again.push({ content: "fine" });
      await again.push({ done: true });
      const followed = rawSubscribe(a.url, eventsPath(next.runId), asAlice);
      expect(await followed.ended).toBe("return");
      expect(tokenText(followed.received)).toBe("fine");
      expectNoReplicaTakenForDead(a, b);
    },
  );
});
