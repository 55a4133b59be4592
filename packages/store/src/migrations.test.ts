import { defaultSampling } from "@streamchat/core";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { latestVersion, migrate, migrations, type Migration } from "./migrations.js";
import { openSqliteStore } from "./sqlite.js";
import { doneEvent, failure, importedInput, tokenEvent } from "./test-support/fixtures.js";
import { expectUpgradedV2 } from "./test-support/upgraded-v2.js";
import { expectUpgradedV11, v10Conversations } from "./test-support/upgraded-v11.js";
import { expectUpgradedV12, v11Conversations, v11UserSettings } from "./test-support/upgraded-v12.js";
import { expectUpgradedV13, v12ConversationSettings } from "./test-support/upgraded-v13.js";
import { expectUpgradedV14 } from "./test-support/upgraded-v14.js";

describe("migrate", () => {
  const dbs: DatabaseSync[] = [];
  afterEach(() => {
    for (const db of dbs.splice(0)) db.close();
  });
  function fresh(): DatabaseSync {
    const db = new DatabaseSync(":memory:");
    dbs.push(db);
    return db;
  }
  const tables = (db: DatabaseSync) =>
    db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all()
      .map((row) => row.name);
  const versions = (db: DatabaseSync) =>
    db.prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version").all().map((r) => ({ ...r }));

  it("applies the shipped schema once and records it (v1, v2, v3)", () => {
    const db = fresh();
    expect(migrate(db, migrations, () => 42)).toEqual(migrations.map((m) => m.version));
    expect(tables(db)).toEqual([
      "approval_decisions",
      "conversation_settings",
      "conversations",
      "events",
      "messages",
      "runs",
      "schema_migrations",
      "tool_server_settings",
      "user_settings",
    ]);
    expect(versions(db)).toEqual(migrations.map((m) => ({ version: m.version, applied_at: 42 })));
    expect(migrate(db, migrations, () => 99)).toEqual([]);
    expect(versions(db)).toEqual(migrations.map((m) => ({ version: m.version, applied_at: 42 })));
  });

  it("applies only the steps a database is missing", () => {
    const db = fresh();
    const v1: Migration = { version: 1, up: "CREATE TABLE a (x INTEGER)" };
    const v2: Migration = { version: 2, up: "CREATE TABLE b (y INTEGER); INSERT INTO a (x) VALUES (1);" };
    expect(migrate(db, [v1])).toEqual([1]);
    expect(migrate(db, [v1, v2])).toEqual([2]);
    expect(tables(db)).toEqual(["a", "b", "schema_migrations"]);
    expect(db.prepare("SELECT COUNT(*) AS n FROM a").get()?.n).toBe(1);
  });

  it("rolls every pending step back when one fails", () => {
    const db = fresh();
    const good: Migration = { version: 1, up: "CREATE TABLE a (x INTEGER)" };
    const bad: Migration = { version: 2, up: "CREATE TABLE b (y INTEGER); THIS IS NOT SQL;" };
    expect(() => migrate(db, [good, bad])).toThrow(/syntax error/);
    expect(tables(db)).toEqual([]);
    expect(db.isTransaction).toBe(false);
  });

  it("refuses a database written by a newer schema", () => {
    const db = fresh();
    migrate(db, [
      { version: 1, up: "CREATE TABLE a (x INTEGER)" },
      { version: 2, up: "CREATE TABLE b (x INTEGER)" },
    ]);
    expect(() => migrate(db, [{ version: 1, up: "CREATE TABLE a (x INTEGER)" }])).toThrow(/newer than this build/);
    expect(db.isTransaction).toBe(false);
  });

  it("refuses a list that is not strictly increasing", () => {
    const db = fresh();
    expect(() => migrate(db, [{ version: 2, up: "" }, { version: 2, up: "" }])).toThrow(/strictly increasing/);
    expect(() => migrate(db, [{ version: 0, up: "" }])).toThrow(/strictly increasing/);
    expect(tables(db)).toEqual([]);
  });

  it("reports the latest shipped version", () => {
    expect(latestVersion()).toBe(migrations.at(-1)?.version);
    expect(latestVersion([])).toBe(0);
  });
});

