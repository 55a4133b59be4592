import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { ChatEvent } from "@streamchat/core";
import { openSqliteStore, type ChatStore, type StoredEvent } from "@streamchat/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LiveRuns, type LiveRun } from "./live-runs.js";
import { RunEvents } from "./run-events.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "run-events-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A real SQLite store with one running run, whose appendEvent calls are recorded. */
async function setUp() {
  const path = join(dir, "chat.db");
  const inner = openSqliteStore({ path });
  await inner.createConversation({ id: "c-1", userId: "u", title: "t" });
  const record = await inner.createRun({ id: "r-1", conversationId: "c-1", userId: "u", model: "demo", provider: "ollama", owner: null });
  const appended: unknown[][] = [];
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (key !== "appendEvent" || typeof value !== "function") return value;
      return (...args: unknown[]) => {
        appended.push(args);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as ChatStore;
  const published: Array<StoredEvent & { json: string | undefined }> = [];
  const failures: unknown[] = [];
  const liveRuns = new LiveRuns();
  const publish = (run: LiveRun, stored: StoredEvent, json: string | undefined) => {
    liveRuns.publish(run, stored, json);
    published.push({ ...stored, json });
  };
  const events = new RunEvents(store, publish, (_run, error) => failures.push(error));
  const live = liveRuns.add(record, undefined);
  /** The log's rows as SQLite holds them, once the store is closed. */
  const rows = async () => {
    await inner.close();
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return db.prepare("SELECT seq, json FROM events WHERE run_id = 'r-1' ORDER BY seq").all() as Array<{ seq: number; json: string }>;
    } finally {
      db.close();
    }
  };
  return { events, live, appended, published, failures, rows };
}

describe("RunEvents: an event serialized once", () => {
  it("hands the store and the subscribers the same JSON: the log holds byte for byte what was streamed", async () => {
    const { events, live, appended, published, failures, rows } = await setUp();
    const sent: ChatEvent[] = [
      { type: "status", runId: "r-1", at: 1, phase: "thinking", message: "Thinking…" },
      { type: "token", runId: "r-1", at: 2, text: 'a "quoted" ünïcødé token\n' },
    ];
    for (const event of sent) events.emit(live, event);
    await events.emitCommitted(live, { type: "token", runId: "r-1", at: 3, text: "committed first" });

    expect(failures).toEqual([]);
    expect(published.map(({ seq }) => seq)).toEqual([1, 2, 3]);
    for (const [index, stored] of published.entries()) {
      expect(stored.json).toBe(JSON.stringify(stored.event));
      // The very string the store was given, not an equal one serialized again.
      expect(appended[index]![3]).toBe(stored.json);
    }
    expect(await rows()).toEqual(published.map(({ seq, json }) => ({ seq, json })));
  });

  it("hands an event it cannot serialize to the store without JSON; the store's refusal stops the run", async () => {
    const { events, live, appended, published, failures } = await setUp();
    const cyclic: Record<string, unknown> = { type: "status", runId: "r-1", at: 1, phase: "thinking", message: "m" };
    cyclic.self = cyclic;
    events.emit(live, cyclic as unknown as ChatEvent);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(appended).toHaveLength(1);
    expect(appended[0]![3]).toBeUndefined(); // the store serializes it itself, and refuses it
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(TypeError);
    // Published at once, as every event is (the store's refusal arrives later and stops the run).
    expect(published.map((stored) => stored.json)).toEqual([undefined]);
  });
});
