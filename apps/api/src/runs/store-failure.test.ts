import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatEvent } from "@streamchat/core";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { openSqliteStore, type ChatStore, type SqliteStoreOptions, type StoredEvent } from "@streamchat/store";
import { failingStore, type FailWhen } from "../test-support/failing-store.js";
import { eventually } from "../test-support/harness.js";
import { testRunManager } from "../test-support/run-manager.js";
import type { RunManager } from "./run-manager.js";

/**
 * A store write that fails mid-run (disk error, a lock held by another process) must not crash the
 * process or strand the run: the run stops (its model request is closed), subscribers get error{internal}
 * + done{error}, and the run is closed in the store, at once or once the store works again.
 */

let sim: Simulator;
let dir: string;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

beforeAll(async () => {
  process.on("uncaughtException", onUncaught);
  sim = await startSimulator({ tokenDelayMs: 1 });
  dir = mkdtempSync(join(tmpdir(), "streamchat-store-failure-"));
});
afterAll(async () => {
  process.off("uncaughtException", onUncaught);
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

const once = (pick: FailWhen): FailWhen => {
  let fired = false;
  return (method, args) => {
    if (fired || !pick(method, args)) return false;
    fired = true;
    return true;
  };
};
const eventArg = (args: readonly unknown[]) => args[1] as ChatEvent;
const types = (events: StoredEvent[]) => events.map((e) => e.event.type);
const tokenText = (events: StoredEvent[]) => events.map((e) => (e.event.type === "token" ? e.event.text : "")).join("");

function sqlite(options: Partial<SqliteStoreOptions> = {}) {
  return openSqliteStore({ path: join(dir, `${randomUUID()}.db`), ...options });
}

/** A run on a controlled model, followed by a subscriber from the start. */
async function startRun(runs: RunManager, tag: string) {
  const control = sim.control({ lastUserIncludes: tag });
  const { runId, conversationId } = runs.start({ userId: "u", message: `${tag} go` });
  const request = await control.connected;
  const received: StoredEvent[] = [];
  const subscribed = (async () => {
    for await (const stored of runs.subscribe(runId, 0)) received.push(stored);
    return received;
  })();
  return { control, runId, conversationId, request, received, subscribed };
}

function messagesOf(store: ChatStore, conversationId: string) {
  return store.listMessages(conversationId).map((m) => [m.message.role, m.message.content]);
}

describe("a store write failing mid-run", () => {
  it("inside the token coalescer's setImmediate: no uncaught exception; the run ends with internal and the model request is closed", async () => {
    const inner = sqlite();
    const failing = failingStore(inner);
    const runs = testRunManager(failing.store, sim, { limits: { coalesceTokens: true } });
    try {
      const run = await startRun(runs, "[fail:coalesced]");
      await run.control.push({ content: "one " });
      await eventually(() => run.received.some((e) => e.event.type === "token"), "the first token");
      // Token events are only appended from the coalescer's setImmediate.
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
      expect(inner.getRun(run.runId)).toMatchObject({ status: "done", reason: "error" });
      expect(inner.readEvents(run.runId)).toEqual(received);
      expect(messagesOf(inner, run.conversationId)).toEqual([
        ["user", "[fail:coalesced] go"],
        ["assistant", "one "],
      ]);
    } finally {
      inner.close();
    }
  });

  it("the stored answer failing at the end: error + done still come, and the answer is stored once", async () => {
    const inner = sqlite();
    const failing = failingStore(inner);
    const runs = testRunManager(failing.store, sim);
    try {
      const run = await startRun(runs, "[fail:messages]");
      await run.control.push({ content: "the answer" });
      failing.failWhen(once((method) => method === "appendMessage"));
      await run.control.push({ done: true });

      const received = await run.subscribed;
      expect(failing.failures.map((f) => f.method)).toEqual(["appendMessage"]);
      expect(types(received).slice(-2)).toEqual(["error", "done"]);
      expect(received.at(-1)?.event).toMatchObject({ reason: "error" });
      await runs.whenEnded(run.runId);
      expect(inner.getRun(run.runId)).toMatchObject({ status: "done", reason: "error" });
      expect(inner.readEvents(run.runId)).toEqual(received);
      expect(messagesOf(inner, run.conversationId)).toEqual([
        ["user", "[fail:messages] go"],
        ["assistant", "the answer"],
      ]);
    } finally {
      inner.close();
    }
  });

  it("a store that keeps failing: subscribers still get the end, and the run is closed once the store works again", async () => {
    const inner = sqlite();
    const failing = failingStore(inner);
    const runs = testRunManager(failing.store, sim, { closeRetryMs: 20 });
    try {
      const run = await startRun(runs, "[fail:broken]");
      await run.control.push({ content: "kept " });
      await eventually(() => run.received.some((e) => e.event.type === "token"), "the first token");
      failing.failWhen((method) => method === "appendEvent" || method === "finishRun");
      await run.control.push({ content: "never stored" });

      const received = await run.subscribed;
      expect(uncaught).toEqual([]);
      expect(types(received).slice(-3)).toEqual(["token", "error", "done"]);
      expect(received.at(-2)?.event).toMatchObject({ code: "internal" });
      expect(received.map((e) => e.seq)).toEqual(received.map((_, i) => i + 1));
      await run.request.finished;
      expect(run.request.clientClosedEarly).toBe(true);
      await runs.whenEnded(run.runId);
      expect(runs.activeRunId(run.conversationId)).toBeNull();
      // Nothing could be written: the log still ends with the token.
      expect(inner.getRun(run.runId)?.status).toBe("running");
      expect(inner.readEvents(run.runId)).toEqual(received.slice(0, -2));

      failing.failWhen(() => false); // the disk is back
      await eventually(() => inner.getRun(run.runId)?.status === "done", "the run to be closed in the background");
      expect(inner.getRun(run.runId)).toMatchObject({ status: "done", reason: "error" });
      const log = inner.readEvents(run.runId);
      expect(log.slice(0, -2)).toEqual(received.slice(0, -2));
      expect(log.slice(-2).map((e) => e.event)).toEqual([
        expect.objectContaining({ type: "error", code: "internal" }),
        expect.objectContaining({ type: "done", reason: "error" }),
      ]);
      // The closing events never reuse a seq a subscriber saw for another event.
      expect(log.at(-2)!.seq).toBeGreaterThan(received.at(-1)!.seq);
      // The first close attempt stored the answer before failing on the events; the retry did not repeat it.
      expect(messagesOf(inner, run.conversationId)).toEqual([
        ["user", "[fail:broken] go"],
        ["assistant", "kept "],
      ]);
    } finally {
      inner.close();
    }
  });

  it("a real SQLite lock held by another connection: the run stops, ends for subscribers, and is closed after the lock goes", async () => {
    const path = join(dir, `${randomUUID()}.db`);
    // A short busy timeout (the store's option) so a locked write fails quickly; a small batch so the
    // run's own appends hit the lock mid-stream instead of only the timer.
    const store = openSqliteStore({ path, busyTimeoutMs: 50, maxBatch: 4, flushIntervalMs: 5 });
    const runs = testRunManager(store, sim, { closeRetryMs: 20 });
    const locker = new DatabaseSync(path);
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
      expect(store.getRun(run.runId)?.status).toBe("running");

      locker.exec("ROLLBACK");
      await eventually(() => store.getRun(run.runId)?.status === "done", "the run to be closed after the lock");
      expect(store.getRun(run.runId)).toMatchObject({ status: "done", reason: "error" });
      const log = store.readEvents(run.runId);
      expect(types(log).slice(-2)).toEqual(["error", "done"]);
      expect(log.filter((e) => e.event.type === "done")).toHaveLength(1);
      const seqs = log.map((e) => e.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      // What the log kept of the answer is what the conversation stores, once.
      expect(messagesOf(store, run.conversationId)).toEqual([
        ["user", "[fail:locked] go"],
        ["assistant", tokenText(log)],
      ]);
      expect(tokenText(log).startsWith("before ")).toBe(true);
    } finally {
      locker.close();
      store.close();
    }
  });
});
