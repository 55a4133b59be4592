import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createOllamaModel, type ChatEvent } from "@streamchat/core";
import type { ChatStore, StoredEvent } from "@streamchat/store";
import { loadConfig } from "../config.js";
import { approvalTool } from "../test-support/approval-tool.js";
import { freshTestData } from "../test-support/backend.js";
import { RunManager } from "./run-manager.js";

/**
 * A run continued by recovery (it waits for approval) hands its first events to subscribers before their batch
 * commits. A process that dies in that window leaves the log where the previous one left it, so the next process
 * used to number its events from the same base again: an id a subscriber had seen named another event. Without a
 * shared stream (Redis) nothing else remembers what was handed out, so the base must move in the durable log.
 */

const dir = mkdtempSync(join(tmpdir(), "streamchat-resume-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const silent = { info() {}, warn() {}, error() {} };
const { tool: deleteFile } = approvalTool();

function manager(store: ChatStore, at: number): RunManager {
  return new RunManager({
    store,
    // Never asked: the run waits for a person.
    model: createOllamaModel({ baseUrl: "http://127.0.0.1:9" }),
    provider: "ollama",
    defaultModel: "demo",
    limits: loadConfig({ COALESCE_TOKENS: "0" }),
    toolsFor: () => [deleteFile],
    log: silent,
    now: () => at,
  });
}

/**
 * The events a subscriber from `after` receives until the run says it waits in an event the durable log does not have
 * yet (its process handed it out before its commit); then it disconnects.
 */
async function untilWaitingLive(runs: RunManager, runId: string, after: number, durable: ChatStore): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const stored of runs.subscribe(runId, after)) {
    out.push(stored);
    if (stored.event.type !== "status" || stored.event.phase !== "waiting") continue;
    const [committed] = await durable.readEvents(runId, stored.seq - 1, 1);
    if (committed?.seq !== stored.seq) break;
  }
  return out;
}

describe("a continued run whose process dies before its first commit", () => {
  it("is continued again with seqs past every one the dead process handed out", async () => {
    const data = await freshTestData(dir);
    const runId = "r1";
    // A run that waits for approval, left by a process that is gone: its log is committed up to seq 4.
    const first = await data.openStore();
    await first.createConversation({ id: "c1", userId: "u", title: "t" });
    await first.createRun({ id: runId, conversationId: "c1", userId: "u", model: "demo", provider: "ollama", owner: "first" });
    await first.appendMessage({ conversationId: "c1", runId, message: { role: "user", content: "delete it" } });
    const events: ChatEvent[] = [
      { type: "run-start", runId, at: 1, conversationId: "c1", model: "demo", provider: "ollama" },
      { type: "tool-call", runId, at: 2, callId: "call_1", name: "delete_file", args: { path: "x" } },
      { type: "approval-request", runId, at: 3, callId: "call_1", name: "delete_file", args: { path: "x" }, source: "builtin", expiresAt: 1e15 },
      { type: "status", runId, at: 4, phase: "waiting", message: "Waiting for approval" },
    ];
    for (const [i, event] of events.entries()) void first.appendEvent(runId, i + 1, event);
    await first.flush();
    await first.close();

    // The second process continues it; its events wait in a batch that never commits (it dies before the flush). The
    // third's too, so that what it hands out live can be told from the log here as well.
    const durable = await data.openStore();
    const second = await data.openStore({ flushIntervalMs: 600_000 });
    const secondRuns = manager(second, 2_000);
    const third = await data.openStore({ flushIntervalMs: 600_000 });
    const thirdRuns = manager(third, 3_000);
    try {
      await secondRuns.recoverInterrupted();
      const seen = await untilWaitingLive(secondRuns, runId, 4, durable);
      expect(seen.length).toBeGreaterThan(0);

      // The third process finds the run's owner gone and continues it in turn.
      await thirdRuns.recoverInterrupted();
      const handed = await untilWaitingLive(thirdRuns, runId, 4, durable);
      const seenBySeq = new Map(seen.map((stored) => [stored.seq, stored.event]));
      // No id names two events: what the third hands out under an id the second handed out is that same event…
      for (const stored of handed) if (seenBySeq.has(stored.seq)) expect(stored.event).toEqual(seenBySeq.get(stored.seq));
      // …and what it hands out besides comes after them: a subscriber resuming from the last id it saw gets it.
      const lastSeen = Math.max(...seen.map((stored) => stored.seq));
      for (const stored of handed) if (!seenBySeq.has(stored.seq)) expect(stored.seq).toBeGreaterThan(lastSeen);
      expect(handed.filter((stored) => stored.seq > lastSeen).map((stored) => stored.event.type)).toContain("status");
    } finally {
      await thirdRuns.shutdown(0);
      await third.close();
      await secondRuns.shutdown(0).catch(() => {});
      // Its queued events may reach the log only now, refused or below the third's: never relied on.
      await second.close().catch(() => {});
      await durable.close();
    }
  });
});
