import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { errorCodeMessages, type ChatEvent, type EventOf } from "@streamchat/core";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import type { ChatStore } from "@streamchat/store";
import { openTestStore, testBackend, type TestStore } from "../test-support/backend.js";
import { failingStore } from "../test-support/failing-store.js";
import { collectRun, eventually, recordEvents, startTestApi, types, type TestApi } from "../test-support/harness.js";
import { LocalExclusion, type ReplicaLiveness } from "./liveness.js";
import { openPostgresLiveness } from "./postgres-liveness.js";
import { defaultRecoverySeqGap } from "./recovery.js";
import type { RunManager } from "./run-manager.js";
import { silentLog } from "./run-log.js";
import { approvalTool } from "../test-support/approval-tool.js";
import { testRunManager } from "../test-support/run-manager.js";

// chat.cancel of a run that is `running` in the store while no process executes it: suspended by a graceful shutdown
// while it waits for approval, or left by a process that is gone. Stop ends it as a cancel of a live run does
// (`done{cancelled}`, no error event; a call without a result answered `cancelled`), exactly once, also when recovery
// is closing the same run; a live run is cancelled as before. Both databases (the vitest projects sqlite/postgres).

const { tool: deleteFile, ran } = approvalTool();

const apis: TestApi[] = [];
const dirs: string[] = [];
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close().catch(() => {});
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 1 });
});
afterAll(async () => {
  await sim?.close();
});

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "streamchat-cancel-"));
  dirs.push(dir);
  return dir;
}

async function start(dir: string, from?: TestApi): Promise<TestApi> {
  const api = await startTestApi({ dir, extraTools: [deleteFile], ...(from ? { data: from.data } : {}) });
  apis.push(api);
  return api;
}

async function stop(api: TestApi): Promise<void> {
  apis.splice(apis.indexOf(api), 1);
  await api.close();
}

const isRequest = (e: ChatEvent): e is EventOf<"approval-request"> => e.type === "approval-request";

async function waitingRun(api: TestApi, path: string) {
  const client = api.client();
  const started = await client.chat.send.mutate({ message: `use the delete_file tool with {"path":"${path}"}` });
  const events = recordEvents(client, started.runId);
  const request = (await events.waitFor(isRequest)).event as EventOf<"approval-request">;
  await events.waitFor((e) => e.type === "status" && e.phase === "waiting");
  events.unsubscribe();
  return { ...started, request };
}

const cancelledCall = JSON.stringify({ error: { code: "cancelled", message: errorCodeMessages.cancelled } });

/** What the store holds of a run closed by a cancel: its log (the run's own events, then the end) and its status. */
async function expectCancelledInStore(store: ChatStore, runId: string, before: ChatEvent["type"]): Promise<void> {
  const log = await store.readEvents(runId);
  const [last, end] = log.slice(-2);
  // Exactly as a cancelled run ends: done alone, no error; above every seq handed out (recovery's gap).
  expect(last?.event.type).toBe(before);
  expect(end?.event).toMatchObject({ type: "done", reason: "cancelled" });
  expect(end?.seq).toBe(last!.seq + defaultRecoverySeqGap + 1);
  expect(await store.getRun(runId)).toMatchObject({ status: "done", reason: "cancelled" });
}