describe("migrations 2 and 3 on a database the v1 store wrote", () => {
  // fixtures/v1-chat.sqlite was written by the store as shipped at schema version 1 (scripts/make-v1-fixture.sh):
  // alice's finished run r1 in c1; in bob's c2, two runs left running (v1 allowed that): r2, then r3.
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps every row, adds owner, keeps the newest running run of a conversation and closes the older one", async () => {
    dir = mkdtempSync(join(tmpdir(), "store-v1-"));
    const path = join(dir, "chat.db");
    copyFileSync(new URL("./test-support/fixtures/v1-chat.sqlite", import.meta.url), path);
    const before = new DatabaseSync(path);
    expect(before.prepare("SELECT version FROM schema_migrations").all().map((r) => r.version)).toEqual([1]);
    const counts = (db: DatabaseSync) =>
      ["conversations", "messages", "runs", "events"].map((table) => Number(db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get()?.n));
    const countsBefore = counts(before);
    before.close();

    const store = openSqliteStore({ path, flushIntervalMs: 60_000 });
    try {
      const probe = new DatabaseSync(path);
      expect(probe.prepare("SELECT version FROM schema_migrations ORDER BY version").all().map((r) => r.version)).toEqual(migrations.map((m) => m.version));
      expect(counts(probe)).toEqual(countsBefore);
      probe.close();

      expect((await store.listConversations("alice")).map((c) => c.title)).toEqual(["Trip to Tokyo"]);
      expect((await store.listMessages("c1")).map((m) => m.message.content)).toEqual(["What time is it in TOKYO?", "It is 14:05 in Tokyo."]);
      expect((await store.activePath("c1")).map((m) => m.parentId)).toEqual([null, (await store.listMessages("c1"))[0]?.id]);
      expect(await store.getRun("r1")).toMatchObject({ status: "done", reason: "stop", owner: null, clientRequestId: "req-1" });
      expect((await store.readEvents("r1")).map((e) => e.event.type)).toEqual(["run-start", "token", "done"]);
      expect((await store.searchMessages("alice", "tokyo")).length).toBe(2);

      expect(await store.getRun("r2")).toMatchObject({ status: "done", reason: "interrupted", owner: null });
      expect((await store.getRun("r2"))?.finishedAt).toEqual(expect.any(Number));
      expect(await store.readEvents("r2")).toEqual([{ seq: 1, event: tokenEvent("r2", "Let me", expect.any(Number)) }]);
      expect((await store.listRunningRuns()).map((r) => r.id)).toEqual(["r3"]);
      expect((await store.activeRun("c2"))?.id).toBe("r3");

      // The new invariants hold on the old data.
      const start = (id: string, conversationId: string, userId: string, clientRequestId?: string) =>
        store.createRun({ id, conversationId, userId, model: "demo", provider: "sim", clientRequestId }).catch((e: unknown) => e);
      expect(await start("r4", "c2", "bob")).toMatchObject({ code: "conflict", reason: "conversation_busy" });
      expect(await start("r4", "c1", "alice", "req-1")).toMatchObject({ code: "conflict", reason: "client_request_id" });
      expect(await store.countRunningRuns("bob")).toBe(1);
      // The run left running continues its log (recovery) and ends.
      await store.appendEvent("r3", 2, doneEvent("r3", "interrupted"));
      expect(await store.getRun("r3")).toMatchObject({ status: "done", reason: "interrupted" });
      expect((await start("r4", "c2", "bob")) as { status?: string }).toMatchObject({ status: "running", owner: null });
    } finally {
      await store.close();
    }
  });
});

