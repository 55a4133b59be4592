import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChatEvent, EventOf } from "@streamchat/core";
import { everythingServer } from "@streamchat/mcp/test-support";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { freshTestData, type TestData } from "../test-support/backend.js";
import { clusterSkipReason, testRedisUrl as redisUrl } from "../test-support/cluster-mode.js";
import { TRPCClientError } from "@trpc/client";
import { eventually, makeClient, recordEvents, type ApiClient } from "../test-support/harness.js";
import { sleep, spawnApi, tempDir, type ChildApi } from "../test-support/reliability.js";
import { startTcpRelay, type TcpRelay } from "@streamchat/core/test-support";

/**
 * Durable approvals in cluster mode (REDIS_URL + DATABASE_URL): two real API processes with an MCP tool that needs
 * approval. The approval-request reaches a follower on the other replica only once it is in the database (it goes
 * through the RunStreams seam after the commit), a decision made on the other replica reaches the waiting run, and a
 * run left waiting by a killed replica is continued by the other one.
 *
 * Needs STREAMCHAT_TEST_DATABASE_URL and STREAMCHAT_TEST_REDIS_URL (`scripts/test-services.sh run …`); postgres
 * project only.
 */

const skipReason = clusterSkipReason("cluster-approval");

let sim: Simulator;
let dir: string;
let configPath: string;
const children: ChildApi[] = [];
const proxies: TcpRelay[] = [];

beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 1 });
  dir = tempDir();
  configPath = join(dir, "mcp.json");
  writeFileSync(configPath, JSON.stringify({ mcpServers: { every: { ...everythingServer(), requireApproval: ["echo"] } } }));
});
afterEach(async () => {
  for (const child of children.splice(0)) await child.kill("SIGKILL");
  for (const proxy of proxies.splice(0)) await proxy.close();
});
afterAll(async () => {
  await sim?.close();
});

async function replica(data: TestData, env: Record<string, string> = {}): Promise<ChildApi> {
  const child = await spawnApi(
    {
      CHAT_PROVIDER: "ollama",
      OLLAMA_HOST: sim.url,
      CHAT_MODEL: "demo",
      LOG_LEVEL: "info",
      MCP_CONFIG: configPath,
      REDIS_URL: redisUrl ?? "",
      ...data.env,
      ...env,
    },
    60_000,
  );
  children.push(child);
  return child;
}

async function connected(client: ApiClient): Promise<void> {
  await eventually(async () => (await client.tools.list.query()).servers.every((s) => s.state === "connected"), "the MCP server to connect", 60_000);
}

const isRequest = (e: ChatEvent): e is EventOf<"approval-request"> => e.type === "approval-request";

