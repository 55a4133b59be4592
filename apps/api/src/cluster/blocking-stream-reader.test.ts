import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { clientList, isBlockedRead, redisSkipReason, testRedisUrl } from "../test-support/cluster-mode.js";
import { eventually } from "../test-support/harness.js";
import { silentLog } from "../runs/run-log.js";
import { BlockingStreamReader, type StreamEntry } from "./blocking-stream-reader.js";
import { closeRedis, connectionName, openRedis, type Redis } from "./redis-connection.js";
import { ReplicaRedis } from "./replica-redis.js";

/**
 * The replica's one blocking reader (the conversation feeds'; the runs it follows live come through their channels),
 * against the real redis-server in STREAMCHAT_TEST_REDIS_URL. Reads block for a minute here: anything that waited for a
 * read to time out (instead of the wake stream, or destroying the connection) would outlast the test's timeout.
 * Connections are found in CLIENT LIST by their names (`streamchat:<id>:<role>`), unique per test.
 */

const redisUrl = testRedisUrl;
const skip = redisSkipReason("blocking-stream-reader");

const minute = 60_000;
const timeout = 30_000;

let probe: Redis;
const cleanup: Array<() => Promise<void>> = [];
beforeAll(async () => {
  if (redisUrl) probe = await openRedis({ url: redisUrl, role: "test", log: silentLog });
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});
afterAll(async () => {
  if (probe) await closeRedis(probe);
});

type ClientInfo = Record<string, string>;

/** CLIENT LIST, the connections named for `id`. */
async function clientsOf(id: string): Promise<ClientInfo[]> {
  return (await clientList(probe)).filter((client) => client["name"]?.startsWith(`streamchat:${id}:`));
}

async function blockedReader(id: string): Promise<ClientInfo> {
  let found: ClientInfo | undefined;
  await eventually(async () => {
    found = (await clientsOf(id)).find((client) => client["name"] === connectionName(id, "stream reader"));
    return isBlockedRead(found);
  }, "the reader blocked in XREAD");
  return found!;
}

/** A reader on connections of its own, named for a fresh id. */
async function openReader(blockMs = minute) {
  const id = `test-${randomUUID()}`;
  const command = await openRedis({ url: redisUrl!, role: "commands", replicaId: id, log: silentLog });
  const connection = await openRedis({ url: redisUrl!, role: "stream reader", replicaId: id, log: silentLog });
  const reader = new BlockingStreamReader({ connection, command, wakeKey: `streamchat:test:wake:${id}`, log: silentLog, blockMs });
  const health: boolean[] = [];
  reader.onHealth((healthy) => health.push(healthy));
  cleanup.push(async () => {
    await reader.close();
    await closeRedis(command);
  });
  return { id, reader, command, connection, health };
}

/** Follows `key` from `cursor`, collecting what it gets. */
function collect(reader: BlockingStreamReader, key: string, cursor = "0-0") {
  const got: StreamEntry[] = [];
  const stream = reader.follow(key, cursor, (entries) => got.push(...entries));
  return { got, stream, ids: () => got.map(([id]) => id), values: () => got.map(([, fields]) => (fields as string[])[1]) };
}

const xadd = async (key: string, value: string) => String(await probe.sendCommand(["XADD", key, "*", "v", value]));
const testKey = () => `streamchat:test:stream:${randomUUID()}`;

