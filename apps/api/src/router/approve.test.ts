import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatEvent, EventOf } from "@streamchat/core";
import { collectRun, recordEvents, startTestApi, tokenText, types, type ApiClient, type Received, type TestApi } from "../test-support/harness.js";
import type { AppRouter } from "./root.js";
import { approvalTool } from "../test-support/approval-tool.js";

// chat.approve and the approval flow over the API, with a tool of the test's own that needs approval (the MCP
// servers' tools go the same way: mcp.test.ts). The demo model calls any offered tool it is asked to use.

const { tool: deleteFile, ran: deleted } = approvalTool();

const alice = "alice-token-123";
const bob = "bob-token-4567";
let api: TestApi;
let client: ApiClient;
let otherTab: ApiClient;

beforeAll(async () => {
  api = await startTestApi({ extraTools: [deleteFile], env: { AUTH_TOKENS: `alice:${alice},bob:${bob}`, TOOL_APPROVAL_TIMEOUT_MS: "60000" } });
  client = api.client(alice);
  otherTab = api.client(alice);
});
afterAll(() => api?.close());

const askToDelete = (path: string) => `use the delete_file tool with {"path":"${path}"}`;
const isRequest = (e: ChatEvent): e is EventOf<"approval-request"> => e.type === "approval-request";

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  // Typed as the web and the typed client see it: the errorFormatter's shape, inferred from the router.
  const data = (error as TRPCClientError<AppRouter>).data;
  return { code: data?.code, appCode: data?.appCode, conflict: data?.conflict, message: (error as Error).message };
}

/** Starts a run asking for delete_file and waits until it waits for approval. */
async function waitingRun(path: string) {
  const started = await client.chat.send.mutate({ message: askToDelete(path) });
  const events = recordEvents(client, started.runId);
  const request = (await events.waitFor(isRequest)).event as EventOf<"approval-request">;
  await events.waitFor((e) => e.type === "status" && e.phase === "waiting");
  return { ...started, events, request };
}

const eventOf = <T extends ChatEvent["type"]>(received: Received[], type: T) =>
  received.map((r) => r.event).find((e): e is EventOf<T> => e.type === type);

