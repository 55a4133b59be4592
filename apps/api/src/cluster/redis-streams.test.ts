import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { emptyUsage } from "@streamchat/core";
import { startTcpRelay } from "@streamchat/core/test-support";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import type { StoredEvent } from "@streamchat/store";
import { freshTestData } from "../test-support/backend.js";
import { eventually } from "../test-support/harness.js";
import { tempDir } from "../test-support/reliability.js";
import { testRunManager } from "../test-support/run-manager.js";
import { localLiveness } from "../runs/liveness.js";
import type { RunManager } from "../runs/run-manager.js";
import { silentLog } from "../runs/run-log.js";
import { closeRedis, openRedis, type Redis } from "./redis-connection.js";
import { runStreamKey } from "./redis-keys.js";
import { openRedisRunStreams, type RedisStreamsOptions } from "./redis-streams.js";
import { redisSkipReason, testRedisUrl } from "../test-support/cluster-mode.js";

/**
 * What only the Redis implementation of RunStreams has (the shared behaviour is run-streams.conformance.test.ts):
 * the blocking reads stay off the shared command connection, and a run's stream expires after its end, its history
 * then coming from the database. Against the real redis-server in STREAMCHAT_TEST_REDIS_URL.
 */

const redisUrl = testRedisUrl;
const skip = redisSkipReason("redis-streams");