describe.skipIf(skip)("BlockingStreamReader", () => {
  it("blocks on a connection of its own: the one blocked in XREAD is the reader's, and the command connection answers meanwhile", { timeout }, async () => {
    const { id, reader, command } = await openReader();
    collect(reader, testKey());
    const blocked = await blockedReader(id);
    const commandId = String(await command.sendCommand(["CLIENT", "ID"]));
    expect(blocked["id"]).not.toBe(commandId);
    expect(await command.sendCommand(["PING"])).toBe("PONG");
    const named = await clientsOf(id);
    expect(named.filter(isBlockedRead)).toHaveLength(1);
    expect(named.find((client) => client["id"] === commandId)?.["cmd"]).not.toBe("xread");
  });

  it("a stream followed while the read blocks is read at once (the wake stream ends the read), in order, each entry once", { timeout }, async () => {
    const { id, reader } = await openReader();
    await blockedReader(id);
    const [k1, k2] = [testKey(), testKey()];
    const first = collect(reader, k1);
    const second = collect(reader, k2);
    for (let i = 0; i < 10; i++) await xadd(i % 2 ? k2 : k1, String(i));
    await eventually(() => first.got.length + second.got.length === 10, "the ten entries");
    expect(first.values()).toEqual(["0", "2", "4", "6", "8"]);
    expect(second.values()).toEqual(["1", "3", "5", "7", "9"]);
    expect(first.stream.cursor).toBe(first.ids().at(-1));
    // Nothing more comes (no entry twice): one more entry is the only new one.
    await xadd(k1, "10");
    await eventually(() => first.got.length === 6, "the next entry");
    expect(first.values()).toEqual(["0", "2", "4", "6", "8", "10"]);
    expect(second.got).toHaveLength(5);
  });

  it("streams followed together wake the blocked read once: one wake-up entry, and every stream is read", { timeout }, async () => {
    const { id, reader } = await openReader();
    await blockedReader(id);
    const wakeKey = `streamchat:test:wake:${id}`;
    const before = Number(await probe.sendCommand(["XLEN", wakeKey]));
    const keys = Array.from({ length: 10 }, testKey);
    const followed = keys.map((key) => collect(reader, key));
    for (const [i, key] of keys.entries()) await xadd(key, `${i}`);
    await eventually(() => followed.every((stream) => stream.got.length === 1), "an entry on every stream");
    expect(followed.map((stream) => stream.values()[0])).toEqual(keys.map((_, i) => `${i}`));
    expect(Number(await probe.sendCommand(["XLEN", wakeKey])) - before).toBe(1);
    // Once that read is sent, the next follow wakes it again: its stream is read, not a minute later with the read's end.
    await blockedReader(id);
    const lateKey = testKey();
    const late = collect(reader, lateKey);
    await eventually(async () => Number(await probe.sendCommand(["XLEN", wakeKey])) - before === 2, "a second wake-up");
    await xadd(lateKey, "late");
    await eventually(() => late.got.length === 1, "the late stream's entry");
    expect(late.values()).toEqual(["late"]);
  });

  it("keeps its read from one read to the next: each stream's cursor moves in it, and a stop or a new follow starts a new one", { timeout }, async () => {
    const { reader } = await openReader();
    const [k1, k2, k3, k4] = [testKey(), testKey(), testKey(), testKey()];
    const early = await xadd(k4, "k4-early");
    const first = collect(reader, k1);
    const second = collect(reader, k2);
    const third = collect(reader, k3);
    // One entry per read: the same read again and again, each time from the cursors the last one moved.
    for (let i = 0; i < 6; i++) {
      const target = [first, second, third][i % 3]!;
      const key = [k1, k2, k3][i % 3]!;
      await xadd(key, `${i}`);
      await eventually(() => target.got.length === Math.floor(i / 3) + 1, `entry ${i}`);
    }
    second.stream.stop();
    await xadd(k2, "after stop");
    const fourth = collect(reader, k4, "0-0");
    await eventually(() => fourth.got.length === 1, "the followed stream's entry from before");
    await xadd(k1, "6");
    await xadd(k3, "7");
    await xadd(k4, "8");
    await eventually(() => first.got.length === 3 && third.got.length === 3 && fourth.got.length === 2, "the last entries");
    expect(first.values()).toEqual(["0", "3", "6"]);
    expect(second.values()).toEqual(["1", "4"]);
    expect(third.values()).toEqual(["2", "5", "7"]);
    expect(fourth.ids()[0]).toBe(early);
    expect(fourth.values()).toEqual(["k4-early", "8"]);
    // Nothing arrives twice: one more entry on each is the only new one.
    await xadd(k1, "9");
    await xadd(k3, "10");
    await eventually(() => first.got.length === 4 && third.got.length === 4, "one more each");
    expect(first.values()).toEqual(["0", "3", "6", "9"]);
    expect(third.values()).toEqual(["2", "5", "7", "10"]);
    expect(second.values()).toEqual(["1", "4"]);
  });

  it("starts after the cursor it is given; a stopped stream is left out, and may be followed again from its own cursor", { timeout }, async () => {
    const { id, reader } = await openReader();
    const key = testKey();
    const before = await xadd(key, "before");
    const followed = collect(reader, key, before);
    expect(() => reader.follow(key, "0-0", () => {})).toThrow(/followed already/);
    await xadd(key, "a");
    await eventually(() => followed.got.length === 1, "the entry after the cursor");
    expect(followed.values()).toEqual(["a"]);
    followed.stream.stop();
    expect(reader.size).toBe(0);
    await blockedReader(id);
    const unread = await xadd(key, "b");
    await xadd(key, "c");
    const again = collect(reader, key, unread);
    await eventually(() => again.got.length === 1, "the entry after the new cursor");
    expect(again.values()).toEqual(["c"]);
    expect(followed.values()).toEqual(["a"]);
  });

  it("a dropped connection (CLIENT KILL): health goes down and back up, and every stream resumes where it stopped", { timeout }, async () => {
    const { id, reader, health } = await openReader();
    const key = testKey();
    const followed = collect(reader, key);
    await xadd(key, "1");
    await eventually(() => followed.got.length === 1, "the first entry");
    const blocked = await blockedReader(id);
    await probe.sendCommand(["CLIENT", "KILL", "ID", blocked["id"]!]);
    // Written while the reader has no connection.
    await xadd(key, "2");
    await xadd(key, "3");
    await eventually(() => health.includes(false), "the reader down");
    await eventually(() => reader.isHealthy, "the reader back", timeout);
    await eventually(() => followed.got.length >= 3, "the entries written meanwhile");
    const reconnected = await blockedReader(id);
    expect(reconnected["id"]).not.toBe(blocked["id"]);
    await xadd(key, "4");
    await eventually(() => followed.got.length >= 4, "a live entry after the outage");
    expect(followed.values()).toEqual(["1", "2", "3", "4"]);
    expect(health).toEqual([false, true]);
  });

  it("is healthy again as soon as Redis answers, though nothing is written and a read blocks for a minute", { timeout }, async () => {
    const { id, reader, health } = await openReader();
    const followed = collect(reader, testKey());
    const blocked = await blockedReader(id);
    await probe.sendCommand(["CLIENT", "KILL", "ID", blocked["id"]!]);
    await eventually(() => health.includes(false), "the reader down");
    // Before, the first read after the outage blocked its whole minute with nothing to read: unhealthy until then.
    await eventually(() => reader.isHealthy, "the reader back", 10_000);
    expect(health).toEqual([false, true]);
    expect(followed.got).toEqual([]);
    expect((await blockedReader(id))["id"]).not.toBe(blocked["id"]);
  });

  it("close while the read blocks for a minute returns, and ends the connection", { timeout }, async () => {
    const { id, reader, connection } = await openReader();
    collect(reader, testKey());
    await blockedReader(id);
    await reader.close();
    expect(connection.isOpen).toBe(false);
    expect(reader.isHealthy).toBe(false);
    await eventually(async () => (await clientsOf(id)).every((client) => client["name"] !== connectionName(id, "stream reader")), "the connection gone from Redis");
    expect(() => reader.follow(testKey(), "0-0", () => {})).toThrow(/closed/);
  });
});