describe("chat.cancel of a run suspended while it waits for approval", () => {
  it("ends it as cancelled; the next start does not continue it, and the conversation takes a new message", async () => {
    const dir = freshDir();
    const first = await start(dir);
    const { runId, conversationId, request } = await waitingRun(first, "suspended.txt");
    // A graceful shutdown suspends the run (no end, still running); this process still answers requests.
    await first.server.runs.shutdown(60_000);
    const before = await first.openStore();
    cleanup.push(() => before.close());
    expect(await before.getRun(runId)).toMatchObject({ status: "running" });

    expect(await first.client().chat.cancel.mutate({ runId })).toEqual({ cancelled: true });
    await expectCancelledInStore(before, runId, "status");
    // Started here and ended here: counted once, as cancelled.
    const metrics = await (await fetch(`${first.url}/metrics`)).text();
    expect(metrics).toMatch(/^streamchat_runs_finished_total\{reason="cancelled",replica="[^"]+"\} 1$/m);
    // The waiting call got what a cancel gives it; the answer so far is stored.
    const stored = (await before.listMessages(conversationId)).map((m) => m.message);
    expect(stored).toEqual([
      expect.objectContaining({ role: "user" }),
      expect.objectContaining({ role: "assistant", toolCalls: [expect.objectContaining({ id: request.callId, name: "delete_file" })] }),
      { role: "tool", toolCallId: request.callId, toolName: "delete_file", content: cancelledCall },
    ]);
    // Stop again: nothing left to stop.
    expect(await first.client().chat.cancel.mutate({ runId })).toEqual({ cancelled: false, reason: "ended" });
    const log = await before.readEvents(runId);
    await stop(first);

    const second = await start(dir, first);
    const client = second.client();
    // Not continued: no new "waiting" after the restart, the same log, the call never run.
    const replayed = await collectRun(client, runId);
    expect(replayed.map((r) => ({ seq: Number(r.id), event: r.event }))).toEqual(log);
    expect((await client.conversations.get.query({ conversationId })).activeRunId).toBeNull();
    const next = await client.chat.send.mutate({ conversationId, message: "something else then" });
    expect((await collectRun(client, next.runId)).at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(await client.chat.approve.mutate({ runId, callId: request.callId, approved: true }).catch(() => "refused")).toBe("refused");
    expect(ran).not.toContain("suspended.txt");
  });

  it.runIf(testBackend === "postgres")(
    "on another replica while the run's own process has stopped: followers see the end, and no replica continues it",
    async () => {
      const dir = freshDir();
      const first = await start(dir);
      const second = await start(freshDir(), first);
      const { runId, conversationId } = await waitingRun(first, "replica.txt");
      const onSecond = recordEvents(second.client(), runId);
      await onSecond.waitFor((e) => e.type === "status" && e.phase === "waiting");
      await stop(first);

      // The second replica's recovery would continue it once the first one's liveness lock is seen gone for 2.5 s.
      expect(await second.client().chat.cancel.mutate({ runId })).toEqual({ cancelled: true });
      const received = await onSecond.completed;
      expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "cancelled" });
      expect(types(received)).not.toContain("error");
      const client = second.client();
      expect((await client.conversations.get.query({ conversationId })).activeRunId).toBeNull();
      // Its sweeps go on: nothing continues the run (a continued run would say it waits again).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await collectRun(client, runId)).toEqual(received);
      const next = await client.chat.send.mutate({ conversationId, message: "go on without it" });
      expect((await collectRun(client, next.runId)).at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
      expect(ran).not.toContain("replica.txt");
    },
    30_000,
  );
});

/** A run a process that is gone left mid tool round: a call announced, no result, no done. */
async function orphan(store: ChatStore, userId: string, owner: string): Promise<{ conversationId: string; runId: string }> {
  const conversationId = randomUUID();
  const runId = randomUUID();
  await store.createConversation({ id: conversationId, userId, title: "orphan" });
  await store.createRun({ id: runId, conversationId, userId, model: "demo", provider: "ollama", owner });
  await store.appendMessage({ conversationId, runId, message: { role: "user", content: "time?" } });
  const events: ChatEvent[] = [
    { type: "run-start", runId, at: 1, conversationId, model: "demo", provider: "ollama" },
    { type: "status", runId, at: 2, phase: "thinking", message: "…" },
    { type: "token", runId, at: 3, text: "Checking." },
    { type: "tool-call", runId, at: 4, callId: "call_a", name: "current_time", args: {} },
  ];
  events.forEach((event, i) => void store.appendEvent(runId, i + 1, event));
  await store.flush();
  return { conversationId, runId };
}

describe("chat.cancel of a run whose process is gone", () => {
  it("ends it as cancelled, for followers too, and frees its conversation", async () => {
    const api = await start(freshDir());
    const store = await api.openStore();
    cleanup.push(() => store.close());
    // Written as a process that died would have left it (the API's start-up recovery ran before it existed).
    const { conversationId, runId } = await orphan(store, "local", `gone-${randomUUID()}`);
    const client = api.client();
    const following = recordEvents(client, runId);
    await following.waitFor((e) => e.type === "tool-call");

    expect(await client.chat.cancel.mutate({ runId })).toEqual({ cancelled: true });
    const received = await following.completed;
    expect(types(received)).toEqual(["run-start", "status", "token", "tool-call", "done"]);
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "cancelled" });
    await expectCancelledInStore(store, runId, "tool-call");
    expect((await store.listMessages(conversationId)).map((m) => m.message)).toEqual([
      { role: "user", content: "time?" },
      { role: "assistant", content: "Checking.", toolCalls: [{ id: "call_a", name: "current_time", args: {} }] },
      { role: "tool", toolCallId: "call_a", toolName: "current_time", content: cancelledCall },
    ]);
    expect((await client.conversations.get.query({ conversationId })).activeRunId).toBeNull();
    const next = await client.chat.send.mutate({ conversationId, message: "and now?" });
    expect((await collectRun(client, next.runId)).at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
  }, 30_000);
});

