import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TRPCClientError } from "@trpc/client";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool, type ChatEvent, type EventOf } from "@streamchat/core";
import { eventually, recordEvents, startTestApi, types, type Received, type TestApi } from "../test-support/harness.js";
import { localDecisionSignal } from "./approvals.js";
import { approveCall } from "./approve-call.js";
import { defaultRecoverySeqGap } from "./recovery.js";
import { interruptedCallMessage } from "./resume-run.js";
import { approvalTool } from "../test-support/approval-tool.js";

// A run that waits for a person's approval outlives its process: a graceful shutdown suspends it (no end is logged,
// it stays running), the next start continues it (same runId, seqs past the log's end plus the recovery gap), and
// the same callId can then be decided. In-process APIs on the same data here; as child processes with SIGTERM and
// SIGKILL and a real MCP server in reliability/approval-restart.test.ts.

const { tool: deleteFile, ran } = approvalTool();
let slowStarted: () => void = () => {};
const slowTool = defineTool({
  name: "slow_copy",
  description: "Copies slowly (never finishes in a test)",
  input: z.object({ path: z.string() }),
  execute: (_args, { signal }) =>
    new Promise((_resolve, reject) => {
      slowStarted();
      signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
    }),
});

const apis: TestApi[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close().catch(() => {});
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(dir: string, from?: TestApi, env: Record<string, string> = {}): Promise<TestApi> {
  const api = await startTestApi({ dir, extraTools: [deleteFile, slowTool], env, ...(from ? { data: from.data } : {}) });
  apis.push(api);
  return api;
}

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "streamchat-approval-"));
  dirs.push(dir);
  return dir;
}

const isRequest = (e: ChatEvent): e is EventOf<"approval-request"> => e.type === "approval-request";
const eventOf = <T extends ChatEvent["type"]>(received: Received[], type: T) =>
  received.map((r) => r.event).find((e): e is EventOf<T> => e.type === type);

async function waitingRun(api: TestApi, message: string) {
  const client = api.client();
  const started = await client.chat.send.mutate({ message });
  const events = recordEvents(client, started.runId);
  const request = (await events.waitFor(isRequest)).event as EventOf<"approval-request">;
  await events.waitFor((e) => e.type === "status" && e.phase === "waiting");
  return { ...started, events, request };
}

async function stop(api: TestApi) {
  apis.splice(apis.indexOf(api), 1);
  await api.close();
}

