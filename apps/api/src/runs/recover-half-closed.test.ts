import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ChatEvent, EventOf, RunEnding } from "@streamchat/core";
import { eventually, recordEvents, startTestApi, type TestApi } from "../test-support/harness.js";
import { approvalTool } from "../test-support/approval-tool.js";
import { failingStore } from "../test-support/failing-store.js";
import { cancelledEnding } from "./cancel-unowned.js";
import { closeRunFromLog } from "./close-run.js";
import { storeFailureEnding } from "./failed-run-closer.js";

// A close (closeRunFromLog) stores the run's messages one by one, then its closing events: a process that dies in
// between leaves a run whose answer is stored but whose log has no end. When that log waits for approval, the next
// recovery used to continue the run, which then stored its whole answer again. Such a run is only ever closed: the
// answer the close began to store is the one the conversation keeps, once. In-process APIs on the same data (SQLite
// file or PostgreSQL schema, by project).

const { tool: deleteFile, ran } = approvalTool();

const apis: TestApi[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close().catch(() => {});
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(dir: string, from?: TestApi): Promise<TestApi> {
  const api = await startTestApi({ dir, extraTools: [deleteFile], ...(from ? { data: from.data } : {}) });
  apis.push(api);
  return api;
}

const isRequest = (e: ChatEvent): e is EventOf<"approval-request"> => e.type === "approval-request";

const closers: Array<{ name: string; ending: RunEnding; errorEvent: boolean; code: string }> = [
  // A cancel of a run no process executes (cancel-unowned.ts): `done{cancelled}` alone.
  { name: "a cancel's close", ending: cancelledEnding, errorEvent: false, code: "cancelled" },
  // The close of a run whose store writes failed (failed-run-closer.ts): error{internal} + done{error}.
  { name: "a close after a store failure", ending: storeFailureEnding, errorEvent: true, code: "internal" },
];

describe("a run whose close stored its messages and then died", () => {
  for (const { name, ending, errorEvent, code } of closers) {
    it(`${name}: the next recovery closes the run instead of continuing it, and no message is stored twice`, async () => {
      const path = `half-closed-${code}.txt`;
      const dir = mkdtempSync(join(tmpdir(), "streamchat-half-closed-"));
      dirs.push(dir);
      const first = await start(dir);
      const client = first.client();
      const { runId, conversationId } = await client.chat.send.mutate({ message: `use the delete_file tool with {"path":"${path}"}` });
      const events = recordEvents(client, runId);
      const request = (await events.waitFor(isRequest)).event as EventOf<"approval-request">;
      await events.waitFor((e) => e.type === "status" && e.phase === "waiting");
      // A graceful shutdown suspends it: running, no end, no answer stored.
      apis.splice(apis.indexOf(first), 1);
      await first.close();

      // Another process takes the run (as a cancel or recovery does) and closes it from its log; every append of a
      // closing event fails (the database went away), then that process dies: the messages are stored, no end is.
      const store = await first.openStore();
      try {
        const run = await store.getRun(runId);
        expect(run).toMatchObject({ status: "running" });
        expect(await store.claimRun(runId, { from: run!.owner, to: "closing-process" })).toBe(true);
        // A person's decision made meanwhile: a run continued from this log would act on it at once.
        await store.recordApprovalDecision({ runId, callId: request.callId, approved: true });
        const failing = failingStore(store);
        failing.failWhen((method) => method === "appendEvent");
        await expect(
          closeRunFromLog(failing.store, { ...run!, owner: "closing-process" }, ending, { now: Date.now, seqGap: 10_000, errorEvent }),
        ).rejects.toThrow(/injected appendEvent failure/);
        expect((await store.listMessages(conversationId)).map((m) => m.message.role)).toEqual(["user", "assistant", "tool"]);
        expect((await store.readEvents(runId)).map((e) => e.event.type)).not.toContain("done");
        expect(await store.getRun(runId)).toMatchObject({ status: "running", owner: "closing-process" });
      } finally {
        await store.close();
      }

      // The next process recovers it.
      const second = await start(dir, first);
      const reader = await second.openStore();
      try {
        await eventually(async () => (await reader.getRun(runId))?.status === "done", "the run to end", 15_000);
        // The answer the close stored, once: the call answered as that close answered it.
        const messages = (await reader.listMessages(conversationId)).map((m) => m.message);
        expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "tool"]);
        // Closed from its log (what it had streamed), not continued: the approved call never ran.
        expect(await reader.getRun(runId)).toMatchObject({ status: "done", reason: "interrupted" });
        expect(ran).not.toContain(path);
        const log = (await reader.readEvents(runId)).map((e) => e.event);
        expect(log.filter((e) => e.type === "error" || e.type === "done").map((e) => e.type)).toEqual(["error", "done"]);
        expect(log.filter((e) => e.type === "tool-result")).toEqual([]);
        expect(messages[1]).toMatchObject({ toolCalls: [{ id: request.callId, name: "delete_file" }] });
        expect(messages[2]).toMatchObject({ role: "tool", toolCallId: request.callId });
        expect(messages[2]?.content).toContain(`"code":"${code}"`);
        // The conversation takes the next message.
        const next = await second.client().chat.send.mutate({ conversationId, message: "hello again" });
        await eventually(async () => (await reader.getRun(next.runId))?.status === "done", "the next run to end");
        expect((await reader.listMessages(conversationId)).map((m) => m.message.role)).toEqual(["user", "assistant", "tool", "user", "assistant"]);
      } finally {
        await reader.close();
      }
    });
  }
});
