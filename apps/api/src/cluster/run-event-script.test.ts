import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../test-support/harness.js";
import { silentLog } from "../runs/run-log.js";
import { closeRedis, openRedis, type Redis } from "./redis-connection.js";
import { entryJson, liveMessage, parseLiveMessage, runChannel, runStreamKey, seqOf } from "./redis-keys.js";
import { runEventCommand } from "./run-event-script.js";
import { redisSkipReason, testRedisUrl } from "../test-support/cluster-mode.js";

/** The owner's one command per run event, against the real redis-server in STREAMCHAT_TEST_REDIS_URL. */

const redisUrl = testRedisUrl;
const skip = redisSkipReason("run-event-script");

let command: Redis;
let subscriber: Redis;
beforeAll(async () => {
  if (!redisUrl) return;
  command = await openRedis({ url: redisUrl, role: "test", log: silentLog });
  subscriber = await openRedis({ url: redisUrl, role: "test subscriber", log: silentLog });
});
afterAll(async () => {
  if (command) await closeRedis(command);
  if (subscriber) await closeRedis(subscriber);
});

describe("live messages", () => {
  it("carry the event's seq and its JSON as they are; anything else is not one", () => {
    const json = JSON.stringify({ type: "token", text: "a b\nc" });
    expect(parseLiveMessage(liveMessage(42, json))).toEqual({ seq: 42, json });
    for (const bad of ["", "42", " {}", "x-0 {}", "0-0 {}", "-1-0 {}"]) expect(parseLiveMessage(bad)).toBeUndefined();
  });
});

describe.skipIf(skip)("runEventCommand", () => {
  it("adds the entry (with its other fields), sets the expiry when given, and publishes the event after it; an id the stream has publishes nothing", async () => {
    const runId = `run-${randomUUID()}`;
    const key = runStreamKey(runId);
    const heard: string[] = [];
    await subscriber.subscribe(runChannel(runId), (message) => heard.push(message));
    try {
      const first = JSON.stringify({ type: "run-start", runId });
      expect(await command.sendCommand(runEventCommand(runId, 1, first, "60000", ["u", "user-1", "o", "replica-1"]))).toBe("1-0");
      const second = JSON.stringify({ type: "token", text: "hi" });
      expect(await command.sendCommand(runEventCommand(runId, 3, second, undefined, []))).toBe("3-0");
      // Seq 3 again (a closer that published it already), and a lower one: refused, as a plain XADD refuses them.
      for (const seq of [3, 2]) {
        await expect(command.sendCommand(runEventCommand(runId, seq, "{}", undefined, []))).rejects.toThrow(/equal or smaller than the target stream top item/);
      }
      const entries = (await command.sendCommand(["XRANGE", key, "-", "+"])) as unknown[];
      expect(entries.map((entry) => [seqOf((entry as [string])[0]), entryJson(entry)])).toEqual([
        [1, first],
        [3, second],
      ]);
      expect((entries[0] as [string, string[]])[1]).toEqual(["e", first, "u", "user-1", "o", "replica-1"]);
      const ttl = Number(await command.sendCommand(["PTTL", key]));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
      // Published after the others on the same connection: heard after them.
      await command.sendCommand(["PUBLISH", runChannel(runId), "end"]);
      await eventually(() => heard.at(-1) === "end", "the last message");
      expect(heard).toEqual([liveMessage(1, first), liveMessage(3, second), "end"]);
    } finally {
      await subscriber.unsubscribe(runChannel(runId));
      await command.sendCommand(["DEL", key]);
    }
  });
});
