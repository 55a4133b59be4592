import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTcpRelay, type TcpRelay } from "@streamchat/core/test-support";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import type { ChatStore, StoredEvent } from "@streamchat/store";
import { openRedisRunStreams } from "../cluster/redis-streams.js";
import { ReplicaRedis } from "../cluster/replica-redis.js";
import { openTestStore } from "../test-support/backend.js";
import { clusterSkipReason, testRedisUrl } from "../test-support/cluster-mode.js";
import { eventually } from "../test-support/harness.js";
import { testRunManager } from "../test-support/run-manager.js";
import type { RunManager } from "../runs/run-manager.js";
import { openPostgresLiveness } from "../runs/postgres-liveness.js";
import { silentLog } from "../runs/run-log.js";
import { within } from "../test-support/within.js";

// Cluster mode with a Redis that keeps its connections open but stops answering (a paused container, a partition
// without resets, a Redis stalled by a fork): the replicas' Redis connections go through a relay whose freeze() holds
// every reply. node-redis has no per-command timeout here (redis-connection.ts), so without a watchdog of its own a
// command sent then waits for TCP to give up (minutes): a follower on another replica hung, the owner's commands piled
// up. With the connections' watchdog at 1 s, everything below must happen long before 20 s.

const skip = clusterSkipReason("cluster-frozen-redis");

/** The watchdog's deadline for these replicas: a connection silent this long is broken off and reconnected. */
const unansweredMs = 1000;
/** Far longer than the watchdog needs (about 1.5 × unansweredMs), far shorter than TCP's own give-up. */
const boundMs = 20_000;

let sim: Simulator;
const cleanup: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 1 });
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});
afterAll(async () => {
  await sim?.close();
});

/** One replica as an API process has it: its liveness lock, its Redis connections (all of them through `redisUrl`). */
async function replica(store: ChatStore, databaseUrl: string, redisUrl: string) {
  const replicaId = `r-${randomUUID()}`;
  const liveness = await openPostgresLiveness({ url: databaseUrl, replicaId, log: silentLog });
  cleanup.push(() => liveness.close());
  const redis = await ReplicaRedis.open({ url: redisUrl, replicaId, log: silentLog, blockMs: 1000, unansweredMs });
  const { factory } = await openRedisRunStreams({ url: redisUrl, replicaId, log: silentLog, redis, pollMs: 50, stallMs: 500 });
  const runs = testRunManager(store, sim, { log: silentLog, liveness, streams: factory });
  let shutDown: Promise<void> | undefined;
  const shutdown = () => (shutDown ??= runs.shutdown(0));
  cleanup.push(shutdown);
  return { replicaId, runs, redis, shutdown };
}

/** A follower's chat.events on a replica: every event it got, and how its follow ended. */
function follow(runs: RunManager, runId: string) {
  const received: StoredEvent[] = [];
  const ended = (async () => {
    for await (const stored of runs.subscribe(runId, 0)) received.push(stored);
  })();
  return { received, ended };
}

async function setUp() {
  const store = await openTestStore();
  cleanup.push(() => store.close());
  const relay: TcpRelay = await startTcpRelay(testRedisUrl!);
  cleanup.push(() => relay.close());
  // Thawed before anything closes (cleanup runs in reverse): the replicas' closing commands are answered.
  cleanup.push(async () => relay.thaw());
  const owner = await replica(store, store.data.url!, relay.url);
  const other = await replica(store, store.data.url!, relay.url);
  const third = await replica(store, store.data.url!, relay.url);
  return { store, relay, owner, other, third };
}

/** A run on `owner`; `push` sends it a token (or its end) from the simulated model. */
async function startRun(owner: RunManager) {
  const tag = `[frozen:${randomUUID()}]`;
  const control = sim.control({ lastUserIncludes: tag });
  const { runId } = await owner.start({ userId: "u", message: `${tag} go` });
  await control.connected;
  return { runId, control };
}

/** Each seq once, in order, from 1, ending with `done`. */
function expectWhole(events: readonly StoredEvent[]): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(events.at(-1)?.event.type).toBe("done");
}

describe.skipIf(skip)("a Redis that stops answering mid-run (cluster mode)", () => {
  it(
    "the run ends durably, a follower on another replica gets its end from the log, pending commands fail; after the thaw all is clean",
    async () => {
      const { store, relay, owner, other, third } = await setUp();
      const { runId, control } = await startRun(owner.runs);
      await control.push({ content: "before " });
      const follower = follow(other.runs, runId);
      await eventually(() => follower.received.some((e) => e.event.type === "token"), "the first token on the other replica", boundMs);

      relay.freeze();
      // The owner may stop the run meanwhile (its events could not reach Redis: an outage), ending the model's stream.
      // Spread over a few of the watchdog's deadlines: the run still streams when the watchdog breaks the connections.
      for (let i = 0; i < 20; i++) {
        await control.push({ content: `frozen${i} ` }).catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, unansweredMs / 5));
      }
      await control.push({ done: true }).catch(() => {});

      // The run ends in the database whatever Redis does.
      await eventually(async () => (await store.getRun(runId))?.status === "done", "the run done in the database", boundMs);
      // The follower is not left hanging: its end comes from the durable log.
      expect(await within(follower.ended.then(() => "ended"), boundMs)).toBe("ended");
      expectWhole(follower.received);
      expect(follower.received).toEqual(await store.readEvents(runId, 0, 10_000));
      // Its own end if it ended before the watchdog broke the owner's connection off; else the end of a run whose events
      // could not reach Redis, as in any outage (operations.md, Redis outages).
      expect(["stop", "error"]).toContain((follower.received.at(-1)?.event as { reason?: string }).reason);
      // What the owner sent Redis meanwhile is not kept waiting for a reply that never comes (memory): its command
      // connection's queue is flushed, and a command sent now is answered (or refused) long before TCP gives up.
      expect(await within(owner.redis.command.sendCommand(["PING"]).then(() => "answered", () => "refused"), boundMs)).not.toBe(
        "still waiting",
      );
      // Nor is the owner's shutdown held by it.
      expect(await within(owner.shutdown().then(() => "closed"), boundMs)).toBe("closed");

      relay.thaw();
      // After the thaw: the frozen run's history, read on a third replica (stream and log), once each and whole.
      const later = follow(third.runs, runId);
      expect(await within(later.ended.then(() => "ended"), boundMs)).toBe("ended");
      expect(later.received).toEqual(follower.received);
      // And a new run is streamed over Redis to a follower on another replica, whole.
      for (const { runs } of [other, third]) {
        await eventually(async () => (await runs.streamsHealth())?.ok === true, "Redis healthy again", boundMs);
      }
      const second = await startRun(other.runs);
      const again = follow(third.runs, second.runId);
      await second.control.push({ content: "after" });
      await second.control.push({ done: true });
      expect(await within(again.ended.then(() => "ended"), boundMs)).toBe("ended");
      expectWhole(again.received);
      expect(again.received).toEqual(await store.readEvents(second.runId, 0, 10_000));
    },
    120_000,
  );
});
