import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTcpRelay, type TcpRelay } from "@streamchat/core/test-support";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import type { ChatStore } from "@streamchat/store";
import { closeRedis, openRedis, type Redis } from "../cluster/redis-connection.js";
import { controlChannel } from "../cluster/redis-keys.js";
import { openRedisRunStreams } from "../cluster/redis-streams.js";
import { ReplicaRedis } from "../cluster/replica-redis.js";
import { openTestStore, testBackend } from "../test-support/backend.js";
import { clusterSkipReason, testRedisUrl } from "../test-support/cluster-mode.js";
import { eventually } from "../test-support/harness.js";
import { testRunManager } from "../test-support/run-manager.js";
import type { RunManager } from "./run-manager.js";
import { openPostgresLiveness } from "./postgres-liveness.js";
import { silentLog } from "./run-log.js";
import { within } from "../test-support/within.js";

// chat.cancel on PostgreSQL for a run whose owner is alive (it holds its liveness lock and keeps executing the run)
// while no control message reaches it: in cluster mode (PostgreSQL + Redis) its control channel cut off or Redis out of
// the canceller's reach, and without Redis always. Nothing can stop the run from here, so the answer is
// `{ cancelled: false, reason: "unreachable" }`; the cancel must not hold the user's Stop for its whole wait for the liveness to judge the owner
// gone (cancel-unowned.ts, `judgeWithinMs`, 8 s by default), which here is set to a minute: the answer has to come
// well before a third of it, i.e. from what the cancel sees of the run, not from the wait running out.

const skip = clusterSkipReason("cancel-unreachable-owner");
const onPostgres = testBackend === "postgres";

/** The cancel's wait for a verdict on the owner (`unownedCancelWaitMs`): far longer than the answer may take. */
const verdictWaitMs = 60_000;

let sim: Simulator;
let probe: Redis | undefined;
const cleanup: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 1 });
  if (!skip && testRedisUrl) probe = await openRedis({ url: testRedisUrl, role: "test", log: silentLog });
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});
afterAll(async () => {
  if (probe) await closeRedis(probe);
  await sim?.close();
});

/**
 * One replica as an API process has it on PostgreSQL: its liveness lock and, in cluster mode, its Redis connections
 * (commands and stream reader on `urls.redis`, its control subscriber on `urls.control`: a relay the test can cut).
 */
async function replica(store: ChatStore, url: string, urls: { redis: string; control: string } | null, unownedCancelWaitMs?: number) {
  const replicaId = `r-${randomUUID()}`;
  const liveness = await openPostgresLiveness({ url, replicaId, log: silentLog });
  cleanup.push(() => liveness.close());
  const redis = urls && (await ReplicaRedis.open({ url: urls.redis, replicaId, log: silentLog }));
  const factory = urls && redis && (await openRedisRunStreams({ url: urls.control, replicaId, log: silentLog, redis })).factory;
  const runs = testRunManager(store, sim, {
    log: silentLog,
    liveness,
    ...(factory ? { streams: factory } : {}),
    ...(unownedCancelWaitMs === undefined ? {} : { unownedCancelWaitMs }),
  });
  cleanup.push(() => runs.shutdown(0));
  return { replicaId, runs };
}

async function subscribers(replicaId: string): Promise<number> {
  const reply = (await probe!.sendCommand(["PUBSUB", "NUMSUB", controlChannel(replicaId)])) as unknown[];
  return Number(reply[1]);
}

