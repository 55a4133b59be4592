import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpenAIModel, emptyUsage, type ChatEvent, type ChatMessage } from "@streamchat/core";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import type { ChatStore } from "@streamchat/store";
import { loadConfig } from "../config.js";
import { openTestStore, testBackend, unfinishRun, type TestStore } from "../test-support/backend.js";
import { eventually } from "../test-support/harness.js";
import { failingStore, type FailWhen } from "../test-support/failing-store.js";
import { RunManager, type RunHooks } from "./run-manager.js";

/**
 * Start-up recovery of runs a crashed process left `running`: every tool call keeps a result (else an
 * OpenAI-compatible server refuses every later turn of the conversation), and a crash or store failure
 * during recovery itself never duplicates what an earlier attempt stored.
 */

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 1 });
});
afterAll(async () => {
  await sim?.close();
});

const silent = { info() {}, warn() {}, error() {} };

function manager(store: ChatStore, hooks?: RunHooks): RunManager {
  return new RunManager({
    ...(hooks ? { hooks } : {}),
    store,
    // OpenAI's wire format: the simulator records the tool_call_id pairing a later turn sends.
    model: createOpenAIModel({ baseUrl: `${sim.url}/v1` }),
    provider: "openai",
    defaultModel: "demo",
    limits: loadConfig({ COALESCE_TOKENS: "0" }),
    toolsFor: () => [],
    log: silent,
  });
}

/** What a process killed during a tool round left: two calls announced, one answered, no done. */
async function crashedRun(
  options: Parameters<typeof openTestStore>[0] = {},
): Promise<{ store: Awaited<ReturnType<typeof openTestStore>>; conversationId: string; runId: string }> {
  const store = await openTestStore(options);
  const conversationId = "c1";
  const runId = "r1";
  await store.createConversation({ id: conversationId, userId: "u", title: "t" });
  await store.createRun({ id: runId, conversationId, userId: "u", model: "demo", provider: "openai", owner: "crashed" });
  await store.appendMessage({ conversationId, runId, message: { role: "user", content: "time and sum?" } });
  const events: ChatEvent[] = [
    { type: "run-start", runId, at: 1, conversationId, model: "demo", provider: "openai" },
    { type: "status", runId, at: 2, phase: "thinking", message: "…" },
    { type: "token", runId, at: 3, text: "Checking." },
    { type: "tool-call", runId, at: 4, callId: "call_a", name: "current_time", args: {} },
    { type: "tool-call", runId, at: 5, callId: "call_b", name: "calculator", args: { expression: "1+1" } },
    { type: "tool-result", runId, at: 6, callId: "call_a", name: "current_time", ok: true, result: { iso: "x" }, durationMs: 2 },
  ];
  events.forEach((event, i) => void store.appendEvent(runId, i + 1, event));
  await store.flush();
  return { store, conversationId, runId };
}

const interrupted = '{"error":{"code":"interrupted","message":"The server restarted while answering."}}';
const expectedMessages: ChatMessage[] = [
  { role: "user", content: "time and sum?" },
  {
    role: "assistant",
    content: "Checking.",
    toolCalls: [
      { id: "call_a", name: "current_time", args: {} },
      { id: "call_b", name: "calculator", args: { expression: "1+1" } },
    ],
  },
  { role: "tool", toolCallId: "call_a", toolName: "current_time", content: '{"iso":"x"}' },
  { role: "tool", toolCallId: "call_b", toolName: "calculator", content: interrupted },
];

const messages = async (store: ChatStore, conversationId: string) => (await store.listMessages(conversationId)).map((m) => m.message);
const closingTypes = async (store: ChatStore, runId: string) =>
  (await store.readEvents(runId)).map((e) => e.event.type).filter((type) => type === "error" || type === "done");