describe("chat.approve", () => {
  it("runs the call once a second client approves it; the run finishes with the tool's result", async () => {
    const { runId, events, request } = await waitingRun("a.txt");
    expect(request).toMatchObject({ name: "delete_file", args: { path: "a.txt" }, source: "builtin", description: "Deletes a file" });
    expect(request.expiresAt - request.at).toBe(60_000);
    expect(deleted).not.toContain("a.txt");

    expect(await otherTab.chat.approve.mutate({ runId, callId: request.callId, approved: true })).toEqual({
      runId,
      callId: request.callId,
      approved: true,
    });
    const received = await events.completed;
    const after = received.slice(received.findIndex((r) => r.event.type === "approval-request"));
    expect(types(after).slice(0, 5)).toEqual(["approval-request", "status", "approval-result", "status", "tool-result"]);
    expect(eventOf(received, "approval-result")).toMatchObject({ callId: request.callId, approved: true, timedOut: false });
    expect(eventOf(received, "tool-result")).toMatchObject({ ok: true, result: { deleted: "a.txt" } });
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(deleted.filter((p) => p === "a.txt")).toHaveLength(1);

    // Decided: the same decision again is answered as before (a retried request), the other one is refused.
    expect(await client.chat.approve.mutate({ runId, callId: request.callId, approved: true })).toMatchObject({ approved: true });
    expect(await failure(client.chat.approve.mutate({ runId, callId: request.callId, approved: false }))).toEqual({
      code: "CONFLICT",
      appCode: "bad_request",
      conflict: "approved",
      message: "This call was already approved.",
    });
  });

  it("denies the call with the person's reason: tool_denied goes to the model, the run ends normally", async () => {
    const { runId, conversationId, events, request } = await waitingRun("b.txt");
    await client.chat.approve.mutate({ runId, callId: request.callId, approved: false, reason: "  not that one  " });
    const received = await events.completed;
    // Another tab approving it now learns which decision won.
    expect(await failure(otherTab.chat.approve.mutate({ runId, callId: request.callId, approved: true }))).toMatchObject({
      code: "CONFLICT",
      conflict: "denied",
      message: "This call was already denied.",
    });
    expect(eventOf(received, "approval-result")).toMatchObject({ approved: false, reason: "not that one", timedOut: false });
    const result = eventOf(received, "tool-result");
    expect(result).toMatchObject({ ok: false, error: { code: "tool_denied" } });
    expect(result?.error?.message).toBe("The user denied the call to delete_file: it was not run. Reason: not that one");
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(eventOf(received, "error")).toBeUndefined();
    expect(tokenText(received)).toContain("I did not use delete_file");
    expect(deleted).not.toContain("b.txt");
    // The model read the denial as the tool's result, and the answer is stored.
    const stored = await client.conversations.get.query({ conversationId });
    expect(stored.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(JSON.parse(stored.messages[2]!.content)).toEqual({ error: { code: "tool_denied", message: result?.error?.message } });
  });

  it("shows a reloading client the request from the log, and the rest after the decision", async () => {
    const { runId, events, request } = await waitingRun("c.txt");
    events.unsubscribe();
    // A reload: a new subscription from the start replays the request while the run still waits.
    const reloaded = recordEvents(otherTab, runId);
    const replayed = await reloaded.waitFor(isRequest);
    expect(replayed.event).toEqual(request);
    await reloaded.waitFor((e) => e.type === "status" && e.phase === "waiting");
    expect(types(reloaded.received)).not.toContain("approval-result");
    await otherTab.chat.approve.mutate({ runId, callId: request.callId, approved: true });
    const received = await reloaded.completed;
    expect(received.map((r) => Number(r.id))).toEqual([...received.keys()].map((i) => i + 1));
    expect(eventOf(received, "tool-result")).toMatchObject({ ok: true });
  });

  it("keeps other users out, and names unknown and finished calls clearly", async () => {
    const { runId, events, request } = await waitingRun("d.txt");
    const other = api.client(bob);
    expect(await failure(other.chat.approve.mutate({ runId, callId: request.callId, approved: true }))).toMatchObject({
      code: "NOT_FOUND",
      message: "Run not found",
    });
    expect(await failure(client.chat.approve.mutate({ runId, callId: "call_nope", approved: true }))).toMatchObject({
      code: "NOT_FOUND",
      conflict: undefined,
      message: "This run has no approval request with that callId.",
    });
    expect(await failure(client.chat.approve.mutate({ runId, callId: request.callId, approved: true, reason: "x".repeat(501) }))).toMatchObject({
      code: "BAD_REQUEST",
    });
    expect(deleted).not.toContain("d.txt");
    // Cancelled while it waits: the run ends, and the call can no longer be decided.
    await client.chat.cancel.mutate({ runId });
    const received = await events.completed;
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "cancelled" });
    expect(await failure(client.chat.approve.mutate({ runId, callId: request.callId, approved: true }))).toMatchObject({
      code: "CONFLICT",
      conflict: "ended",
      message: "The run has ended: the call no longer waits for approval.",
    });
    expect(deleted).not.toContain("d.txt");
  });

  it("refuses a reason the store cannot keep as given (NUL, an unpaired surrogate) as BAD_REQUEST; the call still waits", async () => {
    const { runId, events, request } = await waitingRun("f.txt");
    for (const reason of ["no\u0000pe", "lone \ud800 surrogate", "\udc00"]) {
      expect(await failure(client.chat.approve.mutate({ runId, callId: request.callId, approved: false, reason }))).toMatchObject({
        code: "BAD_REQUEST",
        appCode: "bad_request",
      });
    }
    expect(types(events.received)).not.toContain("approval-result");
    // A pair is a character like any other: that reason is kept as given.
    await client.chat.approve.mutate({ runId, callId: request.callId, approved: false, reason: "not \ud83d\ude00 now" });
    const received = await events.completed;
    expect(eventOf(received, "approval-result")).toMatchObject({ approved: false, reason: "not \ud83d\ude00 now", timedOut: false });
    expect(deleted).not.toContain("f.txt");
  });

  it("takes the first of two opposite decisions sent at once", async () => {
    const { runId, events, request } = await waitingRun("e.txt");
    const results = await Promise.allSettled([
      client.chat.approve.mutate({ runId, callId: request.callId, approved: true }),
      otherTab.chat.approve.mutate({ runId, callId: request.callId, approved: false }),
    ]);
    const accepted = results.filter((r) => r.status === "fulfilled");
    expect(accepted).toHaveLength(1);
    const winner = (accepted[0] as PromiseFulfilledResult<{ approved: boolean }>).value.approved;
    // The other one is told which decision won.
    const refused = results.find((r) => r.status === "rejected");
    expect(await failure(Promise.reject(refused?.reason))).toMatchObject({ code: "CONFLICT", conflict: winner ? "approved" : "denied" });
    const received = await events.completed;
    expect(eventOf(received, "approval-result")?.approved).toBe(winner);
    expect(deleted.includes("e.txt")).toBe(winner);
  });
});

