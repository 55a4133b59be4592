import { describe, expect, it } from "vitest";
import type { FeedDelivery } from "../feed/feed-events.js";
import { closeRedis, connectionName, openRedis } from "../cluster/redis-connection.js";
import { silentLog } from "../runs/run-log.js";
import { clientList, clusterSkipReason, isBlockedRead, testRedisUrl as redisUrl } from "../test-support/cluster-mode.js";
import { collectRun, eventually as eventuallyWithin, makeClient, tokenText, type Received } from "../test-support/harness.js";
import { ApartPusher } from "../test-support/push-apart.js";
import { stopRedisServer as stopRedis } from "../test-support/redis-server.js";
import { closedPort, eventsPath, prng, rawSubscribe, readAll, type ChildApi } from "../test-support/reliability.js";
import { replicaBed, trpcFailure as failure } from "../test-support/replica-bed.js";

/**
 * Cluster mode (REDIS_URL + DATABASE_URL): two real API processes (src/server.ts as children) on one PostgreSQL and
 * one Redis, no load balancer in between (the tests pick the replica; nginx in front is the cluster-ops suite's). A
 * simulator in the test process answers under the test's control and sees the model requests end.
 *
 * Needs STREAMCHAT_TEST_DATABASE_URL and STREAMCHAT_TEST_REDIS_URL (`scripts/test-services.sh run …` starts both);
 * runs in the postgres project only.
 */

const skipReason = clusterSkipReason("cluster");

const bed = replicaBed({
  // One event per model chunk: the tests count events.
  COALESCE_TOKENS: "0",
  REDIS_URL: redisUrl ?? "",
});

/**
 * The pair most tests share (spawning processes is the slow part on a loaded box): MAX_RUNS_PER_USER=1, and every
 * test leaves no run running. Tests that kill or stop a replica start their own.
 */
let sharedPair: Promise<[ChildApi, ChildApi]> | undefined;
function pair(): Promise<[ChildApi, ChildApi]> {
  sharedPair ??= bed
    .freshData()
    .then((data) => Promise.all([bed.replica(data, { MAX_RUNS_PER_USER: "1" }, { forFile: true }), bed.replica(data, { MAX_RUNS_PER_USER: "1" }, { forFile: true })]));
  return sharedPair;
}

/** Two child processes on a shared 2-core box: conditions get a generous deadline (contract limits stay explicit). */
const eventually = (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) => eventuallyWithin(check, what, timeoutMs);

const ids = (received: Received[]) => received.map((r) => Number(r.id));
let tags = 0;
const newTag = () => `[cluster:${process.pid}:${++tags}]`;

async function healthz(url: string): Promise<{ status: number; body: { ok: boolean; redis?: { ok: boolean } } }> {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, body: (await res.json()) as { ok: boolean; redis?: { ok: boolean } } };
}

/** A tab's conversations.feed on a replica: what it received, and when tRPC reported it open. */
function feedOn(client: ReturnType<typeof makeClient>, lastEventId?: string) {
  const received: FeedDelivery[] = [];
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const subscription = client.conversations.feed.subscribe(
    { ...(lastEventId ? { lastEventId } : {}) },
    { onStarted: () => markStarted(), onData: ({ id, data }) => received.push({ id, event: data }) },
  );
  return { received, started, stop: () => subscription.unsubscribe() };
}

