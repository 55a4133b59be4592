import { afterEach, describe, expect, it, vi } from "vitest";
import { startTcpRelay, type TcpRelay } from "@streamchat/core/test-support";
import { silentLog, type RunLog } from "../runs/run-log.js";
import { eventually } from "../test-support/harness.js";
import { closeRedis, openRedis, type Redis } from "./redis-connection.js";
import { within } from "../test-support/within.js";
import { openRedisFeed } from "../feed/redis-feed.js";
import { openRunStreams } from "./index.js";
import { openRedisRunStreams } from "./redis-streams.js";
import { ReplicaRedis } from "./replica-redis.js";
import { redisSkipReason, testRedisUrl } from "../test-support/cluster-mode.js";

const redisUrl = testRedisUrl;
const skip = redisSkipReason("redis-connection");

/** Far longer than a watchdog of 1 s needs (about 1.5 s), far shorter than TCP's own give-up (minutes). */
const boundMs = 20_000;

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});

/** A command's reply, or its failure as text. */
const outcome = (sent: Promise<unknown>): Promise<{ reply?: unknown; error?: string }> =>
  sent.then(
    (reply) => ({ reply }),
    (error: unknown) => ({ error: String(error) }),
  );

/** A relay to the test Redis (closed after the test, thawed before anything else closes). */
async function relay(): Promise<TcpRelay> {
  const opened = await startTcpRelay(redisUrl!);
  cleanup.push(() => opened.close());
  return opened;
}

async function open(url: string, options: { unansweredMs?: number; blockingMs?: number; log?: RunLog } = {}): Promise<Redis> {
  const client = await openRedis({ url, role: "test", log: options.log ?? silentLog, ...options });
  cleanup.push(() => closeRedis(client));
  return client;
}

function recordingLog() {
  const warnings: string[] = [];
  /** Per role: the deadline its watchdog logged when it first broke that connection off. */
  const brokenOff = new Map<string, unknown>();
  const log: RunLog = {
    info() {},
    error() {},
    warn: (obj, msg) => {
      warnings.push(msg ?? "");
      const fields = obj as { role?: unknown; deadlineMs?: unknown };
      if (msg === "Redis stopped answering; reconnecting" && typeof fields.role === "string" && !brokenOff.has(fields.role)) {
        brokenOff.set(fields.role, fields.deadlineMs);
      }
    },
  };
  return { log, warnings, brokenOff };
}

/** Freezes `relay` until every role in `roles` was broken off; each one's deadline then, by role. */
async function deadlinesWhenFrozen(relay: TcpRelay, brokenOff: Map<string, unknown>, roles: string[]): Promise<Record<string, unknown>> {
  relay.freeze();
  await eventually(() => roles.every((role) => brokenOff.has(role)), `the watchdogs of ${roles.join(", ")} breaking them off`, boundMs);
  return Object.fromEntries(roles.map((role) => [role, brokenOff.get(role)]));
}

describe.skipIf(skip)("openRedis", () => {
  it("sends commands without a timer each (node-redis's default built an AbortSignal.timeout per command)", async () => {
    const redis = await openRedis({ url: redisUrl!, role: "test", log: silentLog });
    try {
      const timeouts = vi.spyOn(AbortSignal, "timeout");
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => redis.sendCommand(["ECHO", `m${i}`])));
      expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
      expect(timeouts).not.toHaveBeenCalled();
    } finally {
      await closeRedis(redis);
    }
  });
});

