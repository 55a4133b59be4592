import { describe, expect, it } from "vitest";
import { startTcpRelay, type TcpRelay } from "@streamchat/core/test-support";
import type { TestData } from "../test-support/backend.js";
import { clusterSkipReason } from "../test-support/cluster-mode.js";
import { eventually, makeClient, tokenText, type Received } from "../test-support/harness.js";
import { stopRedisServer as stopRedis } from "../test-support/redis-server.js";
import { closedPort, eventsPath, rawSubscribe, type ChildApi, type RawSubscription } from "../test-support/reliability.js";
import { replicaBed } from "../test-support/replica-bed.js";

/**
 * Cluster mode (REDIS_URL + DATABASE_URL), two replicas: the window between an event's XADD to the run's Redis
 * stream and its commit to PostgreSQL (events are committed in batches, EVENT_FLUSH_MS later; a follower on another
 * replica gets them from the stream first). The owner's database connections go through a relay that holds what it
 * sends (its batches are not committed) for as long as the test needs: the window stays open with no timing
 * assumption.
 *
 * - A follower that joins on the other replica inside the window, from the start or from a Last-Event-ID only the
 *   stream has: each id once, in order.
 * - The same window when the stream loses the events in it (Redis restarted, as it keeps no data): a follower that
 *   joins afterwards finds them in neither history (stream lost, log not committed yet) and must wait for the log,
 *   not jump over them to the next live event.
 * - The owner out of reach of Redis for a moment: the events it could not add are missing from the stream (its
 *   closing events come after them there); history fills the hole from the log.
 * - SIGKILL of the owner inside the window (alone, and after a Redis restart lost part of the stream); the follower's
 *   own replica losing Redis inside the window.
 *
 * Needs STREAMCHAT_TEST_DATABASE_URL and STREAMCHAT_TEST_REDIS_URL (`scripts/test-services.sh run …`); postgres
 * project only. The second test runs a redis-server of its own (it restarts it).
 */

const skipReason = clusterSkipReason("cluster-commit-window");

const bed = replicaBed({
  GENERATE_TITLES: "0",
  // One event per model chunk: the test counts events.
  COALESCE_TOKENS: "0",
});

/** Core's TCP relay, closed after each test. */
async function relay(targetUrl: string): Promise<TcpRelay> {
  const started = await startTcpRelay(targetUrl);
  bed.afterTest(() => started.close());
  return started;
}

/** A run started on replica A, its model answer held by the simulator (`control`) until the test pushes tokens. */
async function runOnA(a: ChildApi, n: number) {
  const tag = `[commit-window:${process.pid}:${n}]`;
  const control = bed.sim.control({ lastUserIncludes: tag });
  const { runId, conversationId } = await makeClient(a.url).chat.send.mutate({ message: `${tag} go` });
  await control.connected;
  return { runId, conversationId, control };
}

/** The shared database (a store of the test's own), once it has committed what `follower` received so far. */
async function committedUpTo(data: TestData, runId: string, follower: RawSubscription) {
  const store = await data.openStore();
  bed.afterTest(() => store.close());
  await eventually(async () => (await store.lastSeq(runId)) === Number(follower.received.at(-1)?.id), "the first token committed", 30_000);
  return { store, committed: await store.lastSeq(runId) };
}

const ids = (received: Received[]) => received.map((r) => Number(r.id));
const lines = (child: ChildApi, ...parts: string[]) => child.output().split("\n").filter((line) => parts.every((part) => line.includes(part))).length;

/** Each id once and in order, from 1 (no Last-Event-ID) or from after `from`, ending with one done. */
function expectWhole(received: Received[], from = 0) {
  expect(ids(received)).toEqual(received.map((_, i) => from + i + 1));
  expect(received.filter((r) => r.event.type === "done")).toHaveLength(1);
  expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
}