describe("chat.cancel of a run executing live", () => {
  it("aborts it as before: its model request closes, done{cancelled} follows its events without a gap", async () => {
    const api = await start(freshDir());
    const client = api.client();
    const control = api.sim.control();
    const { runId } = await client.chat.send.mutate({ message: "stream something" });
    await control.connected;
    await control.push({ content: "partial" });
    const following = recordEvents(client, runId);
    await following.waitFor((e) => e.type === "token");
    expect(await client.chat.cancel.mutate({ runId })).toEqual({ cancelled: true });
    await control.closedByClient;
    const received = await following.completed;
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "cancelled" });
    expect(types(received)).not.toContain("error");
    expect(received.map((r) => Number(r.id))).toEqual(received.map((_, i) => i + 1));
    expect(await client.chat.cancel.mutate({ runId })).toEqual({ cancelled: false, reason: "ended" });
  });

  it("a live run waiting for approval ends as the closes above end one: done alone, the call answered cancelled", async () => {
    const api = await start(freshDir());
    const { runId, conversationId, request } = await waitingRun(api, "live.txt");
    expect(await api.client().chat.cancel.mutate({ runId })).toEqual({ cancelled: true });
    await api.server.runs.whenEnded(runId);
    const store = await api.openStore();
    cleanup.push(() => store.close());
    const log = await store.readEvents(runId);
    expect(log.slice(-2).map((e) => e.event)).toEqual([
      expect.objectContaining({ type: "status", phase: "waiting" }),
      expect.objectContaining({ type: "done", reason: "cancelled" }),
    ]);
    expect((await store.listMessages(conversationId)).at(-1)?.message).toEqual({
      role: "tool",
      toolCallId: request.callId,
      toolName: "delete_file",
      content: cancelledCall,
    });
  });
});

/** A RunManager as an API process has it, on `store`, with `liveness`. */
function manager(store: ChatStore, liveness?: ReplicaLiveness, unownedCancelWaitMs?: number): RunManager {
  return testRunManager(store, sim, {
    log: silentLog,
    ...(liveness ? { liveness } : {}),
    ...(unownedCancelWaitMs === undefined ? {} : { unownedCancelWaitMs }),
  });
}

async function dones(store: ChatStore, runId: string): Promise<Array<EventOf<"done">>> {
  return (await store.readEvents(runId)).map((e) => e.event).filter((e): e is EventOf<"done"> => e.type === "done");
}

/**
 * A view of `store` whose listMessages waits, once armed, until released: a close (closeRunFromLog) counts the messages
 * it still has to store there, under the run's exclusive lock. It holds one closer inside its close while the other
 * one tries.
 */
function gated(store: ChatStore): { store: ChatStore; arm(): { reached: Promise<void>; release: () => void } } {
  let armed: { reached: () => void; released: Promise<void> } | undefined;
  const view = new Proxy(store, {
    get(target, key, receiver) {
      if (key !== "listMessages") return Reflect.get(target, key, receiver) as unknown;
      return async (conversationId: string) => {
        const gate = armed;
        armed = undefined;
        if (gate) {
          gate.reached();
          await gate.released;
        }
        return target.listMessages(conversationId);
      };
    },
  });
  return {
    store: view,
    arm() {
      let reached!: () => void;
      let release!: () => void;
      const reachedAt = new Promise<void>((resolve) => (reached = resolve));
      armed = { reached, released: new Promise<void>((resolve) => (release = resolve)) };
      return { reached: reachedAt, release };
    },
  };
}