describe("migration 3 (message trees) on a database the v2 store wrote", () => {
  // fixtures/v2-chat.sqlite was written by the store as shipped at schema version 2 (scripts/make-v2-fixture.sh);
  // its contents are listed in test-support/upgraded-v2.ts.
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("makes each linear conversation a single-branch tree headed by its last message, keeping every row", async () => {
    dir = mkdtempSync(join(tmpdir(), "store-v2-"));
    const path = join(dir, "chat.db");
    copyFileSync(new URL("./test-support/fixtures/v2-chat.sqlite", import.meta.url), path);
    const counts = (db: DatabaseSync) =>
      ["conversations", "messages", "runs", "events"].map((table) => Number(db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get()?.n));
    const before = new DatabaseSync(path);
    expect(before.prepare("SELECT version FROM schema_migrations ORDER BY version").all().map((r) => r.version)).toEqual([1, 2]);
    const countsBefore = counts(before);
    expect(countsBefore).toEqual([3, 8, 5, 7]);
    before.close();

    const store = openSqliteStore({ path, flushIntervalMs: 60_000 });
    try {
      const probe = new DatabaseSync(path);
      expect(probe.prepare("SELECT version FROM schema_migrations ORDER BY version").all().map((r) => r.version)).toEqual(migrations.map((m) => m.version));
      expect(counts(probe)).toEqual(countsBefore);
      expect(probe.prepare("SELECT id, head_message_id AS head FROM conversations ORDER BY id").all().map((r) => ({ ...r }))).toEqual([
        { id: "c1", head: 9 },
        { id: "c2", head: 11 },
        { id: "c3", head: null },
      ]);
      probe.close();
      await expectUpgradedV2(store);
    } finally {
      await store.close();
    }
  });
});

describe("migration 5 (the event log as a rowid table) on a v4 database", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps every event in order, keeps the partial index and the cascade, and the table appends by rowid", async () => {
    dir = mkdtempSync(join(tmpdir(), "store-v4-"));
    const path = join(dir, "chat.db");
    const v4 = new DatabaseSync(path);
    v4.exec("PRAGMA foreign_keys = ON");
    migrate(v4, migrations.filter((m) => m.version <= 4));
    v4.exec(`INSERT INTO conversations (id, user_id, title, created_at, updated_at) VALUES ('c1', 'alice', 'One', 1, 1), ('c2', 'alice', 'Two', 1, 1)`);
    for (const [run, conversation] of [["r1", "c1"], ["r2", "c2"]] as const) {
      v4.prepare(
        "INSERT INTO runs (id, conversation_id, user_id, model, provider, status, created_at) VALUES (?, ?, 'alice', 'demo', 'sim', 'done', 1)",
      ).run(run, conversation);
    }
    const insert = v4.prepare("INSERT INTO events (run_id, seq, type, json) VALUES (?, ?, ?, ?)");
    // Interleaved, as concurrent runs write them.
    const logged = [
      ["r1", 1, { type: "run-start", runId: "r1", at: 1, conversationId: "c1", model: "demo", provider: "sim" }],
      ["r2", 1, tokenEvent("r2", "x")],
      ["r1", 2, tokenEvent("r1", "a")],
      ["r1", 3, { type: "error", runId: "r1", at: 1, code: "provider_error", message: "boom", retryable: true }],
      ["r2", 2, tokenEvent("r2", "y")],
      ["r1", 4, doneEvent("r1", "error")],
    ] as const;
    for (const [run, seq, event] of logged) insert.run(run, seq, event.type, JSON.stringify(event));
    v4.close();

    const store = openSqliteStore({ path, flushIntervalMs: 60_000 });
    try {
      const probe = new DatabaseSync(path);
      const definition = String(probe.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'events'").get()?.sql);
      expect(definition).not.toMatch(/WITHOUT ROWID/i);
      expect(probe.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' AND name NOT LIKE 'sqlite_%'").all().map((r) => r.name)).toEqual(["events_not_streamed"]);
      expect(probe.prepare("SELECT MAX(version) AS v FROM schema_migrations").get()?.v).toBe(latestVersion());
      probe.close();

      expect((await store.readEvents("r1")).map((e) => [e.seq, e.event.type])).toEqual([[1, "run-start"], [2, "token"], [3, "error"], [4, "done"]]);
      expect((await store.readEvents("r2", 1)).map((e) => e.event)).toEqual([tokenEvent("r2", "y")]);
      expect((await store.readEventsOfTypes("r1", ["error", "done"])).map((e) => e.seq)).toEqual([3, 4]);
      expect(await store.lastSeq("r2")).toBe(2);
      // The key still refuses a seq twice, and the log goes on.
      const twice = store.appendEvent("r2", 2, tokenEvent("r2", "again")).catch((e: unknown) => e);
      await store.flush().catch(() => undefined);
      expect(await twice).toMatchObject({ code: "conflict" });
      await store.appendEvent("r2", 3, doneEvent("r2"));
      expect((await store.readEvents("r2")).map((e) => e.seq)).toEqual([1, 2, 3]);
      // Deleting a conversation still takes its runs' events with it.
      expect(await store.deleteConversation("alice", "c1")).toBe(true);
      const after = new DatabaseSync(path);
      expect(after.prepare("SELECT run_id, COUNT(*) AS n FROM events GROUP BY run_id").all().map((r) => ({ ...r }))).toEqual([{ run_id: "r2", n: 3 }]);
      after.close();
    } finally {
      await store.close();
    }
  });
});