describe("recovering a run a crash left in a tool round", () => {
  it("answers the unanswered call, so the next turn is a valid OpenAI conversation", async () => {
    const { store, conversationId, runId } = await crashedRun();
    try {
      const runs = manager(store);
      expect(await runs.recoverInterrupted()).toBe(1);
      expect(await messages(store, conversationId)).toEqual(expectedMessages);
      expect(await closingTypes(store, runId)).toEqual(["error", "done"]);
      expect(await store.getRun(runId)).toMatchObject({ status: "done", reason: "interrupted" });

      // The next turn: every tool_calls id has its role:"tool" answer in the request the model server gets.
      const before = sim.chatRequests().length;
      const next = await runs.start({ userId: "u", conversationId, message: "and now?" });
      await runs.whenEnded(next.runId);
      const request = sim.chatRequests().slice(before)[0];
      const sent = (request?.body as { messages: Array<{ role: string; tool_calls?: Array<{ id: string }>; tool_call_id?: string }> })
        .messages;
      const callIds = sent.flatMap((m) => m.tool_calls?.map((c) => c.id) ?? []);
      const answered = sent.filter((m) => m.role === "tool").map((m) => m.tool_call_id);
      expect(callIds).toEqual(["call_a", "call_b"]);
      expect(answered).toEqual(callIds);
      expect(await store.getRun(next.runId)).toMatchObject({ status: "done", reason: "stop" });
    } finally {
      await store.close();
    }
  });

  it("tells the run hooks (the conversation feed) what it stored and that the run ended, also when only the status was stale", async () => {
    const { store, conversationId, runId } = await crashedRun();
    try {
      const told: string[] = [];
      const hooks: RunHooks = {
        messageAdded: (userId, stored) => told.push(`${userId} message ${stored.conversationId} ${stored.message.role}`),
        runFinished: (record, done) => told.push(`${record.userId} finished ${record.id} ${done.reason}`),
      };
      expect(await manager(store, hooks).recoverInterrupted()).toBe(1);
      expect(told).toEqual([
        `u message ${conversationId} assistant`,
        `u message ${conversationId} tool`,
        `u message ${conversationId} tool`,
        `u finished ${runId} interrupted`,
      ]);

      // A run whose log ended with done but left running (an older version died between the two): the end is told too.
      const second = await crashedRun();
      await second.store.appendEvent(second.runId, 7, { type: "done", runId: second.runId, at: 7, reason: "stop", usage: emptyUsage() });
      await unfinishRun(second.store.data, second.runId);
      told.length = 0;
      try {
        expect(await manager(second.store, hooks).recoverInterrupted()).toBe(0);
        expect(told).toEqual([`u finished ${second.runId} stop`]);
        expect(await second.store.getRun(second.runId)).toMatchObject({ status: "done", reason: "stop" });
      } finally {
        await second.store.close();
      }
    } finally {
      await store.close();
    }
  });

  it("is idempotent: running it again appends nothing", async () => {
    const { store, conversationId, runId } = await crashedRun();
    try {
      expect(await manager(store).recoverInterrupted()).toBe(1);
      const log = await store.readEvents(runId);
      expect(await manager(store).recoverInterrupted()).toBe(0);
      expect(await messages(store, conversationId)).toEqual(expectedMessages);
      expect(await store.readEvents(runId)).toEqual(log);
    } finally {
      await store.close();
    }
  });

  // A crash during recovery is a recovery that stopped after some of its writes: simulate each stop point.
  const stopPoints: Array<{ name: string; rule: () => FailWhen }> = [
    { name: "after the first recovered message", rule: () => nth((method) => method === "appendMessage", 2) },
    { name: "after all messages, before the error event", rule: () => nth((method, args) => method === "appendEvent" && isType(args, "error"), 1) },
    { name: "after the error event, before done", rule: () => nth((method, args) => method === "appendEvent" && isType(args, "done"), 1) },
  ];
  for (const { name, rule } of stopPoints) {
    it(`stopped ${name}: the next recovery completes it without duplicates`, async () => {
      const { store, conversationId, runId } = await crashedRun();
      try {
        const failing = failingStore(store);
        failing.failWhen(rule());
        // The failed attempt is logged, not thrown: the server still starts, the run stays for next time.
        expect(await manager(failing.store).recoverInterrupted()).toBe(0);
        expect(failing.failures.length).toBeGreaterThanOrEqual(1);
        // Nothing was written after the stop point (an append's commit is asked for with it: flush, which fails too).
        expect(failing.failures.slice(1).filter((f) => f.method !== "flush")).toEqual([]);
        expect((await store.getRun(runId))?.status).toBe("running");

        await manager(store).recoverInterrupted();
        expect(await messages(store, conversationId)).toEqual(expectedMessages);
        expect(await closingTypes(store, runId)).toEqual(["error", "done"]);
        expect(await store.getRun(runId)).toMatchObject({ status: "done", reason: "interrupted" });
      } finally {
        await store.close();
      }
    });
  }

  // One process per SQLite file: no periodic sweep runs after start-up. A run the start-up pass could not close (the
  // disk full, the file locked) would stay running until the next restart, its conversation refusing every message.
  it.runIf(testBackend === "sqlite")("a start-up recovery the database refused (a real SQLite lock) is retried until the run is closed", async () => {
    // A short busy timeout: a locked write fails at once (SQLITE_BUSY, reported as unavailable, as a full disk is).
    const { store, conversationId, runId } = await crashedRun({ busyTimeoutMs: 20 });
    const locker = new DatabaseSync(store.data.dbPath);
    const errors: string[] = [];
    const runs = new RunManager({
      store,
      model: createOpenAIModel({ baseUrl: `${sim.url}/v1` }),
      provider: "openai",
      defaultModel: "demo",
      limits: loadConfig({ COALESCE_TOKENS: "0" }),
      toolsFor: () => [],
      log: { ...silent, error: (_fields: object, message: string) => void errors.push(message) },
    });
    try {
      locker.exec("BEGIN EXCLUSIVE");
      expect(await runs.recoverInterrupted()).toBe(0);
      expect(errors).toContain("could not close a run left running; retrying later");
      expect((await store.getRun(runId))?.status).toBe("running");
      runs.startRecovery(); // what the server does once it listens
      locker.exec("ROLLBACK");

      await eventually(async () => (await store.getRun(runId))?.status === "done", "the run to be closed once the lock is gone");
      expect(await store.getRun(runId)).toMatchObject({ status: "done", reason: "interrupted" });
      expect(await messages(store, conversationId)).toEqual(expectedMessages);
      expect(await closingTypes(store, runId)).toEqual(["error", "done"]);
      // The conversation takes a message again.
      const next = await runs.start({ userId: "u", conversationId, message: "and now?" });
      await runs.whenEnded(next.runId);
      expect(await store.getRun(next.runId)).toMatchObject({ status: "done", reason: "stop" });
    } finally {
      await runs.shutdown(0);
      locker.close();
      await store.close();
    }
  });

  it("a run whose own process had stored its messages before dying gets none twice", async () => {
    const { store, conversationId, runId } = await crashedRun();
    try {
      // The engine's result was stored (as the run loop does before `done`), then the process died.
      for (const message of expectedMessages.slice(1)) await store.appendMessage({ conversationId, runId, message });
      expect(await manager(store).recoverInterrupted()).toBe(1);
      expect(await messages(store, conversationId)).toEqual(expectedMessages);
    } finally {
      await store.close();
    }
  });
});

function isType(args: readonly unknown[], type: ChatEvent["type"]): boolean {
  return (args[2] as ChatEvent).type === type;
}

/** Fails the nth call the predicate picks, and every later one (the process is gone). */
function nth(pick: FailWhen, n: number): FailWhen {
  let seen = 0;
  let failed = false;
  return (method, args) => {
    if (failed) return true;
    if (!pick(method, args)) return false;
    seen += 1;
    failed = seen >= n;
    return failed;
  };
}
