import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTcpRelay } from "@streamchat/core/test-support";
import { clientList, clusterSkipReason, isBlockedRead, testRedisUrl as redisUrl } from "../test-support/cluster-mode.js";
import { eventually, startTestApi } from "../test-support/harness.js";
import { silentLog } from "../runs/run-log.js";
import { closeRedis, connectionName, openRedis, type Redis } from "./redis-connection.js";

/**
 * An API process in cluster mode (REDIS_URL + DATABASE_URL, in this test process) and its Redis connections, as
 * Redis sees them (CLIENT LIST, by the names `streamchat:<replicaId>:<role>`): three, the run streams and the
 * conversation feed sharing the command connection and the one blocking reader; all gone once the API closed,
 * also with a feed open and the reader blocked. Postgres project only (cluster mode needs PostgreSQL).
 */

const skip = clusterSkipReason("replica-connections");

let probe: Redis | undefined;
beforeAll(async () => {
  if (!skip) probe = await openRedis({ url: redisUrl!, role: "test", log: silentLog });
});
afterAll(async () => {
  if (probe) await closeRedis(probe);
});

/** CLIENT LIST: the connections named for `replicaId`. */
async function connectionsOf(replicaId: string): Promise<Array<Record<string, string>>> {
  return (await clientList(probe!)).filter((client) => client["name"]?.startsWith(`streamchat:${replicaId}:`));
}

describe.skipIf(skip)("a replica's Redis connections", () => {
  it("three (commands, the one stream reader, the subscriber), the feed reading through the same reader; all closed with the API", { timeout: 60_000 }, async () => {
    const api = await startTestApi({ env: { REDIS_URL: redisUrl! } });
    let closed = false;
    try {
      const { replicaId } = api.server;
      const client = api.client();
      const delivered: string[] = [];
      let started!: () => void;
      const opened = new Promise<void>((resolve) => (started = resolve));
      const subscription = client.conversations.feed.subscribe(
        {},
        { onStarted: () => started(), onData: ({ data }) => delivered.push(data.type) },
      );
      await opened;
      await eventually(async () => (await connectionsOf(replicaId)).some(isBlockedRead), "the reader blocked");
      const connections = await connectionsOf(replicaId);
      expect(connections.map((c) => c["name"]).sort()).toEqual(
        ["commands", "subscriber", "stream reader"].map((role) => connectionName(replicaId, role)).sort(),
      );
      expect(connections.filter((c) => c["cmd"] === "xread").map((c) => c["name"])).toEqual([connectionName(replicaId, "stream reader")]);
      // The feed is read by that reader: a change reaches the open subscription.
      const { conversationId } = await client.chat.send.mutate({ message: `hello ${randomUUID()}` });
      await eventually(() => delivered.includes("run-finished"), "the run's end in the feed");
      await client.conversations.rename.mutate({ conversationId, title: "renamed" });
      await eventually(() => delivered.includes("title-changed"), "the rename in the feed");
      // Closed with the feed still open and the reader blocked: close returns, and Redis sees every connection go.
      await api.close();
      closed = true;
      subscription.unsubscribe();
      await eventually(async () => (await connectionsOf(replicaId)).length === 0, "the replica's connections closed");
    } finally {
      if (!closed) await api.close();
    }
  });
});

describe.skipIf(skip)("a replica's Redis watchdogs (REDIS_UNANSWERED_MS)", () => {
  it("break its command and subscriber connections off at the configured deadline when Redis stops answering", { timeout: 60_000 }, async () => {
    // Through a relay the test freezes: Redis keeps the connections but answers nothing.
    const relay = await startTcpRelay(redisUrl!);
    const api = await startTestApi({ env: { REDIS_URL: relay.url, REDIS_UNANSWERED_MS: "3000" } });
    // A clock on the same freeze, no wall-clock bound: a connection of the test's own with a 6-s deadline. The
    // replica's connections with 3 s are broken off before it is; with the 10-s default (every connection before
    // REDIS_UNANSWERED_MS, and the subscriber even once the others took a deadline) after it.
    let referenceBrokenOff = false;
    const reference = await openRedis({
      url: relay.url,
      role: "reference",
      unansweredMs: 6000,
      log: { info() {}, error() {}, warn: (_obj, msg) => void (referenceBrokenOff ||= msg === "Redis stopped answering; reconnecting") },
    });
    try {
      const { replicaId } = api.server;
      const watched = [connectionName(replicaId, "commands"), connectionName(replicaId, "subscriber")];
      await eventually(async () => (await connectionsOf(replicaId)).length === 3, "the replica's three connections");
      // By id: a connection that reconnects gets a new one (under the same name: its handshake reaches Redis).
      const ids = new Map((await connectionsOf(replicaId)).map((c) => [c["name"], c["id"]]));
      relay.freeze();
      await eventually(() => referenceBrokenOff, "the reference connection broken off", 30_000);
      const open = new Set((await clientList(probe!)).map((c) => c["id"]));
      expect(watched.filter((name) => open.has(ids.get(name)))).toEqual([]);
    } finally {
      relay.thaw();
      await closeRedis(reference);
      await api.close();
      await relay.close();
    }
  });
});