describe("migration 7 (user settings) on a v6 database", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("adds the table without touching what was there; every user starts with the defaults", async () => {
    dir = mkdtempSync(join(tmpdir(), "store-v6-"));
    const path = join(dir, "chat.db");
    const v6 = new DatabaseSync(path);
    migrate(v6, migrations.filter((m) => m.version <= 6));
    v6.exec("INSERT INTO tool_server_settings (user_id, server, enabled, updated_at) VALUES ('alice', 'files', 0, 5)");
    v6.close();

    const store = openSqliteStore({ path, flushIntervalMs: 60_000, now: () => 9 });
    try {
      const probe = new DatabaseSync(path);
      expect(probe.prepare("SELECT MAX(version) AS v FROM schema_migrations").get()?.v).toBe(latestVersion());
      expect(String(probe.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'user_settings'").get()?.sql)).toMatch(/WITHOUT ROWID/i);
      probe.close();
      expect(await store.listToolServerSettings("alice")).toEqual([{ server: "files", enabled: false, updatedAt: 5 }]);
      expect(await store.getUserSettings("alice")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
      expect(await store.setInstructions("alice", "Be brief.")).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 9 });
      expect(await store.getUserSettings("alice")).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 9 });
    } finally {
      await store.close();
    }
  });
});

describe("migration 8 (pinned conversations) on a v7 database", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("adds pinned_at (null: nothing is pinned) and the list's new index, keeping every row and the order", async () => {
    dir = mkdtempSync(join(tmpdir(), "store-v7-"));
    const path = join(dir, "chat.db");
    const v7 = new DatabaseSync(path);
    migrate(v7, migrations.filter((m) => m.version <= 7));
    v7.exec(`INSERT INTO conversations (id, user_id, title, created_at, updated_at) VALUES
      ('c1', 'alice', 'Oldest', 1, 30), ('c2', 'alice', 'Middle', 2, 20), ('c3', 'alice', 'Newest', 3, 20), ('b1', 'bob', 'Bob''s', 4, 40)`);
    v7.exec(`INSERT INTO messages (conversation_id, parent_id, run_id, role, content, json, created_at)
      VALUES ('c1', NULL, NULL, 'user', 'hello', '{"role":"user","content":"hello"}', 30)`);
    v7.exec("UPDATE conversations SET head_message_id = 1 WHERE id = 'c1'");
    v7.exec("INSERT INTO user_settings (user_id, instructions, updated_at) VALUES ('alice', 'Be brief.', 5)");
    v7.close();

    const store = openSqliteStore({ path, flushIntervalMs: 60_000, now: () => 99 });
    try {
      const probe = new DatabaseSync(path);
      expect(probe.prepare("SELECT MAX(version) AS v FROM schema_migrations").get()?.v).toBe(latestVersion());
      expect(probe.prepare("SELECT name, type, \"notnull\" FROM pragma_table_info('conversations') WHERE name = 'pinned_at'").all().map((r) => ({ ...r }))).toEqual([
        { name: "pinned_at", type: "INTEGER", notnull: 0 },
      ]);
      expect(probe.prepare("SELECT COUNT(*) AS n FROM conversations WHERE pinned_at IS NULL").get()?.n).toBe(4);
      const indexes = probe.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'conversations' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
      // conversations_by_user_origin: v9's.
      expect(indexes.map((r) => r.name)).toEqual(["conversations_by_user_origin", "conversations_by_user_pinned_activity"]);
      probe.close();

      // Every row as it was, none pinned, in the order v7 listed them (newest activity, then newest created).
      expect(await store.listConversations("alice")).toEqual([
        { id: "c1", userId: "alice", title: "Oldest", createdAt: 1, updatedAt: 30, pinnedAt: null, archivedAt: null },
        { id: "c3", userId: "alice", title: "Newest", createdAt: 3, updatedAt: 20, pinnedAt: null, archivedAt: null },
        { id: "c2", userId: "alice", title: "Middle", createdAt: 2, updatedAt: 20, pinnedAt: null, archivedAt: null },
      ]);
      expect((await store.activePath("c1")).map((m) => m.message.content)).toEqual(["hello"]);
      expect(await store.getUserSettings("alice")).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 5 });
      // The old rows pin like new ones.
      expect(await store.setPinned("alice", "c2", true)).toEqual({ id: "c2", userId: "alice", title: "Middle", createdAt: 2, updatedAt: 20, pinnedAt: 99, archivedAt: null });
      expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["c2", "c1", "c3"]);
      expect((await store.listConversations("bob")).map((c) => [c.id, c.pinnedAt])).toEqual([["b1", null]]);
    } finally {
      await store.close();
    }
  });
});

