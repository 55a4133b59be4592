import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTcpRelay } from "@streamchat/core/test-support";
import type { StoredEvent } from "@streamchat/store";
import { eventually } from "../test-support/harness.js";
import { silentLog } from "../runs/run-log.js";
import type { LiveHandle } from "../runs/subscribe.js";
import { closeRedis, openRedis, type Redis } from "./redis-connection.js";
import { runChannel, runStreamKey } from "./redis-keys.js";
import { runEventCommand } from "./run-event-script.js";
import { RunStreamFollowers } from "./run-stream-followers.js";
import { redisSkipReason, testRedisUrl } from "../test-support/cluster-mode.js";

/**
 * The live events of runs executing on other replicas, through their channels, against the real redis-server in
 * STREAMCHAT_TEST_REDIS_URL: the owner's side is a command connection of the test's own (runEventCommand, as
 * redis-streams.ts sends it).
 */

const redisUrl = testRedisUrl;
const skip = redisSkipReason("run-stream-followers");

const timeout = 30_000;
let owner: Redis;
const cleanup: Array<() => Promise<void>> = [];
beforeAll(async () => {
  if (redisUrl) owner = await openRedis({ url: redisUrl, role: "test owner", log: silentLog });
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});
afterAll(async () => {
  if (owner) await closeRedis(owner);
});

/** Followers on a subscriber of their own (through `url`: a relay the test can cut). */
async function openFollowers(url = redisUrl!) {
  const subscriber = await openRedis({ url, role: "subscriber", log: silentLog });
  const followers = new RunStreamFollowers({ subscriber, runningAmong: async () => new Set(), stallMs: 60_000, log: silentLog });
  cleanup.push(async () => {
    followers.close();
    await closeRedis(subscriber);
  });
  return { followers, subscriber };
}

/** The owner writes event `seq` of run `runId` (a token whose text is its seq). */
async function publish(runId: string, seq: number): Promise<void> {
  await owner.sendCommand(runEventCommand(runId, seq, JSON.stringify({ type: "token", runId, at: 0, text: String(seq) }), "60000", []));
}

/** Listens to `runId`, collecting [seq, text, json] of what it hears, and counting its wake-ups. */
async function follow(followers: RunStreamFollowers, runId: string) {
  const heard: Array<[number, string, string | undefined]> = [];
  let wakes = 0;
  const handle = await followers.listen(
    runId,
    (stored: StoredEvent, json?: string) => heard.push([stored.seq, stored.event.type === "token" ? stored.event.text : "", json]),
    () => void wakes++,
  );
  return { handle, heard, wakes: () => wakes };
}

const subscribers = async (runId: string) => {
  const reply = (await owner.sendCommand(["PUBSUB", "NUMSUB", runChannel(runId)])) as unknown[];
  return Number(reply[1]);
};

const newRun = () => {
  const runId = `run-${randomUUID()}`;
  cleanup.push(async () => void (await owner.sendCommand(["DEL", runStreamKey(runId)])));
  return runId;
};

describe.skipIf(skip)("RunStreamFollowers", () => {
  it("one subscription per run however many follow it: each hears what is published after listen resolves, in order, with its JSON; the last to stop lets go", { timeout }, async () => {
    const { followers } = await openFollowers();
    const runId = newRun();
    await publish(runId, 1);
    const first = await follow(followers, runId);
    const second = await follow(followers, runId);
    expect(await subscribers(runId)).toBe(1);
    expect(followers.size).toBe(1);
    for (const seq of [2, 3, 4]) await publish(runId, seq);
    await eventually(() => first.heard.length === 3 && second.heard.length === 3, "both followers hear 2..4");
    for (const { heard } of [first, second]) {
      expect(heard.map(([seq, text]) => [seq, text])).toEqual([
        [2, "2"],
        [3, "3"],
        [4, "4"],
      ]);
      expect(JSON.parse(heard[0]![2]!)).toEqual({ type: "token", runId, at: 0, text: "2" });
    }
    first.handle!.stop();
    expect(followers.size).toBe(1);
    await publish(runId, 5);
    await eventually(() => second.heard.length === 4, "the remaining follower hears 5");
    expect(first.heard).toHaveLength(3);
    second.handle!.stop();
    expect(followers.size).toBe(0);
    await eventually(async () => (await subscribers(runId)) === 0, "the channel let go");
  });

  it("a broken subscriber connection closes every feed and wakes its followers; listen is refused until it is back; the channel of a feed closed meanwhile is let go", { timeout }, async () => {
    const relay = await startTcpRelay(redisUrl!);
    cleanup.push(() => relay.close());
    const { followers } = await openFollowers(relay.url);
    const runId = newRun();
    const before = await follow(followers, runId);
    await publish(runId, 1);
    await eventually(() => before.heard.length === 1, "the first event");
    relay.cut();
    await eventually(() => before.handle!.closed, "the feed closed");
    expect(before.wakes()).toBeGreaterThan(0);
    expect(followers.isHealthy).toBe(false);
    expect(await followers.listen(runId, () => {}, () => {})).toBeNull();
    // Published while the subscriber is away: nobody here hears it (the follower reads it from history).
    await publish(runId, 2);
    before.handle!.stop();
    relay.restore();
    await eventually(() => followers.isHealthy, "the subscriber back");
    // The closed feed's channel was subscribed again by the reconnect (its unsubscribe failed while cut): let go.
    await eventually(async () => (await subscribers(runId)) === 0, "the closed feed's channel let go");
    const after = await follow(followers, runId);
    expect(after.handle?.closed).toBe(false);
    await publish(runId, 3);
    await eventually(() => after.heard.length === 1, "an event after the reconnect");
    expect(after.heard[0]!.slice(0, 2)).toEqual([3, "3"]);
    expect(before.heard.map(([seq]) => seq)).toEqual([1]);
  });

  it("close ends every feed and lets go of its channels; listen after it is refused", { timeout }, async () => {
    const { followers } = await openFollowers();
    const runs = [newRun(), newRun()];
    const handles: Array<LiveHandle | null> = [];
    for (const runId of runs) handles.push((await follow(followers, runId)).handle);
    followers.close();
    expect(handles.map((handle) => handle?.closed)).toEqual([true, true]);
    for (const runId of runs) await eventually(async () => (await subscribers(runId)) === 0, "the channel let go");
    expect(await followers.listen(runs[0]!, () => {}, () => {})).toBeNull();
  });
});