describe("a cancel and recovery closing the same run", () => {
  async function testStore(): Promise<TestStore & { data: { url: string | undefined } }> {
    const store = await openTestStore();
    cleanup.push(() => store.close());
    return store;
  }

  async function expectEndedOnce(store: ChatStore, conversationId: string, runId: string, reason: "cancelled" | "interrupted") {
    expect((await dones(store, runId)).map((done) => done.reason)).toEqual([reason]);
    // The answer is stored once, whoever closed it.
    expect((await store.listMessages(conversationId)).map((m) => m.message.role)).toEqual(["user", "assistant", "tool"]);
  }

  /** Who meets whom on one orphan: `gate` is the store view of the process whose step is held at the run's close. */
  interface Race {
    store: ChatStore;
    gate: Pick<ReturnType<typeof gated>, "arm">;
    recovery: RunManager;
    canceller: RunManager;
    run: { conversationId: string; runId: string };
  }

  /**
   * Recovery is closing the run (held at the gate) when the cancel comes: the cancel leaves it, and answers not
   * cancelled, `ended` (its end is on its way).
   */
  async function expectRecoveryWins({ store, gate, recovery, canceller, run }: Race): Promise<void> {
    const held = gate.arm();
    const recovering = recovery.recoverInterrupted();
    await held.reached;
    expect(await canceller.cancel("u", run.runId)).toEqual({ cancelled: false, reason: "ended" });
    held.release();
    expect(await recovering).toBe(1);
    await expectEndedOnce(store, run.conversationId, run.runId, "interrupted");
  }

  /** The cancel is closing the run (held at the gate) when recovery comes: recovery closes nothing. */
  async function expectCancelWins({ store, gate, recovery, canceller, run }: Race): Promise<void> {
    const held = gate.arm();
    const cancelling = canceller.cancel("u", run.runId);
    await held.reached;
    expect(await recovery.recoverInterrupted()).toBe(0);
    held.release();
    expect(await cancelling).toEqual({ cancelled: true });
    await expectEndedOnce(store, run.conversationId, run.runId, "cancelled");
  }

  it("in one process: whichever holds the run first ends it, once; the cancel answers whether it was the one", async () => {
    const store = await testStore();
    const view = gated(store);
    const runs = manager(view.store);

    // Recovery is closing it (as interrupted) when the cancel comes: the cancel leaves it alone.
    await expectRecoveryWins({ store, gate: view, recovery: runs, canceller: runs, run: await orphan(store, "u", `gone-${randomUUID()}`) });

    // The cancel is closing it when recovery comes: recovery leaves it alone.
    await expectCancelWins({ store, gate: view, recovery: runs, canceller: runs, run: await orphan(store, "u", `gone-${randomUUID()}`) });

    // Started together, in either order: one end.
    for (const cancelFirst of [true, false]) {
      const third = await orphan(store, "u", `gone-${randomUUID()}`);
      const [cancelled] = cancelFirst
        ? await Promise.all([runs.cancel("u", third.runId), runs.recoverInterrupted()])
        : await Promise.all([runs.recoverInterrupted(), runs.cancel("u", third.runId)]).then(([, answer]) => [answer]);
      await expectEndedOnce(store, third.conversationId, third.runId, cancelled.cancelled ? "cancelled" : "interrupted");
    }
  });

  it.runIf(testBackend === "postgres")("across processes: a cancel on one and the sweep of another end it once", async () => {
    const store = await testStore();
    const url = store.data.url!;
    const livenessOf = async (replicaId: string) => {
      const liveness = await openPostgresLiveness({ url, replicaId, log: silentLog, confirmMs: 0 });
      cleanup.push(() => liveness.close());
      return liveness;
    };
    const viewA = gated(store);
    const viewB = gated(store);
    const a = manager(viewA.store, await livenessOf(`a-${randomUUID()}`));
    const b = manager(viewB.store, await livenessOf(`b-${randomUUID()}`));
    /** Each process has seen the owner without its lock once: its next check confirms the death. */
    const orphanSeenByBoth = async () => {
      const run = await orphan(store, "u", `gone-${randomUUID()}`);
      expect(await a.recoverInterrupted()).toBe(0);
      expect(await b.recoverInterrupted()).toBe(0);
      return run;
    };

    // B's sweep is closing it: A's cancel does not get the run's lock, and answers `ended`.
    await expectRecoveryWins({ store, gate: viewB, recovery: b, canceller: a, run: await orphanSeenByBoth() });

    // A's cancel is closing it: B's sweep does not get the lock.
    await expectCancelWins({ store, gate: viewA, recovery: b, canceller: a, run: await orphanSeenByBoth() });

    // Started together.
    const third = await orphanSeenByBoth();
    const [cancelled] = await Promise.all([a.cancel("u", third.runId), b.recoverInterrupted()]);
    await expectEndedOnce(store, third.conversationId, third.runId, cancelled.cancelled ? "cancelled" : "interrupted");
  });
});

