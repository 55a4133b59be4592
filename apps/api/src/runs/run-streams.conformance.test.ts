import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import type { AnyTool, ChatEvent } from "@streamchat/core";
import type { StoredEvent } from "@streamchat/store";
import { openRedis, closeRedis, type Redis } from "../cluster/redis-connection.js";
import { eventField, runStreamKey, streamId } from "../cluster/redis-keys.js";
import { openRedisRunStreams } from "../cluster/redis-streams.js";
import { freshTestData, type TestStore } from "../test-support/backend.js";
import { eventually } from "../test-support/harness.js";
import { ApartPusher, follow } from "../test-support/push-apart.js";
import { tempDir } from "../test-support/reliability.js";
import { testRunManager } from "../test-support/run-manager.js";
import { LocalExclusion, type ReplicaLiveness } from "./liveness.js";
import type { RunManager } from "./run-manager.js";
import { silentLog } from "./run-log.js";
import type { RunStreamsFactory } from "./run-streams.js";
import { approvalTool } from "../test-support/approval-tool.js";

/**
 * THE conformance suite of the RunStreams seam (run-streams.ts): the same behaviour from the embedded implementation
 * (one process; a run executing in another process is followed through the durable log) and from the Redis one (any
 * replica follows and controls any run). Each test starts two "replicas" (RunManagers with their own replica ids and
 * streams) on one store, a run on replica A, and followers on A and B.
 *
 * The Redis implementation runs against the real redis-server in STREAMCHAT_TEST_REDIS_URL
 * (`scripts/test-services.sh run …` starts one); without it that half is skipped with a notice.
 */

const redisUrl = process.env["STREAMCHAT_TEST_REDIS_URL"];
const inCi = process.env["CI"] === "true" || process.env["CI"] === "1";
if (!redisUrl && inCi) throw new Error("STREAMCHAT_TEST_REDIS_URL is not set: under CI=true the Redis conformance suite must run.");

interface Implementation {
  name: "embedded" | "redis";
  /** Why it is skipped here, if it is. */
  skip: string | undefined;
  /** chat.cancel on a replica that does not execute the run reaches the one that does. */
  controlsAcrossReplicas: boolean;
  streams(replicaId: string, opts: { queueLimit: number }): Promise<RunStreamsFactory | undefined>;
}

const implementations: Implementation[] = [
  {
    name: "embedded",
    skip: undefined,
    controlsAcrossReplicas: false,
    // RunManager's default (embedded), with its options passed to testRunManager.
    streams: async () => undefined,
  },
  {
    name: "redis",
    skip: redisUrl ? undefined : "STREAMCHAT_TEST_REDIS_URL is not set (run it under scripts/test-services.sh run …)",
    controlsAcrossReplicas: true,
    streams: async (replicaId, { queueLimit }) =>
      (await openRedisRunStreams({ url: redisUrl!, replicaId, log: silentLog, queueLimit, stallMs: 300, pollMs: 20 })).factory,
  },
];

for (const impl of implementations) if (impl.skip) console.warn(`[run-streams conformance] SKIPPED ${impl.name}: ${impl.skip}`);

/** Liveness under the test's control: owners in `dead` are gone. */
function testLiveness(replicaId: string, dead: ReadonlySet<string>): ReplicaLiveness {
  const exclusion = new LocalExclusion();
  return {
    replicaId,
    sweepIntervalMs: null,
    async deadOwners(owners) {
      return new Set([...owners].filter((owner) => owner !== null && dead.has(owner)));
    },
    exclusive: (runId, work) => exclusion.run(runId, work),
    async close() {},
  };
}

async function drain(events: AsyncIterable<StoredEvent>, slow = false): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of events) {
    out.push(e);
    if (slow) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return out;
}

const seqs = (events: StoredEvent[]) => events.map((e) => e.seq);