describe.skipIf(skip)("ReplicaRedis", () => {
  it("two connections (commands, the one blocking reader) that close with the last share given back, in either order", { timeout }, async () => {
    const replicaId = `test-${randomUUID()}`;
    const redis = await ReplicaRedis.open({ url: redisUrl!, replicaId, log: silentLog, blockMs: minute });
    cleanup.push(() => redis.abort());
    const runs = redis.retain();
    const feed = redis.retain();
    await blockedReader(replicaId);
    expect((await clientsOf(replicaId)).map((client) => client["name"]).sort()).toEqual(
      [connectionName(replicaId, "commands"), connectionName(replicaId, "stream reader")].sort(),
    );
    // The feed closes first: the run streams still read and write.
    await feed();
    await feed();
    const key = testKey();
    const followed = collect(redis.reader, key);
    await redis.command.sendCommand(["XADD", key, "*", "v", "after the feed closed"]);
    await eventually(() => followed.got.length === 1, "a read after one share was given back");
    await runs();
    expect(redis.command.isOpen).toBe(false);
    expect(redis.reader.isHealthy).toBe(false);
    await eventually(async () => (await clientsOf(replicaId)).length === 0, "both connections gone from Redis");
    expect(() => redis.retain()).toThrow(/closed/);
  });
});
