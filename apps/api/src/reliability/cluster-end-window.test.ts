import { describe, expect, it } from "vitest";
import { startTcpRelay } from "@streamchat/core/test-support";
import type { FeedDelivery } from "../feed/feed-events.js";
import { clusterSkipReason, testRedisUrl as redisUrl } from "../test-support/cluster-mode.js";
import { eventually, makeClient, tokenText } from "../test-support/harness.js";
import { eventsPath, rawSubscribe } from "../test-support/reliability.js";
import { replicaBed } from "../test-support/replica-bed.js";

/**
 * Cluster mode (REDIS_URL + DATABASE_URL): a replica that dies after it committed an answer's `done` to the
 * database and before it published that end (to the run's Redis stream and to the user's conversation feed). Its
 * Redis connections go through a proxy that drops everything from the done's XADD on, as a process killed at that
 * instant would never send it; then it is SIGKILLed. The run is no longer `running`, so the orphan sweep, which
 * closes running runs, has nothing to close: the other replica must still announce the end.
 *
 * Needs STREAMCHAT_TEST_DATABASE_URL and STREAMCHAT_TEST_REDIS_URL (`scripts/test-services.sh run …`); postgres
 * project only.
 */

const skipReason = clusterSkipReason("cluster-end-window");

const bed = replicaBed({ GENERATE_TITLES: "0", REDIS_URL: redisUrl ?? "" });

/** A tab's conversations.feed on a replica: what it received, and when tRPC reported it open. */
function feedOn(client: ReturnType<typeof makeClient>) {
  const received: FeedDelivery[] = [];
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const subscription = client.conversations.feed.subscribe({}, { onStarted: () => markStarted(), onData: ({ id, data }) => received.push({ id, event: data }) });
  return { received, started, stop: () => subscription.unsubscribe() };
}

describe.skipIf(skipReason)("a replica dying between committing a run's done and publishing it", () => {
  it("the other replica's follower gets the done, and the user's feed gets the run's run-finished once", { timeout: 120_000 }, async () => {
    const data = await bed.freshData();
    const proxy = await startTcpRelay(redisUrl ?? "");
    bed.afterTest(() => proxy.close());
    const [a, b] = await Promise.all([bed.replica(data, { REDIS_URL: proxy.url }), bed.replica(data)]);
    const onA = makeClient(a.url);
    const onB = makeClient(b.url);
    // A tab on B: it hears of the run A starts, and must hear of its end.
    const tab = feedOn(onB);
    await tab.started;
    const tag = `[end-window:${process.pid}]`;
    const control = bed.sim.control({ lastUserIncludes: tag });
    const { runId, conversationId } = await onA.chat.send.mutate({ message: `${tag} go` });
    await control.connected;
    await control.push({ content: "answered" });
    const sub = rawSubscribe(b.url, eventsPath(runId));
    await eventually(() => tokenText(sub.received) === "answered", "the token on B", 30_000);
    const ofRun = (type: string) => tab.received.filter((d) => d.event.type === type && "runId" in d.event && d.event.runId === runId);
    await eventually(() => ofRun("run-started").length === 1, "run-started in the feed on B", 30_000);

    // A publishes the done only after its commit: once its XADD is on the way, the database has the end.
    const cut = proxy.cutFrom('"type":"done"');
    await control.push({ done: true });
    await cut;
    const store = await data.openStore();
    try {
      expect(await store.getRun(runId)).toMatchObject({ status: "done", reason: "stop" });
    } finally {
      await store.close();
    }
    await a.kill("SIGKILL");

    // chat.events on B ends with the run's own done.
    expect(await sub.ended).toBe("return");
    expect(sub.received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    // The feed tells B's tab that the run finished: it refetches and stops showing the conversation as answering.
    await eventually(() => ofRun("run-finished").length > 0, "run-finished in the feed on B", 30_000);
    expect(ofRun("run-finished").map((d) => d.event)).toEqual([expect.objectContaining({ type: "run-finished", conversationId, reason: "stop" })]);
    expect((await onB.conversations.get.query({ conversationId })).activeRunId).toBeNull();
    expect(b.output()).toContain("announced the end of a run whose process died before it could");
    // Once: a later sweep does not announce it again (a new change in the feed comes after nothing more of it).
    await onB.conversations.rename.mutate({ conversationId, title: "after the end" });
    await eventually(() => tab.received.some((d) => d.event.type === "title-changed"), "the rename in the feed on B", 30_000);
    expect(ofRun("run-finished")).toHaveLength(1);
    tab.stop();
  });
});
