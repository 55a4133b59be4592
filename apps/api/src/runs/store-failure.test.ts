import { DatabaseSync } from "node:sqlite";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChatEvent } from "@streamchat/core";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import type { ChatStore, StoredEvent } from "@streamchat/store";
import { openTestStore, testBackend } from "../test-support/backend.js";
import { failingStore, type FailWhen } from "../test-support/failing-store.js";
import { eventually } from "../test-support/harness.js";
import { testRunManager } from "../test-support/run-manager.js";
import { FailedRunCloser } from "./failed-run-closer.js";
import { LiveRuns } from "./live-runs.js";
import type { RunManager } from "./run-manager.js";

/**
 * A store write that fails mid-run (disk error, a lock held by another process, the database gone) must not
 * crash the process or strand the run: the run stops (its model request is closed), subscribers get
 * error{internal} + done{error}, and the run is closed in the store, at once or once the store works again.
 *
 * Events reach subscribers before their batch is committed (run-events.ts), so a subscriber may have seen an event
 * whose commit then failed, as after a crash: the log lacks it, and the closing events take seqs past it.
 */

let sim: Simulator;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

beforeAll(async () => {
  process.on("uncaughtException", onUncaught);
  sim = await startSimulator({ tokenDelayMs: 1 });
});
afterAll(async () => {
  process.off("uncaughtException", onUncaught);
  await sim?.close();
});

const opened: ChatStore[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

/** A store of this run's backend behind a wrapper whose calls fail on demand, and a run manager on the wrapper. */
async function failingSetup(options?: Parameters<typeof testRunManager>[2]) {
  const inner = await openTestStore();
  opened.push(inner);
  const failing = failingStore(inner);
  return { inner, failing, runs: testRunManager(failing.store, sim, options) };
}

const once = (pick: FailWhen): FailWhen => {
  let fired = false;
  return (method, args) => {
    if (fired || !pick(method, args)) return false;
    fired = true;
    return true;
  };
};
const eventArg = (args: readonly unknown[]) => args[2] as ChatEvent;
const seqArg = (args: readonly unknown[]) => args[1] as number;
const types = (events: StoredEvent[]) => events.map((e) => e.event.type);
const tokenText = (events: StoredEvent[]) => events.map((e) => (e.event.type === "token" ? e.event.text : "")).join("");

/** A run on a controlled model, followed by a subscriber from the start. */
async function startRun(runs: RunManager, tag: string) {
  const control = sim.control({ lastUserIncludes: tag });
  const { runId, conversationId } = await runs.start({ userId: "u", message: `${tag} go` });
  const request = await control.connected;
  const received: StoredEvent[] = [];
  const subscribed = (async () => {
    for await (const stored of runs.subscribe(runId, 0)) received.push(stored);
    return received;
  })();
  return { control, runId, conversationId, request, received, subscribed };
}

async function messagesOf(store: ChatStore, conversationId: string) {
  return (await store.listMessages(conversationId)).map((m) => [m.message.role, m.message.content]);
}

/** Strictly increasing: each seq names one event (gaps allowed: a seq whose append failed is not used again). */
function expectIncreasing(events: StoredEvent[]) {
  const seqs = events.map((e) => e.seq);
  expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!)).toBe(true);
}

