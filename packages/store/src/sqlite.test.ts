import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { migrations } from "./migrations.js";
import { openSqliteStore, type SqliteChatStore, type SqliteStoreOptions } from "./sqlite.js";
import { doneEvent, everyMessageVariant, manualClock, runEvents, sampleUsage, tokenEvent } from "./test-support/fixtures.js";

describe("sqlite store on a real file", () => {
  let dir: string;
  let path: string;
  const opened: Array<SqliteChatStore | DatabaseSync> = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "store-sqlite-"));
    path = join(dir, "nested", "data", "chat.db");
  });
  afterEach(() => {
    for (const handle of opened.splice(0)) handle.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function open(options: Omit<SqliteStoreOptions, "path"> = {}): SqliteChatStore {
    const store = openSqliteStore({ path, ...options });
    opened.push(store);
    return store;
  }
  /** A second, independent connection: sees only what the store has committed. */
  function raw(): DatabaseSync {
    const db = new DatabaseSync(path);
    opened.push(db);
    return db;
  }
  function committedEvents(db: DatabaseSync, runId: string): number {
    return Number(db.prepare("SELECT COUNT(*) AS n FROM events WHERE run_id = ?").get(runId)?.n);
  }
  function seed(store: SqliteChatStore) {
    store.createConversation({ id: "c1", userId: "alice", title: "First" });
    store.createRun({ id: "r1", conversationId: "c1", userId: "alice", model: "demo", provider: "sim", clientRequestId: "req-1" });
  }

  it("creates the directory and a WAL database", () => {
    open();
    expect(existsSync(path)).toBe(true);
    expect(raw().prepare("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
  });

  it("finds everything again after close and reopen, and continues the event sequence", () => {
    const clock = manualClock(1_000);
    const first = open({ now: clock.now, flushIntervalMs: 60_000 });
    seed(first);
    for (const message of everyMessageVariant) first.appendMessage({ conversationId: "c1", runId: "r1", message });
    const events = runEvents("r1", "c1").slice(0, 5);
    for (const event of events) first.appendEvent("r1", event);
    expect(first.stats().pendingEvents).toBe(5);
    const before = {
      conversations: first.listConversations("alice"),
      messages: first.listMessages("c1"),
      run: first.getRun("r1"),
      events: first.readEvents("r1"),
    };
    first.close(); // commits the pending events

    const second = open({ now: clock.now });
    expect(second.listConversations("alice")).toEqual(before.conversations);
    expect(second.listMessages("c1")).toEqual(before.messages);
    expect(second.listMessages("c1").map((m) => m.message)).toEqual(everyMessageVariant);
    expect(second.getRun("r1")).toEqual(before.run);
    expect(second.findRunByClientRequestId("alice", "req-1")?.id).toBe("r1");
    expect(second.readEvents("r1")).toEqual(events.map((event, i) => ({ seq: i + 1, event })));
    expect(second.lastSeq("r1")).toBe(5);
    expect(second.appendEvent("r1", tokenEvent("r1", "next"))).toBe(6);
    second.finishRun("r1", { reason: "stop", usage: sampleUsage });
    second.close();

    const third = open();
    expect(third.readEvents("r1").map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(third.getRun("r1")).toMatchObject({ status: "done", reason: "stop", usage: sampleUsage });
  });

  it("batches rapid appends into few transactions and still reads all of them before any timer fires", () => {
    const store = open({ flushIntervalMs: 60_000, maxBatch: 256 });
    seed(store);
    const other = raw();
    const n = 1000;
    for (let i = 1; i <= n; i++) expect(store.appendEvent("r1", tokenEvent("r1", `tok${i}`))).toBe(i);

    const read = store.readEvents("r1");
    expect(read.map((e) => e.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(read[n - 1]?.event).toEqual(tokenEvent("r1", `tok${n}`));
    expect(store.readEvents("r1", 990).map((e) => e.seq)).toEqual([991, 992, 993, 994, 995, 996, 997, 998, 999, 1000]);
    expect(store.lastSeq("r1")).toBe(n);

    // Only full batches were committed: 3 × 256; the rest waits for the timer, flush() or close().
    expect(store.stats()).toEqual({ commits: 3, pendingEvents: n - 3 * 256, flushErrors: 0 });
    expect(store.stats().commits).toBeLessThanOrEqual(n / 10);
    expect(committedEvents(other, "r1")).toBe(3 * 256);

    store.flush();
    expect(store.stats()).toEqual({ commits: 4, pendingEvents: 0, flushErrors: 0 });
    expect(committedEvents(other, "r1")).toBe(n);
    store.flush(); // nothing pending: no empty transaction
    expect(store.stats().commits).toBe(4);
  });

  it("commits on the timer without any further call", async () => {
    const store = open({ flushIntervalMs: 5 });
    seed(store);
    const other = raw();
    store.appendEvent("r1", tokenEvent("r1", "a"));
    store.appendEvent("r1", tokenEvent("r1", "b"));
    expect(committedEvents(other, "r1")).toBe(0);
    await vi.waitFor(() => expect(store.stats().commits).toBe(1), { timeout: 10_000, interval: 5 });
    expect(committedEvents(other, "r1")).toBe(2);
  });

  it("commits a done event, with everything queued before it, before appendEvent returns", () => {
    const store = open({ flushIntervalMs: 60_000 });
    seed(store);
    const other = raw();
    store.appendEvent("r1", tokenEvent("r1", "a"));
    store.appendEvent("r1", tokenEvent("r1", "b"));
    expect(committedEvents(other, "r1")).toBe(0);
    store.appendEvent("r1", doneEvent("r1"));
    expect(store.stats()).toMatchObject({ commits: 1, pendingEvents: 0 });
    expect(committedEvents(other, "r1")).toBe(3);
  });

  it("applies migrations once: reopening leaves the schema as it was", () => {
    open().close();
    const schemaOf = (db: DatabaseSync) =>
      db.prepare("SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all();
    const probe = raw();
    const schema = schemaOf(probe);
    const applied = probe.prepare("SELECT version FROM schema_migrations ORDER BY version").all();
    expect(applied.map((row) => row.version)).toEqual(migrations.map((m) => m.version));
    expect(schema.map((row) => row.name)).toEqual(
      expect.arrayContaining([
        ...["conversations", "messages", "runs", "events", "schema_migrations"],
        ...["conversations_by_user_activity", "messages_by_conversation", "runs_by_status", "runs_by_conversation"],
      ]),
    );

    open().close();
    open().close();
    expect(schemaOf(probe)).toEqual(schema);
    expect(probe.prepare("SELECT version FROM schema_migrations ORDER BY version").all()).toEqual(applied);
  });

  it("cascades a conversation delete through runs, events and messages in the file", () => {
    const store = open({ flushIntervalMs: 60_000 });
    seed(store);
    store.appendMessage({ conversationId: "c1", runId: "r1", message: { role: "user", content: "hi" } });
    store.appendEvent("r1", tokenEvent("r1", "pending"));
    expect(store.deleteConversation("alice", "c1")).toBe(true);
    const other = raw();
    for (const table of ["conversations", "messages", "runs", "events"]) {
      expect(other.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get()?.n, table).toBe(0);
    }
  });

  it("lets a restarted process find runs left running, with the events that were committed", () => {
    const crashed = open({ flushIntervalMs: 60_000 });
    seed(crashed);
    crashed.createConversation({ id: "c2", userId: "bob", title: "Second" });
    crashed.createRun({ id: "r2", conversationId: "c2", userId: "bob", model: "demo", provider: "sim" });
    crashed.finishRun("r2", { reason: "stop", usage: null });
    crashed.appendEvent("r1", tokenEvent("r1", "committed 1"));
    crashed.appendEvent("r1", tokenEvent("r1", "committed 2"));
    crashed.flush();
    crashed.appendEvent("r1", tokenEvent("r1", "still queued"));

    // The "crashed" process never closes cleanly before the new one opens the same file.
    const restarted = open({ flushIntervalMs: 60_000 });
    expect(restarted.listRunningRuns().map((r) => r.id)).toEqual(["r1"]);
    expect(restarted.activeRun("c1")?.id).toBe("r1");
    // A crash loses what was still queued, never what was committed, and leaves no gap.
    expect(restarted.readEvents("r1").map((e) => e.seq)).toEqual([1, 2]);
    expect(restarted.lastSeq("r1")).toBe(2);
  });

  it("closes a run left running by a previous process, continuing its sequence", () => {
    const previous = open({ flushIntervalMs: 60_000 });
    seed(previous);
    previous.appendEvent("r1", tokenEvent("r1", "partial"));
    previous.close();

    const restarted = open();
    const [left] = restarted.listRunningRuns();
    expect(left?.id).toBe("r1");
    const interruption = { type: "error" as const, runId: "r1", at: 2, code: "interrupted" as const, message: "restart", retryable: true };
    expect(restarted.appendEvent("r1", interruption)).toBe(2);
    expect(restarted.appendEvent("r1", doneEvent("r1", "interrupted"))).toBe(3);
    restarted.finishRun("r1", { reason: "interrupted", usage: null });
    expect(restarted.listRunningRuns()).toEqual([]);
    expect(restarted.readEvents("r1").map((e) => e.event.type)).toEqual(["token", "error", "done"]);
  });

  it("keeps a failed batch queued and readable, and commits it on the next flush", () => {
    const store = open({ flushIntervalMs: 60_000, busyTimeoutMs: 0 });
    seed(store);
    const blocker = raw();
    store.appendEvent("r1", tokenEvent("r1", "a"));
    // Another connection holds the write lock; with a zero busy timeout the flush fails at once.
    blocker.exec("BEGIN IMMEDIATE");
    expect(() => store.flush()).toThrow(/locked|busy/i);
    expect(store.stats()).toMatchObject({ commits: 0, pendingEvents: 1 });
    expect(store.appendEvent("r1", tokenEvent("r1", "b"))).toBe(2);
    expect(store.readEvents("r1").map((e) => e.event)).toEqual([tokenEvent("r1", "a"), tokenEvent("r1", "b")]);
    blocker.exec("ROLLBACK");
    store.flush();
    expect(store.stats()).toMatchObject({ commits: 1, pendingEvents: 0 });
    expect(committedEvents(blocker, "r1")).toBe(2);
  });

  it("reports a failed timer flush and retries it on the next tick", async () => {
    const errors: unknown[] = [];
    const store = openSqliteStore({ path, flushIntervalMs: 5, busyTimeoutMs: 0, onFlushError: (e) => errors.push(e) });
    opened.push(store);
    seed(store);
    const blocker = raw();
    blocker.exec("BEGIN IMMEDIATE");
    store.appendEvent("r1", tokenEvent("r1", "a"));
    await vi.waitFor(() => expect(store.stats().flushErrors).toBeGreaterThanOrEqual(1), { timeout: 10_000, interval: 5 });
    expect(errors[0]).toBeInstanceOf(Error);
    expect(committedEvents(blocker, "r1")).toBe(0);
    blocker.exec("ROLLBACK");
    await vi.waitFor(() => expect(store.stats()).toMatchObject({ commits: 1, pendingEvents: 0 }), { timeout: 10_000, interval: 5 });
    expect(committedEvents(blocker, "r1")).toBe(1);
  });

  it("rejects nonsensical batching options", () => {
    expect(() => openSqliteStore({ path, maxBatch: 0 })).toThrow(RangeError);
    expect(() => openSqliteStore({ path, flushIntervalMs: -1 })).toThrow(RangeError);
  });
});