let sim: Simulator;
let dir: string;
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 1 });
  dir = tempDir();
});
afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(implementations)("RunStreams conformance: $name", (impl) => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
  });

  async function cluster(opts: { queueLimit?: number; dead?: Set<string>; tools?: AnyTool[]; approvalPollMs?: number | null } = {}) {
    const data = await freshTestData(dir);
    const store: TestStore = await data.openStore();
    cleanup.push(() => store.close());
    const dead = opts.dead ?? new Set<string>();
    const queueLimit = opts.queueLimit ?? 1024;
    const replica = async (name: string): Promise<RunManager> => {
      const replicaId = `${name}-${randomUUID()}`;
      const streams = await impl.streams(replicaId, { queueLimit });
      const runs = testRunManager(store, sim, {
        liveness: testLiveness(replicaId, dead),
        subscriberQueueLimit: queueLimit,
        remotePollMs: 20,
        // No slack: the closing events of an orphan must go above what followers saw, not above the log's end.
        recoverySeqGap: 1,
        ...(streams ? { streams } : {}),
        ...(opts.tools ? { toolsFor: () => opts.tools ?? [] } : {}),
        ...(opts.approvalPollMs === undefined ? {} : { approvalPollMs: opts.approvalPollMs }),
      });
      cleanup.push(() => runs.shutdown(0));
      return runs;
    };
    return { store, a: await replica("a"), b: await replica("b") };
  }

  it.skipIf(impl.skip)("ordering, no loss, no duplicate, late join, slow readers: on the owner and on another replica", async () => {
    const { store, a, b } = await cluster();
    const tag = `[conf:${randomUUID()}]`;
    const control = sim.control({ lastUserIncludes: tag });
    const { runId } = await a.start({ userId: "u", message: `${tag} go` });
    await control.connected;
    const followers: Array<{ afterSeq: number; events: Promise<StoredEvent[]> }> = [];
    const tokens = Array.from({ length: 40 }, (_, i) => `t${i} `);
    for (let i = 0; i < tokens.length; i++) {
      if (i % 8 === 0) {
        const top = await store.lastSeq(runId);
        for (const [replica, afterSeq, slow] of [
          [a, 0, false],
          [b, 0, true],
          [b, Math.floor(top / 2), false],
          [a, top, true],
          [b, top, false],
        ] as const) {
          followers.push({ afterSeq, events: drain(replica.subscribe(runId, afterSeq), slow) });
        }
      }
      await control.push({ content: tokens[i]! });
    }
    await control.push({ done: true });
    await a.whenEnded(runId);
    const log = await store.readEvents(runId);
    expect(seqs(log)).toEqual(log.map((_, i) => i + 1));
    expect(log.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    // However the reads joined them: every token once, in order.
    expect(log.map((e) => (e.event.type === "token" ? e.event.text : "")).join("")).toBe(tokens.join(""));
    for (const { afterSeq, events } of followers) expect(await events).toEqual(log.filter((e) => e.seq > afterSeq));
    // Resume from any id, on either replica, after the end.
    for (let afterSeq = 0; afterSeq <= log.length; afterSeq += 3) {
      expect(await drain(b.subscribe(runId, afterSeq))).toEqual(log.filter((e) => e.seq > afterSeq));
      expect(await drain(a.subscribe(runId, afterSeq))).toEqual(log.filter((e) => e.seq > afterSeq));
    }
    expect(a.stats()).toMatchObject({ activeRuns: 0, listeners: 0, subscriptions: 0 });
    expect(b.stats()).toMatchObject({ activeRuns: 0, listeners: 0, subscriptions: 0 });
  });

  it.skipIf(impl.skip)("a reader that stops reading while the run writes catches up from history: every event once, in order", async () => {
    const { store, a, b } = await cluster({ queueLimit: 4 });
    const tag = `[conf:${randomUUID()}]`;
    const control = sim.control({ lastUserIncludes: tag });
    const { runId } = await a.start({ userId: "u", message: `${tag} go` });
    await control.connected;
    // A third follower reads all along, so that each push becomes an event of its own (see ApartPusher).
    const pusher = new ApartPusher(control);
    const watching = follow(a.subscribe(runId, 0), pusher.seen);
    await pusher.push("first ");
    const stalled = [a.subscribe(runId, 0), b.subscribe(runId, 0)];
    const firsts = await Promise.all(stalled.map((s) => s.next()));
    for (const first of firsts) expect(first.value).toMatchObject({ seq: 1 });
    // Far more events than the follower's queue holds pass while nobody reads.
    for (let i = 0; i < 60; i++) await pusher.push(`${i} `);
    await eventually(async () => (await store.lastSeq(runId)) >= 60, "the events to be written");
    await control.push({ done: true });
    await a.whenEnded(runId);
    await watching;
    const log = await store.readEvents(runId);
    for (const follower of stalled) {
      const rest = await drain({ [Symbol.asyncIterator]: () => follower });
      expect([1, ...seqs(rest)]).toEqual(seqs(log));
      expect(rest).toEqual(log.slice(1));
    }
  });

  it.skipIf(impl.skip)("cancel: from the owner always; from another replica when the implementation reaches it; the slot frees", async () => {
    const { store, a, b } = await cluster();
    for (const via of impl.controlsAcrossReplicas ? (["b", "a"] as const) : (["a"] as const)) {
      const tag = `[conf:${randomUUID()}]`;
      const control = sim.control({ lastUserIncludes: tag });
      const { runId } = await a.start({ userId: "u", message: `${tag} go` });
      await control.connected;
      await control.push({ content: "partial" });
      const onB = drain(b.subscribe(runId, 0));
      expect(await (via === "a" ? a : b).cancel("u", runId)).toEqual({ cancelled: true });
      // The model request's connection is closed by the owner.
      await control.closedByClient;
      const events = await onB;
      expect(events.at(-1)?.event).toMatchObject({ type: "done", reason: "cancelled" });
      expect(seqs(events)).toEqual(events.map((_, i) => i + 1));
      await eventually(async () => (await store.countRunningRuns("u")) === 0, "the run's slot to be free", 5000);
      // Cancelling again: it is not running anywhere.
      expect(await b.cancel("u", runId)).toEqual({ cancelled: false, reason: "ended" });
    }
    if (!impl.controlsAcrossReplicas) {
      // Embedded: no channel reaches another process; the run goes on until its owner ends it.
      const tag = `[conf:${randomUUID()}]`;
      const control = sim.control({ lastUserIncludes: tag });
      const { runId } = await a.start({ userId: "u", message: `${tag} go` });
      await control.connected;
      expect(await b.cancel("u", runId)).toEqual({ cancelled: false, reason: "unreachable" });
      expect(await a.cancel("u", runId)).toEqual({ cancelled: true });
      await control.closedByClient;
      await a.whenEnded(runId);
    }
  });

  it.skipIf(impl.skip)("owner death: a live replica closes the run as interrupted, above every id a follower may have seen", async () => {
    const dead = new Set<string>();
    const { store, a, b } = await cluster({ dead });
    // A run of a replica that died mid-answer: three events in the durable log; with Redis, two more that only the
    // stream got before the crash (the live stream is written first, the log in batches).
    const owner = `gone-${randomUUID()}`;
    const conversation = await store.createConversation({ id: randomUUID(), userId: "u", title: "orphan" });
    const runId = randomUUID();
    await store.createRun({ id: runId, conversationId: conversation.id, userId: "u", model: "demo", provider: "ollama", owner });
    const events: ChatEvent[] = ["one ", "two ", "three ", "four ", "five "].map((text) => ({ type: "token", runId, at: 1, text }));
    for (let i = 0; i < 3; i++) await store.appendEvent(runId, i + 1, events[i]!);
    await store.flush();
    let redis: Redis | undefined;
    let seenTop = 3;
    if (impl.name === "redis") {
      redis = await openRedis({ url: redisUrl!, role: "test", log: silentLog });
      cleanup.push(() => closeRedis(redis!));
      for (let i = 0; i < 5; i++) {
        await redis.sendCommand(["XADD", runStreamKey(runId), streamId(i + 1), eventField, JSON.stringify(events[i])]);
      }
      seenTop = 5;
    }
    // Followers joined before the owner died; one resumes from the last id it saw.
    const onB = drain(b.subscribe(runId, 0));
    const onA = drain(a.subscribe(runId, 2));
    await eventually(() => b.stats().subscriptions === 1 && a.stats().subscriptions === 1, "the followers to follow");
    dead.add(owner);
    expect(await a.recoverInterrupted()).toBe(1);
    for (const [afterSeq, followed] of [
      [0, onB],
      [2, onA],
    ] as const) {
      const got = await followed;
      const closing = got.slice(-2);
      expect(closing.map((e) => e.event.type)).toEqual(["error", "done"]);
      expect(closing[0]!.event).toMatchObject({ code: "interrupted" });
      expect(closing[1]!.event).toMatchObject({ reason: "interrupted" });
      expect(closing[0]!.seq).toBeGreaterThan(seenTop);
      expect(seqs(got.slice(0, -2))).toEqual(Array.from({ length: seenTop - afterSeq }, (_, i) => afterSeq + i + 1));
    }
    expect((await store.getRun(runId))?.status).not.toBe("running");
    // A late join from any id gets the end too, on either replica.
    expect((await drain(b.subscribe(runId, seenTop))).map((e) => e.event.type)).toEqual(["error", "done"]);
    expect((await drain(a.subscribe(runId, 0))).at(-1)?.event).toMatchObject({ type: "done", reason: "interrupted" });
  });

  it.skipIf(impl.skip)(
    "approval: the request reaches followers once committed; a decision made on another replica reaches the waiting run",
    async () => {
      const { tool: deleteFile, ran: deleted } = approvalTool();
      // Redis: no store polling at all, so only the control channel can carry the news to A. Embedded has no channel
      // between processes: the waiting run finds the decision by reading the store.
      const { store, a, b } = await cluster({ tools: [deleteFile], approvalPollMs: impl.controlsAcrossReplicas ? null : 50 });
      const { runId } = await a.start({ userId: "u", message: 'use the delete_file tool with {"path":"/tmp/x"}' });
      const onB = b.subscribe(runId, 0);
      const seen: StoredEvent[] = [];
      for (;;) {
        const next = await onB.next();
        if (next.done) throw new Error("the run ended before it asked for approval");
        seen.push(next.value);
        if (next.value.event.type === "approval-request") break;
      }
      const request = seen.at(-1)!;
      // Committed before it was published: the log has it as soon as a follower does.
      expect((await store.readEvents(runId)).find((e) => e.seq === request.seq)).toEqual(request);
      const callId = request.event.type === "approval-request" ? request.event.callId : "";
      await eventually(async () => (await store.getRun(runId))?.status === "running" && a.stats().activeRuns === 1, "the run to wait");
      expect(await b.approve("u", { runId, callId, approved: true })).toMatchObject({ runId, callId });
      const rest = await drain({ [Symbol.asyncIterator]: () => onB });
      const all = [...seen, ...rest];
      expect(seqs(all)).toEqual(all.map((_, i) => i + 1));
      expect(all.map((e) => e.event)).toContainEqual(expect.objectContaining({ type: "approval-result", callId, approved: true }));
      expect(all.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
      expect(deleted).toEqual(["/tmp/x"]);
      expect(all).toEqual(await store.readEvents(runId));
    },
    30_000,
  );
});