describe.skipIf(skipReason)("two replicas on one PostgreSQL and one Redis", () => {
  it("send on A, stream on B: live, each id once and in order, the same ids as on A; /healthz and /metrics on both", { timeout: 120_000 }, async () => {
    const [a, b] = await pair();
    expect(a.output()).toContain("run streams: redis");
    const onA = makeClient(a.url);
    const onB = makeClient(b.url);
    const tag = newTag();
    const control = bed.sim.control({ lastUserIncludes: tag });
    const { runId, conversationId } = await onA.chat.send.mutate({ message: `${tag} go` });
    await control.connected;
    const sub = rawSubscribe(b.url, eventsPath(runId));
    await control.push({ content: "streamed " });
    await eventually(() => tokenText(sub.received) === "streamed ", "the first token on B");
    for (let i = 0; i < 50; i++) await control.push({ content: `${i} ` });
    await control.push({ done: true });
    expect(await sub.ended).toBe("return");
    const onReplicaA = await collectRun(onA, runId);
    expect(sub.received).toEqual(onReplicaA);
    expect(ids(sub.received)).toEqual(sub.received.map((_, i) => i + 1));
    expect(sub.received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect((await onB.conversations.get.query({ conversationId })).messages.at(-1)?.content).toBe(tokenText(onReplicaA));
    // Resume from any id on B after the end (tokens pushed quickly are coalesced: the run has fewer events than pushes).
    for (const from of [1, Math.floor(onReplicaA.length / 2), onReplicaA.length - 1, onReplicaA.length]) {
      expect((await collectRun(onB, runId, String(from))).map((r) => r.id)).toEqual(onReplicaA.slice(from).map((r) => r.id));
    }
    // An id the run never sent is refused on the replica that did not run it too.
    await expect(collectRun(onB, runId, String(onReplicaA.length + 1))).rejects.toMatchObject({ data: { code: "BAD_REQUEST" } });

    for (const child of [a, b]) {
      expect(await healthz(child.url)).toEqual({ status: 200, body: { ok: true, store: { ok: true }, redis: { ok: true } } });
      const metrics = await fetch(`${child.url}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toMatch(/^streamchat_ttft_seconds_bucket\{le="0.025",replica="[^"]+"\} \d+$/m);
      expect(text).toMatch(/^streamchat_runs_active\{replica="[^"]+"\} 0$/m);
      expect(text).toContain("streamchat_subscriptions_active");
      expect(text).toContain("streamchat_redis_up");
    }
    const metricsA = await (await fetch(`${a.url}/metrics`)).text();
    expect(metricsA).toMatch(/^streamchat_runs_started_total\{replica="[^"]+"\} 1$/m);
    expect(metricsA).toMatch(/^streamchat_runs_finished_total\{reason="stop",replica="[^"]+"\} 1$/m);
    expect(metricsA).toMatch(/^streamchat_ttft_seconds_count\{replica="[^"]+"\} 1$/m);
    // One structured line per run, with the replica that ran it.
    const finished = a
      .output()
      .split("\n")
      .filter((line) => line.includes('"msg":"run finished"'))
      .map((line) => JSON.parse(line) as { runId: string; replicaId: string; outcome: string });
    expect(finished).toEqual([expect.objectContaining({ runId, outcome: "stop", replicaId: expect.any(String) })]);
    expect(a.output()).toContain(`"replicaId":"${finished[0]!.replicaId}"`);
    expect(b.output()).not.toContain('"msg":"run finished"');
  });

  it("conversations.feed: a change made on A reaches the user's feed on B, in order with A's ids; a client resumes on A with B's id", { timeout: 120_000 }, async () => {
    const [a, b] = await pair();
    const onA = makeClient(a.url);
    const onB = makeClient(b.url);
    const tabOnB = feedOn(onB);
    const tabOnA = feedOn(onA);
    // Started means following: the feed's starting point is fixed before tRPC reports the stream open, so the very
    // first change, made right away on the other replica, reaches both.
    await Promise.all([tabOnB.started, tabOnA.started]);
    const first = await onA.chat.send.mutate({ message: `${newTag()} hello` });
    const conversationId = first.conversationId;
    await collectRun(onA, first.runId);
    const { runId } = await onA.chat.send.mutate({ message: `${newTag()} again`, conversationId });
    await collectRun(onA, runId);
    await onA.conversations.rename.mutate({ conversationId, title: "Across replicas" });
    // The conversation's changes, leaving out a generated title (GENERATE_TITLES).
    const ofIt = (items: FeedDelivery[]) =>
      items.filter(
        (d) =>
          "conversationId" in d.event &&
          d.event.conversationId === conversationId &&
          (d.event.type !== "title-changed" || d.event.title === "Across replicas"),
      );
    const kinds = (items: FeedDelivery[]) => ofIt(items).map((d) => d.event.type);
    await eventually(() => kinds(tabOnB.received).includes("title-changed"), "the rename on B");
    await eventually(() => kinds(tabOnA.received).includes("title-changed"), "the rename on A");
    const oneRun = ["message-added", "run-started", "message-added", "run-finished"];
    expect(kinds(tabOnB.received)).toEqual([...oneRun, ...oneRun, "title-changed"]);
    expect(ofIt(tabOnA.received)).toEqual(ofIt(tabOnB.received));
    tabOnA.stop();
    tabOnB.stop();
    // A client that saw only the first change on B reconnects to A: it gets the rest, nothing twice.
    const seen = ofIt(tabOnB.received);
    const resumed = feedOn(onA, seen[0]!.id);
    await eventually(() => kinds(resumed.received).includes("title-changed"), "the rest on A");
    expect(ofIt(resumed.received)).toEqual(seen.slice(1));
    resumed.stop();
  });

  it("cancel on B stops A's model request; the run ends cancelled everywhere and its slot is free within 5 s", { timeout: 120_000 }, async () => {
    const [a, b] = await pair();
    const onA = makeClient(a.url);
    const onB = makeClient(b.url);
    const tag = newTag();
    const control = bed.sim.control({ lastUserIncludes: tag });
    const { runId, conversationId } = await onA.chat.send.mutate({ message: `${tag} go` });
    await control.connected;
    await control.push({ content: "partial" });
    const sub = rawSubscribe(b.url, eventsPath(runId));
    await eventually(() => tokenText(sub.received) === "partial", "the token on B");
    expect(await onB.chat.cancel.mutate({ runId })).toEqual({ cancelled: true });
    // The simulator sees A's request to it closed.
    await control.closedByClient;
    expect(await sub.ended).toBe("return");
    expect(sub.received.at(-1)?.event).toMatchObject({ type: "done", reason: "cancelled" });
    expect(ids(sub.received)).toEqual(sub.received.map((_, i) => i + 1));
    const freedBy = Date.now() + 5000;
    await eventually(async () => (await onB.conversations.get.query({ conversationId })).activeRunId === null, "the conversation free", 5000);
    const tag2 = newTag();
    const control2 = bed.sim.control({ lastUserIncludes: tag2 });
    const next = await onB.chat.send.mutate({ conversationId, message: `${tag2} again` });
    expect(Date.now()).toBeLessThan(freedBy);
    await control2.connected;
    await control2.push({ content: "ok" });
    await control2.push({ done: true });
    expect((await collectRun(onA, next.runId)).at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(await onA.chat.cancel.mutate({ runId })).toEqual({ cancelled: false, reason: "ended" });
  });

  it("limits across replicas: one running run per conversation, MAX_RUNS_PER_USER, one run per clientRequestId", { timeout: 120_000 }, async () => {
    const [a, b] = await pair();
    const onA = makeClient(a.url);
    const onB = makeClient(b.url);
    const tag = newTag();
    const control = bed.sim.control({ lastUserIncludes: tag });
    const [viaA, viaB] = await Promise.all([
      onA.chat.send.mutate({ message: `${tag} go`, clientRequestId: "one" }),
      onB.chat.send.mutate({ message: `${tag} go`, clientRequestId: "one" }),
    ]);
    expect(viaB).toEqual(viaA);
    await control.connected;
    expect(await failure(onB.chat.send.mutate({ message: "another" }))).toMatchObject({
      code: "TOO_MANY_REQUESTS",
      appCode: "rate_limited",
      httpStatus: 429,
    });
    expect(await failure(onA.chat.send.mutate({ message: "another" }))).toMatchObject({ appCode: "rate_limited" });
    expect(await failure(onB.chat.send.mutate({ conversationId: viaA.conversationId, message: "me too" }))).toMatchObject({
      code: "CONFLICT",
    });
    // Whichever replica executes it, a cancel through the other frees the user's place.
    expect(await onB.chat.cancel.mutate({ runId: viaA.runId })).toEqual({ cancelled: true });
    await control.closedByClient;
    await eventually(
      async () => {
        const tag2 = newTag();
        const control2 = bed.sim.control({ lastUserIncludes: tag2 });
        try {
          const next = await onB.chat.send.mutate({ message: `${tag2} now` });
          await control2.connected;
          await control2.push({ done: true });
          await collectRun(onB, next.runId);
          return true;
        } catch {
          return false;
        }
      },
      "a new send to be accepted",
      5000,
    );
  });

  it("SIGKILL of the replica running an answer: its followers on the other end with interrupted + done above every id sent, within 15 s", { timeout: 120_000 }, async () => {
    const data = await bed.freshData();
    const [a, b] = await Promise.all([bed.replica(data, { MAX_RUNS_PER_USER: "1" }), bed.replica(data, { MAX_RUNS_PER_USER: "1" })]);
    const onA = makeClient(a.url);
    const onB = makeClient(b.url);
    const tag = newTag();
    const control = bed.sim.control({ lastUserIncludes: tag });
    const { runId, conversationId } = await onA.chat.send.mutate({ message: `${tag} go` });
    await control.connected;
    for (let i = 0; i < 20; i++) await control.push({ content: `${i} ` });
    const sub = rawSubscribe(b.url, eventsPath(runId));
    const streamed = Array.from({ length: 20 }, (_, i) => `${i} `).join("");
    await eventually(() => tokenText(sub.received) === streamed, "the tokens on B");
    const sent = sub.received.length;
    const killedAt = Date.now();
    await a.kill("SIGKILL");
    await control.closedByClient;
    expect(await sub.ended).toBe("return");
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    const closing = sub.received.slice(-2);
    expect(closing.map((r) => r.event)).toEqual([
      expect.objectContaining({ type: "error", code: "interrupted" }),
      expect.objectContaining({ type: "done", reason: "interrupted" }),
    ]);
    expect(Number(closing[0]!.id)).toBeGreaterThan(sent);
    expect(Number(closing[1]!.id)).toBe(Number(closing[0]!.id) + 1);
    expect(ids(sub.received.slice(0, -2))).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
    // No run stays running, and the user's place is free again.
    expect((await onB.conversations.get.query({ conversationId })).activeRunId).toBeNull();
    const tag2 = newTag();
    const control2 = bed.sim.control({ lastUserIncludes: tag2 });
    const next = await onB.chat.send.mutate({ conversationId, message: `${tag2} again` });
    await control2.connected;
    await control2.push({ done: true });
    expect((await collectRun(onB, next.runId)).at(-1)?.event).toMatchObject({ type: "done" });
  });

  it("SIGTERM of one replica: it finishes its answer within the grace period; followers it served resume on the other", { timeout: 120_000 }, async () => {
    const data = await bed.freshData();
    const [a, b] = await Promise.all([bed.replica(data, { SHUTDOWN_GRACE_MS: "10000" }), bed.replica(data)]);
    const onA = makeClient(a.url);
    const tag = newTag();
    const control = bed.sim.control({ lastUserIncludes: tag });
    const { runId } = await onA.chat.send.mutate({ message: `${tag} go` });
    await control.connected;
    await control.push({ content: "before " });
    const sub = rawSubscribe(a.url, eventsPath(runId));
    await eventually(() => tokenText(sub.received) === "before ", "the token on A");
    const stopped = a.kill("SIGTERM");
    await eventually(() => a.output().includes('"msg":"shutting down"'), "A to start shutting down");
    // The answer goes on while A drains.
    await control.push({ content: "during" });
    await control.push({ done: true });
    await stopped;
    expect(a.child.exitCode).toBe(0);
    // The client resumes on B from the last id it had.
    const lastSeen = sub.received.at(-1)!.id;
    const resumed = await readAll(b.url, eventsPath(runId), { lastEventId: lastSeen });
    const all = [...sub.received, ...resumed.received];
    expect(ids(all)).toEqual(all.map((_, i) => i + 1));
    expect(tokenText(all)).toBe("before during");
    expect(all.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
  });

  it("SIGTERM with an answer longer than the grace period: A closes it as interrupted, B's followers get the end", { timeout: 120_000 }, async () => {
    const data = await bed.freshData();
    const [a, b] = await Promise.all([bed.replica(data, { SHUTDOWN_GRACE_MS: "300" }), bed.replica(data)]);
    const onA = makeClient(a.url);
    const tag = newTag();
    const control = bed.sim.control({ lastUserIncludes: tag });
    const { runId, conversationId } = await onA.chat.send.mutate({ message: `${tag} go` });
    await control.connected;
    await control.push({ content: "cut short" });
    const sub = rawSubscribe(b.url, eventsPath(runId));
    await eventually(() => tokenText(sub.received) === "cut short", "the token on B");
    await a.kill("SIGTERM");
    expect(a.child.exitCode).toBe(0);
    await control.closedByClient;
    expect(await sub.ended).toBe("return");
    expect(sub.received.slice(-2).map((r) => r.event)).toEqual([
      expect.objectContaining({ type: "error", code: "interrupted" }),
      expect.objectContaining({ type: "done", reason: "interrupted" }),
    ]);
    expect(ids(sub.received)).toEqual(sub.received.map((_, i) => i + 1));
    expect((await makeClient(b.url).conversations.get.query({ conversationId })).activeRunId).toBeNull();
  });

  it("start-up with an unreachable REDIS_URL: one line naming it and where it points, exit 1", { timeout: 120_000 }, async () => {
    const data = await bed.freshData();
    const port = await closedPort();
    const failed = await bed.replica(data, { REDIS_URL: `redis://:hunter2@127.0.0.1:${port}` }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(Error);
    const message = (failed as Error).message;
    expect(message).toContain("exited (1)");
    expect(message).toContain(`REDIS_URL: cannot reach Redis at 127.0.0.1:${port}`);
    expect(message).not.toContain("hunter2");
  });

  it("a reconnect storm across the two replicas: 0 lost and 0 duplicated events", { timeout: 120_000 }, async () => {
    const [a, b] = await pair();
    const urls = [a.url, b.url];
    const tag = newTag();
    const control = bed.sim.control({ lastUserIncludes: tag });
    const { runId } = await makeClient(a.url).chat.send.mutate({ message: `${tag} go` });
    await control.connected;
    const random = prng(11);
    const clients = 12;
    const reconnects = { count: 0 };
    const storm = Array.from({ length: clients }, async (_, client) => {
      const got: Received[] = [];
      let replicaIndex = client % 2;
      for (;;) {
        // Each connection takes a few events, then the client vanishes and comes back on the other replica.
        const take = 1 + Math.floor(random() * 25);
        let taken = 0;
        let cut = false;
        const lastEventId = got.at(-1)?.id;
        const sub = rawSubscribe(urls[replicaIndex]!, eventsPath(runId), {
          ...(lastEventId ? { lastEventId } : {}),
          onEvent: (r) => {
            if (cut) return; // arrived in the same chunk after the client decided to leave: it never saw it
            got.push(r);
            if (++taken >= take && r.event.type !== "done") {
              cut = true;
              sub.destroy();
            }
          },
        });
        const how = await sub.ended;
        if (how === "return") return got;
        expect(cut || how === "closed").toBe(true);
        reconnects.count++;
        replicaIndex = 1 - replicaIndex;
      }
    });
    // A steady follower, so that each push is an event of its own (see ApartPusher): the storm needs many.
    const pusher = new ApartPusher(control);
    const steady = rawSubscribe(a.url, eventsPath(runId), { onEvent: (r) => pusher.seen(r.event) });
    for (let i = 0; i < 300; i++) {
      await pusher.push(`${i} `);
      if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await control.push({ done: true });
    expect(await steady.ended).toBe("return");
    const results = await Promise.all(storm);
    const reference = await collectRun(makeClient(b.url), runId);
    expect(reference.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    for (const got of results) expect(got).toEqual(reference);
    expect(reconnects.count).toBeGreaterThan(clients * 5);
  });
});

describe.skipIf(skipReason)("Redis faults under two replicas", () => {
  it("each replica holds three Redis connections: the feeds in one blocked XREAD, a run followed from the other replica on its subscriber (one channel, let go at the end)", { timeout: 120_000 }, async () => {
    const data = await bed.freshData();
    const port = await closedPort();
    await bed.redisServer(port);
    const redisUrl = `redis://127.0.0.1:${port}`;
    const [a, b] = await Promise.all([bed.replica(data, { REDIS_URL: redisUrl }), bed.replica(data, { REDIS_URL: redisUrl })]);
    const probe = await openRedis({ url: redisUrl, role: "test", log: silentLog });
    try {
      const onA = makeClient(a.url);
      const onB = makeClient(b.url);
      // B follows a run executing on A (through the run's channel, on its subscriber) and serves a tab's feed (through
      // its one reader).
      const tab = feedOn(onB);
      await tab.started;
      const tag = newTag();
      const control = bed.sim.control({ lastUserIncludes: tag });
      const { runId } = await onA.chat.send.mutate({ message: `${tag} go` });
      await control.connected;
      const sub = rawSubscribe(b.url, eventsPath(runId));
      await control.push({ content: "shared" });
      await eventually(() => tokenText(sub.received) === "shared", "the token on B");
      const replicaIdOf = (child: ChildApi) => /"replicaId":"([^"]+)"/.exec(child.output())?.[1] ?? "";
      const probeId = String(await probe.sendCommand(["CLIENT", "ID"]));
      const clients = async () => (await clientList(probe)).filter((c) => c["id"] !== probeId);
      // Each replica's reader spends its time blocked; between two reads it is briefly not (its XREAD times out every
      // few seconds, and a replica the loaded box does not schedule at once is unblocked for longer): every check is
      // on the one CLIENT LIST in which both were blocked, not on a later one.
      let all: Array<Record<string, string>> = [];
      await eventually(async () => {
        all = await clients();
        return all.filter(isBlockedRead).length === 2;
      }, "both readers blocked in XREAD");
      expect(all).toHaveLength(6);
      for (const child of [a, b]) {
        const id = replicaIdOf(child);
        expect(all.map((c) => c["name"]).filter((name) => name?.startsWith(`streamchat:${id}:`)).sort()).toEqual(
          [connectionName(id, "commands"), connectionName(id, "subscriber"), connectionName(id, "stream reader")].sort(),
        );
      }
      expect(all.filter(isBlockedRead).map((c) => c["name"]).sort()).toEqual([a, b].map((child) => connectionName(replicaIdOf(child), "stream reader")).sort());
      // Channels subscribed (CLIENT LIST's `sub`): each replica's control channel; on B also the run's.
      const subscriptions = async () =>
        Object.fromEntries(
          (await clients()).filter((c) => c["name"]?.endsWith(":subscriber")).map((c) => [c["name"], Number(c["sub"])]),
        );
      const subscriberOf = (child: ChildApi) => connectionName(replicaIdOf(child), "subscriber");
      expect(await subscriptions()).toEqual({ [subscriberOf(a)]: 1, [subscriberOf(b)]: 2 });
      // The feed on B's reader follows: the run's end reaches the tab on B.
      await control.push({ done: true });
      expect(await sub.ended).toBe("return");
      await eventually(async () => (await subscriptions())[subscriberOf(b)] === 1, "B lets go of the run's channel");
      await eventually(() => tab.received.some((d) => d.event.type === "run-finished" && d.event.runId === runId), "the run's end in the feed on B");
      tab.stop();
    } finally {
      await closeRedis(probe);
    }
  });

  it("Redis down: sends fail fast with a typed error, /healthz 503, the running answer ends with a typed error; all recovers when Redis returns", { timeout: 120_000 }, async () => {
    const data = await bed.freshData();
    const port = await closedPort();
    let redis = await bed.redisServer(port);
    const env = { REDIS_URL: `redis://127.0.0.1:${port}` };
    const [a, b] = await Promise.all([bed.replica(data, env), bed.replica(data, env)]);
    const onA = makeClient(a.url);
    const onB = makeClient(b.url);
    const tag = newTag();
    const control = bed.sim.control({ lastUserIncludes: tag });
    const { runId } = await onA.chat.send.mutate({ message: `${tag} go` });
    await control.connected;
    await control.push({ content: "before" });
    const sub = rawSubscribe(b.url, eventsPath(runId));
    await eventually(() => tokenText(sub.received) === "before", "the token on B");
    // A tab's feed on B, open across the outage.
    const tab = feedOn(onB);
    await tab.started;

    await stopRedis(redis);
    await eventually(async () => (await healthz(a.url)).status === 503 && (await healthz(b.url)).status === 503, "/healthz 503");
    expect((await healthz(b.url)).body).toMatchObject({ ok: false, store: { ok: true }, redis: { ok: false } });
    // The answer streaming on A cannot reach its followers any more: it is stopped (A's model request closes) and
    // ends with a typed error, which B's follower reads from the database.
    await control.push({ content: " after" }).catch(() => {});
    await control.closedByClient;
    expect(await sub.ended).toBe("return");
    expect(sub.received.slice(-2).map((r) => r.event)).toEqual([
      expect.objectContaining({ type: "error", code: "internal" }),
      expect.objectContaining({ type: "done", reason: "error" }),
    ]);
    expect(ids(sub.received)).toEqual([...new Set(ids(sub.received))].sort((x, y) => x - y));
    // New sends fail fast, on either replica, with a typed error; nothing crashed.
    for (const client of [onA, onB]) {
      expect(await failure(client.chat.send.mutate({ message: "while down" }))).toMatchObject({
        code: "SERVICE_UNAVAILABLE",
        httpStatus: 503,
      });
    }
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();

    redis = await bed.redisServer(port);
    await eventually(async () => (await healthz(a.url)).status === 200 && (await healthz(b.url)).status === 200, "/healthz 200 again", 15_000);
    const tag2 = newTag();
    const control2 = bed.sim.control({ lastUserIncludes: tag2 });
    const next = await onA.chat.send.mutate({ message: `${tag2} back` });
    await control2.connected;
    const onReplicaB = collectRun(onB, next.runId);
    await control2.push({ content: "back again" });
    await control2.push({ done: true });
    const received = await onReplicaB;
    expect(tokenText(received)).toBe("back again");
    expect(ids(received)).toEqual(received.map((_, i) => i + 1));
    // The feed opened before the outage follows again: the new answer's changes made on A reach the tab on B.
    const ofNext = () => tab.received.filter((d) => "runId" in d.event && d.event.runId === next.runId).map((d) => d.event.type);
    await eventually(() => ofNext().includes("run-finished"), "the new run's end in the feed on B");
    expect(ofNext()).toEqual(["message-added", "run-started", "message-added", "run-finished"]);
    tab.stop();
    // Cancel reaches the other replica again (the control subscription came back).
    const tag3 = newTag();
    const control3 = bed.sim.control({ lastUserIncludes: tag3 });
    const third = await onA.chat.send.mutate({ message: `${tag3} cancel me` });
    await control3.connected;
    expect(await onB.chat.cancel.mutate({ runId: third.runId })).toEqual({ cancelled: true });
    await control3.closedByClient;
  });
});
