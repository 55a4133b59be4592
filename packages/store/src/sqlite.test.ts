import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync, StatementSync } from "node:sqlite";
import { defaultSampling } from "@streamchat/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { migrations } from "./migrations.js";
import { listArchivedConversationsSql, listConversationsSql, openSqliteStore, runSettingsSql, type SqliteChatStore, type SqliteStoreOptions } from "./sqlite.js";
import { doneEvent, everyMessageVariant, manualClock, runEvents, sampleUsage, tokenEvent } from "./test-support/fixtures.js";
import { expectListPagesInOrder } from "./test-support/list-pages.js";

describe("sqlite store on a real file", () => {
  let dir: string;
  let path: string;
  const opened: Array<SqliteChatStore | DatabaseSync> = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "store-sqlite-"));
    path = join(dir, "nested", "data", "chat.db");
  });
  afterEach(async () => {
    for (const handle of opened.splice(0)) {
      if ("kind" in handle) await handle.close().catch(() => {});
      else if (handle.isOpen) handle.close();
    }
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
  async function seed(store: SqliteChatStore) {
    await store.createConversation({ id: "c1", userId: "alice", title: "First" });
    await store.createRun({ id: "r1", conversationId: "c1", userId: "alice", model: "demo", provider: "sim", clientRequestId: "req-1" });
  }

  it("creates the directory and a WAL database", () => {
    open();
    expect(existsSync(path)).toBe(true);
    expect(raw().prepare("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
  });

  it("finds everything again after close and reopen", async () => {
    const clock = manualClock(1_000);
    const first = open({ now: clock.now, flushIntervalMs: 60_000 });
    await seed(first);
    for (const message of everyMessageVariant) await first.appendMessage({ conversationId: "c1", runId: "r1", message });
    const events = runEvents("r1", "c1").slice(0, 5);
    events.forEach((event, i) => void first.appendEvent("r1", i + 1, event));
    expect(first.stats().pendingEvents).toBe(5);
    const before = {
      conversations: await first.listConversations("alice"),
      messages: await first.listMessages("c1"),
      run: await first.getRun("r1"),
      events: await first.readEvents("r1"),
    };
    await first.close(); // commits the queued events

    const second = open({ now: clock.now });
    expect(await second.listConversations("alice")).toEqual(before.conversations);
    expect(await second.listMessages("c1")).toEqual(before.messages);
    expect((await second.listMessages("c1")).map((m) => m.message)).toEqual(everyMessageVariant);
    expect(await second.getRun("r1")).toEqual(before.run);
    expect((await second.findRunByClientRequestId("alice", "req-1"))?.id).toBe("r1");
    expect(await second.readEvents("r1")).toEqual(events.map((event, i) => ({ seq: i + 1, event })));
    expect(await second.lastSeq("r1")).toBe(5);
    await second.appendEvent("r1", 6, doneEvent("r1"));
    await second.finishRun("r1", { reason: "stop", usage: sampleUsage });
    await second.close();

    const third = open();
    expect((await third.readEvents("r1")).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await third.getRun("r1")).toMatchObject({ status: "done", reason: "stop", usage: sampleUsage });
  });

  it("keeps each user's custom instructions across close and reopen", async () => {
    const clock = manualClock(2_000);
    const first = open({ now: clock.now });
    await first.setInstructions("alice", "Answer in French.\nKeep it short.");
    clock.set(3_000);
    await first.setInstructions("bob", "");
    await first.close();

    const second = open({ now: clock.now });
    expect(await second.getUserSettings("alice")).toEqual({ instructions: "Answer in French.\nKeep it short.", sampling: defaultSampling, updatedAt: 2_000 });
    expect(await second.getUserSettings("bob")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: 3_000 });
    expect(await second.getUserSettings("carol")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
    expect(raw().prepare("SELECT user_id, instructions, updated_at FROM user_settings ORDER BY user_id").all().map((r) => ({ ...r }))).toEqual([
      { user_id: "alice", instructions: "Answer in French.\nKeep it short.", updated_at: 2_000 },
      { user_id: "bob", instructions: "", updated_at: 3_000 },
    ]);
  });

  it("keeps conversations' instructions across close and reopen, updated_at as integer milliseconds, and deletes them with their conversation", async () => {
    const clock = manualClock(2_000);
    const first = open({ now: clock.now });
    for (const id of ["c1", "c2", "c3"]) await first.createConversation({ id, userId: "alice", title: id });
    await first.setConversationInstructions("alice", "c1", "Answer in French.\nKeep it short.");
    clock.set(3_000);
    await first.setConversationInstructions("alice", "c2", "");
    await first.setConversationInstructions("alice", "c3", "Gone soon.");
    await first.close();

    const second = open({ now: clock.now });
    expect(await second.getConversationSettings("alice", "c1")).toEqual({ instructions: "Answer in French.\nKeep it short.", sampling: defaultSampling, updatedAt: 2_000 });
    expect(await second.getConversationSettings("alice", "c2")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: 3_000 });
    const rows = () => raw().prepare("SELECT conversation_id, instructions, updated_at, typeof(updated_at) AS t FROM conversation_settings ORDER BY conversation_id").all().map((r) => ({ ...r }));
    expect(rows()).toEqual([
      { conversation_id: "c1", instructions: "Answer in French.\nKeep it short.", updated_at: 2_000, t: "integer" },
      { conversation_id: "c2", instructions: "", updated_at: 3_000, t: "integer" },
      { conversation_id: "c3", instructions: "Gone soon.", updated_at: 3_000, t: "integer" },
    ]);
    expect(await second.deleteConversation("alice", "c3")).toBe(true);
    expect(rows().map((r) => r.conversation_id)).toEqual(["c1", "c2"]);
  });

  it("keeps conversations' sampling across close and reopen, the fractions as REAL and the seed as INTEGER, NULL for the model's", async () => {
    const clock = manualClock(2_000);
    const first = open({ now: clock.now });
    for (const id of ["c1", "c2"]) await first.createConversation({ id, userId: "alice", title: id });
    // Whole numbers too: the column's affinity keeps a temperature of 1 a REAL.
    await first.setConversationSampling("alice", "c1", { temperature: 1, topP: 0.95, seed: 2_147_483_647 });
    await first.setConversationInstructions("alice", "c2", "Be brief.");
    await first.close();

    const second = open({ now: clock.now });
    expect((await second.getConversationSettings("alice", "c1")).sampling).toEqual({ temperature: 1, topP: 0.95, seed: 2_147_483_647 });
    expect(await second.getRunSettings("alice", "c2")).toEqual({ user: "", conversation: "Be brief.", sampling: defaultSampling });
    const rows = raw()
      .prepare("SELECT conversation_id, instructions, temperature, typeof(temperature) AS tt, top_p, typeof(top_p) AS tp, seed, typeof(seed) AS ts FROM conversation_settings ORDER BY conversation_id")
      .all()
      .map((r) => ({ ...r }));
    expect(rows).toEqual([
      { conversation_id: "c1", instructions: "", temperature: 1, tt: "real", top_p: 0.95, tp: "real", seed: 2_147_483_647, ts: "integer" },
      { conversation_id: "c2", instructions: "Be brief.", temperature: null, tt: "null", top_p: null, tp: "null", seed: null, ts: "null" },
    ]);
  });

  it("reads a run's settings in one statement of two primary-key lookups, as cheap as the user's settings", async () => {
    const store = open();
    const probe = raw();
    // 10,000 users' instructions and 10,000 conversations', so a scan would show.
    probe.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
      INSERT INTO user_settings (user_id, instructions, updated_at) SELECT 'u' || i, 'user ' || i, i FROM n`);
    probe.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
      INSERT INTO conversations (id, user_id, title, created_at, updated_at) SELECT 'c' || i, 'u' || i, 't', i, i FROM n`);
    probe.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
      INSERT INTO conversation_settings (conversation_id, instructions, temperature, top_p, seed, updated_at)
      SELECT 'c' || i, 'chat ' || i, i / 10000.0, NULL, i, i FROM n`);
    probe.exec("ANALYZE");
    const plan = probe.prepare(`EXPLAIN QUERY PLAN ${runSettingsSql}`).all("u5", "c7").map((row) => String(row.detail));
    // The keys' SELECT without FROM is one constant row (k, scanned once); each table joined to it is a search of its
    // key, and no table is scanned.
    expect(plan.filter((detail) => /^(SEARCH|SCAN)/.test(detail))).toEqual([
      "SCAN CONSTANT ROW",
      "SCAN k",
      "SEARCH u USING PRIMARY KEY (user_id=?) LEFT-JOIN",
      "SEARCH s USING PRIMARY KEY (conversation_id=?) LEFT-JOIN",
    ]);
    expect(await store.getRunSettings("u5", "c7")).toEqual({ user: "user 5", conversation: "chat 7", sampling: { temperature: 0.0007, topP: null, seed: 7 } });
    expect(await store.getRunSettings("u5", "c10001")).toEqual({ user: "user 5", conversation: "", sampling: defaultSampling });
    expect(await store.getRunSettings("nobody", "c7")).toEqual({ user: "", conversation: "chat 7", sampling: { temperature: 0.0007, topP: null, seed: 7 } });
  });

  it("keeps pins across close and reopen, pinned_at as integer milliseconds", async () => {
    const clock = manualClock(2_000);
    const first = open({ now: clock.now });
    await seed(first);
    await first.createConversation({ id: "c2", userId: "alice", title: "Second" });
    clock.set(3_000);
    await first.setPinned("alice", "c1", true);
    await first.close();

    const second = open({ now: clock.now });
    expect(await second.getConversation("alice", "c1")).toEqual({ id: "c1", userId: "alice", title: "First", createdAt: 2_000, updatedAt: 2_000, pinnedAt: 3_000, archivedAt: null });
    expect((await second.listConversations("alice")).map((c) => c.id)).toEqual(["c1", "c2"]);
    expect(raw().prepare("SELECT id, pinned_at, typeof(pinned_at) AS t FROM conversations ORDER BY id").all().map((r) => ({ ...r }))).toEqual([
      { id: "c1", pinned_at: 3_000, t: "integer" },
      { id: "c2", pinned_at: null, t: "null" },
    ]);
  });

  it("lists a page of a user's conversations, pinned first, from the index without sorting them all", async () => {
    const store = open();
    const probe = raw();
    // 10,000 conversations of alice (every 100th pinned) and 10,000 of bob's, written directly: the store's calls would take long.
    probe.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
      INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at)
      SELECT u.user_id || '-' || i, u.user_id, 't', i, (i * 7919) % 10007, CASE WHEN i % 100 = 0 THEN i END
        FROM n, (SELECT 'alice' AS user_id UNION ALL SELECT 'bob') AS u`);
    probe.exec("ANALYZE");
    const plan = probe.prepare(`EXPLAIN QUERY PLAN ${listConversationsSql}`).all("alice", 100).map((row) => String(row.detail));
    expect(plan.join("\n")).toContain("USING INDEX conversations_by_user_pinned_activity (user_id=?)");
    // "USE TEMP B-TREE FOR ORDER BY" would read and sort all 10,000 of them for every page.
    expect(plan.join("\n")).not.toMatch(/TEMP B-TREE/);
    const page = await store.listConversations("alice", { limit: 100 });
    expect(page).toHaveLength(100);
    expect(page.slice(0, 3).map((c) => c.id)).toEqual(["alice-10000", "alice-9900", "alice-9800"]);
    // Alice's 100 pinned ones fill the page, however old their activity.
    expect(page.filter((c) => c.pinnedAt !== null)).toHaveLength(100);
    const unpinned = await store.listConversations("alice", { limit: 110 });
    expect(unpinned.slice(100).every((c) => c.pinnedAt === null)).toBe(true);
    expect(unpinned.slice(100).map((c) => c.updatedAt)).toEqual([...unpinned.slice(100).map((c) => c.updatedAt)].sort((a, b) => b - a));
  });

  it("keeps archiving across close and reopen, archived_at as integer milliseconds", async () => {
    const clock = manualClock(2_000);
    const first = open({ now: clock.now });
    await seed(first);
    await first.createConversation({ id: "c2", userId: "alice", title: "Second" });
    clock.set(3_000);
    await first.setArchived("alice", "c1", true);
    await first.close();

    const second = open({ now: clock.now });
    expect(await second.getConversation("alice", "c1")).toEqual({ id: "c1", userId: "alice", title: "First", createdAt: 2_000, updatedAt: 2_000, pinnedAt: null, archivedAt: 3_000 });
    expect((await second.listConversations("alice")).map((c) => c.id)).toEqual(["c2"]);
    expect((await second.listConversations("alice", { archived: true })).map((c) => c.id)).toEqual(["c1"]);
    expect(raw().prepare("SELECT id, archived_at, typeof(archived_at) AS t FROM conversations ORDER BY id").all().map((r) => ({ ...r }))).toEqual([
      { id: "c1", archived_at: 3_000, t: "integer" },
      { id: "c2", archived_at: null, t: "null" },
    ]);
  });

  it("lists a page of either list from the list's index without sorting, the other list's conversations skipped", async () => {
    const store = open();
    const probe = raw();
    // 10,000 conversations of alice (every 10th archived; 100 pinned among the archived, 100 among the others) and
    // 10,000 of bob's.
    probe.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
      INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at, archived_at)
      SELECT u.user_id || '-' || i, u.user_id, 't', i, (i * 7919) % 10007, CASE WHEN i % 100 IN (0, 5) THEN i END, CASE WHEN i % 10 = 0 THEN i END
        FROM n, (SELECT 'alice' AS user_id UNION ALL SELECT 'bob') AS u`);
    probe.exec("ANALYZE");
    for (const listSql of [listConversationsSql, listArchivedConversationsSql]) {
      const plan = probe.prepare(`EXPLAIN QUERY PLAN ${listSql}`).all("alice", 100).map((row) => String(row.detail));
      expect(plan.join("\n")).toContain("USING INDEX conversations_by_user_pinned_activity (user_id=?)");
      expect(plan.join("\n")).not.toMatch(/TEMP B-TREE/);
    }
    // The lists as the order defines them, to compare each page with.
    const all = probe.prepare("SELECT id, pinned_at, archived_at, updated_at, rowid FROM conversations WHERE user_id = 'alice'").all() as Array<{
      id: string;
      pinned_at: number | null;
      archived_at: number | null;
      updated_at: number;
      rowid: number;
    }>;
    all.sort((a, b) => (b.pinned_at ?? -1) - (a.pinned_at ?? -1) || b.updated_at - a.updated_at || b.rowid - a.rowid);
    await expectListPagesInOrder(store, all.map((row) => ({ id: row.id, archived: row.archived_at !== null })));
  });

  it("applies migrations once: reopening leaves the schema as it was", async () => {
    await open().close();
    const schemaOf = (db: DatabaseSync) =>
      db.prepare("SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all();
    const probe = raw();
    const schema = schemaOf(probe);
    const applied = probe.prepare("SELECT version FROM schema_migrations ORDER BY version").all();
    expect(applied.map((row) => row.version)).toEqual(migrations.map((m) => m.version));
    expect(schema.map((row) => row.name)).toEqual(
      expect.arrayContaining([
        ...["conversations", "messages", "runs", "events", "schema_migrations"],
        ...["conversations_by_user_pinned_activity", "messages_by_conversation", "runs_by_conversation"],
        ...["runs_one_running_per_conversation", "runs_running_by_user", "events_not_streamed"],
      ]),
    );

    await open().close();
    await open().close();
    expect(schemaOf(probe)).toEqual(schema);
    expect(probe.prepare("SELECT version FROM schema_migrations ORDER BY version").all()).toEqual(applied);
  });

  it("reads the non-streamed event types through their partial index", async () => {
    const store = open({ flushIntervalMs: 60_000 });
    await seed(store);
    for (let seq = 1; seq <= 500; seq++) void store.appendEvent("r1", seq, tokenEvent("r1", `t${seq}`));
    await store.appendEvent("r1", 501, doneEvent("r1"));
    const probe = raw();
    probe.exec("ANALYZE");
    const plan = probe
      .prepare(
        `EXPLAIN QUERY PLAN SELECT seq, json FROM events
         WHERE run_id = ? AND type NOT IN ('token', 'reasoning') AND type IN (SELECT value FROM json_each(?)) ORDER BY seq`,
      )
      .all("r1", '["done"]')
      .map((row) => String(row.detail));
    expect(plan.join("\n")).toContain("events_not_streamed");
    expect((await store.readEventsOfTypes("r1", ["done", "error"])).map((e) => e.seq)).toEqual([501]);
  });

  it("finds running runs through the running-only index, and keeps no index of finished runs", async () => {
    const store = open({ flushIntervalMs: 60_000 });
    await seed(store);
    const probe = raw();
    const names = probe.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'runs'").all();
    expect(names.map((row) => row.name)).not.toContain("runs_by_status");
    for (const query of [
      "SELECT * FROM runs WHERE status = 'running' ORDER BY created_at, rowid",
      "SELECT DISTINCT owner FROM runs WHERE status = 'running'",
      "SELECT * FROM runs WHERE status = 'running' AND owner = 'p' ORDER BY created_at, rowid",
    ]) {
      const plan = probe.prepare(`EXPLAIN QUERY PLAN ${query}`).all().map((row) => String(row.detail));
      // "SCAN runs" alone would read every run ever started, every second (the orphan sweep asks for owners).
      expect(plan.join("\n"), query).toContain("USING INDEX runs_running_by_user");
    }
    expect((await store.listRunningRuns()).map((run) => run.id)).toEqual(["r1"]);
  });

  it("cascades a conversation delete through runs, events, messages and its settings in the file", async () => {
    const store = open({ flushIntervalMs: 60_000 });
    await seed(store);
    await store.setConversationInstructions("alice", "c1", "Be brief.");
    await store.appendMessage({ conversationId: "c1", runId: "r1", message: { role: "user", content: "hi" } });
    void store.appendEvent("r1", 1, tokenEvent("r1", "committed"));
    await store.flush();
    void store.appendEvent("r1", 2, tokenEvent("r1", "queued"));
    expect(await store.deleteConversation("alice", "c1")).toBe(true);
    await store.flush(); // nothing of the deleted run is left to commit
    const other = raw();
    for (const table of ["conversations", "messages", "runs", "events", "conversation_settings"]) {
      expect(other.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get()?.n, table).toBe(0);
    }
  });

  it("lets a restarted process find runs left running, with the events that were committed", async () => {
    const crashed = open({ flushIntervalMs: 60_000 });
    await seed(crashed);
    await crashed.createConversation({ id: "c2", userId: "bob", title: "Second" });
    await crashed.createRun({ id: "r2", conversationId: "c2", userId: "bob", model: "demo", provider: "sim" });
    await crashed.finishRun("r2", { reason: "stop", usage: null });
    void crashed.appendEvent("r1", 1, tokenEvent("r1", "committed 1"));
    void crashed.appendEvent("r1", 2, tokenEvent("r1", "committed 2"));
    await crashed.flush();
    void crashed.appendEvent("r1", 3, tokenEvent("r1", "still queued"));

    // The "crashed" process never closes cleanly before the new one opens the same file.
    const restarted = open({ flushIntervalMs: 60_000 });
    expect((await restarted.listRunningRuns()).map((r) => r.id)).toEqual(["r1"]);
    expect((await restarted.activeRun("c1"))?.id).toBe("r1");
    // A crash loses what was still queued, never what was committed.
    expect((await restarted.readEvents("r1")).map((e) => e.seq)).toEqual([1, 2]);
    expect(await restarted.lastSeq("r1")).toBe(2);
  });

  it("closes a run left running by a previous process past a seq gap", async () => {
    const previous = open({ flushIntervalMs: 60_000 });
    await seed(previous);
    void previous.appendEvent("r1", 1, tokenEvent("r1", "partial"));
    await previous.close();

    const restarted = open();
    const [left] = await restarted.listRunningRuns();
    expect(left?.id).toBe("r1");
    // Recovery skips past seqs a crashed process may have streamed without committing.
    const next = (await restarted.lastSeq("r1")) + 1 + 1000;
    const interruption = { type: "error" as const, runId: "r1", at: 2, code: "interrupted" as const, message: "restart", retryable: true };
    void restarted.appendEvent("r1", next, interruption);
    await restarted.appendEvent("r1", next + 1, doneEvent("r1", "interrupted"));
    expect(await restarted.getRun("r1")).toMatchObject({ status: "done", reason: "interrupted" });
    expect(await restarted.listRunningRuns()).toEqual([]);
    expect((await restarted.readEvents("r1")).map((e) => [e.seq, e.event.type])).toEqual([
      [1, "token"],
      [1002, "error"],
      [1003, "done"],
    ]);
  });

  it("keeps a batch that failed on a lock queued and readable, and commits it on the next flush", async () => {
    const store = open({ flushIntervalMs: 60_000, busyTimeoutMs: 0 });
    await seed(store);
    const blocker = raw();
    const first = store.appendEvent("r1", 1, tokenEvent("r1", "a"));
    // Another connection holds the write lock; with a zero busy timeout the flush fails at once.
    blocker.exec("BEGIN IMMEDIATE");
    await expect(store.flush()).rejects.toMatchObject({ code: "unavailable", message: expect.stringMatching(/locked|busy/i) });
    expect(store.stats()).toMatchObject({ commits: 0, pendingEvents: 1, flushErrors: 1 });
    const second = store.appendEvent("r1", 2, tokenEvent("r1", "b"));
    expect((await store.readEvents("r1")).map((e) => e.event)).toEqual([tokenEvent("r1", "a"), tokenEvent("r1", "b")]);
    blocker.exec("ROLLBACK");
    await store.flush();
    await Promise.all([first, second]);
    expect(store.stats()).toMatchObject({ commits: 1, pendingEvents: 0 });
    expect(committedEvents(blocker, "r1")).toBe(2);
  });

  it("reports a failed timer flush and retries it by itself", async () => {
    const errors: unknown[] = [];
    const store = open({ flushIntervalMs: 5, busyTimeoutMs: 0, onFlushError: (e) => errors.push(e) });
    await seed(store);
    const blocker = raw();
    blocker.exec("BEGIN IMMEDIATE");
    const appended = store.appendEvent("r1", 1, tokenEvent("r1", "a"));
    await vi.waitFor(() => expect(store.stats().flushErrors).toBeGreaterThanOrEqual(1), { timeout: 10_000, interval: 5 });
    expect(errors[0]).toMatchObject({ name: "StoreError", code: "unavailable" });
    expect(committedEvents(blocker, "r1")).toBe(0);
    blocker.exec("ROLLBACK");
    await appended;
    expect(store.stats()).toMatchObject({ commits: 1, pendingEvents: 0 });
    expect(committedEvents(blocker, "r1")).toBe(1);
  });

  it("checks the invariants under the write lock: another process on the file is refused", async () => {
    const a = open();
    const b = open();
    await seed(a);
    expect(await b.createRun({ id: "r2", conversationId: "c1", userId: "alice", model: "m", provider: "p" }).catch((e: unknown) => e)).toMatchObject({
      code: "conflict",
      reason: "conversation_busy",
    });
    // The unique index holds even for a writer that skips the checks.
    expect(() =>
      raw().prepare("INSERT INTO runs (id, conversation_id, user_id, model, provider, status, created_at) VALUES ('x', 'c1', 'alice', 'm', 'p', 'running', 0)").run(),
    ).toThrow(/UNIQUE constraint failed: runs.conversation_id/);
  });

  it("commits the runs started in one turn in one transaction, and rolls a refused one back alone", async () => {
    const store = open();
    await seed(store); // c1 has a running run
    const start = (id: string, conversationId: string, options: { title?: string; parentId?: number } = {}) =>
      store.startRun({
        id,
        conversationId,
        userId: "alice",
        model: "demo",
        provider: "sim",
        ...(options.title === undefined ? {} : { conversation: { title: options.title } }),
        question: { message: { role: "user", content: `question of ${id}` }, ...(options.parentId === undefined ? {} : { parentId: options.parentId }) },
      });
    const run = vi.spyOn(StatementSync.prototype, "run");
    const commits = () => run.mock.contexts.filter((statement) => (statement as StatementSync).sourceSQL === "COMMIT").length;
    try {
      const results = await Promise.allSettled([
        start("ra", "ca", { title: "A" }),
        start("rb", "c1"), // refused: c1's run is running
        start("rc", "cc", { title: "C" }),
        start("rd", "ca"), // refused: ra, started earlier in the same group, is running in ca
        start("re", "ce", { title: "E", parentId: 999 }), // refused after its conversation's insert: no such parent
      ]);
      expect(commits()).toBe(1);
      expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected", "rejected"]);
      expect(results[1]).toMatchObject({ reason: { code: "conflict", reason: "conversation_busy" } });
      expect(results[3]).toMatchObject({ reason: { code: "conflict", reason: "conversation_busy" } });
      expect(results[4]).toMatchObject({ reason: { code: "not_found" } });
    } finally {
      run.mockRestore();
    }
    const db = raw();
    expect(db.prepare("SELECT id FROM conversations ORDER BY id").all().map((row) => row.id)).toEqual(["c1", "ca", "cc"]);
    expect(db.prepare("SELECT id FROM runs ORDER BY id").all().map((row) => row.id)).toEqual(["r1", "ra", "rc"]);
    expect(db.prepare("SELECT content FROM messages ORDER BY id").all().map((row) => row.content)).toEqual(["question of ra", "question of rc"]);
  });

  it("asks nothing it knows or its keys check: a new chat's start and a run's answer read no head, parent or key", async () => {
    const store = open();
    const executed: string[] = [];
    const spies = (["run", "get", "all"] as const).map((method) => {
      const spy = vi.spyOn(StatementSync.prototype, method);
      return { spy, sql: () => spy.mock.contexts.map((statement) => (statement as StatementSync).sourceSQL) };
    });
    const record = () => {
      for (const { spy, sql } of spies) {
        executed.push(...sql());
        spy.mockClear();
      }
    };
    const headReads = () => executed.filter((sql) => sql.includes("head_message_id AS head"));
    const parentChecks = () => executed.filter((sql) => sql.startsWith("SELECT 1 AS found FROM messages"));
    // The run id, the conversation id and the client request id are unique keys: a start that takes free ones looks
    // none of them up (a taken one is refused in the contract's order: store.test.ts).
    const keyLookups = () => executed.filter((sql) => /^SELECT .* FROM (runs|conversations) WHERE (id|user_id) = \? AND client_request_id|^SELECT 1 AS found FROM (runs|conversations) WHERE id = \?$/.test(sql));
    try {
      const started = await store.startRun({
        id: "ra", conversationId: "ca", userId: "alice", model: "demo", provider: "sim",
        conversation: { title: "A" }, question: { message: { role: "user", content: "hi" } }, clientRequestId: "req-a",
      });
      record();
      expect(keyLookups()).toEqual([]);
      expect(headReads()).toEqual([]); // the conversation was inserted in the same transaction: no head yet
      expect(parentChecks()).toEqual([]);
      executed.length = 0;

      const answer = await store.appendDone("ra", 1, doneEvent("ra"), { conversationId: "ca", messages: [{ role: "assistant", content: "hello" }] });
      record();
      expect(headReads()).toHaveLength(1); // the answer goes under the head, which it has to read…
      expect(parentChecks()).toEqual([]); // …and the head is in its conversation
      expect(answer).toMatchObject([{ parentId: started.question.id, runId: "ra", message: { content: "hello" } }]);
      executed.length = 0;

      // A parent the caller names is still checked.
      await store.createConversation({ id: "cb", userId: "alice", title: "B" });
      await expect(
        store.appendMessage({ conversationId: "cb", runId: null, message: { role: "user", content: "x" }, parentId: started.question.id }),
      ).rejects.toMatchObject({ code: "not_found" });
      record();
      expect(parentChecks()).toHaveLength(1);
    } finally {
      for (const { spy } of spies) spy.mockRestore();
    }
    expect((await store.activePath("ca")).map((message) => message.message.content)).toEqual(["hi", "hello"]);
  });

  // SQLite's temporary files are unlinked as soon as they are opened: only the process's open descriptors show them.
  it.runIf(existsSync("/proc/self/fd"))("keeps a group's savepoint journal in memory: no temporary file is open when it commits", async () => {
    const store = open();
    const temporaryFiles = () =>
      readdirSync("/proc/self/fd").filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).includes("etilqs_"); // SQLite's prefix for its temporary files
        } catch {
          return false; // closed since the listing
        }
      });
    const run = StatementSync.prototype.run;
    const openAtCommit: string[][] = [];
    const spy = vi.spyOn(StatementSync.prototype, "run").mockImplementation(function (this: StatementSync, ...parameters) {
      if (this.sourceSQL === "COMMIT") openAtCommit.push(temporaryFiles());
      return run.apply(this, parameters);
    });
    try {
      // 20 first messages in one turn of a new file: the journal of the group passes 64 KB, where SQLite spills it to a file.
      const started = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.startRun({ id: `r${i}`, conversationId: `c${i}`, userId: "alice", model: "demo", provider: "sim", conversation: { title: `t${i}` }, question: { message: { role: "user", content: "a question ".repeat(50) } } }),
        ),
      );
      expect(started).toHaveLength(20);
    } finally {
      spy.mockRestore();
    }
    expect(openAtCommit).toEqual([[]]);
  });

  it("fails every run of a group whose transaction cannot start, and stores none of them", async () => {
    const store = open({ busyTimeoutMs: 20 });
    await store.createConversation({ id: "c1", userId: "alice", title: "First" });
    const locker = raw();
    locker.exec("BEGIN IMMEDIATE");
    const start = (id: string, conversationId: string) =>
      store.startRun({ id, conversationId, userId: "alice", model: "demo", provider: "sim", conversation: { title: id }, question: { message: { role: "user", content: id } } });
    const results = await Promise.allSettled([start("ra", "ca"), start("rb", "cb")]);
    locker.exec("ROLLBACK");
    expect(results.map((result) => result.status)).toEqual(["rejected", "rejected"]);
    expect(results[0]).toMatchObject({ reason: { name: "StoreError", code: "unavailable", message: expect.stringMatching(/locked/) } });
    expect(await store.listConversations("alice")).toHaveLength(1);
    await expect(start("rc", "cc")).resolves.toMatchObject({ run: { id: "rc" } });
  });

  it("reports every write refused by another connection's lock as unavailable, the error the API answers 503 to", async () => {
    const store = open({ busyTimeoutMs: 20 });
    await seed(store);
    const question = await store.appendMessage({ conversationId: "c1", runId: "r1", message: { role: "user", content: "hi" } });
    const locker = raw();
    locker.exec("BEGIN IMMEDIATE");
    const writes: Record<string, () => Promise<unknown>> = {
      createConversation: () => store.createConversation({ id: "c2", userId: "alice", title: "Second" }),
      renameConversation: () => store.renameConversation("alice", "c1", "Renamed"),
      renameConversationIf: () => store.renameConversation("alice", "c1", "Renamed", { ifTitle: "First" }),
      deleteConversation: () => store.deleteConversation("alice", "c1"),
      appendMessage: () => store.appendMessage({ conversationId: "c1", runId: "r1", message: { role: "assistant", content: "x" } }),
      switchBranch: () => store.switchBranch("c1", question.id),
      rewindActivePath: () => store.rewindActivePath("c1", null),
      createRun: () => store.createRun({ id: "r2", conversationId: "c1", userId: "alice", model: "m", provider: "p" }),
      startRun: () =>
        store.startRun({ id: "r3", conversationId: "c3", userId: "alice", model: "m", provider: "p", conversation: { title: "T" }, question: { message: { role: "user", content: "q" } } }),
      finishRun: () => store.finishRun("r1", { reason: "stop", usage: null }),
      claimRun: () => store.claimRun("r1", { from: null, to: "me" }),
      recordApprovalDecision: () => store.recordApprovalDecision({ runId: "r1", callId: "call-1", approved: true }),
      setToolServerEnabled: () => store.setToolServerEnabled("alice", "files", false),
      setInstructions: () => store.setInstructions("alice", "Be brief."),
      setPinned: () => store.setPinned("alice", "c1", true),
      setUnpinned: () => store.setPinned("alice", "c1", false),
      setArchived: () => store.setArchived("alice", "c1", true),
      setUnarchived: () => store.setArchived("alice", "c1", false),
      setConversationInstructions: () => store.setConversationInstructions("alice", "c1", "Be brief."),
      setConversationSampling: () => store.setConversationSampling("alice", "c1", { temperature: 0.5, topP: null, seed: 1 }),
    };
    for (const [name, write] of Object.entries(writes)) {
      expect(await write().then(() => "written", (e: unknown) => e), name).toMatchObject({
        name: "StoreError",
        code: "unavailable",
        message: "The SQLite database cannot take writes now (another connection holds it locked).",
      });
    }
    locker.exec("ROLLBACK");
    // Nothing was half-written, and the store writes again once the lock is gone.
    expect((await store.getRun("r1"))?.status).toBe("running");
    expect(await store.finishRun("r1", { reason: "stop", usage: null })).toBe(true);
  });

  it("commits the runs started before close", async () => {
    const store = open();
    await store.createConversation({ id: "c1", userId: "alice", title: "First" });
    const started = store.startRun({ id: "r1", conversationId: "c1", userId: "alice", model: "demo", provider: "sim", question: { message: { role: "user", content: "hi" } } });
    await store.close();
    await expect(started).resolves.toMatchObject({ run: { id: "r1", status: "running" } });
    expect((await open().getRun("r1"))?.status).toBe("running");
  });

  it("rejects nonsensical batching options without opening the file", () => {
    expect(() => openSqliteStore({ path, maxBatch: 0 })).toThrow(RangeError);
    expect(() => openSqliteStore({ path, flushIntervalMs: -1 })).toThrow(RangeError);
    expect(() => openSqliteStore({ path, retryForMs: -1 })).toThrow(RangeError);
    expect(existsSync(path)).toBe(false);
  });
});