describe.skipIf(skipReason)("a follower on another replica inside the window between Redis and the database commit", () => {
  it("joins while the stream has events the log has not committed: from the start and from a Last-Event-ID, each id once and in order", { timeout: 120_000 }, async () => {
    const data = await bed.freshData();
    const database = await relay(data.url ?? "");
    const redisUrl = process.env["STREAMCHAT_TEST_REDIS_URL"] ?? "";
    const [a, b] = await Promise.all([bed.replica(data, { DATABASE_URL: database.url, REDIS_URL: redisUrl }), bed.replica(data, { REDIS_URL: redisUrl })]);
    const { runId, control } = await runOnA(a, 1);
    const first = rawSubscribe(b.url, eventsPath(runId));
    let text = "";
    const push = async (content: string) => {
      text += content;
      await control.push({ content });
      await eventually(() => tokenText(first.received) === text, `"${content}" on B`, 30_000);
    };
    await push("a ");
    const { store, committed } = await committedUpTo(data, runId, first);

    // A's commits stop reaching the database: what it streams now is in the Redis stream only.
    database.holdRequests();
    for (const word of ["b ", "c ", "d "]) await push(word);
    expect(await store.lastSeq(runId)).toBe(committed);
    const top = Number(first.received.at(-1)?.id);
    expect(top).toBeGreaterThan(committed);

    // Followers that join on B now: from the start, and from an id the database does not have.
    const fromStart = rawSubscribe(b.url, eventsPath(runId));
    const fromMiddle = rawSubscribe(b.url, eventsPath(runId), { lastEventId: String(committed + 1) });
    await eventually(() => tokenText(fromStart.received) === text, "the stream's history on the late follower", 30_000);
    await eventually(() => Number(fromMiddle.received.at(-1)?.id) === top, "the stream's history on the resumed follower", 30_000);
    await push("e ");
    expect(await store.lastSeq(runId)).toBe(committed);

    database.releaseRequests();
    await control.push({ content: "f " });
    text += "f ";
    await control.push({ done: true });
    const subs: Array<[RawSubscription, number]> = [
      [first, 0],
      [fromStart, 0],
      [fromMiddle, committed + 1],
    ];
    for (const [sub] of subs) expect(await sub.ended).toBe("return");
    for (const [sub, from] of subs) expectWhole(sub.received, from);
    expect(tokenText(first.received)).toBe(text);
    expect(tokenText(fromStart.received)).toBe(text);
    // The same events under the same ids as the durable log.
    const logged = await store.readEvents(runId);
    expect(first.received.map((r) => [Number(r.id), r.event.type])).toEqual(logged.map((e) => [e.seq, e.event.type]));
  });

  it("Redis restarts inside the window (the stream loses events the log has not committed yet): a follower that joins after waits for the log instead of skipping them", { timeout: 120_000 }, async () => {
    const data = await bed.freshData();
    const database = await relay(data.url ?? "");
    const port = await closedPort();
    let redis = await bed.redisServer(port);
    const redisUrl = `redis://127.0.0.1:${port}`;
    // B's commands go through a relay that counts its reads of the run's stream.
    const counted = await relay(redisUrl);
    const [a, b] = await Promise.all([bed.replica(data, { DATABASE_URL: database.url, REDIS_URL: redisUrl }), bed.replica(data, { REDIS_URL: counted.url })]);
    const { runId, control } = await runOnA(a, 2);
    const first = rawSubscribe(b.url, eventsPath(runId));
    let text = "";
    const push = async (content: string) => {
      text += content;
      await control.push({ content });
      await eventually(() => tokenText(first.received) === text, `"${content}" on B`, 30_000);
    };
    await push("a ");
    const { store, committed } = await committedUpTo(data, runId, first);

    database.holdRequests();
    for (const word of ["b ", "c "]) await push(word);
    expect(await store.lastSeq(runId)).toBe(committed);

    // Redis restarts while the answer is quiet (nothing is written meanwhile, so the run goes on): "b" and "c" were
    // only in the stream, which is gone.
    const reconnectsA = lines(a, '"role":"commands"', "connected to Redis again");
    const readerBackB = lines(b, "the blocking Redis stream reader is back");
    await stopRedis(redis);
    redis = await bed.redisServer(port);
    await eventually(() => lines(a, '"role":"commands"', "connected to Redis again") > reconnectsA, "A's commands connection back", 30_000);
    await eventually(() => lines(b, "the blocking Redis stream reader is back") > readerBackB, "B's stream reader back", 30_000);
    for (const word of ["d ", "e "]) await push(word);
    expect(await store.lastSeq(runId)).toBe(committed);

    // Joins now: its history is the log up to `committed`, then nothing it can trust until the log has "b" and "c".
    const late = rawSubscribe(b.url, eventsPath(runId));
    await eventually(() => Number(late.received.at(-1)?.id) === committed, "the committed history on the late follower", 30_000);
    const xrange = `XRANGE\r\n$${`streamchat:run:${runId}`.length}\r\nstreamchat:run:${runId}\r\n`;
    const readsBefore = counted.sent(xrange);
    await push("f ");
    // Either it jumped to "f" (over events it never got), or it read the history again twice after "f" came and
    // still waits: both without a clock.
    await eventually(() => late.received.length > committed || counted.sent(xrange) >= readsBefore + 2, "the late follower to move or to read again", 30_000);

    database.releaseRequests();
    await control.push({ done: true });
    expect(await first.ended).toBe("return");
    expect(await late.ended).toBe("return");
    expectWhole(first.received);
    expectWhole(late.received);
    expect(tokenText(late.received)).toBe(text);
    expect(late.received.map((r) => [r.id, r.event])).toEqual(first.received.map((r) => [r.id, r.event]));
  });
  it("the owner loses Redis for a moment (Redis keeps its data): events it could not add are missing from the stream, and a follower that joins after the end still gets them, from the log", { timeout: 120_000 }, async () => {
    const data = await bed.freshData();
    const database = await relay(data.url ?? "");
    const redisUrl = process.env["STREAMCHAT_TEST_REDIS_URL"] ?? "";
    const toRedis = await relay(redisUrl);
    const [a, b] = await Promise.all([bed.replica(data, { DATABASE_URL: database.url, REDIS_URL: toRedis.url }), bed.replica(data, { REDIS_URL: redisUrl })]);
    const { runId, control } = await runOnA(a, 3);
    const first = rawSubscribe(b.url, eventsPath(runId));
    for (const word of ["a ", "b "]) {
      await control.push({ content: word });
      await eventually(() => tokenText(first.received).endsWith(word), `"${word}" on B`, 30_000);
    }

    // A's Redis connections break and stay broken; its database waits (so its run's end is written after Redis is back).
    const lost = lines(a, '"role":"commands"', "lost the connection to Redis");
    toRedis.cut();
    await eventually(() => lines(a, '"role":"commands"', "lost the connection to Redis") > lost, "A to see its Redis connection gone", 30_000);
    database.holdRequests();
    // The token goes to A's log (queued) but not to the stream: the run stops with an internal error.
    await control.push({ content: "c " });
    await eventually(() => lines(a, "storing the run failed; stopping it") > 0, "A to stop the run", 30_000);
    const back = lines(a, '"role":"commands"', "connected to Redis again");
    toRedis.restore();
    await eventually(() => lines(a, '"role":"commands"', "connected to Redis again") > back, "A's commands connection back", 30_000);
    database.releaseRequests();

    expect(await first.ended).toBe("return");
    const store = await data.openStore();
    bed.afterTest(() => store.close());
    const logged = await store.readEvents(runId);
    expect(logged.at(-1)?.event).toMatchObject({ type: "done", reason: "error" });
    expect(logged.map((e) => e.event.type === "token" ? e.event.text : "").join("")).toBe("a b c ");
    const asLogged = logged.map((e) => [String(e.seq), e.event]);
    // The follower that was there all along, and one that joins on B after the end (a reload while the stream lives).
    expect(first.received.map((r) => [r.id, r.event])).toEqual(asLogged);
    const late = rawSubscribe(b.url, eventsPath(runId));
    expect(await late.ended).toBe("return");
    expect(late.received.map((r) => [r.id, r.event])).toEqual(asLogged);
  });
  it("SIGKILL of the owner inside the window: B closes the run above every id the stream had; its followers and a client resuming on B from an id only the stream had get error + done once", { timeout: 120_000 }, async () => {
    const data = await bed.freshData();
    const database = await relay(data.url ?? "");
    const redisUrl = process.env["STREAMCHAT_TEST_REDIS_URL"] ?? "";
    const [a, b] = await Promise.all([bed.replica(data, { DATABASE_URL: database.url, REDIS_URL: redisUrl }), bed.replica(data, { REDIS_URL: redisUrl })]);
    const { runId, conversationId, control } = await runOnA(a, 4);
    const first = rawSubscribe(b.url, eventsPath(runId));
    const push = async (word: string) => {
      await control.push({ content: word });
      await eventually(() => tokenText(first.received).endsWith(word), `"${word}" on B`, 30_000);
    };
    await push("a ");
    const { store, committed } = await committedUpTo(data, runId, first);
    database.holdRequests();
    for (const word of ["b ", "c "]) await push(word);
    const seen = Number(first.received.at(-1)?.id);
    expect(seen).toBeGreaterThan(committed);

    // "b" and "c" die with A (its batch never reached the database); the stream had them.
    await a.kill("SIGKILL");
    await control.closedByClient;
    expect(await first.ended).toBe("return");
    const closing = first.received.slice(-2);
    expect(closing.map((r) => r.event)).toEqual([
      expect.objectContaining({ type: "error", code: "interrupted" }),
      expect.objectContaining({ type: "done", reason: "interrupted" }),
    ]);
    expect(Number(closing[0]!.id)).toBeGreaterThan(seen);
    expect(Number(closing[1]!.id)).toBe(Number(closing[0]!.id) + 1);
    expect(ids(first.received.slice(0, -2))).toEqual(Array.from({ length: seen }, (_, i) => i + 1));
    expect(tokenText(first.received)).toBe("a b c ");

    // A client that saw "c" on A reconnects to B: the end, once. One that joins now: what the stream still has, then the end.
    const resumed = rawSubscribe(b.url, eventsPath(runId), { lastEventId: String(seen) });
    expect(await resumed.ended).toBe("return");
    expect(resumed.received.map((r) => [r.id, r.event])).toEqual(closing.map((r) => [r.id, r.event]));
    const late = rawSubscribe(b.url, eventsPath(runId));
    expect(await late.ended).toBe("return");
    expect(late.received.map((r) => [r.id, r.event])).toEqual(first.received.map((r) => [r.id, r.event]));
    expect((await makeClient(b.url).conversations.get.query({ conversationId })).activeRunId).toBeNull();
  });

  it("the follower's replica loses Redis inside the window (the owner keeps streaming): its followers read the database meanwhile, then go live again, each id once and in order", { timeout: 120_000 }, async () => {
    const data = await bed.freshData();
    const database = await relay(data.url ?? "");
    const redisUrl = process.env["STREAMCHAT_TEST_REDIS_URL"] ?? "";
    const toRedis = await relay(redisUrl);
    const [a, b] = await Promise.all([bed.replica(data, { DATABASE_URL: database.url, REDIS_URL: redisUrl }), bed.replica(data, { REDIS_URL: toRedis.url })]);
    const { runId, control } = await runOnA(a, 5);
    const onB = rawSubscribe(b.url, eventsPath(runId));
    // A follower on A too: it tells the test when A has streamed a token.
    const onOwner = rawSubscribe(a.url, eventsPath(runId));
    let text = "";
    const push = async (word: string, where: RawSubscription) => {
      text += word;
      await control.push({ content: word });
      await eventually(() => tokenText(where.received) === text, `"${word}" streamed`, 30_000);
    };
    await push("a ", onB);
    database.holdRequests();
    await push("b ", onB);

    // B's Redis goes away; A streams on, into the stream only (its database is held).
    const readerLost = lines(b, "the blocking Redis stream reader lost its connection");
    toRedis.cut();
    await eventually(() => lines(b, "the blocking Redis stream reader lost its connection") > readerLost, "B's reader to see Redis gone", 30_000);
    for (const word of ["c ", "d "]) await push(word, onOwner);
    const readerBack = lines(b, "the blocking Redis stream reader is back");
    toRedis.restore();
    await eventually(() => lines(b, "the blocking Redis stream reader is back") > readerBack, "B's reader back", 30_000);
    await eventually(() => tokenText(onB.received) === text, "B's follower to catch up from the stream", 30_000);
    await push("e ", onB);
    database.releaseRequests();
    await control.push({ done: true });
    for (const sub of [onB, onOwner]) {
      expect(await sub.ended).toBe("return");
      expectWhole(sub.received);
      expect(tokenText(sub.received)).toBe(text);
    }
    expect(onB.received.map((r) => [r.id, r.event])).toEqual(onOwner.received.map((r) => [r.id, r.event]));
  });
  it("Redis restarts inside the window and then the owner is SIGKILLed: a follower that joins after the end gets what the stream kept, then error + done", { timeout: 120_000 }, async () => {
    const data = await bed.freshData();
    const database = await relay(data.url ?? "");
    const port = await closedPort();
    let redis = await bed.redisServer(port);
    const redisUrl = `redis://127.0.0.1:${port}`;
    const [a, b] = await Promise.all([bed.replica(data, { DATABASE_URL: database.url, REDIS_URL: redisUrl }), bed.replica(data, { REDIS_URL: redisUrl })]);
    const { runId, control } = await runOnA(a, 6);
    const first = rawSubscribe(b.url, eventsPath(runId));
    const push = async (word: string) => {
      await control.push({ content: word });
      await eventually(() => tokenText(first.received).endsWith(word), `"${word}" on B`, 30_000);
    };
    await push("a ");
    const { store } = await committedUpTo(data, runId, first);
    database.holdRequests();
    await push("b ");
    const reconnectsA = lines(a, '"role":"commands"', "connected to Redis again");
    await stopRedis(redis);
    redis = await bed.redisServer(port);
    await eventually(() => lines(a, '"role":"commands"', "connected to Redis again") > reconnectsA, "A's commands connection back", 30_000);
    await push("c ");
    // "b" was in the lost stream and in A's uncommitted batch only: it dies with A.
    await a.kill("SIGKILL");
    expect(await first.ended).toBe("return");
    expect(first.received.at(-1)?.event).toMatchObject({ type: "done", reason: "interrupted" });

    const late = rawSubscribe(b.url, eventsPath(runId));
    expect(await late.ended).toBe("return");
    expect(late.received.at(-1)?.event).toMatchObject({ type: "done", reason: "interrupted" });
    expect(tokenText(late.received)).toBe("a c ");
    expect(late.received.map((r) => [r.id, r.event])).toEqual(first.received.filter((r) => !(r.event.type === "token" && r.event.text === "b ")).map((r) => [r.id, r.event]));
  });
});