describe("migration 9 (import origins) on a v8 database", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("adds origin (null: nothing was imported with one) and its unique index, keeping every conversation", async () => {
    dir = mkdtempSync(join(tmpdir(), "store-v8-"));
    const path = join(dir, "chat.db");
    const v8 = new DatabaseSync(path);
    migrate(v8, migrations.filter((m) => m.version <= 8));
    v8.exec(`INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at) VALUES
      ('c1', 'alice', 'Oldest', 1, 30, NULL), ('c2', 'alice', 'Pinned', 2, 20, 50), ('b1', 'bob', 'Bob''s', 4, 40, NULL)`);
    v8.exec(`INSERT INTO messages (conversation_id, parent_id, run_id, role, content, json, created_at)
      VALUES ('c1', NULL, NULL, 'user', 'hello', '{"role":"user","content":"hello"}', 30)`);
    v8.exec("UPDATE conversations SET head_message_id = 1 WHERE id = 'c1'");
    v8.close();

    const store = openSqliteStore({ path, flushIntervalMs: 60_000, now: () => 99 });
    try {
      const probe = new DatabaseSync(path);
      expect(probe.prepare("SELECT MAX(version) AS v FROM schema_migrations").get()?.v).toBe(latestVersion());
      expect(probe.prepare("SELECT name, type, \"notnull\" FROM pragma_table_info('conversations') WHERE name = 'origin'").all().map((r) => ({ ...r }))).toEqual([
        { name: "origin", type: "TEXT", notnull: 0 },
      ]);
      expect(probe.prepare("SELECT COUNT(*) AS n FROM conversations WHERE origin IS NULL").get()?.n).toBe(3);
      const index = probe.prepare("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = 'conversations_by_user_origin'").get();
      expect(String(index?.sql)).toMatch(/UNIQUE INDEX conversations_by_user_origin ON conversations \(user_id, origin\) WHERE origin IS NOT NULL/);
      // The database itself refuses a second row of one user and origin, whoever writes it.
      probe.exec("INSERT INTO conversations (id, user_id, title, created_at, updated_at, origin) VALUES ('raw1', 'carol', 't', 1, 1, 'o')");
      expect(() => probe.exec("INSERT INTO conversations (id, user_id, title, created_at, updated_at, origin) VALUES ('raw2', 'carol', 't', 1, 1, 'o')")).toThrow(/UNIQUE/);
      probe.exec("DELETE FROM conversations WHERE user_id = 'carol'");
      probe.close();

      // Every row as it was.
      expect(await store.listConversations("alice")).toEqual([
        { id: "c2", userId: "alice", title: "Pinned", createdAt: 2, updatedAt: 20, pinnedAt: 50, archivedAt: null },
        { id: "c1", userId: "alice", title: "Oldest", createdAt: 1, updatedAt: 30, pinnedAt: null, archivedAt: null },
      ]);
      expect((await store.activePath("c1")).map((m) => m.message.content)).toEqual(["hello"]);
      expect((await store.listConversations("bob")).map((c) => c.id)).toEqual(["b1"]);

      // Imports with an origin: one per user.
      await store.insertConversation(importedInput("i1"));
      expect(await failure(store.insertConversation(importedInput("i2")))).toMatchObject({ name: "StoreError", code: "conflict", reason: "origin" });
      await store.insertConversation(importedInput("i3", "bob"));
      expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["c2", "c1", "i1"]);
    } finally {
      await store.close();
    }
  });
});