describe("a run waiting for approval across a restart", () => {
  it("is suspended by a graceful shutdown and continued by the next start: approving the same callId finishes the same run", async () => {
    const dir = freshDir();
    const first = await start(dir);
    const { runId, conversationId, events, request } = await waitingRun(first, 'use the delete_file tool with {"path":"keep.txt"}');
    const seenBefore = events.received.length;
    await stop(first);

    // Nothing ended the run: no error, no done, still running, no answer stored.
    const store = await first.openStore();
    const log = await store.readEvents(runId);
    expect(types(log.map((e) => ({ id: String(e.seq), event: e.event })))).not.toContain("done");
    expect(log.at(-1)?.event).toMatchObject({ type: "status", phase: "waiting" });
    expect(log).toHaveLength(seenBefore);
    expect(await store.getRun(runId)).toMatchObject({ status: "running" });
    expect((await store.listMessages(conversationId)).map((m) => m.message.role)).toEqual(["user"]);
    const lastSeq = log.at(-1)!.seq;
    await store.close();

    const restartedAt = Date.now();
    const second = await start(dir, first);
    const client = second.client();
    // A reload after the restart: the log replays the request, the continued run says it waits again.
    const reloaded = recordEvents(client, runId);
    expect((await reloaded.waitFor(isRequest)).event).toEqual(request);
    const waitingAgain = await reloaded.waitFor((e) => e.type === "status" && e.phase === "waiting" && e.at >= restartedAt);
    expect(Number(waitingAgain.id)).toBe(lastSeq + defaultRecoverySeqGap + 1);
    expect((await client.conversations.get.query({ conversationId })).activeRunId).toBe(runId);

    await client.chat.approve.mutate({ runId, callId: request.callId, approved: true });
    const received = await reloaded.completed;
    expect(received.filter((r) => r.event.type === "run-start")).toHaveLength(1);
    expect(received.filter((r) => r.event.type === "approval-request")).toHaveLength(1);
    expect(eventOf(received, "approval-result")).toMatchObject({ callId: request.callId, approved: true });
    expect(eventOf(received, "tool-result")).toMatchObject({ callId: request.callId, ok: true, result: { deleted: "keep.txt" } });
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    const ids = received.map((r) => Number(r.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ran.filter((p) => p === "keep.txt")).toHaveLength(1);
    // The whole run's messages are stored, as for a run that never stopped.
    const stored = await client.conversations.get.query({ conversationId });
    expect(stored.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(stored.runs).toEqual([expect.objectContaining({ id: runId, status: "done", reason: "stop" })]);
  });

  it("a run suspended by the shutdown is not counted as finished where it stopped: it ends (and counts) where it is continued", async () => {
    const dir = freshDir();
    const first = await start(dir);
    await waitingRun(first, 'use the delete_file tool with {"path":"counted-once.txt"}');
    await first.server.runs.shutdown(60_000);
    const metrics = await (await fetch(`${first.url}/metrics`)).text();
    expect(metrics).toMatch(/^streamchat_runs_started_total\{replica="[^"]+"\} 1$/m);
    expect(metrics).not.toMatch(/^streamchat_runs_finished_total\{/m);
  });

  it("takes a decision made while no process ran the run (stored), and goes on with it at the next start", async () => {
    const dir = freshDir();
    const first = await start(dir);
    const { runId, request } = await waitingRun(first, 'use the delete_file tool with {"path":"offline.txt"}');
    await stop(first);

    // chat.approve on a process that does not run the run: the decision goes to the store.
    const store = await first.openStore();
    await approveCall({ store, signal: localDecisionSignal(), now: Date.now }, "local", {
      runId,
      callId: request.callId,
      approved: false,
      reason: "decided while the server was down",
    });
    await store.close();

    const second = await start(dir, first);
    const received = await recordEvents(second.client(), runId).completed;
    expect(eventOf(received, "approval-result")).toMatchObject({ approved: false, reason: "decided while the server was down", timedOut: false });
    expect(eventOf(received, "tool-result")).toMatchObject({ ok: false, error: { code: "tool_denied" } });
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(ran).not.toContain("offline.txt");
    // The continued run counts in this process's metrics: resumed here, and ended here.
    const metrics = await (await fetch(`${second.url}/metrics`)).text();
    expect(metrics).toMatch(/^streamchat_runs_resumed_total\{replica="[^"]+"\} 1$/m);
    expect(metrics).toMatch(/^streamchat_runs_finished_total\{reason="stop",replica="[^"]+"\} 1$/m);
    expect(metrics).toMatch(/^streamchat_runs_started_total\{replica="[^"]+"\} 0$/m);
  });

  it("keeps the deadline: a request that expired while the server was down times out at once after the restart", async () => {
    const dir = freshDir();
    const first = await start(dir, undefined, { TOOL_APPROVAL_TIMEOUT_MS: "1500" });
    const { runId, request } = await waitingRun(first, 'use the delete_file tool with {"path":"expired.txt"}');
    await stop(first);
    await eventually(() => Date.now() > request.expiresAt + 50, "the request's deadline to pass", 10_000);

    // A longer timeout now: the logged expiresAt decides, not the new setting.
    const second = await start(dir, first, { TOOL_APPROVAL_TIMEOUT_MS: "600000" });
    const received = await recordEvents(second.client(), runId).completed;
    expect(eventOf(received, "approval-result")).toMatchObject({ approved: false, timedOut: true });
    expect(eventOf(received, "tool-result")?.error).toEqual({
      code: "tool_denied",
      message: "Approval for delete_file timed out after 1.5 s: the call was not run.",
    });
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(ran).not.toContain("expired.txt");
  });

  it("a decision stored in time while the server was down wins over the deadline that passed before the restart", async () => {
    const dir = freshDir();
    const first = await start(dir, undefined, { TOOL_APPROVAL_TIMEOUT_MS: "1500" });
    const { runId, request } = await waitingRun(first, 'use the delete_file tool with {"path":"decided-in-time.txt"}');
    await stop(first);
    // Decided before the deadline (chat.approve on a process that does not run the run checks it), stored.
    const store = await first.openStore();
    await approveCall({ store, signal: localDecisionSignal(), now: () => request.expiresAt - 1 }, "local", { runId, callId: request.callId, approved: true });
    await store.close();
    await eventually(() => Date.now() > request.expiresAt + 50, "the request's deadline to pass", 10_000);

    // The continued run finds both the decision and an expired request: the decision was first.
    const second = await start(dir, first);
    const received = await recordEvents(second.client(), runId).completed;
    expect(eventOf(received, "approval-result")).toMatchObject({ approved: true, timedOut: false });
    expect(eventOf(received, "tool-result")).toMatchObject({ ok: true, result: { deleted: "decided-in-time.txt" } });
    expect(ran.filter((p) => p === "decided-in-time.txt")).toHaveLength(1);
  });

  it("suspends a run that starts waiting during the grace period, and answers a call that was running as interrupted", async () => {
    const dir = freshDir();
    const first = await start(dir, undefined, { SHUTDOWN_GRACE_MS: "60000" });
    const client = first.client();
    const control = first.sim.control({ lastUserIncludes: "[grace]" });
    const { runId } = await client.chat.send.mutate({ message: "[grace] copy and delete" });
    await control.connected;
    const events = recordEvents(client, runId);
    await events.waitFor((e) => e.type === "status" && e.phase === "thinking");

    // Shutdown begins while the model still answers; then it asks for two tools: one runs, one waits.
    const slow = new Promise<void>((resolve) => (slowStarted = resolve));
    const closing = stop(first);
    await control.push({
      toolCalls: [
        { name: "slow_copy", arguments: { path: "src.txt" } },
        { name: "delete_file", arguments: { path: "src.txt" } },
      ],
    });
    await control.push({ done: true });
    await slow;
    // Suspended as soon as it waits, not after the 60 s grace (the test's own timeout is far below it).
    await closing;

    const store = await first.openStore();
    expect(await store.getRun(runId)).toMatchObject({ status: "running" });
    await store.close();
    const second = await start(dir, first);
    const reloaded = recordEvents(second.client(), runId);
    const request = (await reloaded.waitFor(isRequest)).event as EventOf<"approval-request">;
    // The copy had started: it is answered, not run again.
    const interrupted = await reloaded.waitFor((e) => e.type === "tool-result" && e.name === "slow_copy");
    expect(interrupted.event).toMatchObject({ ok: false, error: { code: "interrupted", message: interruptedCallMessage } });
    await second.client().chat.approve.mutate({ runId, callId: request.callId, approved: true });
    const received = await reloaded.completed;
    expect(eventOf(received, "tool-result")).toMatchObject({ name: "slow_copy", ok: false });
    expect(received.find((r) => r.event.type === "tool-result" && r.event.name === "delete_file")?.event).toMatchObject({ ok: true });
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
  });

  it("two calls of one round need approval as the shutdown comes: both requests are kept, asked again by the next start, and run once approved", async () => {
    const dir = freshDir();
    const first = await start(dir, undefined, { SHUTDOWN_GRACE_MS: "60000" });
    const control = first.sim.control({ lastUserIncludes: "[two-calls]" });
    const { runId, conversationId } = await first.client().chat.send.mutate({ message: "[two-calls] delete both" });
    await control.connected;
    // The shutdown is under way when the round's calls are asked: the run is suspended as soon as it waits, while its
    // second request is still on its way to the log (on PostgreSQL the first one's commit takes longer than a turn).
    const closing = stop(first);
    await control.push({
      toolCalls: [
        { name: "delete_file", arguments: { path: "first-of-two.txt" } },
        { name: "delete_file", arguments: { path: "second-of-two.txt" } },
      ],
    });
    await control.push({ done: true });
    await closing;

    const restartedAt = Date.now();
    const second = await start(dir, first);
    const client = second.client();
    const reloaded = recordEvents(client, runId);
    // The continued run says it waits once it has replayed what the log has: both requests, no call answered.
    await reloaded.waitFor((e) => e.type === "status" && e.phase === "waiting" && e.at >= restartedAt);
    const requests = reloaded.received.map((r) => r.event).filter(isRequest);
    expect(requests.map((r) => r.args)).toEqual([{ path: "first-of-two.txt" }, { path: "second-of-two.txt" }]);
    expect(reloaded.received.filter((r) => r.event.type === "tool-result")).toEqual([]);

    for (const request of requests) await client.chat.approve.mutate({ runId, callId: request.callId, approved: true });
    const received = await reloaded.completed;
    expect(received.filter((r) => r.event.type === "tool-result").map((r) => r.event)).toEqual([
      expect.objectContaining({ ok: true, result: { deleted: "first-of-two.txt" } }),
      expect.objectContaining({ ok: true, result: { deleted: "second-of-two.txt" } }),
    ]);
    expect(ran.filter((p) => p.endsWith("-of-two.txt")).sort()).toEqual(["first-of-two.txt", "second-of-two.txt"]);
    expect((await client.conversations.get.query({ conversationId })).runs).toEqual([expect.objectContaining({ id: runId, reason: "stop" })]);
  });

  it("answers a decision on a call the continued run answered without one (its tool is gone) at once: CONFLICT, not TIMEOUT", async () => {
    const dir = freshDir();
    const first = await start(dir);
    const { runId, conversationId, request } = await waitingRun(first, 'use the delete_file tool with {"path":"gone.txt"}');
    await stop(first);

    // The next start no longer has the tool (an MCP server that did not come back), and its model stays silent after
    // the call's failed result, so the run keeps running.
    const second = await startTestApi({
      dir,
      data: first.data,
      extraTools: [slowTool],
      sim: { scenarios: [{ name: "held", match: { lastUserIncludes: "gone.txt" }, chunks: [{ content: "Let me see" }], stallAfterChunks: true }] },
    });
    apis.push(second);
    const client = second.client();
    const reloaded = recordEvents(client, runId);
    const answered = await reloaded.waitFor((e) => e.type === "tool-result" && e.callId === request.callId);
    expect(answered.event).toMatchObject({ ok: false });
    await reloaded.waitFor((e) => e.type === "token");
    // Still running: the model holds its next round.
    expect((await client.conversations.get.query({ conversationId })).activeRunId).toBe(runId);

    const error = await client.chat.approve.mutate({ runId, callId: request.callId, approved: true }).then(
      () => undefined,
      (e: unknown) => e as TRPCClientError<never>,
    );
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error?.data as { code?: string } | undefined)?.code).toBe("CONFLICT");
    expect(error?.message).toBe("This call no longer waits for approval: the run answered it without a decision.");
    expect(types(reloaded.received)).not.toContain("approval-result");
    expect(ran).not.toContain("gone.txt");
    // Longer than chat.approve's 30 s wait for the run to act: without the check, that wait ended in TIMEOUT.
  }, 45_000);
});