describe("REST /api/chat/stream", () => {
  it("names a call that waits for approval (event: approval) instead of going quiet; chat.approve lets it run", async () => {
    const path = "/tmp/rest-approval.txt";
    const res = await fetch(`${api.url}/api/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${alice}` },
      body: JSON.stringify({ message: askToDelete(path) }),
    });
    expect(res.status).toBe(200);
    const runId = res.headers.get("x-run-id")!;
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    /** Reads until the stream holds `marker` followed by the end of its event (a blank line). */
    const until = async (marker: string) => {
      while (!text.includes("\n\n", text.indexOf(marker) + 1) || !text.includes(marker)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended before ${marker}:\n${text}`);
        text += value;
      }
    };
    await until("event: approval\n");
    const block = text.slice(text.indexOf("event: approval\n"));
    const data = JSON.parse(block.slice(block.indexOf("data: ") + 6, block.indexOf("\n\n"))) as Record<string, unknown>;
    expect(data).toEqual({ runId, callId: expect.any(String), name: "delete_file", args: { path }, expiresAt: expect.any(Number) });
    expect(deleted).not.toContain(path);
    await client.chat.approve.mutate({ runId, callId: data["callId"] as string, approved: true });
    await until("event: done\n");
    expect(deleted).toContain(path);
    expect(text.indexOf("event: tool\n")).toBeLessThan(text.indexOf("event: approval\n"));
  });
});

describe("approval timeout", () => {
  let quick: TestApi;
  beforeAll(async () => {
    quick = await startTestApi({ extraTools: [deleteFile], env: { TOOL_APPROVAL_TIMEOUT_MS: "300" } });
  });
  afterAll(() => quick?.close());

  it("denies a call nobody decides in time as timed out, and refuses a decision after that", async () => {
    const quickClient = quick.client();
    const { runId } = await quickClient.chat.send.mutate({ message: askToDelete("late.txt") });
    const received = await collectRun(quickClient, runId);
    const request = eventOf(received, "approval-request")!;
    expect(request.expiresAt - request.at).toBe(300);
    expect(eventOf(received, "approval-result")).toMatchObject({ approved: false, timedOut: true });
    expect(eventOf(received, "tool-result")).toMatchObject({
      ok: false,
      error: { code: "tool_denied", message: "Approval for delete_file timed out after 0.3 s: the call was not run." },
    });
    expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
    expect(deleted).not.toContain("late.txt");
    expect(await failure(quickClient.chat.approve.mutate({ runId, callId: request.callId, approved: true }))).toMatchObject({
      code: "CONFLICT",
      conflict: "timed_out",
      message: "This call's approval timed out: it was denied.",
    });
  });
});