describe("migration 10 (branch origins) on a v9 database", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("adds the branch columns (null: no conversation was made a branch with them), keeping every conversation", async () => {
    dir = mkdtempSync(join(tmpdir(), "store-v9-"));
    const path = join(dir, "chat.db");
    const v9 = new DatabaseSync(path);
    migrate(v9, migrations.filter((m) => m.version <= 9));
    v9.exec(`INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at, origin) VALUES
      ('c1', 'alice', 'Oldest', 1, 30, NULL, NULL), ('c2', 'alice', 'Imported', 2, 20, 50, 'ChatGPT:x@1')`);
    v9.close();

    const store = openSqliteStore({ path, flushIntervalMs: 60_000, now: () => 99 });
    try {
      const probe = new DatabaseSync(path);
      expect(probe.prepare("SELECT MAX(version) AS v FROM schema_migrations").get()?.v).toBe(latestVersion());
      const columns = probe.prepare("SELECT name, type FROM pragma_table_info('conversations') WHERE name LIKE 'branch%' ORDER BY name").all();
      expect(columns.map((r) => ({ ...r }))).toEqual([
        { name: "branch_at_message", type: "INTEGER" },
        { name: "branch_of", type: "TEXT" },
        { name: "branch_of_message", type: "INTEGER" },
      ]);
      probe.close();
      expect(await store.listConversations("alice")).toEqual([
        { id: "c2", userId: "alice", title: "Imported", createdAt: 2, updatedAt: 20, pinnedAt: 50, archivedAt: null },
        { id: "c1", userId: "alice", title: "Oldest", createdAt: 1, updatedAt: 30, pinnedAt: null, archivedAt: null },
      ]);
      expect(await store.branchOrigin("alice", "c1")).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe("migration 11 (archived conversations) on a v10 database", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("adds archived_at (null: nothing is archived), keeping every conversation, the list's order and its one index", async () => {
    dir = mkdtempSync(join(tmpdir(), "store-v10-"));
    const path = join(dir, "chat.db");
    const v10 = new DatabaseSync(path);
    migrate(v10, migrations.filter((m) => m.version <= 10));
    v10.exec(`INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at, origin) VALUES ${v10Conversations}`);
    v10.exec(`INSERT INTO messages (conversation_id, parent_id, run_id, role, content, json, created_at)
      VALUES ('c1', NULL, NULL, 'user', 'hello', '{"role":"user","content":"hello"}', 30)`);
    v10.exec("UPDATE conversations SET head_message_id = 1 WHERE id = 'c1'");
    v10.close();

    const store = openSqliteStore({ path, flushIntervalMs: 60_000, now: () => 99 });
    try {
      const probe = new DatabaseSync(path);
      expect(probe.prepare("SELECT MAX(version) AS v FROM schema_migrations").get()?.v).toBe(latestVersion());
      expect(probe.prepare("SELECT name, type, \"notnull\" FROM pragma_table_info('conversations') WHERE name = 'archived_at'").all().map((r) => ({ ...r }))).toEqual([
        { name: "archived_at", type: "INTEGER", notnull: 0 },
      ]);
      expect(probe.prepare("SELECT COUNT(*) AS n FROM conversations WHERE archived_at IS NULL").get()?.n).toBe(4);
      const indexes = probe.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'conversations' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
      expect(indexes.map((r) => r.name)).toEqual(["conversations_by_user_origin", "conversations_by_user_pinned_activity"]);
      probe.close();

      await expectUpgradedV11(store);
    } finally {
      await store.close();
    }
  });
});

describe("migration 12 (conversation settings) on a v11 database", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("adds conversation_settings (empty: no conversation has instructions), keeping every conversation and the user's instructions", async () => {
    dir = mkdtempSync(join(tmpdir(), "store-v11-"));
    const path = join(dir, "chat.db");
    const v11 = new DatabaseSync(path);
    migrate(v11, migrations.filter((m) => m.version <= 11));
    v11.exec(`INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at, archived_at) VALUES ${v11Conversations}`);
    v11.exec(`INSERT INTO user_settings (user_id, instructions, updated_at) VALUES ${v11UserSettings}`);
    v11.exec(`INSERT INTO messages (conversation_id, parent_id, run_id, role, content, json, created_at)
      VALUES ('c1', NULL, NULL, 'user', 'hello', '{"role":"user","content":"hello"}', 30)`);
    v11.exec("UPDATE conversations SET head_message_id = 1 WHERE id = 'c1'");
    const conversationsSchema = v11.prepare("SELECT sql FROM sqlite_schema WHERE name = 'conversations'").get()?.sql;
    v11.close();

    const store = openSqliteStore({ path, flushIntervalMs: 60_000, now: () => 99 });
    try {
      const probe = new DatabaseSync(path);
      expect(probe.prepare("SELECT MAX(version) AS v FROM schema_migrations").get()?.v).toBe(latestVersion());
      // v12's columns (v13's come after them).
      expect(probe.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info('conversation_settings') WHERE cid < 3 ORDER BY cid").all().map((r) => ({ ...r }))).toEqual([
        { name: "conversation_id", type: "TEXT", notnull: 1, pk: 1 },
        { name: "instructions", type: "TEXT", notnull: 1, pk: 0 },
        { name: "updated_at", type: "INTEGER", notnull: 1, pk: 0 },
      ]);
      expect(probe.prepare("SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list('conversation_settings')").all().map((r) => ({ ...r }))).toEqual([
        { table: "conversations", from: "conversation_id", to: "id", on_delete: "CASCADE" },
      ]);
      expect(probe.prepare("SELECT COUNT(*) AS n FROM conversation_settings").get()?.n).toBe(0);
      // The conversations table as v11 left it: no column of its own.
      expect(probe.prepare("SELECT sql FROM sqlite_schema WHERE name = 'conversations'").get()?.sql).toBe(conversationsSchema);
      probe.close();

      await expectUpgradedV12(store);
      const after = new DatabaseSync(path);
      // c1's row went with it; nothing else ever had one.
      expect(after.prepare("SELECT COUNT(*) AS n FROM conversation_settings").get()?.n).toBe(0);
      after.close();
    } finally {
      await store.close();
    }
  });
});

describe("migration 13 (conversation sampling) on a v12 database", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("adds the sampling columns (NULL: the model's) to conversation_settings, keeping every row's instructions; a v12 process's set keeps them", async () => {
    dir = mkdtempSync(join(tmpdir(), "store-v12-"));
    const path = join(dir, "chat.db");
    const v12 = new DatabaseSync(path);
    migrate(v12, migrations.filter((m) => m.version <= 12));
    v12.exec(`INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at, archived_at) VALUES ${v11Conversations}`);
    v12.exec(`INSERT INTO user_settings (user_id, instructions, updated_at) VALUES ${v11UserSettings}`);
    v12.exec(`INSERT INTO conversation_settings (conversation_id, instructions, updated_at) VALUES ${v12ConversationSettings}`);
    v12.close();

    const store = openSqliteStore({ path, flushIntervalMs: 60_000, now: () => 99 });
    const probe = new DatabaseSync(path);
    try {
      expect(probe.prepare("SELECT MAX(version) AS v FROM schema_migrations").get()?.v).toBe(latestVersion());
      expect(probe.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info('conversation_settings') ORDER BY cid").all().map((r) => ({ ...r }))).toEqual([
        { name: "conversation_id", type: "TEXT", notnull: 1, pk: 1 },
        { name: "instructions", type: "TEXT", notnull: 1, pk: 0 },
        { name: "updated_at", type: "INTEGER", notnull: 1, pk: 0 },
        { name: "temperature", type: "REAL", notnull: 0, pk: 0 },
        { name: "top_p", type: "REAL", notnull: 0, pk: 0 },
        { name: "seed", type: "INTEGER", notnull: 0, pk: 0 },
      ]);
      expect(probe.prepare("SELECT conversation_id, temperature, top_p, seed FROM conversation_settings ORDER BY conversation_id").all().map((r) => ({ ...r }))).toEqual([
        { conversation_id: "b1", temperature: null, top_p: null, seed: null },
        { conversation_id: "c1", temperature: null, top_p: null, seed: null },
      ]);

      await expectUpgradedV13(store, async (sql) => probe.exec(sql));
      // c1's row went with it; b1's and the one c2 was given stay.
      expect(probe.prepare("SELECT conversation_id FROM conversation_settings ORDER BY conversation_id").all().map((r) => r.conversation_id)).toEqual(["b1", "c2"]);
    } finally {
      probe.close();
      await store.close();
    }
  });
});

