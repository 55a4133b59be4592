import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import type { ChatEvent } from "@streamchat/core";
import { openSqliteStore, type RunRecord, type SqliteChatStore, type StoredEvent } from "@streamchat/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmbeddedRunStreams } from "./embedded-streams.js";
import { liveHeadLimit, LiveRuns, whenRunEnded } from "./live-runs.js";
import { silentLog } from "./run-log.js";
import { localLiveHandle } from "./subscribe.js";

setFlagsFromString("--allow-natives-syntax");
const hasFastProperties = new Function("o", "return %HasFastProperties(o)") as (o: object) => boolean;

const record: RunRecord = {
  id: "run-1",
  conversationId: "c-1",
  userId: "u",
  model: "demo",
  provider: "sim",
  clientRequestId: null,
  status: "running",
  reason: null,
  usage: null,
  owner: null,
  createdAt: 0,
  finishedAt: null,
};

function token(seq: number, runId = record.id): StoredEvent {
  return { seq, event: { type: "token", runId, at: seq, text: `t${seq}` } };
}

/** The history a follower's live feed of the run offers (undefined: none, or no feed: the run does not execute here). */
function historyOf(live: LiveRuns, runId: string, afterSeq: number, limit: number): StoredEvent[] | undefined {
  const handle = localLiveHandle(live, runId, () => {}, () => {});
  try {
    return handle?.history?.(afterSeq, limit);
  } finally {
    handle?.stop();
  }
}

function status(seq: number, runId = record.id): StoredEvent {
  return { seq, event: { type: "status", runId, at: seq, phase: "thinking", message: `s${seq}` } };
}

describe("a run's head, the history its live feed offers (headAfter)", () => {
  it("gives a young run's published events after a seq, at most `limit`, without the log", () => {
    const live = new LiveRuns();
    const run = live.add(record, undefined);
    expect(historyOf(live, record.id, 0, 10)).toBeUndefined(); // nothing published yet: the log decides
    const published = [status(1), status(2), status(3)];
    for (const stored of published) live.publish(run, stored);
    expect(historyOf(live, record.id, 0, 10)).toEqual(published);
    expect(historyOf(live, record.id, 2, 10)).toEqual([status(3)]);
    expect(historyOf(live, record.id, 3, 10)).toEqual([]);
    expect(historyOf(live, record.id, 0, 2)).toEqual([status(1), status(2)]);
    expect(historyOf(live, "another run", 0, 10)).toBeUndefined();
  });

  it("keeps nothing once the answer streams (a token or reasoning), past its limit, after a gap, or once its store failed", () => {
    const live = new LiveRuns();
    const streaming = live.add(record, undefined);
    live.publish(streaming, status(1));
    expect(historyOf(live, record.id, 0, 10)).toHaveLength(1);
    live.publish(streaming, token(2));
    expect(streaming.head).toBeNull();
    expect(historyOf(live, record.id, 0, 10)).toBeUndefined();

    const thinking = live.add({ ...record, id: "thinking" }, undefined);
    live.publish(thinking, status(1, "thinking"));
    live.publish(thinking, { seq: 2, event: { type: "reasoning", runId: "thinking", at: 2, text: "hm" } });
    expect(thinking.head).toBeNull();

    const long = live.add({ ...record, id: "long" }, undefined);
    for (let seq = 1; seq <= liveHeadLimit; seq++) live.publish(long, status(seq, "long"));
    expect(historyOf(live, "long", 0, 1_000)).toHaveLength(liveHeadLimit);
    live.publish(long, status(liveHeadLimit + 1, "long"));
    expect(historyOf(live, "long", 0, 1_000)).toBeUndefined();

    const resumed = live.add({ ...record, id: "resumed" }, undefined);
    live.publish(resumed, status(40, "resumed"));
    expect(historyOf(live, "resumed", 0, 10)).toBeUndefined();

    const gap = live.add({ ...record, id: "gap" }, undefined);
    live.publish(gap, status(1, "gap"));
    live.publish(gap, status(3, "gap"));
    expect(historyOf(live, "gap", 0, 10)).toBeUndefined();

    const failed = live.add({ ...record, id: "failed" }, undefined);
    live.publish(failed, status(1, "failed"));
    failed.storeFailed = true;
    expect(historyOf(live, "failed", 0, 10)).toBeUndefined();
  });

  it("forgets a run once it ended", () => {
    const live = new LiveRuns();
    const run = live.add(record, undefined);
    live.publish(run, status(1));
    const openBefore = localLiveHandle(live, record.id, () => {}, () => {})!;
    expect(openBefore.history?.(0, 10)).toEqual([status(1)]);
    live.end(run);
    expect(historyOf(live, record.id, 0, 10)).toBeUndefined();
    expect(openBefore.history?.(0, 10)).toBeUndefined(); // a feed opened before: its run is over, the log decides
    openBefore.stop();
  });

  it("tells whoever waits for a run's end, and makes no promise for a run no one waits for", async () => {
    const live = new LiveRuns();
    const quiet = live.add({ ...record, id: "quiet" }, undefined);
    live.end(quiet);
    expect(quiet.ending).toBeUndefined();
    await whenRunEnded(quiet); // ended already: at once

    const run = live.add(record, undefined);
    let ended = false;
    const waiting = whenRunEnded(run).then(() => (ended = true));
    expect(whenRunEnded(run)).toBe(whenRunEnded(run)); // one promise, however many wait
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(false);
    live.end(run);
    await waiting;
    expect(ended).toBe(true);
    expect(live.has(record.id)).toBe(false);
  });
});