describe("a cancel whose close the store refuses", () => {
  it("fails with the store's error; the run stays this process's and is closed in the background, once", async () => {
    const store = await openTestStore();
    cleanup.push(() => store.close());
    const failing = failingStore(store);
    // The done's append fails once (after the answer was stored), as a full disk would refuse it.
    let doneFailures = 0;
    failing.failWhen((method, args) => method === "appendEvent" && (args[2] as ChatEvent).type === "done" && doneFailures++ === 0);
    const runs = manager(failing.store);
    const { conversationId, runId } = await orphan(store, "u", `gone-${randomUUID()}`);
    await expect(runs.cancel("u", runId)).rejects.toThrow(/injected appendEvent failure/);
    // Claimed by this process: no other process's recovery takes it while this one lives.
    expect(await store.getRun(runId)).toMatchObject({ status: "running", owner: runs.replicaId });
    expect(await runs.recoverInterrupted()).toBe(0);
    await eventually(async () => (await store.getRun(runId))?.status === "done", "the background retry to close the run", 10_000);
    expect((await dones(store, runId)).map((done) => done.reason)).toEqual(["cancelled"]);
    expect((await store.listMessages(conversationId)).map((m) => m.message.role)).toEqual(["user", "assistant", "tool"]);
    await runs.shutdown(0);
  });
});

describe("a cancel no process took, for a run whose owner may be executing it", () => {
  it("changes nothing and answers not cancelled, unreachable", async () => {
    const store = await openTestStore();
    cleanup.push(() => store.close());
    // A liveness that knows no owner gone (another live process without a channel to it).
    const exclusion = new LocalExclusion();
    const nobodyDead: ReplicaLiveness = {
      replicaId: "me",
      sweepIntervalMs: null,
      deadOwners: async () => new Set(),
      exclusive: (runId, work) => exclusion.run(runId, work),
      close: async () => {},
    };
    const { runId } = await orphan(store, "u", "alive-elsewhere");
    const log = await store.readEvents(runId);
    expect(await manager(store, nobodyDead).cancel("u", runId)).toEqual({ cancelled: false, reason: "unreachable" });
    expect(await store.getRun(runId)).toMatchObject({ status: "running", owner: "alive-elsewhere" });
    expect(await store.readEvents(runId)).toEqual(log);
  });

  it.runIf(testBackend === "postgres")("on PostgreSQL: an owner holding its liveness lock is never judged gone", async () => {
    const store = await openTestStore();
    cleanup.push(() => store.close());
    const url = store.data.url!;
    const owner = `alive-${randomUUID()}`;
    const ownerLiveness = await openPostgresLiveness({ url, replicaId: owner, log: silentLog, confirmMs: 0 });
    const mine = await openPostgresLiveness({ url, replicaId: `me-${randomUUID()}`, log: silentLog, confirmMs: 0 });
    cleanup.push(() => ownerLiveness.close(), () => mine.close());
    const { runId } = await orphan(store, "u", owner);
    const log = await store.readEvents(runId);
    expect(await manager(store, mine, 2500).cancel("u", runId)).toEqual({ cancelled: false, reason: "unreachable" });
    expect(await store.getRun(runId)).toMatchObject({ status: "running", owner });
    expect(await store.readEvents(runId)).toEqual(log);

    // Once it is gone, the same cancel ends the run.
    await ownerLiveness.close();
    expect(await manager(store, mine, 5000).cancel("u", runId)).toEqual({ cancelled: true });
    await eventually(async () => (await store.getRun(runId))?.status === "done", "the run to be closed");
    expect((await dones(store, runId)).map((d) => d.reason)).toEqual(["cancelled"]);
  });
});
