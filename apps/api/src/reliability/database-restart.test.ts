import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivateCluster, type PrivateCluster } from "@streamchat/store/test-support";
import type { PostgresStoreStats } from "@streamchat/store";
import { postgresDataAt, testBackend } from "../test-support/backend.js";
import { collectRun, eventually, recordEvents, tokenText, types, startTestApi, type TestApi } from "../test-support/harness.js";
import { tempDir } from "../test-support/reliability.js";

/**
 * PostgreSQL killed (immediate shutdown, as in a crash) and restarted under a running answer, with the API up all
 * along: no uncaught exception, `health` and GET /healthz report the store down and then up again, the pool and the
 * liveness connection reconnect by themselves, and the run ends properly:
 * - an outage while the model is still answering costs nothing: queued events are committed once the database is
 *   back (the store retries a batch for up to a minute by default), and the answer ends as it would have;
 * - an outage through the end of the answer: the done waits for the database (an outage shorter than the store's
 *   retries loses nothing); once the store gives up, subscribers get error{internal} + done, and the log gets them as
 *   soon as the database is back; the conversation is free again.
 *
 * A private cluster (a child process of the test), since the shared one serves every other test file. The store's
 * retries last `retryForMs` here instead of the default minute, which the second test would otherwise wait out: the
 * first test's outage (a kill and a restart of the cluster) lasts well under a second, a twentieth of it.
 */
const retryForMs = 10_000;

const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

describe.runIf(testBackend === "postgres")("PostgreSQL killed and restarted under a running answer", () => {
  let cluster: PrivateCluster;
  let api: TestApi;
  let dir: string;

  beforeAll(async () => {
    process.on("uncaughtException", onUncaught);
    process.on("unhandledRejection", onUncaught);
    dir = tempDir();
    cluster = await startPrivateCluster();
    api = await startTestApi({ data: postgresDataAt(cluster.url, dir), dir, storeRetryForMs: retryForMs });
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onUncaught);
  }, 60_000);

  const healthz = async () => {
    const res = await fetch(`${api.url}/healthz`);
    return { status: res.status, body: (await res.json()) as unknown };
  };
  const stats = () => (api.server.store as unknown as { stats(): PostgresStoreStats }).stats();

  async function outage(): Promise<void> {
    await cluster.kill();
    expect(await healthz()).toEqual({ status: 503, body: { ok: false, store: { ok: false } } });
    expect(await api.client().health.query()).toMatchObject({ ok: false, store: { kind: "postgres", ok: false } });
  }

  async function recovery(): Promise<void> {
    await cluster.start();
    await eventually(async () => (await healthz()).status === 200, "healthz to answer 200 again", 30_000);
    expect(await healthz()).toEqual({ status: 200, body: { ok: true, store: { ok: true } } });
  }

  it("an outage while the model answers: the answer completes, every event stored once, health down and up again", { timeout: 120_000 }, async () => {
    const client = api.client();
    const control = api.sim.control({ lastUserIncludes: "[pg:blip]" });
    const { runId, conversationId } = await client.chat.send.mutate({ message: "[pg:blip] go" });
    await control.connected;
    const rec = recordEvents(client, runId);
    await control.push({ content: "before " });
    await rec.waitFor((e) => e.type === "token");
    await eventually(() => stats().pendingEvents === 0, "the first events to be committed");

    await outage();
    // The model keeps answering, subscribers keep receiving; the events wait in the store's queue.
    await control.push({ content: "during " });
    await rec.waitFor((e) => e.type === "token" && e.text === "during ");
    await eventually(() => stats().flushErrors > 0, "a commit to fail while the database is down");
    expect(stats().pendingEvents).toBeGreaterThan(0);

    await recovery();
    await control.push({ content: "after" });
    await control.push({ done: true });
    const received = await rec.completed;
    expect(tokenText(received)).toBe("before during after");
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(received.map((r) => Number(r.id))).toEqual(received.map((_, i) => i + 1));
    const stored = await api.server.store.readEvents(runId);
    expect(stored.map(({ seq, event }) => ({ id: String(seq), event }))).toEqual(received);
    const conversation = await client.conversations.get.query({ conversationId });
    expect(conversation.messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "[pg:blip] go"],
      ["assistant", "before during after"],
    ]);
    expect(conversation.activeRunId).toBeNull();
    expect(uncaught).toEqual([]);
  });

  it("an outage through the end of the answer, longer than the store retries: error + done, in the log once the database is back, the conversation free", { timeout: 120_000 }, async () => {
    const client = api.client();
    const control = api.sim.control({ lastUserIncludes: "[pg:down]" });
    const { runId, conversationId } = await client.chat.send.mutate({ message: "[pg:down] go" });
    const request = await control.connected;
    const rec = recordEvents(client, runId);
    await control.push({ content: "partial" });
    await rec.waitFor((e) => e.type === "token");
    await eventually(() => stats().pendingEvents === 0, "the token to be committed");

    await outage();
    // The answer ends while the database is away: storing it fails (after the store's retries), the run ends for its
    // subscribers anyway.
    await control.push({ done: true });
    const received = await rec.completed;
    expect(types(received).slice(-2)).toEqual(["error", "done"]);
    expect(received.at(-2)?.event).toMatchObject({ type: "error", code: "internal" });
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "error" });
    await request.finished;
    await api.server.runs.whenEnded(runId);
    // A send meanwhile is refused with a clear 503, not a hang or a 500.
    await expect(client.chat.send.mutate({ message: "anyone?" })).rejects.toMatchObject({
      data: { code: "SERVICE_UNAVAILABLE", httpStatus: 503 },
    });

    await recovery();
    // Closed in the log as soon as the database is back (the close is retried every few seconds).
    await eventually(async () => (await api.server.store.getRun(runId))?.status === "done", "the run to be closed", 30_000);
    expect(await api.server.store.getRun(runId)).toMatchObject({ status: "done", reason: "error" });
    const log = await api.server.store.readEvents(runId);
    expect(log.map((e) => e.event.type).slice(-2)).toEqual(["error", "done"]);
    expect(log.filter((e) => e.event.type === "done")).toHaveLength(1);
    // The durable end takes seqs after everything subscribers were handed: a client resuming from the last token
    // it saw gets it.
    const lastToken = received.filter((r) => r.event.type === "token").at(-1)!;
    expect(log.at(-2)!.seq).toBeGreaterThan(Number(received.at(-1)!.id));
    const resumed = await collectRun(client, runId, lastToken.id);
    expect(types(resumed)).toEqual(["error", "done"]);

    const conversation = await client.conversations.get.query({ conversationId });
    expect(conversation.messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "[pg:down] go"],
      ["assistant", "partial"],
    ]);
    expect(conversation.activeRunId).toBeNull();
    const next = await client.chat.send.mutate({ conversationId, message: "and now?" });
    expect((await collectRun(client, next.runId)).at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(uncaught).toEqual([]);
  });
});
