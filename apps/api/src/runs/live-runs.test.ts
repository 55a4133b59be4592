import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChatEvent } from "@streamchat/core";
import { openSqliteStore, type RunRecord, type SqliteChatStore, type StoredEvent } from "@streamchat/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmbeddedRunStreams } from "./embedded-streams.js";
import { liveHeadLimit, LiveRuns } from "./live-runs.js";
import { silentLog } from "./run-log.js";

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

function token(seq: number): StoredEvent {
  return { seq, event: { type: "token", runId: record.id, at: seq, text: `t${seq}` } };
}

describe("LiveRuns.readHead", () => {
  it("gives a young run's published events after a seq, at most `limit`, without the log", () => {
    const live = new LiveRuns();
    const { live: run } = live.add(record, undefined);
    expect(live.readHead(record.id, 0, 10)).toBeUndefined(); // nothing published yet: the log decides
    for (let seq = 1; seq <= 3; seq++) live.publish(run, token(seq));
    expect(live.readHead(record.id, 0, 10)).toEqual([token(1), token(2), token(3)]);
    expect(live.readHead(record.id, 2, 10)).toEqual([token(3)]);
    expect(live.readHead(record.id, 3, 10)).toEqual([]);
    expect(live.readHead(record.id, 0, 2)).toEqual([token(1), token(2)]);
    expect(live.readHead("another run", 0, 10)).toBeUndefined();
  });

  it("keeps nothing past its limit, for a run whose seqs do not start at 1, after a gap, or once its store failed", () => {
    const live = new LiveRuns();
    const { live: long } = live.add(record, undefined);
    for (let seq = 1; seq <= liveHeadLimit; seq++) live.publish(long, token(seq));
    expect(live.readHead(record.id, 0, 1_000)).toHaveLength(liveHeadLimit);
    live.publish(long, token(liveHeadLimit + 1));
    expect(long.head).toBeNull();
    expect(live.readHead(record.id, 0, 1_000)).toBeUndefined();

    const resumed = live.add({ ...record, id: "resumed" }, undefined).live;
    live.publish(resumed, { ...token(40), event: { ...token(40).event, runId: "resumed" } });
    expect(live.readHead("resumed", 0, 10)).toBeUndefined();

    const gap = live.add({ ...record, id: "gap" }, undefined).live;
    live.publish(gap, token(1));
    live.publish(gap, token(3));
    expect(live.readHead("gap", 0, 10)).toBeUndefined();

    const failed = live.add({ ...record, id: "failed" }, undefined).live;
    live.publish(failed, token(1));
    failed.storeFailed = true;
    expect(live.readHead("failed", 0, 10)).toBeUndefined();
  });

  it("forgets a run once it ended", () => {
    const live = new LiveRuns();
    const { live: run, end } = live.add(record, undefined);
    live.publish(run, token(1));
    end();
    expect(live.readHead(record.id, 0, 10)).toBeUndefined();
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
    const { live: run } = live.add(started.run, undefined);
    const emit = (event: ChatEvent) => streams.append(run, event);
    emit({ type: "run-start", runId: run.record.id, at: 1, conversationId: record.conversationId, model: "demo", provider: "sim" });
    emit({ type: "status", runId: run.record.id, at: 2, phase: "thinking", message: "Processing…" });

    const controller = new AbortController();
    const follower = streams.follow(run.record.id, 0, controller.signal);
    const seen: StoredEvent[] = [];
    for (let i = 0; i < 2; i++) seen.push((await follower.next()).value as StoredEvent);
    expect(logReads).toBe(0);

    // Past its head, a late follower reads the log; both saw what the log holds.
    for (let i = 0; i < liveHeadLimit; i++) emit({ type: "token", runId: run.record.id, at: 3 + i, text: `t${i}` });
    const late = streams.follow(run.record.id, 0, controller.signal);
    const lateSeen: StoredEvent[] = [];
    for (let i = 0; i < liveHeadLimit + 2; i++) lateSeen.push((await late.next()).value as StoredEvent);
    for (let i = 0; i < liveHeadLimit; i++) seen.push((await follower.next()).value as StoredEvent);
    expect(logReads).toBe(1);
    const log = await readEvents(run.record.id);
    expect(seen).toEqual(log);
    expect(lateSeen).toEqual(log);
    controller.abort();
    await follower.return();
    await late.return();
  });
});