/** A run the owner executes, streaming a token every 50 ms for as long as the test lasts. */
async function streamingRun(owner: RunManager): Promise<string> {
  const tag = `[unreachable:${randomUUID()}]`;
  const control = sim.control({ lastUserIncludes: tag });
  const { runId } = await owner.start({ userId: "u", message: `${tag} go` });
  await control.connected;
  let streaming = true;
  const pushing = (async () => {
    for (let i = 0; streaming; i++) {
      await control.push({ content: `${i} ` }).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  cleanup.push(async () => {
    streaming = false;
    await pushing;
  });
  return runId;
}

async function postgresStore() {
  const store = await openTestStore();
  cleanup.push(() => store.close());
  return { store, url: store.data.url! };
}

describe.skipIf(skip)("chat.cancel of a run whose owner is alive where no control message reaches it (cluster mode)", () => {
  async function setUp(cut: "owner's control channel" | "canceller's Redis") {
    const { store, url } = await postgresStore();
    const redisUrl = testRedisUrl!;
    const relay: TcpRelay = await startTcpRelay(redisUrl);
    cleanup.push(() => relay.close());
    const owner = await replica(store, url, {
      redis: redisUrl,
      control: cut === "owner's control channel" ? relay.url : redisUrl,
    });
    const through = cut === "canceller's Redis" ? relay.url : redisUrl;
    const canceller = await replica(store, url, { redis: through, control: through }, verdictWaitMs);
    return { store, relay, owner, canceller, runId: await streamingRun(owner.runs) };
  }

  it(
    "the owner's control subscriber is cut off: the answer is unreachable, long before the wait for a verdict could run out",
    async () => {
      const { store, relay, owner, canceller, runId } = await setUp("owner's control channel");
      relay.cut();
      await eventually(async () => (await subscribers(owner.replicaId)) === 0, "the owner's control subscriber gone from Redis");

      // Before: no verdict ever comes on a live owner, so the cancel answered only when its wait ran out (here 60 s).
      expect(await within(canceller.runs.cancel("u", runId), verdictWaitMs / 3)).toEqual({ cancelled: false, reason: "unreachable" });
      // Nothing was done to the run: it still executes on its owner.
      expect(await store.getRun(runId)).toMatchObject({ status: "running", owner: owner.replicaId });
      expect(owner.runs.stats().activeRuns).toBe(1);

      // Reachable again: the same cancel stops it.
      relay.restore();
      await eventually(async () => (await subscribers(owner.replicaId)) === 1, "the owner's control subscriber back");
      expect(await within(canceller.runs.cancel("u", runId), verdictWaitMs / 3)).toEqual({ cancelled: true });
      await owner.runs.whenEnded(runId);
      expect(await store.getRun(runId)).toMatchObject({ status: "done", reason: "cancelled" });
    },
    60_000,
  );

  it(
    "Redis is out of the canceller's reach: the answer is unreachable, long before the wait for a verdict could run out",
    async () => {
      const { store, relay, owner, canceller, runId } = await setUp("canceller's Redis");
      relay.cut();

      expect(await within(canceller.runs.cancel("u", runId), verdictWaitMs / 3)).toEqual({ cancelled: false, reason: "unreachable" });
      expect(await store.getRun(runId)).toMatchObject({ status: "running", owner: owner.replicaId });
      expect(owner.runs.stats().activeRuns).toBe(1);
    },
    60_000,
  );
});

describe.runIf(onPostgres)("chat.cancel of a run executing on another live process, without Redis", () => {
  it("answers unreachable (no channel reaches it), long before the wait for a verdict could run out; the owner's cancel stops it", async () => {
    const { store, url } = await postgresStore();
    const owner = await replica(store, url, null);
    const other = await replica(store, url, null, verdictWaitMs);
    const runId = await streamingRun(owner.runs);

    expect(await within(other.runs.cancel("u", runId), verdictWaitMs / 3)).toEqual({ cancelled: false, reason: "unreachable" });
    expect(await store.getRun(runId)).toMatchObject({ status: "running", owner: owner.replicaId });
    expect(await owner.runs.cancel("u", runId)).toEqual({ cancelled: true });
    await owner.runs.whenEnded(runId);
    expect(await store.getRun(runId)).toMatchObject({ status: "done", reason: "cancelled" });
  }, 60_000);
});