describe("a store write failing mid-run", () => {
  it("inside the token coalescer's setImmediate: no uncaught exception; the run ends with internal and the model request is closed", async () => {
    const { inner, failing, runs } = await failingSetup({ limits: { coalesceTokens: true } });
    const run = await startRun(runs, "[fail:coalesced]");
    await run.control.push({ content: "one " });
    await eventually(() => run.received.some((e) => e.event.type === "token"), "the first token");
    // After a run's first token, token events are only appended from the coalescer's setImmediate.
    failing.failWhen(once((method, args) => method === "appendEvent" && eventArg(args).type === "token"));
    await run.control.push({ content: "two " });

    const received = await run.subscribed;
    expect(failing.failures).toHaveLength(1);
    expect(uncaught).toEqual([]);
    expect(types(received).slice(-2)).toEqual(["error", "done"]);
    expect(received.at(-2)?.event).toMatchObject({ code: "internal", message: "Something went wrong on the server." });
    expect(received.at(-1)?.event).toMatchObject({ reason: "error" });
    await run.request.finished;
    expect(run.request.clientClosedEarly).toBe(true);

    await runs.whenEnded(run.runId);
    expect(await inner.getRun(run.runId)).toMatchObject({ status: "done", reason: "error" });
    // The subscriber saw the token whose append failed; the log lacks it, and the end comes after its seq.
    const lost = seqArg(failing.failures[0]!.args);
    expect(received.find((e) => e.seq === lost)?.event).toMatchObject({ type: "token", text: "two " });
    expect(await inner.readEvents(run.runId)).toEqual(received.filter((e) => e.seq !== lost));
    expect(received.at(-2)!.seq).toBeGreaterThan(lost);
    expect(await messagesOf(inner, run.conversationId)).toEqual([
      ["user", "[fail:coalesced] go"],
      ["assistant", "one "],
    ]);
  });

  it("storing the question failing: the send fails and leaves no conversation, run or message behind", async () => {
    const { inner, failing, runs } = await failingSetup();
    // Whatever call stores the question (with its run, and for a first message its conversation) fails.
    const storesQuestion: FailWhen = (method) => method === "appendMessage" || method === "startRun";
    failing.failWhen(once(storesQuestion));
    await expect(runs.start({ userId: "u", message: "[fail:question] first" })).rejects.toBeInstanceOf(Error);
    expect(failing.failures).toHaveLength(1);
    expect(await inner.listConversations("u")).toEqual([]);
    expect(await inner.listRunningRuns()).toEqual([]);

    // A follow-up in an existing conversation: no run without its question either.
    const first = await startRun(runs, "[fail:question-2]");
    await first.control.push({ content: "answer" });
    await first.control.push({ done: true });
    await first.subscribed;
    await runs.whenEnded(first.runId);
    const before = { runs: await inner.listRuns(first.conversationId), messages: await inner.listMessages(first.conversationId) };
    failing.failWhen(once(storesQuestion));
    await expect(runs.start({ userId: "u", conversationId: first.conversationId, message: "[fail:question-2] again" })).rejects.toBeInstanceOf(Error);
    expect(failing.failures).toHaveLength(2);
    expect({ runs: await inner.listRuns(first.conversationId), messages: await inner.listMessages(first.conversationId) }).toEqual(before);
    expect(uncaught).toEqual([]);
  });

  it("the stored answer failing at the end: error + done still come, and the answer is stored once", async () => {
    const { inner, failing, runs } = await failingSetup();
    const run = await startRun(runs, "[fail:messages]");
    await run.control.push({ content: "the answer" });
    // The answer is stored with the done (appendDone): that commit fails, so the closer stores the answer.
    failing.failWhen(once((method) => method === "appendDone"));
    await run.control.push({ done: true });

    const received = await run.subscribed;
    expect(failing.failures.map((f) => f.method)).toEqual(["appendDone"]);
    expect(types(received).slice(-2)).toEqual(["error", "done"]);
    expect(received.at(-1)?.event).toMatchObject({ reason: "error" });
    await runs.whenEnded(run.runId);
    expect(await inner.getRun(run.runId)).toMatchObject({ status: "done", reason: "error" });
    expect(await inner.readEvents(run.runId)).toEqual(received);
    expect(await messagesOf(inner, run.conversationId)).toEqual([
      ["user", "[fail:messages] go"],
      ["assistant", "the answer"],
    ]);
  });

  it("the answer's commit failing while the log cannot be read either: subscribers get error + done at once, without a gap", async () => {
    const { inner, failing, runs } = await failingSetup({ closeRetryMs: 20 });
    const run = await startRun(runs, "[fail:end-unreadable]");
    await run.control.push({ content: "kept" });
    await eventually(() => run.received.some((e) => e.event.type === "token"), "the token");
    // The database is gone: the done (and its answer) cannot be committed, and a follower that saw a gap in the
    // seqs would look for the missing events in the log, which cannot be read now.
    failing.failWhen((method) => method === "appendDone" || method === "appendEvent" || method === "readEvents" || method === "finishRun");
    await run.control.push({ done: true });

    const received = await run.subscribed;
    expect(types(received).slice(-2)).toEqual(["error", "done"]);
    expect(received.map((e) => e.seq)).toEqual(received.map((_, i) => i + 1));
    expect(failing.failures.map((f) => f.method)).toContain("appendDone");

    failing.failWhen(() => false); // the database is back: the run is closed in the log, past the seqs handed out
    await eventually(async () => (await inner.getRun(run.runId))?.status === "done", "the run to be closed in the background");
    const log = await inner.readEvents(run.runId);
    expect(types(log).slice(-2)).toEqual(["error", "done"]);
    expect(log.at(-2)!.seq).toBeGreaterThan(received.at(-1)!.seq);
    expect(await messagesOf(inner, run.conversationId)).toEqual([
      ["user", "[fail:end-unreadable] go"],
      ["assistant", "kept"],
    ]);
    expect(uncaught).toEqual([]);
  });

  it("a store that keeps failing: subscribers still get the end, and the run is closed once the store works again", async () => {
    const { inner, failing, runs } = await failingSetup({ closeRetryMs: 20 });
    const run = await startRun(runs, "[fail:broken]");
    await run.control.push({ content: "kept " });
    await eventually(() => run.received.some((e) => e.event.type === "token"), "the first token");
    failing.failWhen((method) => method === "appendEvent" || method === "appendDone" || method === "finishRun");
    await run.control.push({ content: "never stored" });

    const received = await run.subscribed;
    expect(uncaught).toEqual([]);
    expect(types(received).slice(-3)).toEqual(["token", "error", "done"]);
    expect(received.at(-2)?.event).toMatchObject({ code: "internal" });
    expectIncreasing(received);
    await run.request.finished;
    expect(run.request.clientClosedEarly).toBe(true);
    await runs.whenEnded(run.runId);
    expect(runs.activeRunId(run.conversationId)).toBeNull();
    // Nothing could be written: the log still ends with the token before the one whose append failed.
    expect((await inner.getRun(run.runId))?.status).toBe("running");
    const kept = received.slice(0, -3);
    expect(received.at(-3)?.seq).toBe(seqArg(failing.failures[0]!.args));
    expect(await inner.readEvents(run.runId)).toEqual(kept);

    failing.failWhen(() => false); // the disk is back
    await eventually(async () => (await inner.getRun(run.runId))?.status === "done", "the run to be closed in the background");
    expect(await inner.getRun(run.runId)).toMatchObject({ status: "done", reason: "error" });
    const log = await inner.readEvents(run.runId);
    expect(log.slice(0, -2)).toEqual(kept);
    expect(log.slice(-2).map((e) => e.event)).toEqual([
      expect.objectContaining({ type: "error", code: "internal" }),
      expect.objectContaining({ type: "done", reason: "error" }),
    ]);
    // The closing events never reuse a seq a subscriber saw for another event.
    expect(log.at(-2)!.seq).toBeGreaterThan(received.at(-1)!.seq);
    // The first close attempt stored the answer before failing on the events; the retry did not repeat it.
    expect(await messagesOf(inner, run.conversationId)).toEqual([
      ["user", "[fail:broken] go"],
      ["assistant", "kept "],
    ]);
  });

  // A failure the store does not report as "unreachable" (PostgreSQL's disk_full, an I/O error) used to be given up
  // after ten attempts, "left to a later start's recovery": but this process lives on, and recovery closes only the runs
  // of processes that are gone. The run stayed running (its conversation refusing every message) until a restart.
  it("a close that keeps failing for another reason than an unreachable database is retried until the store takes it", async () => {
    const inner = await openTestStore();
    opened.push(inner);
    const failing = failingStore(inner);
    const { run: record } = await inner.startRun({
      id: "r-slow",
      conversationId: "c-slow",
      userId: "u",
      model: "demo",
      provider: "ollama",
      owner: "this-process",
      conversation: { title: "t" },
      question: { message: { role: "user", content: "go" } },
    });
    // What the run had streamed and committed before the store broke.
    const live = new LiveRuns();
    const run = live.add(record, undefined);
    const end = () => live.end(run);
    const streamed: StoredEvent[] = [
      { seq: 1, event: { type: "run-start", runId: record.id, at: 1, conversationId: record.conversationId, model: "demo", provider: "ollama" } },
      { seq: 2, event: { type: "token", runId: record.id, at: 2, text: "kept" } },
    ];
    for (const stored of streamed) void inner.appendEvent(record.id, stored.seq, stored.event);
    await inner.flush();
    const received: StoredEvent[] = [];
    run.followers.add({ deliver: (stored) => received.push(stored), wake: () => {} });
    for (const stored of streamed) live.publish(run, stored);

    const errors: string[] = [];
    const closer = new FailedRunCloser({
      store: failing.store,
      publish: (target, stored) => live.publish(target, stored),
      log: { info() {}, warn() {}, error: (_fields: object, message: string) => void errors.push(message) },
      now: Date.now,
      retryMs: 1,
      maxRetryMs: 2,
      slowRetryMs: 20,
    });
    // Not "unavailable": the injected failure is a plain error, as a full disk is on PostgreSQL (SQLSTATE 53100).
    failing.failWhen((method) => method === "appendMessage" || method === "appendEvent" || method === "finishRun");
    await closer.close(run);
    end();
    expect(types(received).slice(-2)).toEqual(["error", "done"]);

    // Well past the ten quick attempts: still being retried, and still this process's to close (the orphan sweep
    // leaves runs pending here alone).
    await eventually(() => failing.failures.length > 15, "attempts past the quick ones");
    expect(closer.isPending(record.id)).toBe(true);
    expect(errors).toContain("closing the run keeps failing in the store; retrying slowly until it is closed");
    expect((await inner.getRun(record.id))?.status).toBe("running");

    failing.failWhen(() => false); // space freed: the next attempt closes it
    await eventually(async () => (await inner.getRun(record.id))?.status === "done", "the run to be closed once the store takes writes");
    expect(await inner.getRun(record.id)).toMatchObject({ status: "done", reason: "error" });
    expect(closer.isPending(record.id)).toBe(false);
    const log = await inner.readEvents(record.id);
    expect(types(log)).toEqual(["run-start", "token", "error", "done"]);
    expect(log.at(-2)!.seq).toBeGreaterThan(received.at(-1)!.seq);
    expect(await messagesOf(inner, record.conversationId)).toEqual([
      ["user", "go"],
      ["assistant", "kept"],
    ]);
    await closer.shutdown();
  });

  // On PostgreSQL the database going away mid-run is tested with a real server (reliability/database-restart.test.ts).
  it.runIf(testBackend === "sqlite")("a real SQLite lock held by another connection: the run stops, ends for subscribers, and is closed after the lock goes", async () => {
    // A short busy timeout (the store's option) so a locked write fails quickly; a small batch so the run's own
    // appends hit the lock mid-stream instead of only the timer; a short retry window, so a batch that cannot be
    // committed is given up (and the run stopped) in a moment rather than after the default minute.
    const store = await openTestStore({ busyTimeoutMs: 50, maxBatch: 4, flushIntervalMs: 5, retryForMs: 300 });
    const runs = testRunManager(store, sim, { closeRetryMs: 20 });
    const locker = new DatabaseSync(store.data.dbPath);
    try {
      const run = await startRun(runs, "[fail:locked]");
      await run.control.push({ content: "before " });
      await eventually(
        () => run.received.some((e) => e.event.type === "token") && store.stats().pendingEvents === 0,
        "the first token to be committed",
      );
      locker.exec("BEGIN EXCLUSIVE");
      for (const text of ["a ", "b ", "c ", "d ", "e ", "f "]) await run.control.push({ content: text });

      const received = await run.subscribed;
      expect(uncaught).toEqual([]);
      expect(types(received).slice(-2)).toEqual(["error", "done"]);
      expect(received.at(-2)?.event).toMatchObject({ code: "internal" });
      await run.request.finished;
      expect(run.request.clientClosedEarly).toBe(true);
      await runs.whenEnded(run.runId);
      expect((await store.getRun(run.runId))?.status).toBe("running");

      locker.exec("ROLLBACK");
      await eventually(async () => (await store.getRun(run.runId))?.status === "done", "the run to be closed after the lock");
      expect(await store.getRun(run.runId)).toMatchObject({ status: "done", reason: "error" });
      const log = await store.readEvents(run.runId);
      expect(types(log).slice(-2)).toEqual(["error", "done"]);
      expect(log.filter((e) => e.event.type === "done")).toHaveLength(1);
      expectIncreasing(log);
      // What the log kept of the answer is what the conversation stores, once.
      expect(await messagesOf(store, run.conversationId)).toEqual([
        ["user", "[fail:locked] go"],
        ["assistant", tokenText(log)],
      ]);
      expect(tokenText(log).startsWith("before ")).toBe(true);
    } finally {
      locker.close();
      await store.close();
    }
  });
});
