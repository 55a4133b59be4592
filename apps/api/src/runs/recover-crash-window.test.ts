import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createOllamaModel, emptyUsage, type ChatEvent } from "@streamchat/core";
import type { StoredEvent } from "@streamchat/store";
import { loadConfig } from "../config.js";
import { freshTestData } from "../test-support/backend.js";
import { RunManager } from "./run-manager.js";

/**
 * A hard kill loses the log's uncommitted tail (≤ one flush interval), but live subscribers may already
 * have seen those events. The events appended on recovery must not reuse their seqs: a client resuming
 * with the last id it saw must still receive error{interrupted} + done{interrupted}.
 */

const dir = mkdtempSync(join(tmpdir(), "streamchat-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const silent = { info() {}, warn() {}, error() {} };
const token = (runId: string, text: string): ChatEvent => ({ type: "token", runId, at: 1, text });

async function drain(events: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

describe("recovery after a crash that lost the log's tail", () => {
  it("closes the run with seqs past anything a subscriber saw", async () => {
    const data = await freshTestData(dir);
    // The crashed process: two events committed, two more published to subscribers but never committed.
    const crashed = await data.openStore({ flushIntervalMs: 60_000 });
    await crashed.createConversation({ id: "c1", userId: "u", title: "t" });
    await crashed.createRun({ id: "r1", conversationId: "c1", userId: "u", model: "demo", provider: "sim", owner: "crashed" });
    void crashed.appendEvent("r1", 1, { type: "run-start", runId: "r1", at: 1, conversationId: "c1", model: "demo", provider: "ollama" });
    void crashed.appendEvent("r1", 2, token("r1", "kept"));
    await crashed.flush();
    void crashed.appendEvent("r1", 3, token("r1", " lost1"));
    void crashed.appendEvent("r1", 4, token("r1", " lost2"));
    const seenBySubscriber = await crashed.readEvents("r1");
    expect(seenBySubscriber.map((e) => e.seq)).toEqual([1, 2, 3, 4]);

    // The new process opens the same data (the crashed one never flushed or closed).
    const restarted = await data.openStore();
    try {
      const runs = new RunManager({
        store: restarted,
        model: createOllamaModel({ baseUrl: "http://127.0.0.1:9" }),
        provider: "ollama",
        defaultModel: "demo",
        limits: loadConfig({}),
        toolsFor: () => [],
        log: silent,
      });
      expect(await runs.recoverInterrupted()).toBe(1);

      const resumed = await drain(runs.subscribe("r1", 4));
      expect(resumed.map((e) => e.event.type)).toEqual(["error", "done"]);
      expect(resumed[0]?.event).toMatchObject({ code: "interrupted" });
      expect(resumed[1]?.event).toMatchObject({ reason: "interrupted", usage: emptyUsage() });
      expect(resumed.every((e) => e.seq > 4)).toBe(true);

      // From the start: what was committed, then the closing events; each seq names one event only.
      const replay = await drain(runs.subscribe("r1", 0));
      expect(replay.map((e) => e.event.type)).toEqual(["run-start", "token", "error", "done"]);
      expect(replay.slice(2)).toEqual(resumed);
      // A subscriber that only saw committed events also gets the end.
      expect((await drain(runs.subscribe("r1", 2))).map((e) => e.event.type)).toEqual(["error", "done"]);
      expect(await restarted.getRun("r1")).toMatchObject({ status: "done", reason: "interrupted" });
    } finally {
      await restarted.close();
      // Its queued events now reach the log, below the closing seqs: they never take a seq of the end.
      await crashed.close().catch(() => {});
    }
  });
});
