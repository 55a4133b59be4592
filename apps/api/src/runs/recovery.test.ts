import { tmpdir } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { createOllamaModel, type ChatEvent } from "@streamchat/core";
import type { ChatStore } from "@streamchat/store";
import { loadConfig } from "../config.js";
import { freshSchemaUrl, postgresDataAt, testBackend, type TestStore } from "../test-support/backend.js";
import { openPostgresLiveness, type PostgresLiveness } from "./postgres-liveness.js";
import { RunManager } from "./run-manager.js";
import { silentLog } from "./run-log.js";

/**
 * Two live API processes sweep and find the same orphans (their process died): each is closed exactly once.
 * Each "process" here is a store and a liveness connection of its own, as PostgreSQL sees them.
 */

const opened: Array<TestStore | PostgresLiveness> = [];
afterEach(async () => {
  for (const item of opened.splice(0)) await item.close();
});

/**
 * Makes the processes' closes of a run overlap where a double close would do harm: each process's first read of
 * a conversation's messages (how many the close still has to store) waits until the other process reads them too,
 * or 2 s. A process that never gets to close the run (the right outcome) just costs that wait.
 */
function meetAtMessages(): { wrap: (store: ChatStore) => ChatStore; someoneWaits: Promise<void> } {
  const waiting = new Map<string, () => void>();
  let waits!: () => void;
  const someoneWaits = new Promise<void>((resolve) => (waits = resolve));
  const wrap = (store: ChatStore) =>
    new Proxy(store, {
      get(target, key, receiver) {
        if (key !== "listMessages") return Reflect.get(target, key, receiver) as unknown;
        return async (conversationId: string) => {
          const other = waiting.get(conversationId);
          if (other) {
            waiting.delete(conversationId);
            other();
          } else {
            waits();
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 2000);
              waiting.set(conversationId, () => {
                clearTimeout(timer);
                resolve();
              });
            });
          }
          return target.listMessages(conversationId);
        };
      },
    });
  return { wrap, someoneWaits };
}

async function startProcess(
  url: string,
  replicaId: string,
  wrap: (store: ChatStore) => ChatStore,
): Promise<{ store: ChatStore; runs: RunManager }> {
  // Only the database is used (the directory would hold a SQLite file, which PostgreSQL data never creates).
  const store = await postgresDataAt(url, tmpdir()).openStore();
  const liveness = await openPostgresLiveness({ url, replicaId, log: silentLog, confirmMs: 0 });
  opened.push(store, liveness);
  const runs = new RunManager({
    store: wrap(store),
    model: createOllamaModel({ baseUrl: "http://127.0.0.1:9" }),
    provider: "ollama",
    defaultModel: "demo",
    limits: loadConfig({}),
    toolsFor: () => [],
    log: silentLog,
    liveness,
  });
  return { store, runs };
}

/** Counts the store's listRunningRuns calls (a read of every running run). */
function countingRunningReads(): { wrap: (store: ChatStore) => ChatStore; reads: () => number } {
  let reads = 0;
  const wrap = (store: ChatStore) =>
    new Proxy(store, {
      get(target, key, receiver) {
        if (key === "listRunningRuns") reads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
  return { wrap, reads: () => reads };
}

describe.runIf(testBackend === "postgres")("recovery by several live processes", () => {
  it("a sweep reads no running run while every owner is alive; the runs of one that is gone are closed", async () => {
    const url = await freshSchemaUrl();
    const counting = countingRunningReads();
    const a = await startProcess(url, "proc-a", counting.wrap);
    // proc-b: a live process (its liveness holds its lock) with a run of its own.
    const b = await startProcess(url, "proc-b", (store) => store);
    await b.store.createConversation({ id: "c-b", userId: "u", title: "t" });
    await b.store.createRun({ id: "r-b", conversationId: "c-b", userId: "u", model: "demo", provider: "ollama", owner: "proc-b" });
    await b.store.appendMessage({ conversationId: "c-b", runId: "r-b", message: { role: "user", content: "hi" } });
    const before = counting.reads();
    for (let i = 0; i < 3; i++) expect(await a.runs.recoverInterrupted()).toBe(0);
    expect(counting.reads()).toBe(before);
    expect(await a.store.getRun("r-b")).toMatchObject({ status: "running" });

    // proc-b goes away (its liveness connection with it): A suspects it once, then closes its run.
    const livenessOfB = opened.splice(opened.length - 1, 1)[0]!;
    await livenessOfB.close();
    expect(await a.runs.recoverInterrupted()).toBe(0);
    expect(await a.runs.recoverInterrupted()).toBe(1);
    expect(counting.reads()).toBeGreaterThan(before);
    expect(await a.store.getRun("r-b")).toMatchObject({ status: "done", reason: "interrupted" });
  });


  it("closes an orphan once, whichever process gets to it", async () => {
    const url = await freshSchemaUrl();
    const meet = meetAtMessages();
    const [a, b] = [await startProcess(url, "proc-a", meet.wrap), await startProcess(url, "proc-b", meet.wrap)];
    const runIds = ["r1", "r2"];
    for (const runId of runIds) {
      const conversationId = `c-${runId}`;
      await a.store.createConversation({ id: conversationId, userId: "u", title: "t" });
      await a.store.createRun({ id: runId, conversationId, userId: "u", model: "demo", provider: "ollama", owner: "proc-dead" });
      await a.store.appendMessage({ conversationId, runId, message: { role: "user", content: "hi" } });
      const events: ChatEvent[] = [
        { type: "run-start", runId, at: 1, conversationId, model: "demo", provider: "ollama" },
        { type: "token", runId, at: 2, text: "half an answer" },
      ];
      events.forEach((event, i) => void a.store.appendEvent(runId, i + 1, event));
    }
    await a.store.flush();

    // First sweeps only suspect proc-dead (seen without its lock once).
    expect(await a.runs.recoverInterrupted()).toBe(0);
    expect(await b.runs.recoverInterrupted()).toBe(0);
    // Then both close: B sweeps while A is in the middle of closing the first run, once proc-dead's lock is free
    // again (two checks at the same moment see each other's momentary try-lock and skip: safe, but not this test).
    const first = a.runs.recoverInterrupted();
    await meet.someoneWaits;
    const closed = await Promise.all([first, b.runs.recoverInterrupted()]);
    expect(closed[0] + closed[1]).toBe(runIds.length);
    expect(await Promise.all([a.runs.recoverInterrupted(), b.runs.recoverInterrupted()])).toEqual([0, 0]);

    for (const runId of runIds) {
      const log = await a.store.readEvents(runId);
      expect(log.map((e) => e.event.type)).toEqual(["run-start", "token", "error", "done"]);
      expect(await a.store.getRun(runId)).toMatchObject({ status: "done", reason: "interrupted" });
      const messages = (await a.store.listMessages(`c-${runId}`)).map((m) => [m.message.role, m.message.content]);
      expect(messages).toEqual([
        ["user", "hi"],
        ["assistant", "half an answer"],
      ]);
    }
  });
});
