import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { startTcpRelay } from "@streamchat/core/test-support";
import type { RunControl } from "../runs/run-streams.js";
import { silentLog } from "../runs/run-log.js";
import { ControlChannel } from "./control-channel.js";
import { closeRedis, openRedis, type Redis } from "./redis-connection.js";
import { within } from "../test-support/within.js";
import { redisSkipReason, testRedisUrl } from "../test-support/cluster-mode.js";

const redisUrl = testRedisUrl;
const skip = redisSkipReason("control-channel");

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});

async function connection(url: string): Promise<Redis> {
  const redis = await openRedis({ url, role: "test", log: silentLog });
  cleanup.push(() => closeRedis(redis));
  return redis;
}

/** A replica's control channel: commands on `commandUrl`, its subscriber straight to Redis; `applied` lists what it applied. */
async function replica(commandUrl: string, replyTimeoutMs: number) {
  const replicaId = `r-${randomUUID()}`;
  const applied: Array<{ runId: string; control: RunControl }> = [];
  const channel = await ControlChannel.open({
    command: await connection(commandUrl),
    subscriber: await connection(redisUrl!),
    replicaId,
    log: silentLog,
    replyTimeoutMs,
    apply: (runId, control) => {
      applied.push({ runId, control });
      return true;
    },
  });
  cleanup.push(() => channel.close());
  return { replicaId, channel, applied };
}

describe.skipIf(skip)("control channel", () => {
  it("delivers a control message to the run's owner and returns its answer", async () => {
    const owner = await replica(redisUrl!, 5_000);
    const sender = await replica(redisUrl!, 5_000);
    expect(await sender.channel.send(owner.replicaId, "run-1", { type: "cancel" })).toBe(true);
    expect(owner.applied).toEqual([{ runId: "run-1", control: { type: "cancel" } }]);
    // No replica listens on a gone owner's channel: nobody applied it.
    expect(await sender.channel.send(`gone-${randomUUID()}`, "run-2", { type: "cancel" })).toBe(false);
  });

  it("answers false within its reply timeout when the PUBLISH itself gets no answer from Redis", async () => {
    const relay = await startTcpRelay(redisUrl!);
    cleanup.push(() => relay.close());
    const owner = await replica(redisUrl!, 5_000);
    // Long enough to see a hang, far past the reply timeout (300 ms).
    const sender = await replica(relay.url, 300);
    // The PUBLISH does not reach Redis (a server that accepted the connection, then stopped reading it): no owner applies
    // anything, and no reply comes.
    relay.holdRequests();
    const answer = await within(sender.channel.send(owner.replicaId, "run-1", { type: "cancel" }), 15_000);
    expect(answer).toBe(false);
    expect(owner.applied).toEqual([]);
    relay.releaseRequests();
  });
});
