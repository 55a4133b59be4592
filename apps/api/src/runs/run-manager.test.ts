import { TRPCClientError } from "@trpc/client";
import { afterEach, describe, expect, it } from "vitest";
import { startSimulator } from "@streamchat/ollama-sim";
import { createMemoryStore } from "@streamchat/store";
import { testRunManager } from "../test-support/run-manager.js";
import { collectRun, recordEvents, startTestApi, tokenText, types, type TestApi } from "../test-support/harness.js";

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(TRPCClientError);
      return (error as TRPCClientError<never>).data as unknown as { code: string; appCode: string | null };
    },
  );

describe("per-user run limit", () => {
  it("refuses runs beyond MAX_RUNS_PER_USER with rate_limited (tRPC and REST)", async () => {
    api = await startTestApi({ env: { MAX_RUNS_PER_USER: "1" } });
    const client = api.client();
    const control = api.sim.control();
    const first = await client.chat.send.mutate({ message: "one at a time" });
    await control.connected;

    expect(await failure(client.chat.send.mutate({ message: "another" }))).toEqual(
      expect.objectContaining({ code: "TOO_MANY_REQUESTS", appCode: "rate_limited" }),
    );
    const rest = await fetch(`${api.url}/api/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "another" }),
    });
    expect(rest.status).toBe(429);
    expect(await rest.json()).toMatchObject({ code: "rate_limited" });

    await control.push({ done: true });
    await collectRun(client, first.runId);
    const next = await client.chat.send.mutate({ message: "now it fits" });
    expect((await collectRun(client, next.runId)).at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
  });
});

describe("model idle timeout", () => {
  it("aborts a stalled model request and ends with provider_error", async () => {
    api = await startTestApi({ env: { CHAT_IDLE_TIMEOUT_MS: "300" } });
    const client = api.client();
    const { runId } = await client.chat.send.mutate({ message: "hi", model: "sim-stall" });
    const received = await collectRun(client, runId);
    expect(types(received).slice(-2)).toEqual(["error", "done"]);
    expect(received.at(-2)?.event).toMatchObject({ type: "error", code: "provider_error", message: expect.stringMatching(/stalled/) });
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "error" });
    const request = api.sim.chatRequests().at(-1);
    await request?.finished;
    expect(request?.clientClosedEarly).toBe(true);
    expect(api.server.runs.stats().activeRuns).toBe(0);
  });
});

describe("chat.cancel's answer", () => {
  it("a second Stop while the first one's abort is under way here is `ended`, not a process out of reach", async () => {
    const sim = await startSimulator({ tokenDelayMs: 1 });
    const store = createMemoryStore();
    const runs = testRunManager(store, sim);
    try {
      const control = sim.control();
      const { runId } = await runs.start({ userId: "u", message: "stop me twice" });
      await control.connected;
      // Side by side: the first aborts the run; the second's control message finds it aborted, still live here.
      const answers = await Promise.all([runs.cancel("u", runId), runs.cancel("u", runId)]);
      expect(answers).toEqual([{ cancelled: true }, { cancelled: false, reason: "ended" }]);
      await runs.whenEnded(runId);
      expect(await runs.cancel("u", runId)).toEqual({ cancelled: false, reason: "ended" });
    } finally {
      await runs.shutdown(0);
      await store.close();
      await sim.close();
    }
  });

  it("over tRPC: Stop of a run that ended answers `ended`", async () => {
    api = await startTestApi();
    const client = api.client();
    const control = api.sim.control();
    const { runId } = await client.chat.send.mutate({ message: "ends first" });
    await control.connected;
    await control.push({ done: true });
    await collectRun(client, runId);
    expect(await client.chat.cancel.mutate({ runId })).toEqual({ cancelled: false, reason: "ended" });
  });
});

describe("graceful shutdown", () => {
  it("lets a run finish within SHUTDOWN_GRACE_MS and refuses new ones meanwhile", async () => {
    api = await startTestApi({ env: { SHUTDOWN_GRACE_MS: "20000" } });
    const client = api.client();
    const control = api.sim.control();
    const { runId } = await client.chat.send.mutate({ message: "finish me" });
    await control.connected;
    const rec = recordEvents(client, runId);
    await rec.waitFor((e) => e.type === "status");

    const closed = api.server.close();
    await expect(api.server.runs.start({ userId: "local", message: "too late" })).rejects.toThrow(/shutting down/);
    await control.push({ content: "done in time" });
    await control.push({ done: true });
    const received = await rec.completed;
    await closed;
    expect(tokenText(received)).toBe("done in time");
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
  });

  it("closes runs still going after the grace period as interrupted", async () => {
    api = await startTestApi({ env: { SHUTDOWN_GRACE_MS: "100" } });
    const client = api.client();
    const control = api.sim.control();
    const { runId, conversationId } = await client.chat.send.mutate({ message: "too slow" });
    await control.connected;
    await control.push({ content: "half an ans" });
    const rec = recordEvents(client, runId);
    await rec.waitFor((e) => e.type === "token");

    await api.server.close();
    await control.closedByClient;
    const received = await rec.completed;
    expect(types(received)).toEqual(["run-start", "status", "status", "token", "error", "done"]);
    expect(received.at(-2)?.event).toMatchObject({ type: "error", code: "interrupted" });
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "interrupted" });

    const store = await api.openStore();
    try {
      expect(await store.getRun(runId)).toMatchObject({ status: "done", reason: "interrupted" });
      expect((await store.listMessages(conversationId)).map((m) => m.message.content)).toEqual(["too slow", "half an ans"]);
    } finally {
      await store.close();
    }
  });
});

describe("a run's history", () => {
  it("is not read back for a new conversation's first answer; a follow-up reads the conversation's active path", async () => {
    api = await startTestApi();
    const store = api.server.store;
    const activePath = store.activePath.bind(store);
    const reads: string[] = [];
    store.activePath = (conversationId) => {
      reads.push(conversationId);
      return activePath(conversationId);
    };
    const client = api.client();
    const messagesSent = () => ((api!.sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> }).messages);

    const first = await client.chat.send.mutate({ message: "first question" });
    await collectRun(client, first.runId);
    expect(reads).toEqual([]);
    expect(messagesSent().filter((m) => m.role === "user").map((m) => m.content)).toEqual(["first question"]);

    const second = await client.chat.send.mutate({ message: "second question", conversationId: first.conversationId });
    await collectRun(client, second.runId);
    expect(reads).toEqual([first.conversationId]);
    expect(messagesSent().map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(messagesSent().at(-1)?.content).toBe("second question");
  });
});