describe.skipIf(skipReason)("approvals across two replicas on one PostgreSQL and one Redis", () => {
  it("a run waits on A; B's follower gets the request once it is stored, B's decision reaches A, the run finishes once", { timeout: 180_000 }, async () => {
    const data = await freshTestData(dir);
    const [a, b] = await Promise.all([replica(data), replica(data)]);
    const onA = makeClient(a.url);
    const onB = makeClient(b.url);
    await Promise.all([connected(onA), connected(onB)]);
    const { runId, conversationId } = await onA.chat.send.mutate({ message: 'use the every__echo tool with {"message":"across"}' });
    const followed = recordEvents(onB, runId);
    const request = await followed.waitFor(isRequest);
    // Committed before it was published: the log has it as soon as any follower does.
    const store = await data.openStore();
    try {
      const logged = await store.readEvents(runId);
      expect(logged.find((e) => e.event.type === "approval-request")).toEqual({ seq: Number(request.id), event: request.event });
    } finally {
      await store.close();
    }
    const event = request.event as EventOf<"approval-request">;
    await followed.waitFor((e) => e.type === "status" && e.phase === "waiting");
    await onB.chat.approve.mutate({ runId, callId: event.callId, approved: true });
    const received = await followed.completed;
    expect(received.map((r) => r.event).find((e) => e.type === "tool-result")).toMatchObject({ callId: event.callId, ok: true });
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    const ids = received.map((r) => Number(r.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(ids.length);
    const stored = await onA.conversations.get.query({ conversationId });
    expect(stored.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(stored.runs).toEqual([expect.objectContaining({ id: runId, status: "done", reason: "stop" })]);
  });

  it("SIGKILL of A while its run waits: B continues the run, B's follower sees ids above all it had, approval on B finishes it", { timeout: 180_000 }, async () => {
    const data = await freshTestData(dir);
    const [a, b] = await Promise.all([replica(data), replica(data)]);
    const onA = makeClient(a.url);
    const onB = makeClient(b.url);
    await Promise.all([connected(onA), connected(onB)]);
    const { runId } = await onA.chat.send.mutate({ message: 'use the every__echo tool with {"message":"survives"}' });
    const followed = recordEvents(onB, runId);
    const request = (await followed.waitFor(isRequest)).event as EventOf<"approval-request">;
    await followed.waitFor((e) => e.type === "status" && e.phase === "waiting");
    const before = Math.max(...followed.received.map((r) => Number(r.id)));
    await a.kill("SIGKILL");
    // B's sweep finds the dead owner and takes the run over (claimRun) instead of closing it.
    const store = await data.openStore();
    try {
      await eventually(() => b.output().includes("continuing a run that waits for approval"), "B to continue the run", 60_000);
      expect(await store.getRun(runId)).toMatchObject({ status: "running" });
    } finally {
      await store.close();
    }
    await onB.chat.approve.mutate({ runId, callId: request.callId, approved: true });
    const received = await followed.completed;
    const after = received.filter((r) => Number(r.id) > before);
    expect(after.map((r) => r.event).find((e) => e.type === "tool-result")).toMatchObject({ callId: request.callId, ok: true });
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(received.filter((r) => r.event.type === "run-start")).toHaveLength(1);
    expect(received.some((r) => r.event.type === "error")).toBe(false);
    const ids = received.map((r) => Number(r.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
  });

  it("a decision stored just before the deadline that reaches the waiting run too late: chat.approve answers what the run did", { timeout: 180_000 }, async () => {
    const data = await freshTestData(dir);
    // A's database goes through a relay whose replies the test holds back: the decision B stores in time is read by A only later, as
    // when it lands in the last milliseconds (the control message to A, A's read of it).
    const database = new URL(data.env["DATABASE_URL"] ?? "");
    const proxy = await startTcpRelay(database.toString());
    proxies.push(proxy);
    const timeout = { TOOL_APPROVAL_TIMEOUT_MS: "4000" };
    const [a, b] = await Promise.all([replica(data, { ...timeout, DATABASE_URL: proxy.url }), replica(data, timeout)]);
    const onA = makeClient(a.url);
    const onB = makeClient(b.url);
    await Promise.all([connected(onA), connected(onB)]);
    const { runId } = await onA.chat.send.mutate({ message: 'use the every__echo tool with {"message":"late"}' });
    const followed = recordEvents(onB, runId);
    const request = (await followed.waitFor(isRequest)).event as EventOf<"approval-request">;
    await followed.waitFor((e) => e.type === "status" && e.phase === "waiting");

    proxy.freeze();
    // Before the deadline (checked by B), stored by B.
    const answer = onB.chat.approve.mutate({ runId, callId: request.callId, approved: true }).then(
      (result) => ({ result, error: undefined }),
      (error: unknown) => ({ result: undefined, error }),
    );
    // A's run stops waiting at expiresAt by itself: its approval-result, or the deadline well past.
    const result = followed.waitFor((e) => e.type === "approval-result");
    await Promise.race([result, sleep(Math.max(0, request.expiresAt + 1000 - Date.now()))]);
    proxy.thaw();

    const received = await followed.completed;
    const decided = received.map((r) => r.event).find((e): e is EventOf<"approval-result"> => e.type === "approval-result");
    const toolResult = received.map((r) => r.event).find((e) => e.type === "tool-result");
    const { result: approved, error } = await answer;
    if (decided?.approved) {
      // The run took the decision: so says chat.approve, and the tool ran.
      expect(approved).toEqual({ runId, callId: request.callId, approved: true });
      expect(toolResult).toMatchObject({ ok: true });
    } else {
      // The run timed the call out: chat.approve must not have said it was approved.
      expect(decided).toMatchObject({ approved: false, timedOut: true });
      expect(toolResult).toMatchObject({ ok: false, error: { code: "tool_denied" } });
      expect(approved).toBeUndefined();
      expect(error).toBeInstanceOf(TRPCClientError);
      expect((error as TRPCClientError<never>).message).toBe("This call's approval timed out: it was denied.");
      expect((error as TRPCClientError<never>).data).toMatchObject({ code: "CONFLICT" });
    }
    // Asking again answers the same.
    const again = await onB.chat.approve.mutate({ runId, callId: request.callId, approved: true }).then(
      (result) => result.approved,
      () => false,
    );
    expect(again).toBe(decided?.approved === true);
  });
});
