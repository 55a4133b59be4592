import { afterEach, describe, expect, it, vi } from "vitest";
import { silentLog } from "../runs/run-log.js";
import { closeRedis, openRedis } from "./redis-connection.js";

const redisUrl = process.env["STREAMCHAT_TEST_REDIS_URL"];
const skip = redisUrl ? undefined : "STREAMCHAT_TEST_REDIS_URL is not set (run it under scripts/test-services.sh run …)";
if (skip) console.warn(`[redis-connection] SKIPPED: ${skip}`);

describe.skipIf(skip)("openRedis", () => {
  afterEach(() => vi.restoreAllMocks());

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