describe.skipIf(skip)("openRedis's watchdog: a Redis that keeps the connection open and stops answering", () => {
  it("fails the commands pending on it (they were held until TCP gave up), then works again once Redis answers", async () => {
    const frozen = await relay();
    const { log, warnings } = recordingLog();
    const redis = await open(frozen.url, { unansweredMs: 1000, log });
    expect(await redis.sendCommand(["ECHO", "before"])).toBe("before");

    frozen.freeze();
    const pending = Array.from({ length: 50 }, (_, i) => outcome(redis.sendCommand(["ECHO", `frozen${i}`])));
    const settled = await within(Promise.all(pending), boundMs);
    expect(settled).not.toBe("still waiting");
    expect(settled).toEqual(pending.map(() => ({ error: expect.any(String) })));
    // Down, as in an outage: a send fails fast instead of joining a queue nobody answers.
    expect(await within(outcome(redis.sendCommand(["ECHO", "while down"])), boundMs)).toEqual({ error: expect.any(String) });
    expect(warnings).toContain("Redis stopped answering; reconnecting");

    frozen.thaw();
    await eventually(async () => (await outcome(redis.sendCommand(["ECHO", "after"]))).reply === "after", "Redis answering again", boundMs);
  }, 60_000);

  it("comes back after a freeze longer than the deadline (the reconnections' handshakes wait on it too)", async () => {
    const frozen = await relay();
    const redis = await open(frozen.url, { unansweredMs: 1000 });
    frozen.freeze();
    await eventually(() => !redis.isReady, "the connection broken off", boundMs);
    // Each attempt's handshake waits on the frozen Redis; the watchdog starts over until one is answered.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    frozen.thaw();
    await eventually(async () => (await outcome(redis.sendCommand(["PING"]))).reply === "PONG", "Redis answering again", boundMs);
  }, 60_000);

  it("closes a connection whose pending commands are never answered (closeRedis waited for them forever)", async () => {
    const frozen = await relay();
    const redis = await openRedis({ url: frozen.url, role: "test", log: silentLog, unansweredMs: 1000 });
    cleanup.push(async () => redis.destroy());
    frozen.freeze();
    const pending = outcome(redis.sendCommand(["ECHO", "never answered"]));
    expect(await within(closeRedis(redis).then(() => "closed"), boundMs)).toBe("closed");
    expect(await pending).toEqual({ error: expect.any(String) });
    expect(redis.isOpen).toBe(false);
  }, 60_000);

  it("leaves a blocking read alone for its block time (blockingMs)", async () => {
    const { log, warnings } = recordingLog();
    const redis = await open(redisUrl!, { unansweredMs: 500, blockingMs: 3000, log });
    // Blocks 1.5 s on a stream nobody writes: three times the deadline without blockingMs, half of it with.
    const key = `streamchat:test:watchdog:${process.pid}:${Date.now()}`;
    expect(await redis.sendCommand(["XREAD", "BLOCK", "1500", "STREAMS", key, "0-0"])).toBeNull();
    expect(warnings).toEqual([]);
  }, 60_000);

  it("watches a subscriber in pub/sub mode without breaking its subscription, which it renews after breaking it off", async () => {
    const counted = await relay();
    const { log, warnings } = recordingLog();
    const subscriber = await open(counted.url, { unansweredMs: 200, log });
    const publisher = await open(redisUrl!);
    const channel = `streamchat:test:watchdog:${process.pid}:${Date.now()}`;
    const received: string[] = [];
    await subscriber.subscribe(channel, (message) => received.push(message));
    const pings = counted.sent("PING");
    // The watchdog's PINGs go through the subscribed connection and are answered.
    await eventually(() => counted.sent("PING") >= pings + 5, "the watchdog's PINGs", boundMs);
    await publisher.publish(channel, "still subscribed");
    await eventually(() => received.includes("still subscribed"), "the message on the subscriber", boundMs);
    expect(warnings).toEqual([]);

    // Broken off by the watchdog, it subscribes again once Redis answers (pub/sub: what was published meanwhile is gone).
    counted.freeze();
    await eventually(() => warnings.includes("Redis stopped answering; reconnecting"), "the watchdog breaking the subscriber off", boundMs);
    counted.thaw();
    await eventually(
      async () => {
        await publisher.publish(channel, "subscribed again");
        return received.includes("subscribed again");
      },
      "a message on the subscriber after the thaw",
      boundMs,
    );
  }, 60_000);
});

describe.skipIf(skip)("a replica's Redis connections take one watchdog deadline (REDIS_UNANSWERED_MS)", () => {
  it("openRunStreams: the command connection, the control subscriber, and the stream reader on top of its block time", async () => {
    const frozen = await relay();
    cleanup.push(async () => frozen.thaw());
    const { log, brokenOff } = recordingLog();
    const streams = await openRunStreams({ redisUrl: frozen.url, replicaId: `r-${process.pid}-${Date.now()}`, log, unansweredMs: 500 });
    cleanup.push(() => streams.abort());
    // Before, the control subscriber was opened with the 10-s default whatever the replica's deadline, and nothing set it.
    expect(await deadlinesWhenFrozen(frozen, brokenOff, ["commands", "subscriber", "stream reader"])).toEqual({
      commands: 500,
      subscriber: 500,
      "stream reader": 500 + 5000,
    });
  }, 60_000);

  it("the control subscriber takes the deadline of the replica's connections when they are given to openRedisRunStreams", async () => {
    const frozen = await relay();
    cleanup.push(async () => frozen.thaw());
    const { log, brokenOff } = recordingLog();
    const replicaId = `r-${process.pid}-${Date.now()}`;
    const redis = await ReplicaRedis.open({ url: redisUrl!, replicaId, log: silentLog, blockMs: 1000, unansweredMs: 500 });
    cleanup.push(() => redis.abort());
    expect(redis.unansweredMs).toBe(500);
    // Only the control subscriber goes through the relay.
    const streams = await openRedisRunStreams({ url: frozen.url, replicaId, log, redis });
    cleanup.push(() => streams.abort());
    expect(await deadlinesWhenFrozen(frozen, brokenOff, ["subscriber"])).toEqual({ subscriber: 500 });
  }, 60_000);

  it("a feed on connections of its own (openRedisFeed)", async () => {
    const frozen = await relay();
    cleanup.push(async () => frozen.thaw());
    const { log, brokenOff } = recordingLog();
    const feed = await openRedisFeed({ url: frozen.url, log, blockMs: 1000, unansweredMs: 500 });
    cleanup.push(() => feed.close());
    expect(await deadlinesWhenFrozen(frozen, brokenOff, ["commands", "stream reader"])).toEqual({ commands: 500, "stream reader": 1500 });
  }, 60_000);
});