describe("EmbeddedRunStreams: a follower of a young run", () => {
  let dir: string;
  let store: SqliteChatStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "streamchat-head-"));
    store = openSqliteStore({ path: join(dir, "chat.db") });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gets the same events as from the log, and reads the log only once the run's head is gone", async () => {
    const started = await store.startRun({
      id: record.id,
      conversationId: record.conversationId,
      userId: record.userId,
      model: record.model,
      provider: record.provider,
      conversation: { title: "t" },
      question: { message: { role: "user", content: "hi" } },
    });
    let logReads = 0;
    const readEvents = store.readEvents.bind(store);
    store.readEvents = (...args) => {
      logReads++;
      return readEvents(...args);
    };
    const live = new LiveRuns();
    const streams = new EmbeddedRunStreams({
      store,
      live,
      replicaId: "r",
      log: silentLog,
      onWriteFailure: () => {},
      onControl: () => false,
    });
    const run = live.add(started.run, undefined);
    const emit = (event: ChatEvent) => streams.append(run, event);
    emit({ type: "run-start", runId: run.record.id, at: 1, conversationId: record.conversationId, model: "demo", provider: "sim" });
    emit({ type: "status", runId: run.record.id, at: 2, phase: "thinking", message: "Processing…" });

    const controller = new AbortController();
    const follower = streams.follow(run.record.id, 0, controller.signal);
    const seen: StoredEvent[] = [];
    for (let i = 0; i < 2; i++) seen.push((await follower.next()).value as StoredEvent);
    expect(logReads).toBe(0);

    // Once the answer streams, a late follower reads the log; both saw what the log holds.
    const tokens = 5;
    for (let i = 0; i < tokens; i++) emit({ type: "token", runId: run.record.id, at: 3 + i, text: `t${i}` });
    const late = streams.follow(run.record.id, 0, controller.signal);
    const lateSeen: StoredEvent[] = [];
    for (let i = 0; i < tokens + 2; i++) lateSeen.push((await late.next()).value as StoredEvent);
    for (let i = 0; i < tokens; i++) seen.push((await follower.next()).value as StoredEvent);
    expect(logReads).toBe(1);
    const log = await readEvents(run.record.id);
    expect(seen).toEqual(log);
    expect(lateSeen).toEqual(log);
    controller.abort();
    await follower.return();
    await late.return();
  });
});

describe("localLiveHandle", () => {
  it("follows the run's listeners and end, and is not a dictionary (every open subscription keeps one)", () => {
    const live = new LiveRuns();
    const run = live.add(record, undefined);
    const end = () => live.end(run);
    const heard: number[] = [];
    const listener = (stored: StoredEvent) => heard.push(stored.seq);
    let woken = 0;
    const handle = localLiveHandle(live, record.id, listener, () => woken++);
    expect(handle).not.toBeNull();
    expect(hasFastProperties(handle!)).toBe(true);
    live.publish(run, status(1));
    expect(heard).toEqual([1]);
    expect(woken).toBe(0);
    expect(handle!.closed).toBe(false);
    expect(handle!.takeStalled()).toBe(false);

    end();
    expect(handle!.closed).toBe(true);
    expect(woken).toBe(1);
    handle!.stop();
    expect(run.followers.size).toBe(0);
    live.publish(run, status(2));
    expect(heard).toEqual([1]);
    expect(localLiveHandle(live, "another run", listener, () => {})).toBeNull();
  });
});