let sim: Simulator;
let dir: string;
let redis: Redis | undefined;
const cleanup: Array<() => Promise<void>> = [];
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 1 });
  dir = tempDir();
  if (redisUrl) redis = await openRedis({ url: redisUrl, role: "test", log: silentLog });
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});
afterAll(async () => {
  if (redis) await closeRedis(redis);
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function drain(events: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

async function twoReplicas(opts: Partial<RedisStreamsOptions> = {}) {
  const data = await freshTestData(dir);
  const store = await data.openStore();
  cleanup.push(() => store.close());
  const replica = async (): Promise<RunManager> => {
    const replicaId = `r-${randomUUID()}`;
    const { factory } = await openRedisRunStreams({ url: redisUrl!, replicaId, log: silentLog, ...opts });
    const runs = testRunManager(store, sim, { liveness: localLiveness(replicaId), streams: factory });
    cleanup.push(() => runs.shutdown(0));
    return runs;
  };
  return { store, a: await replica(), b: await replica() };
}

describe.skipIf(skip)("RedisRunStreams", () => {
  it("followers blocked in XREAD hold nothing else up: commands and cancels answer at once while reads block for a minute", async () => {
    // A blocking read on the shared command connection would hold every command behind it for blockMs: longer
    // than this test's timeout.
    const { a, b } = await twoReplicas({ blockMs: 60_000 });
    const runs: Array<{ runId: string; followed: Promise<StoredEvent[]>; control: ReturnType<Simulator["control"]> }> = [];
    for (let i = 0; i < 3; i++) {
      const tag = `[blocking:${randomUUID()}]`;
      const control = sim.control({ lastUserIncludes: tag });
      const { runId } = await a.start({ userId: "u", message: `${tag} go` });
      await control.connected;
      runs.push({ runId, control, followed: drain(b.subscribe(runId, 0)) });
    }
    await eventually(() => b.stats().subscriptions === 3, "the followers on B");
    for (let round = 0; round < 3; round++) {
      // B's reader is blocked now (nothing new): its command connection still answers, promptly enough to cancel.
      expect(await b.streamsHealth()).toEqual({ ok: true });
      for (const { control } of runs) await control.push({ content: `${round} ` });
    }
    for (const { runId, control } of runs) {
      expect(await b.cancel("u", runId)).toEqual({ cancelled: true });
      await control.closedByClient;
    }
    for (const { followed } of runs) {
      const events = await followed;
      expect(events.filter((e) => e.event.type === "token").map((e) => (e.event.type === "token" ? e.event.text : ""))).toEqual([
        "0 ",
        "1 ",
        "2 ",
      ]);
      expect(events.at(-1)?.event).toMatchObject({ type: "done", reason: "cancelled" });
    }
  });

  it("health says down while Redis stops answering (connections open, no reply), and up once it answers again", async () => {
    const relay = await startTcpRelay(redisUrl!);
    cleanup.push(() => relay.close());
    const { factory } = await openRedisRunStreams({ url: relay.url, replicaId: `r-${randomUUID()}`, log: silentLog });
    const data = await freshTestData(dir);
    const store = await data.openStore();
    cleanup.push(() => store.close());
    const runs = testRunManager(store, sim, { liveness: localLiveness("health"), streams: factory });
    cleanup.push(() => runs.shutdown(0));
    expect(await runs.streamsHealth()).toEqual({ ok: true });
    relay.freeze();
    // Before, the PING waited for its answer forever: this call (and /healthz with it) never returned.
    expect(await runs.streamsHealth()).toEqual({ ok: false });
    relay.thaw();
    await eventually(async () => (await runs.streamsHealth())?.ok === true, "health back");
  });

  it("a run's stream expires after its end; history then comes from the database, the same events with the same ids", async () => {
    const { store, a, b } = await twoReplicas({ ttlAfterDoneMs: 300, maxTtlMs: 60_000 });
    const tag = `[expiry:${randomUUID()}]`;
    const control = sim.control({ lastUserIncludes: tag });
    const { runId } = await a.start({ userId: "u", message: `${tag} go` });
    await control.connected;
    await control.push({ content: "kept " });
    await eventually(async () => (await redis!.exists(runStreamKey(runId))) === 1, "the run's stream");
    // While it runs, the stream lives up to maxTtlMs.
    const runningTtl = await redis!.pTTL(runStreamKey(runId));
    expect(runningTtl).toBeGreaterThan(300);
    expect(runningTtl).toBeLessThanOrEqual(60_000);
    await control.push({ content: "forever" });
    await control.push({ done: true });
    await a.whenEnded(runId);
    const log = await store.readEvents(runId);
    expect(await drain(b.subscribe(runId, 0))).toEqual(log);
    await eventually(async () => (await redis!.exists(runStreamKey(runId))) === 0, "the stream to expire");
    expect(await drain(b.subscribe(runId, 0))).toEqual(log);
    expect(await drain(b.subscribe(runId, 2))).toEqual(log.slice(2));
  });

  it("followers of a quiet answer cost one status read per sweep, not one per follower; the answer then reaches all", async () => {
    const { store, a, b } = await twoReplicas({ stallMs: 50 });
    const tag = `[quiet:${randomUUID()}]`;
    const control = sim.control({ lastUserIncludes: tag });
    const { runId } = await a.start({ userId: "u", message: `${tag} go` });
    await control.connected;
    await control.push({ content: "thinking… " });
    const statusReads = { perRun: 0, batched: 0 };
    const getRun = store.getRun.bind(store);
    const runningAmong = store.runningAmong.bind(store);
    store.getRun = (id) => ((statusReads.perRun += id === runId ? 1 : 0), getRun(id));
    store.runningAmong = (ids) => ((statusReads.batched += ids.includes(runId) ? 1 : 0), runningAmong(ids));
    const followers = Array.from({ length: 5 }, () => drain(b.subscribe(runId, 0)));
    await eventually(() => b.stats().subscriptions === 5, "the followers on B");
    const before = { ...statusReads };
    await eventually(() => statusReads.batched >= before.batched + 4, "four sweeps of B's silent feed");
    // Each sweep asked once for the run of the silent feed; no follower asked on its own.
    expect(statusReads.perRun).toBe(before.perRun);
    await control.push({ content: "answer" });
    await control.push({ done: true });
    await a.whenEnded(runId);
    const log = await store.readEvents(runId);
    for (const events of await Promise.all(followers)) expect(events).toEqual(log);
  });

  it("a run closed without its end reaching the stream: its silent followers find the end in the log", async () => {
    const { store, b } = await twoReplicas({ stallMs: 50 });
    // A run whose replica is gone: nobody writes its stream. The closing events go to the log only.
    const runId = `run-${randomUUID()}`;
    const conversationId = `conv-${randomUUID()}`;
    await store.startRun({
      id: runId,
      conversationId,
      userId: "u",
      model: "m",
      provider: "sim",
      owner: "a-replica-that-died",
      conversation: { title: "orphan" },
      question: { message: { role: "user", content: "hello?" } },
    });
    await store.appendEvent(runId, 1, { type: "run-start", runId, at: 1, conversationId, model: "m", provider: "sim" });
    await store.flush();
    const followers = Array.from({ length: 3 }, () => drain(b.subscribe(runId, 0)));
    await eventually(() => b.stats().subscriptions === 3, "the followers on B");
    await store.appendEvent(runId, 10_001, { type: "error", runId, at: 2, code: "interrupted", message: "The server shut down while answering.", retryable: true });
    await store.appendEvent(runId, 10_002, { type: "done", runId, at: 2, reason: "interrupted", usage: emptyUsage() });
    for (const events of await Promise.all(followers)) {
      expect(events.map((e) => [e.seq, e.event.type])).toEqual([[1, "run-start"], [10_001, "error"], [10_002, "done"]]);
    }
  });
});