describe("migration 14 (user sampling) on a v13 database", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("adds the sampling columns (NULL: the model's) to user_settings, keeping every user's instructions; a v13 process's set keeps them", async () => {
    dir = mkdtempSync(join(tmpdir(), "store-v13-"));
    const path = join(dir, "chat.db");
    const v13 = new DatabaseSync(path);
    migrate(v13, migrations.filter((m) => m.version <= 13));
    v13.exec(`INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at, archived_at) VALUES ${v11Conversations}`);
    v13.exec(`INSERT INTO user_settings (user_id, instructions, updated_at) VALUES ${v11UserSettings}`);
    v13.exec(`INSERT INTO conversation_settings (conversation_id, instructions, updated_at) VALUES ${v12ConversationSettings}`);
    v13.close();

    const store = openSqliteStore({ path, flushIntervalMs: 60_000, now: () => 99 });
    const probe = new DatabaseSync(path);
    try {
      expect(probe.prepare("SELECT MAX(version) AS v FROM schema_migrations").get()?.v).toBe(14);
      expect(probe.prepare("SELECT name, type, \"notnull\" FROM pragma_table_info('user_settings') ORDER BY cid").all().map((r) => ({ ...r }))).toEqual([
        { name: "user_id", type: "TEXT", notnull: 1 },
        { name: "instructions", type: "TEXT", notnull: 1 },
        { name: "updated_at", type: "INTEGER", notnull: 1 },
        { name: "temperature", type: "REAL", notnull: 0 },
        { name: "top_p", type: "REAL", notnull: 0 },
        { name: "seed", type: "INTEGER", notnull: 0 },
      ]);
      await expectUpgradedV14(store, async (sql) => probe.exec(sql));
    } finally {
      probe.close();
      await store.close();
    }
  });
});
