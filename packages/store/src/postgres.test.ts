import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { defaultSampling, type ChatEvent, type ChatMessage } from "@streamchat/core";
import { heapUsedAfterGc, startTcpRelay } from "@streamchat/core/test-support";
import { migratePostgres, migrationWaitMessage, type MigrationLockHolder } from "./postgres/migrate.js";
import { postgresMigrations } from "./postgres/schema.js";
import { isSearchableRole, searchableText } from "./search.js";
import {
  listArchivedConversationsSql,
  listConversationsSql,
  openPostgresStore,
  runSettingsSql,
  runningOwnersSql,
  type PostgresChatStore,
  type PostgresStoreOptions,
} from "./postgres/store.js";
import { latestVersion } from "./migrations.js";
import { doneEvent, importedInput, oneQuestionInput, tokenEvent } from "./test-support/fixtures.js";
import { postgresBinDir, startPrivateCluster, type PrivateCluster } from "./test-support/pg-cluster.js";
import { connect, createTestDatabase, describePostgres, type TestDatabase } from "./test-support/postgres.js";
import { expectUpgradedV2 } from "./test-support/upgraded-v2.js";
import { expectUpgradedV11, v10Conversations } from "./test-support/upgraded-v11.js";
import { expectUpgradedV12, v11Conversations, v11UserSettings } from "./test-support/upgraded-v12.js";
import { expectUpgradedV13, v12ConversationSettings } from "./test-support/upgraded-v13.js";
import { expectUpgradedV14 } from "./test-support/upgraded-v14.js";
import { expectListPagesInOrder } from "./test-support/list-pages.js";

// PostgreSQL-only behaviour: schema and migrations, the migrate command, connection loss, pool, plans.
// The contract itself is in store.test.ts (which runs on PostgreSQL too).

const packageDir = fileURLToPath(new URL("..", import.meta.url));

/** A node of `EXPLAIN (ANALYZE, FORMAT JSON)`. */
interface PlanNode {
  "Node Type": string;
  "Actual Rows": number;
  "Actual Loops": number;
  Plans?: PlanNode[];
  Plan?: PlanNode;
}

describePostgres("postgres store", () => {
  const databases: TestDatabase[] = [];
  const stores: PostgresChatStore[] = [];
  async function emptyDatabase(): Promise<TestDatabase> {
    const database = await createTestDatabase("pg");
    databases.push(database);
    return database;
  }
  async function open(options: PostgresStoreOptions): Promise<PostgresChatStore> {
    const store = await openPostgresStore(options);
    stores.push(store);
    return store;
  }
  async function sql<T extends Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
    const client = await connect(url);
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  }
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close().catch(() => {});
  });
  afterAll(async () => {
    for (const database of databases.splice(0)) await database.drop();
  });

  it("creates its schema in an empty database at open, once", async () => {
    const { url } = await emptyDatabase();
    expect(url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\//); // no password
    const store = await open({ url });
    expect(store.target).toMatch(/^127\.0\.0\.1:\d+\/streamchat_pg_/);
    expect(await store.ping()).toBe(true);
    const versions = async () => (await sql<{ version: number }>(url, "SELECT version FROM schema_migrations ORDER BY version")).map((r) => r.version);
    expect(await versions()).toEqual(postgresMigrations.map((m) => m.version));
    const schema = async () =>
      sql(url, "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname");
    const before = await schema();
    expect(before.map((r) => r.indexname)).toEqual(
      expect.arrayContaining(["runs_one_running_per_conversation", "runs_client_request_id_key", "events_pkey", "events_not_streamed"]),
    );
    await store.close();
    await open({ url });
    expect(await versions()).toEqual(postgresMigrations.map((m) => m.version));
    expect(await schema()).toEqual(before);
  });

  it("lets several processes open an empty database at once: one applies the schema, the others find it", async () => {
    const { url } = await emptyDatabase();
    const opened = await Promise.allSettled(Array.from({ length: 4 }, () => open({ url, poolSize: 2 })));
    expect(opened.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "fulfilled"]);
    expect(await sql(url, "SELECT version FROM schema_migrations ORDER BY version")).toEqual(
      postgresMigrations.map((m) => ({ version: m.version })),
    );
    const [a, b] = opened.map((r) => (r as PromiseFulfilledResult<PostgresChatStore>).value);
    await a!.createConversation({ id: "c1", userId: "u", title: "t" });
    expect((await b!.getConversation("u", "c1"))?.title).toBe("t");
  });

  it("refuses a database whose schema is newer than this build", async () => {
    const { url } = await emptyDatabase();
    await (await open({ url })).close();
    await sql(url, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)", [latestVersion(postgresMigrations) + 1]);
    await expect(openPostgresStore({ url })).rejects.toThrow(/newer than this build/);
  });

  it("stores message text and events readably, timestamps as bigint milliseconds", async () => {
    const { url } = await emptyDatabase();
    const store = await open({ url, now: () => 1_700_000_000_123 });
    await store.createConversation({ id: "c1", userId: "u", title: "Readable" });
    await store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content: "Ünïcode text, \"quoted\"" } });
    await store.createRun({ id: "r1", conversationId: "c1", userId: "u", model: "m", provider: "p" });
    await store.appendEvent("r1", 1, doneEvent("r1"));
    expect(await sql(url, "SELECT json::json->>'content' AS content, search_text, created_at FROM messages")).toEqual([
      { content: "Ünïcode text, \"quoted\"", search_text: "ünïcode text, \"quoted\"", created_at: "1700000000123" },
    ]);
    expect(await sql(url, "SELECT pg_typeof(created_at)::text AS t FROM conversations")).toEqual([{ t: "bigint" }]);
    expect(await sql(url, "SELECT seq, type, json::json->>'reason' AS reason FROM events")).toEqual([{ seq: "1", type: "done", reason: "stop" }]);
    // The store reads them back as numbers.
    expect((await store.listMessages("c1"))[0]).toMatchObject({ id: 1, createdAt: 1_700_000_000_123 });
  });

  it("keeps each user's custom instructions across close and reopen, updated_at as bigint milliseconds", async () => {
    const { url } = await emptyDatabase();
    const first = await open({ url, now: () => 1_700_000_000_123 });
    await first.setInstructions("alice", "Answer in French.\nKeep it short.");
    await first.close();
    expect(await sql(url, "SELECT user_id, instructions, updated_at, pg_typeof(updated_at)::text AS t FROM user_settings")).toEqual([
      { user_id: "alice", instructions: "Answer in French.\nKeep it short.", updated_at: "1700000000123", t: "bigint" },
    ]);
    const second = await open({ url });
    expect(await second.getUserSettings("alice")).toEqual({ instructions: "Answer in French.\nKeep it short.", sampling: defaultSampling, updatedAt: 1_700_000_000_123 });
    expect(await second.getUserSettings("bob")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: null });
  });

  it("keeps conversations' instructions across close and reopen, updated_at as bigint milliseconds, and deletes them with their conversation", async () => {
    const { url } = await emptyDatabase();
    const first = await open({ url, now: () => 1_700_000_000_123 });
    for (const id of ["c1", "c2", "c3"]) await first.createConversation({ id, userId: "alice", title: id });
    await first.setConversationInstructions("alice", "c1", "Answer in French.\nKeep it short.");
    await first.setConversationInstructions("alice", "c2", "");
    await first.setConversationInstructions("alice", "c3", "Gone soon.");
    await first.close();
    const rows = () => sql(url, "SELECT conversation_id, instructions, updated_at, pg_typeof(updated_at)::text AS t FROM conversation_settings ORDER BY conversation_id");
    expect(await rows()).toEqual([
      { conversation_id: "c1", instructions: "Answer in French.\nKeep it short.", updated_at: "1700000000123", t: "bigint" },
      { conversation_id: "c2", instructions: "", updated_at: "1700000000123", t: "bigint" },
      { conversation_id: "c3", instructions: "Gone soon.", updated_at: "1700000000123", t: "bigint" },
    ]);
    const second = await open({ url });
    expect(await second.getConversationSettings("alice", "c1")).toEqual({ instructions: "Answer in French.\nKeep it short.", sampling: defaultSampling, updatedAt: 1_700_000_000_123 });
    expect(await second.getConversationSettings("alice", "c2")).toEqual({ instructions: "", sampling: defaultSampling, updatedAt: 1_700_000_000_123 });
    expect(await second.deleteConversation("alice", "c3")).toBe(true);
    expect((await rows()).map((r) => r.conversation_id)).toEqual(["c1", "c2"]);
    // The copy an insert replaces goes with its settings too.
    await second.insertConversation(oneQuestionInput("old"));
    await second.setConversationInstructions("alice", "old", "Old rules.");
    expect((await second.insertConversation({ ...oneQuestionInput("new"), replaces: "old" })).replaced).toBe(true);
    expect((await rows()).map((r) => r.conversation_id)).toEqual(["c1", "c2"]);
  });

  it("keeps conversations' sampling across close and reopen, the fractions as double precision and the seed as integer, read as numbers", async () => {
    const { url } = await emptyDatabase();
    const first = await open({ url, now: () => 1_700_000_000_123 });
    for (const id of ["c1", "c2"]) await first.createConversation({ id, userId: "alice", title: id });
    const sampling = { temperature: 0.1 + 0.2, topP: 0.95, seed: 2_147_483_647 };
    await first.setConversationSampling("alice", "c1", sampling);
    await first.setConversationInstructions("alice", "c2", "Be brief.");
    await first.close();
    expect(
      await sql(
        url,
        `SELECT conversation_id, instructions, pg_typeof(temperature)::text AS tt, pg_typeof(top_p)::text AS tp, pg_typeof(seed)::text AS ts, seed
         FROM conversation_settings ORDER BY conversation_id`,
      ),
    ).toEqual([
      { conversation_id: "c1", instructions: "", tt: "double precision", tp: "double precision", ts: "integer", seed: 2_147_483_647 },
      { conversation_id: "c2", instructions: "Be brief.", tt: "double precision", tp: "double precision", ts: "integer", seed: null },
    ]);
    const second = await open({ url });
    // Every digit of the double comes back: the same number, not a rounded one.
    expect(await second.getConversationSettings("alice", "c1")).toEqual({ instructions: "", sampling, updatedAt: 1_700_000_000_123 });
    expect(await second.getRunSettings("alice", "c1")).toEqual({ user: "", conversation: "", sampling });
    expect(await second.getRunSettings("alice", "c2")).toEqual({ user: "", conversation: "Be brief.", sampling: defaultSampling });
  });

  it("reads a run's settings in one query of two primary-key lookups, as cheap as the user's settings", async () => {
    const { url } = await emptyDatabase();
    const store = await open({ url });
    // 10,000 users' instructions and 10,000 conversations', so a scan would show.
    await sql(url, "INSERT INTO user_settings (user_id, instructions, updated_at) SELECT 'u' || i, 'user ' || i, i FROM generate_series(1, 10000) i");
    await sql(url, "INSERT INTO conversations (id, user_id, title, created_at, updated_at) SELECT 'c' || i, 'u' || i, 't', i, i FROM generate_series(1, 10000) i");
    await sql(
      url,
      `INSERT INTO conversation_settings (conversation_id, instructions, temperature, top_p, seed, updated_at)
       SELECT 'c' || i, 'chat ' || i, i / 10000.0, NULL, i, i FROM generate_series(1, 10000) i`,
    );
    await sql(url, "ANALYZE user_settings, conversations, conversation_settings");
    const client = await connect(url);
    try {
      await client.query(`PREPARE run_settings (text, text) AS ${runSettingsSql}`);
      const explained = await client.query<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE run_settings ('u5', 'c7')");
      const plan = explained.rows[0]!["QUERY PLAN"][0]!.Plan;
      const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];
      const scans = nodes(plan).filter((node) => /Scan/.test(node["Node Type"]));
      expect(scans.map((node) => [node["Node Type"], (node as PlanNode & { "Index Name"?: string })["Index Name"]]).sort()).toEqual([
        ["Index Scan", "conversation_settings_pkey"],
        ["Index Scan", "user_settings_pkey"],
      ]);
    } finally {
      await client.end();
    }
    expect(await store.getRunSettings("u5", "c7")).toEqual({ user: "user 5", conversation: "chat 7", sampling: { temperature: 0.0007, topP: null, seed: 7 } });
    expect(await store.getRunSettings("u5", "c10001")).toEqual({ user: "user 5", conversation: "", sampling: defaultSampling });
    expect(await store.getRunSettings("nobody", "c7")).toEqual({ user: "", conversation: "chat 7", sampling: { temperature: 0.0007, topP: null, seed: 7 } });
  });

  it("keeps pins across close and reopen, pinned_at as bigint milliseconds", async () => {
    const { url } = await emptyDatabase();
    const first = await open({ url, now: () => 1_700_000_000_123 });
    await first.createConversation({ id: "c1", userId: "alice", title: "Pinned" });
    await first.createConversation({ id: "c2", userId: "alice", title: "Not pinned" });
    await first.setPinned("alice", "c1", true);
    await first.close();
    expect(await sql(url, "SELECT id, pinned_at, pg_typeof(pinned_at)::text AS t FROM conversations ORDER BY id")).toEqual([
      { id: "c1", pinned_at: "1700000000123", t: "bigint" },
      { id: "c2", pinned_at: null, t: "bigint" },
    ]);
    const second = await open({ url });
    expect((await second.listConversations("alice")).map((c) => [c.id, c.pinnedAt])).toEqual([
      ["c1", 1_700_000_000_123],
      ["c2", null],
    ]);
  });

  it("keeps archiving across close and reopen, archived_at as bigint milliseconds", async () => {
    const { url } = await emptyDatabase();
    const first = await open({ url, now: () => 1_700_000_000_123 });
    await first.createConversation({ id: "c1", userId: "alice", title: "Archived" });
    await first.createConversation({ id: "c2", userId: "alice", title: "Not archived" });
    await first.setArchived("alice", "c1", true);
    await first.close();
    expect(await sql(url, "SELECT id, archived_at, pg_typeof(archived_at)::text AS t FROM conversations ORDER BY id")).toEqual([
      { id: "c1", archived_at: "1700000000123", t: "bigint" },
      { id: "c2", archived_at: null, t: "bigint" },
    ]);
    const second = await open({ url });
    expect((await second.listConversations("alice", { archived: true })).map((c) => [c.id, c.archivedAt])).toEqual([["c1", 1_700_000_000_123]]);
    expect((await second.listConversations("alice")).map((c) => [c.id, c.archivedAt])).toEqual([["c2", null]]);
  });

  it("lists a page of either list from the list's index without sorting, the other list's conversations skipped", async () => {
    const { url } = await emptyDatabase();
    const store = await open({ url });
    // 10,000 conversations of alice (every 10th archived; 100 pinned among the archived, 100 among the others) and
    // 10,000 of bob's.
    await sql(
      url,
      `INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at, archived_at)
       SELECT u || '-' || i, u, 't', i, (i * 7919) % 10007, CASE WHEN i % 100 IN (0, 5) THEN i END, CASE WHEN i % 10 = 0 THEN i END
         FROM generate_series(1, 10000) i, unnest(ARRAY['alice', 'bob']) u`,
    );
    await sql(url, "ANALYZE conversations");
    const client = await connect(url);
    try {
      for (const [name, listSql] of [["list_page", listConversationsSql], ["archived_page", listArchivedConversationsSql]] as const) {
        await client.query(`PREPARE ${name} (text, integer) AS ${listSql}`);
        const explained = await client.query<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE ${name} ('alice', 100)`);
        const plan = explained.rows[0]!["QUERY PLAN"][0]!.Plan;
        const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];
        expect(nodes(plan).map((node) => node["Node Type"]), name).not.toContain("Sort");
        expect(JSON.stringify(plan), name).toContain("conversations_by_user_pinned_activity");
      }
    } finally {
      await client.end();
    }
    // The lists as the order defines them, to compare each page with.
    // A plain client reads bigint as text.
    type Row = { id: string; pinned_at: string | null; archived_at: string | null; updated_at: string; created_order: string };
    const all = await sql<Row>(url, "SELECT id, pinned_at, archived_at, updated_at, created_order FROM conversations WHERE user_id = 'alice'");
    const n = (value: string | null) => (value === null ? -1 : Number(value));
    all.sort((a, b) => n(b.pinned_at) - n(a.pinned_at) || n(b.updated_at) - n(a.updated_at) || n(b.created_order) - n(a.created_order));
    await expectListPagesInOrder(store, all.map((row) => ({ id: row.id, archived: row.archived_at !== null })));
  });

  it("lists a page of a user's conversations, pinned first, from the index without sorting them all", async () => {
    const { url } = await emptyDatabase();
    const store = await open({ url });
    // 10,000 conversations of alice (every 100th pinned) and 10,000 of bob's.
    await sql(
      url,
      `INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at)
       SELECT u || '-' || i, u, 't', i, (i * 7919) % 10007, CASE WHEN i % 100 = 0 THEN i END
         FROM generate_series(1, 10000) i, unnest(ARRAY['alice', 'bob']) u`,
    );
    await sql(url, "ANALYZE conversations");
    const client = await connect(url);
    let plan: PlanNode;
    try {
      await client.query(`PREPARE list_page (text, integer) AS ${listConversationsSql}`);
      const explained = await client.query<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE list_page ('alice', 100)");
      plan = explained.rows[0]!["QUERY PLAN"][0]!.Plan;
    } finally {
      await client.end();
    }
    const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];
    const all = nodes(plan);
    // A Sort node would read and sort all 10,000 of alice's for every page; the index hands out the page in order.
    expect(all.map((node) => node["Node Type"])).not.toContain("Sort");
    expect(all.map((node) => node["Node Type"])).toContain("Index Scan");
    expect(JSON.stringify(plan)).toContain("conversations_by_user_pinned_activity");
    expect(all.filter((node) => /Scan/.test(node["Node Type"])).reduce((sum, node) => sum + node["Actual Rows"] * node["Actual Loops"], 0)).toBe(100);

    const page = await store.listConversations("alice", { limit: 100 });
    expect(page.slice(0, 3).map((c) => c.id)).toEqual(["alice-10000", "alice-9900", "alice-9800"]);
    // Alice's 100 pinned ones fill the page, however old their activity.
    expect(page.filter((c) => c.pinnedAt !== null)).toHaveLength(100);
    const unpinned = (await store.listConversations("alice", { limit: 110 })).slice(100);
    expect(unpinned.every((c) => c.pinnedAt === null)).toBe(true);
    expect(unpinned.map((c) => c.updatedAt)).toEqual(unpinned.map((c) => c.updatedAt).sort((a, b) => b - a));
  });

  it("migration 8 adds pinned_at (null: nothing pinned) and the list's new index to a v7 database, keeping its rows", async () => {
    const { url } = await emptyDatabase();
    const client = await connect(url);
    try {
      expect(await migratePostgres(client, postgresMigrations.slice(0, 7))).toEqual([1, 2, 3, 4, 5, 6, 7]);
      await client.query(`INSERT INTO conversations (id, user_id, title, created_at, updated_at) VALUES
        ('c1', 'alice', 'Oldest', 1, 30), ('c2', 'alice', 'Middle', 2, 20), ('c3', 'alice', 'Newest', 3, 20), ('b1', 'bob', 'Bob''s', 4, 40)`);
      // A question through v7's streamchat_start_run, which v8 replaces.
      await client.query(
        "SELECT * FROM streamchat_start_run('r1', 'c1', 'alice', 'm', 'p', NULL, NULL, 30, NULL, NULL, true, NULL, 'user', 'hello', $1)",
        [JSON.stringify({ role: "user", content: "hello" })],
      );
      await client.query("INSERT INTO user_settings (user_id, instructions, updated_at) VALUES ('alice', 'Be brief.', 5)");

      const store = await open({ url, flushIntervalMs: 60_000, now: () => 99 });
      expect((await client.query("SELECT max(version) AS v FROM schema_migrations")).rows[0].v).toBe(latestVersion(postgresMigrations));
      expect(
        (await client.query("SELECT data_type, is_nullable FROM information_schema.columns WHERE table_name = 'conversations' AND column_name = 'pinned_at'")).rows,
      ).toEqual([{ data_type: "bigint", is_nullable: "YES" }]);
      expect((await client.query("SELECT count(*)::integer AS n FROM conversations WHERE pinned_at IS NULL")).rows[0].n).toBe(4);
      expect((await client.query("SELECT indexname FROM pg_indexes WHERE tablename = 'conversations' ORDER BY indexname")).rows.map((r) => r.indexname)).toEqual([
        "conversations_by_user_origin", // v9's
        "conversations_by_user_pinned_activity",
        "conversations_pkey",
      ]);

      // Every row as it was, none pinned, in the order v7 listed them (newest activity, then newest created).
      expect(await store.listConversations("alice")).toEqual([
        { id: "c1", userId: "alice", title: "Oldest", createdAt: 1, updatedAt: 30, pinnedAt: null, archivedAt: null },
        { id: "c3", userId: "alice", title: "Newest", createdAt: 3, updatedAt: 20, pinnedAt: null, archivedAt: null },
        { id: "c2", userId: "alice", title: "Middle", createdAt: 2, updatedAt: 20, pinnedAt: null, archivedAt: null },
      ]);
      expect((await store.activePath("c1")).map((m) => m.message.content)).toEqual(["hello"]);
      expect(await store.getRun("r1")).toMatchObject({ status: "running", conversationId: "c1" });
      expect(await store.getUserSettings("alice")).toEqual({ instructions: "Be brief.", sampling: defaultSampling, updatedAt: 5 });
      // The old rows pin like new ones, and v8's streamchat_start_run answers with the pin.
      expect(await store.setPinned("alice", "c2", true)).toEqual({ id: "c2", userId: "alice", title: "Middle", createdAt: 2, updatedAt: 20, pinnedAt: 99, archivedAt: null });
      expect((await store.listConversations("alice")).map((c) => c.id)).toEqual(["c2", "c1", "c3"]);
      const started = await store.startRun({ id: "r2", conversationId: "c2", userId: "alice", model: "m", provider: "p", question: { message: { role: "user", content: "hi" } } });
      expect(started.conversation).toEqual({ id: "c2", userId: "alice", title: "Middle", createdAt: 2, updatedAt: 99, pinnedAt: 99, archivedAt: null });
      expect((await store.listConversations("bob")).map((c) => [c.id, c.pinnedAt])).toEqual([["b1", null]]);
    } finally {
      await client.end();
    }
  });

  it("migration 9 adds origin (null: nothing imported with one) and its unique partial index to a v8 database, keeping its rows", async () => {
    const { url } = await emptyDatabase();
    const client = await connect(url);
    try {
      expect(await migratePostgres(client, postgresMigrations.slice(0, 8))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      await client.query(`INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at) VALUES
        ('c1', 'alice', 'Oldest', 1, 30, NULL), ('c2', 'alice', 'Pinned', 2, 20, 50), ('b1', 'bob', 'Bob''s', 4, 40, NULL)`);
      await client.query(
        "SELECT * FROM streamchat_start_run('r1', 'c1', 'alice', 'm', 'p', NULL, NULL, 30, NULL, NULL, true, NULL, 'user', 'hello', $1)",
        [JSON.stringify({ role: "user", content: "hello" })],
      );

      const store = await open({ url, flushIntervalMs: 60_000, now: () => 99 });
      expect((await client.query("SELECT max(version) AS v FROM schema_migrations")).rows[0].v).toBe(latestVersion(postgresMigrations));
      expect(
        (await client.query("SELECT data_type, is_nullable FROM information_schema.columns WHERE table_name = 'conversations' AND column_name = 'origin'")).rows,
      ).toEqual([{ data_type: "text", is_nullable: "YES" }]);
      expect((await client.query("SELECT count(*)::integer AS n FROM conversations WHERE origin IS NULL")).rows[0].n).toBe(3);
      const [index] = (await client.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'conversations_by_user_origin'")).rows;
      expect(index?.indexdef).toMatch(/CREATE UNIQUE INDEX conversations_by_user_origin ON public\.conversations USING btree \(user_id, origin\) WHERE \(origin IS NOT NULL\)/);

      // Every row as it was.
      expect(await store.listConversations("alice")).toEqual([
        { id: "c2", userId: "alice", title: "Pinned", createdAt: 2, updatedAt: 20, pinnedAt: 50, archivedAt: null },
        { id: "c1", userId: "alice", title: "Oldest", createdAt: 1, updatedAt: 30, pinnedAt: null, archivedAt: null },
      ]);
      expect((await store.activePath("c1")).map((m) => m.message.content)).toEqual(["hello"]);
      expect(await store.getRun("r1")).toMatchObject({ status: "running", conversationId: "c1" });

      // Imports with an origin: one per user, the second refused by the index itself (a unique violation → "origin").
      await store.insertConversation(importedInput("i1"));
      await expect(store.insertConversation(importedInput("i2"))).rejects.toMatchObject({ name: "StoreError", code: "conflict", reason: "origin" });
      await store.insertConversation(importedInput("i3", "bob"));
      expect((await client.query("SELECT id, origin FROM conversations WHERE origin IS NOT NULL ORDER BY id")).rows).toEqual([
        { id: "i1", origin: "ChatGPT:x@1" },
        { id: "i3", origin: "ChatGPT:x@1" },
      ]);
      await expect(
        client.query("INSERT INTO conversations (id, user_id, title, created_at, updated_at, origin) VALUES ('raw', 'alice', 't', 1, 1, 'ChatGPT:x@1')"),
      ).rejects.toMatchObject({ code: "23505", constraint: "conversations_by_user_origin" });
    } finally {
      await client.end();
    }
  });

  it("migration 10 adds the branch columns (null for every existing conversation) to a v9 database, keeping its rows", async () => {
    const { url } = await emptyDatabase();
    const client = await connect(url);
    try {
      expect(await migratePostgres(client, postgresMigrations.slice(0, 9))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      await client.query(`INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at, origin) VALUES
        ('c1', 'alice', 'Oldest', 1, 30, NULL, NULL), ('c2', 'alice', 'Imported', 2, 20, 50, 'ChatGPT:x@1')`);
      const store = await open({ url, flushIntervalMs: 60_000, now: () => 99 });
      expect((await client.query("SELECT max(version) AS v FROM schema_migrations")).rows[0].v).toBe(latestVersion(postgresMigrations));
      const columns = await client.query(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'conversations' AND column_name LIKE 'branch%' ORDER BY column_name",
      );
      expect(columns.rows).toEqual([
        { column_name: "branch_at_message", data_type: "bigint" },
        { column_name: "branch_of", data_type: "text" },
        { column_name: "branch_of_message", data_type: "bigint" },
      ]);
      expect(await store.listConversations("alice")).toEqual([
        { id: "c2", userId: "alice", title: "Imported", createdAt: 2, updatedAt: 20, pinnedAt: 50, archivedAt: null },
        { id: "c1", userId: "alice", title: "Oldest", createdAt: 1, updatedAt: 30, pinnedAt: null, archivedAt: null },
      ]);
      expect(await store.branchOrigin("alice", "c1")).toBeUndefined();
    } finally {
      await client.end();
    }
  });

  it("migration 11 adds archived_at (null for every existing conversation) to a v10 database, keeping its rows, and startRun answers with it", async () => {
    const { url } = await emptyDatabase();
    const client = await connect(url);
    try {
      expect(await migratePostgres(client, postgresMigrations.slice(0, 10))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      await client.query(`INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at, origin) VALUES ${v10Conversations}`);
      // A question through v10's streamchat_start_run (v8's), which v11 replaces.
      await client.query(
        "SELECT * FROM streamchat_start_run('r1', 'c1', 'alice', 'm', 'p', NULL, NULL, 30, NULL, NULL, true, NULL, 'user', 'hello', $1)",
        [JSON.stringify({ role: "user", content: "hello" })],
      );

      const store = await open({ url, flushIntervalMs: 60_000, now: () => 99 });
      expect((await client.query("SELECT max(version) AS v FROM schema_migrations")).rows[0].v).toBe(latestVersion(postgresMigrations));
      expect(
        (await client.query("SELECT data_type, is_nullable FROM information_schema.columns WHERE table_name = 'conversations' AND column_name = 'archived_at'")).rows,
      ).toEqual([{ data_type: "bigint", is_nullable: "YES" }]);
      expect((await client.query("SELECT count(*)::integer AS n FROM conversations WHERE archived_at IS NULL")).rows[0].n).toBe(4);
      // No index of its own: the list still reads conversations_by_user_pinned_activity.
      expect((await client.query("SELECT indexname FROM pg_indexes WHERE tablename = 'conversations' ORDER BY indexname")).rows.map((r) => r.indexname)).toEqual([
        "conversations_by_user_origin",
        "conversations_by_user_pinned_activity",
        "conversations_pkey",
      ]);

      expect(await store.getRun("r1")).toMatchObject({ status: "running", conversationId: "c1" });
      await expectUpgradedV11(store);
      // v11's streamchat_start_run answers with archivedAt.
      const started = await store.startRun({ id: "r2", conversationId: "c2", userId: "alice", model: "m", provider: "p", question: { message: { role: "user", content: "hi" } } });
      expect(started.conversation).toEqual({ id: "c2", userId: "alice", title: "Pinned", createdAt: 2, updatedAt: 99, pinnedAt: 50, archivedAt: 99 });
    } finally {
      await client.end();
    }
  });

  it("migration 12 adds conversation_settings (empty) to a v11 database, keeping its rows, conversations and streamchat_start_run as they were", async () => {
    const { url } = await emptyDatabase();
    const client = await connect(url);
    try {
      expect(await migratePostgres(client, postgresMigrations.slice(0, 11))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      await client.query(`INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at, archived_at) VALUES ${v11Conversations}`);
      await client.query(`INSERT INTO user_settings (user_id, instructions, updated_at) VALUES ${v11UserSettings}`);
      // A question through v11's streamchat_start_run.
      await client.query(
        "SELECT * FROM streamchat_start_run('r1', 'c1', 'alice', 'm', 'p', NULL, NULL, 30, NULL, NULL, true, NULL, 'user', 'hello', $1)",
        [JSON.stringify({ role: "user", content: "hello" })],
      );
      const startRunDef = "SELECT pg_get_functiondef(p.oid) AS def FROM pg_proc p WHERE p.proname = 'streamchat_start_run'";
      const conversationColumns = "SELECT column_name FROM information_schema.columns WHERE table_name = 'conversations' ORDER BY ordinal_position";
      const before = { startRun: (await client.query(startRunDef)).rows, columns: (await client.query(conversationColumns)).rows };

      const store = await open({ url, flushIntervalMs: 60_000, now: () => 99 });
      expect((await client.query("SELECT max(version) AS v FROM schema_migrations")).rows[0].v).toBe(latestVersion(postgresMigrations));
      // v12's columns (v13's come after them).
      expect(
        (await client.query(
          `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'conversation_settings' AND ordinal_position <= 3
           ORDER BY ordinal_position`,
        )).rows,
      ).toEqual([
        { column_name: "conversation_id", data_type: "text", is_nullable: "NO" },
        { column_name: "instructions", data_type: "text", is_nullable: "NO" },
        { column_name: "updated_at", data_type: "bigint", is_nullable: "NO" },
      ]);
      expect(
        (await client.query(
          `SELECT contype, confrelid::regclass::text AS references, confdeltype FROM pg_constraint
           WHERE conrelid = 'conversation_settings'::regclass ORDER BY contype`,
        )).rows,
      ).toEqual([
        { contype: "f", references: "conversations", confdeltype: "c" },
        { contype: "p", references: "-", confdeltype: " " },
      ]);
      expect((await client.query("SELECT count(*)::integer AS n FROM conversation_settings")).rows[0].n).toBe(0);
      // The conversations table and startRun's function as v11 left them.
      expect({ startRun: (await client.query(startRunDef)).rows, columns: (await client.query(conversationColumns)).rows }).toEqual(before);

      expect(await store.getRun("r1")).toMatchObject({ status: "running", conversationId: "c1" });
      await expectUpgradedV12(store);
      // c1's row went with it (and its run); nothing else ever had one.
      expect((await client.query("SELECT count(*)::integer AS n FROM conversation_settings")).rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });

  it("migration 13 adds the sampling columns (NULL: the model's) to a v12 database's conversation_settings, keeping every row; a v12 process's set keeps them", async () => {
    const { url } = await emptyDatabase();
    const client = await connect(url);
    try {
      expect(await migratePostgres(client, postgresMigrations.slice(0, 12))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      await client.query(`INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at, archived_at) VALUES ${v11Conversations}`);
      await client.query(`INSERT INTO user_settings (user_id, instructions, updated_at) VALUES ${v11UserSettings}`);
      await client.query(`INSERT INTO conversation_settings (conversation_id, instructions, updated_at) VALUES ${v12ConversationSettings}`);

      const store = await open({ url, flushIntervalMs: 60_000, now: () => 99 });
      expect((await client.query("SELECT max(version) AS v FROM schema_migrations")).rows[0].v).toBe(latestVersion(postgresMigrations));
      expect(
        (await client.query(
          "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'conversation_settings' ORDER BY ordinal_position",
        )).rows,
      ).toEqual([
        { column_name: "conversation_id", data_type: "text", is_nullable: "NO" },
        { column_name: "instructions", data_type: "text", is_nullable: "NO" },
        { column_name: "updated_at", data_type: "bigint", is_nullable: "NO" },
        { column_name: "temperature", data_type: "double precision", is_nullable: "YES" },
        { column_name: "top_p", data_type: "double precision", is_nullable: "YES" },
        { column_name: "seed", data_type: "integer", is_nullable: "YES" },
      ]);
      expect((await client.query("SELECT conversation_id, temperature, top_p, seed FROM conversation_settings ORDER BY conversation_id")).rows).toEqual([
        { conversation_id: "b1", temperature: null, top_p: null, seed: null },
        { conversation_id: "c1", temperature: null, top_p: null, seed: null },
      ]);

      await expectUpgradedV13(store, (sql) => client.query(sql));
      // c1's row went with it; b1's and the one c2 was given stay.
      expect((await client.query("SELECT conversation_id FROM conversation_settings ORDER BY conversation_id")).rows.map((r) => r.conversation_id)).toEqual(["b1", "c2"]);
    } finally {
      await client.end();
    }
  });

  it("migration 14 adds the sampling columns (NULL: the model's) to a v13 database's user_settings, keeping every row; a v13 process's set keeps them", async () => {
    const { url } = await emptyDatabase();
    const client = await connect(url);
    try {
      expect(await migratePostgres(client, postgresMigrations.slice(0, 13))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
      await client.query(`INSERT INTO conversations (id, user_id, title, created_at, updated_at, pinned_at, archived_at) VALUES ${v11Conversations}`);
      await client.query(`INSERT INTO user_settings (user_id, instructions, updated_at) VALUES ${v11UserSettings}`);
      await client.query(`INSERT INTO conversation_settings (conversation_id, instructions, updated_at) VALUES ${v12ConversationSettings}`);

      const store = await open({ url, flushIntervalMs: 60_000, now: () => 99 });
      expect((await client.query("SELECT max(version) AS v FROM schema_migrations")).rows[0].v).toBe(14);
      expect(
        (await client.query(
          "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'user_settings' ORDER BY ordinal_position",
        )).rows,
      ).toEqual([
        { column_name: "user_id", data_type: "text", is_nullable: "NO" },
        { column_name: "instructions", data_type: "text", is_nullable: "NO" },
        { column_name: "updated_at", data_type: "bigint", is_nullable: "NO" },
        { column_name: "temperature", data_type: "double precision", is_nullable: "YES" },
        { column_name: "top_p", data_type: "double precision", is_nullable: "YES" },
        { column_name: "seed", data_type: "integer", is_nullable: "YES" },
      ]);
      await expectUpgradedV14(store, (sql) => client.query(sql));
    } finally {
      await client.end();
    }
  });

  it("keeps the copy an insert replaces when a run is being inserted into it meanwhile: the insert waits for that run's commit and sees it", async () => {
    const { url } = await emptyDatabase();
    const store = await open({ url, flushIntervalMs: 60_000 });
    await store.insertConversation(oneQuestionInput("old"));
    const asking = await connect(url);
    const watching = await connect(url);
    try {
      // A question asked in the old copy, its run written but not committed yet (as startRun's transaction is).
      await asking.query("BEGIN");
      await asking.query("INSERT INTO runs (id, conversation_id, user_id, model, provider, status, created_at) VALUES ('asked', 'old', 'alice', 'm', 'p', 'running', 2)");
      const importing = store.insertConversation({ ...oneQuestionInput("new"), replaces: "old" });
      // The insert reaches the old copy's row and waits for the question's transaction.
      await vi.waitUntil(
        async () => (await watching.query("SELECT count(*)::integer AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'")).rows[0].n > 0,
        { timeout: 10_000 },
      );
      await asking.query("COMMIT");
      expect((await importing).replaced).toBe(false);
      expect(await store.getConversation("alice", "old")).toBeDefined();
      expect(await store.getRun("asked")).toMatchObject({ conversationId: "old", status: "running" });
    } finally {
      await asking.end();
      await watching.end();
    }
  });

  it("commits a batch larger than one INSERT with its done in one transaction that also finishes the run", async () => {
    const { url } = await emptyDatabase();
    const store = await open({ url, maxBatch: 5000, flushIntervalMs: 60_000, now: () => 42 });
    await store.createConversation({ id: "c1", userId: "u", title: "t" });
    await store.createRun({ id: "r1", conversationId: "c1", userId: "u", model: "m", provider: "p" });
    const commits = store.stats().commits;
    for (let seq = 1; seq <= 2500; seq++) void store.appendEvent("r1", seq, tokenEvent("r1", `t${seq}`));
    await store.appendEvent("r1", 2501, doneEvent("r1", "length"));
    expect(store.stats().commits).toBe(commits + 1);
    expect(await sql(url, "SELECT count(*)::int AS n FROM events WHERE run_id = 'r1'")).toEqual([{ n: 2501 }]);
    expect(await sql(url, "SELECT status, reason, finished_at FROM runs WHERE id = 'r1'")).toEqual([
      { status: "done", reason: "length", finished_at: "42" },
    ]);
  });

  it("appends a done's answer in the statement that commits it: answers of several runs in one commit, in order", async () => {
    const { url } = await emptyDatabase();
    const store = await open({ url, now: () => 42 });
    for (const id of ["0", "1", "2"]) {
      await store.createConversation({ id: `c${id}`, userId: "u", title: "t" });
      await store.appendMessage({ conversationId: `c${id}`, runId: `r${id}`, message: { role: "user", content: `question ${id}` } });
      await store.createRun({ id: `r${id}`, conversationId: `c${id}`, userId: "u", model: "m", provider: "p" });
    }
    const answer = (id: string): ChatMessage[] => [
      { role: "assistant", content: "", toolCalls: [{ id: `call-${id}`, name: "clock", args: {} }] },
      { role: "tool", toolCallId: `call-${id}`, toolName: "clock", content: "14:00" },
      { role: "assistant", content: `It is 14:00 (${id})` },
    ];
    const commits = store.stats().commits;
    // Appended in one turn of the event loop: the three dones share one commit at its end.
    const [zero, one, two] = await Promise.all(
      ["0", "1", "2"].map((id) => store.appendDone(`r${id}`, 1, doneEvent(`r${id}`), { conversationId: `c${id}`, messages: answer(id) })),
    );
    expect(store.stats().commits).toBe(commits + 1);
    for (const [id, stored] of [["0", zero!], ["1", one!], ["2", two!]] as const) {
      expect(stored.map((m) => m.message)).toEqual(answer(id));
      const [question, ...rest] = await store.listMessages(`c${id}`);
      expect(rest).toEqual(stored);
      expect(stored.map((m) => m.parentId)).toEqual([question!.id, stored[0]!.id, stored[1]!.id]);
      expect(await store.getRun(`r${id}`)).toMatchObject({ status: "done", finishedAt: 42 });
    }
  });

  it("reads an answer back when its commit went through but the acknowledgement was lost with the connection", async () => {
    const { url } = await emptyDatabase();
    const relay = await startTcpRelay(url);
    const store = await open({ url: relay.url, now: () => 42 });
    try {
      await store.createConversation({ id: "c1", userId: "u", title: "t" });
      const question = await store.appendMessage({ conversationId: "c1", runId: "r1", message: { role: "user", content: "time?" } });
      await store.createRun({ id: "r1", conversationId: "c1", userId: "u", model: "m", provider: "p" });
      const answer: ChatMessage[] = [{ role: "assistant", content: "It is 14:00" }, { role: "assistant", content: "Anything else?" }];
      // The statement reaches the server and commits; the connection is cut at its ReadyForQuery ('Z', length 5).
      relay.loseReplyTo("streamchat_append_answers", Buffer.from([0x5a, 0, 0, 0, 5]));
      const stored = await store.appendDone("r1", 1, doneEvent("r1"), { conversationId: "c1", messages: answer });
      expect(relay.lost()).toBe(1);
      expect(store.stats().flushErrors).toBe(2); // the attempt that committed unacknowledged, then its retry: a duplicate
      expect(stored.map((m) => m.message)).toEqual(answer);
      expect(await store.listMessages("c1")).toEqual([question, ...stored]); // stored once, and read back as stored
      expect(await store.getRun("r1")).toMatchObject({ status: "done", reason: "stop" });
    } finally {
      await relay.close();
    }
  });

  it("reads the non-streamed event types through their partial index", async () => {
    const { url } = await emptyDatabase();
    const store = await open({ url, maxBatch: 1000 });
    await store.createConversation({ id: "c1", userId: "u", title: "t" });
    await store.createRun({ id: "r1", conversationId: "c1", userId: "u", model: "m", provider: "p" });
    for (let seq = 1; seq <= 5000; seq++) void store.appendEvent("r1", seq, tokenEvent("r1", `t${seq}`));
    await store.appendEvent("r1", 5001, doneEvent("r1"));
    await sql(url, "ANALYZE events");
    const plan = await sql<{ "QUERY PLAN": string }>(
      url,
      `EXPLAIN SELECT seq, json FROM events WHERE run_id = 'r1' AND type NOT IN ('token', 'reasoning')
       AND type = ANY ('{done,error}'::text[]) ORDER BY seq`,
    );
    expect(plan.map((row) => row["QUERY PLAN"]).join("\n")).toContain("events_not_streamed");
    expect((await store.readEventsOfTypes("r1", ["done", "error"])).map((e) => e.seq)).toEqual([5001]);
  });

  it("finds the owners of running runs with a probe per owner, not a read of every running run", async () => {
    const { url } = await emptyDatabase();
    const store = await open({ url });
    // 900 running runs of three replicas and one without an owner, and finished runs of a fourth replica.
    await sql(url, "INSERT INTO conversations (id, user_id, title, created_at, updated_at) SELECT 'c' || i, 'u', 't', 0, 0 FROM generate_series(1, 1200) i");
    await sql(
      url,
      `INSERT INTO runs (id, conversation_id, user_id, model, provider, owner, status, created_at)
       SELECT 'r' || i, 'c' || i, 'u', 'm', 'p',
              CASE WHEN i = 900 THEN NULL WHEN i > 900 THEN 'gone' ELSE 'replica-' || (i % 3) END,
              CASE WHEN i > 900 THEN 'done' ELSE 'running' END, i
       FROM generate_series(1, 1200) i`,
    );
    await sql(url, "ANALYZE runs");
    expect((await store.runningOwners()).map((owner) => owner ?? "(none)").sort()).toEqual(["(none)", "replica-0", "replica-1", "replica-2"]);
    // Every row any scan of the plan returned, over all its loops: a few per owner. Reading the running runs was 900.
    const [{ "QUERY PLAN": plan }] = (await sql<{ "QUERY PLAN": PlanNode[] }>(url, `EXPLAIN (ANALYZE, FORMAT JSON) ${runningOwnersSql}`)) as [
      { "QUERY PLAN": PlanNode[] },
    ];
    const scanned = (node: PlanNode): number =>
      (/Scan/.test(node["Node Type"]) ? node["Actual Rows"] * node["Actual Loops"] : 0) + (node.Plans ?? []).reduce((sum, child) => sum + scanned(child), 0);
    const rows = plan.reduce((sum, entry) => sum + scanned(entry.Plan ?? entry), 0);
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(20);
  });

  it("keeps to its pool size", async () => {
    const { url } = await emptyDatabase();
    const store = await open({ url, poolSize: 3, applicationName: "pool-size-test" });
    await store.createConversation({ id: "c1", userId: "u", title: "t" });
    await Promise.all(Array.from({ length: 30 }, () => store.listConversations("u")));
    const [{ n }] = (await sql<{ n: number }>(
      url,
      "SELECT count(*)::integer AS n FROM pg_stat_activity WHERE application_name = 'pool-size-test'",
    )) as [{ n: number }];
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(3);
    // What the pool holds is in its stats (the API's leak tests tell the pool's sockets from leaked ones by it).
    expect(store.stats()).toMatchObject({ poolConnections: n, poolIdle: n, poolWaiting: 0 });
  });

  it("keeps no query's parameters after it ran, also of one that opened a new connection of the pool", async () => {
    const { url } = await emptyDatabase();
    const store = await open({ url });
    await store.createConversation({ id: "c1", userId: "u", title: "t" });
    expect(store.stats()).toMatchObject({ poolConnections: 1, poolIdle: 1 });
    // A flat string in V8's heap: repeat() makes a rope, which writing it would flatten (a copy) after `before`.
    const content = JSON.parse(JSON.stringify("y".repeat(16 * 1024 * 1024))) as string;
    const before = heapUsedAfterGc();
    // The first call takes the pool's idle connection: the append (its JSON, a second copy of the 16 MB) opens another.
    await Promise.all([store.listConversations("u"), store.appendMessage({ conversationId: "c1", runId: null, message: { role: "user", content } })]);
    expect(store.stats()).toMatchObject({ poolConnections: 2 });
    expect(heapUsedAfterGc() - before).toBeLessThan(8 * 1024 * 1024);
    expect((await store.listMessages("c1"))[0]?.message.content).toHaveLength(content.length);
  });

  it("says who holds the migration lock when another process has it at open, then opens once it is released", async () => {
    const { url } = await emptyDatabase();
    const holder = await connect(url);
    try {
      await holder.query("SET application_name = 'stuck-migrator'");
      await holder.query("BEGIN");
      await holder.query("SELECT pg_advisory_xact_lock(hashtextextended('streamchat:migrations', 0))");
      const { rows } = await holder.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      const heard: MigrationLockHolder[] = [];
      let opened = false;
      const opening = open({ url, onMigrationWait: (h) => heard.push(h) }).then((store) => {
        opened = true;
        return store;
      });
      await vi.waitFor(() => expect(heard).toHaveLength(1), { timeout: 10_000 });
      expect(heard[0]).toEqual({ pid: rows[0]!.pid, applicationName: "stuck-migrator", since: expect.any(Number) });
      expect(migrationWaitMessage(heard[0]!, heard[0]!.since! + 61_000)).toBe(
        `waiting for the database schema migration lock, held by process ${rows[0]!.pid} (stuck-migrator), its transaction open for 61 s: another API process migrating, or one stuck in an open transaction (pg_stat_activity shows it)`,
      );
      expect(opened).toBe(false);
      await holder.query("COMMIT");
      const store = await opening;
      await store.createConversation({ id: "c1", userId: "u", title: "t" });
      expect(heard).toHaveLength(1);
    } finally {
      await holder.end();
    }
  });

  it("says nothing when the migration lock is released within moments (replicas starting together take turns)", async () => {
    const { url } = await emptyDatabase();
    const holder = await connect(url);
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT pg_advisory_xact_lock(hashtextextended('streamchat:migrations', 0))");
      const heard: MigrationLockHolder[] = [];
      const opening = open({ url, onMigrationWait: (h) => heard.push(h) });
      // The open has found the lock taken before it is released. Asked outside the holder's
      // transaction, which sees one snapshot of pg_stat_activity.
      const observer = await connect(url);
      await vi.waitFor(async () => {
        const { rows } = await observer.query<{ waiting: number }>(
          "SELECT count(*)::integer AS waiting FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%advisory_xact_lock%'",
        );
        expect(rows[0]!.waiting).toBeGreaterThan(0);
      });
      await observer.end();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await holder.query("COMMIT");
      await opening;
      expect(heard).toEqual([]);
    } finally {
      await holder.end();
    }
  });

  it("opens without a word when the migration lock is free", async () => {
    const { url } = await emptyDatabase();
    const heard: MigrationLockHolder[] = [];
    await open({ url, onMigrationWait: (h) => heard.push(h) });
    await open({ url, onMigrationWait: (h) => heard.push(h) });
    expect(heard).toEqual([]);
  });

  it("fails to open with an unavailable error naming host:port/database, never the password", async () => {
    const port = await closedPort();
    const error = await openPostgresStore({ url: `postgres://app:s3cret@127.0.0.1:${port}/chat`, connectTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "StoreError", code: "unavailable" });
    expect((error as Error).message).toContain(`127.0.0.1:${port}/chat`);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect((error as Error).message).not.toContain("s3cret");
  });

  it("migration 2 makes each linear conversation of a v1 database a single-branch tree headed by its last message", async () => {
    const { url } = await emptyDatabase();
    const client = await connect(url);
    try {
      expect(await migratePostgres(client, postgresMigrations.slice(0, 1))).toEqual([1]);
      await writeV1Data(client);
      const counts = async () =>
        Promise.all(
          ["conversations", "messages", "runs", "events"].map(async (table) => Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n)),
        );
      const countsBefore = await counts();
      expect(countsBefore).toEqual([3, 8, 5, 7]);

      const store = await open({ url, flushIntervalMs: 60_000 });
      expect((await client.query("SELECT version FROM schema_migrations ORDER BY version")).rows.map((r) => r.version)).toEqual(
        postgresMigrations.map((m) => m.version),
      );
      expect(await counts()).toEqual(countsBefore);
      expect((await client.query("SELECT id, head_message_id AS head FROM conversations ORDER BY id")).rows).toEqual([
        { id: "c1", head: "9" },
        { id: "c2", head: "11" },
        { id: "c3", head: null },
      ]);
      await expectUpgradedV2(store);
    } finally {
      await client.end();
    }
  });

  describe("the migrate command", () => {
    it("applies the schema, then finds nothing to do", async () => {
      const { url } = await emptyDatabase();
      const first = await migrateCli({ DATABASE_URL: url });
      expect(first).toMatchObject({ code: 0 });
      expect(first.stdout).toMatch(new RegExp(`applied version 1.*version ${latestVersion(postgresMigrations)}`));
      expect(await sql(url, "SELECT count(*)::integer AS n FROM schema_migrations")).toEqual([{ n: postgresMigrations.length }]);
      const again = await migrateCli({ DATABASE_URL: url });
      expect(again).toMatchObject({ code: 0 });
      expect(again.stdout).toMatch(/up to date/);
    });

    it("says what is wrong in one line: no DATABASE_URL (2), unreachable (1)", async () => {
      const missing = await migrateCli({ DATABASE_URL: "" });
      expect(missing.code).toBe(2);
      expect(missing.stderr.trim()).toMatch(/^migrate: DATABASE_URL is not set/);
      const port = await closedPort();
      const down = await migrateCli({ DATABASE_URL: `postgres://app:s3cret@127.0.0.1:${port}/chat` });
      expect(down.code).toBe(1);
      expect(down.stderr.trim().split("\n")).toHaveLength(1);
      expect(down.stderr).toContain(`cannot connect to PostgreSQL at 127.0.0.1:${port}/chat (DATABASE_URL)`);
      expect(down.stderr).not.toContain("s3cret");
    });
  });
});

// A server of our own, stopped and restarted under the store (the shared cluster serves other test files).
describePostgres("postgres store when the database goes away", () => {
  let cluster: PrivateCluster | undefined;
  const hasBinaries = postgresBinDir() !== undefined;
  beforeAll(async () => {
    if (hasBinaries) cluster = await startPrivateCluster();
  }, 120_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it.skipIf(!hasBinaries)("fails calls clearly, answers ping false, keeps queued events, and reconnects by itself", async () => {
    const store = await openPostgresStore({ url: cluster!.url, flushIntervalMs: 60_000, connectTimeoutMs: 2000 });
    try {
      await store.createConversation({ id: "c1", userId: "u", title: "t" });
      await store.createRun({ id: "r1", conversationId: "c1", userId: "u", model: "m", provider: "p" });
      await store.createConversation({ id: "c2", userId: "u", title: "fresh" });
      await store.createRun({ id: "r2", conversationId: "c2", userId: "u", model: "m", provider: "p" });
      const committed = store.appendEvent("r1", 1, tokenEvent("r1", "before"));
      await store.flush();
      await committed;

      await cluster!.kill();
      // A run whose whole log is still queued here (nothing committed yet) is read without the database: its
      // subscribers get its history; a run with committed events needs the database.
      void store.appendEvent("r2", 1, tokenEvent("r2", "fresh a"));
      void store.appendEvent("r2", 2, tokenEvent("r2", "fresh b"));
      expect((await store.readEvents("r2", 1)).map((e) => e.seq)).toEqual([2]);
      expect((await store.readEvents("r2", 0, 1)).map((e) => e.seq)).toEqual([1]);
      expect(await store.readEvents("r1").catch((e: unknown) => e)).toMatchObject({ code: "unavailable" });
      const down = await store.listConversations("u").catch((e: unknown) => e);
      expect(down).toMatchObject({ name: "StoreError", code: "unavailable" });
      expect((down as Error).message).toMatch(/^PostgreSQL at 127\.0\.0\.1:\d+\/postgres is unreachable: /);
      expect(await store.ping()).toBe(false);
      // Appends keep queuing and stay readable in this process; their commit waits for the database.
      const waiting = store.appendEvent("r1", 2, tokenEvent("r1", "during"));
      const ending = store.appendEvent("r1", 3, doneEvent("r1"));
      expect(ending).toBe(waiting);
      await expect(store.flush()).rejects.toMatchObject({ code: "unavailable" });
      expect(store.stats().pendingEvents).toBe(4);
      expect(store.stats().flushErrors).toBeGreaterThanOrEqual(1);

      await cluster!.start();
      await vi.waitFor(async () => expect(await store.ping()).toBe(true), { timeout: 30_000, interval: 100 });
      await ending; // the retry timer committed the batch: no call needed, no restart of the store
      expect((await store.readEvents("r1")).map((e) => e.seq)).toEqual([1, 2, 3]);
      // The retried commit finished the run with its done, in the same transaction.
      expect(await store.getRun("r1")).toMatchObject({ status: "done", reason: "stop" });
      expect((await store.listConversations("u")).map((c) => c.id)).toEqual(["c2", "c1"]);
      await store.flush();
      expect((await store.readEvents("r2")).map((e) => e.seq)).toEqual([1, 2]); // committed now, read from the database
    } finally {
      await store.close();
    }
  }, 120_000);
});

async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function migrateCli(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "src/postgres/migrate-cli.ts"],
      { cwd: packageDir, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

/**
 * The rows of test-support/upgraded-v2.ts, written with the statements of the store as shipped at PostgreSQL schema
 * version 1 (commit 9d08bd2): edit and regenerate deleted messages then, leaving gaps in the ids.
 */
async function writeV1Data(client: import("pg").Client): Promise<void> {
  let t = 1_700_000_000_000;
  const usage = { promptTokens: 12, completionTokens: 8, ttftMs: 40, durationMs: 900, loadMs: null, tokensPerSecond: 9.5 };
  const conversation = (id: string, userId: string, title: string) =>
    client.query("INSERT INTO conversations (id, user_id, title, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)", [id, userId, title, (t += 1000)]);
  const say = async (conversationId: string, runId: string | null, message: ChatMessage): Promise<number> => {
    const search = isSearchableRole(message.role) ? searchableText(message.content) : "";
    const { rows } = await client.query(
      `WITH touched AS (UPDATE conversations SET updated_at = $2 WHERE id = $1 RETURNING id)
       INSERT INTO messages (conversation_id, run_id, role, search_text, json, created_at)
       SELECT id, $3, $4, $5, $6, $2 FROM touched RETURNING id`,
      [conversationId, (t += 1000), runId, message.role, search, JSON.stringify(message)],
    );
    return Number(rows[0].id);
  };
  const deleteFrom = (conversationId: string, id: number) =>
    client.query("DELETE FROM messages WHERE conversation_id = $1 AND id >= $2", [conversationId, id]);
  const run = (id: string, conversationId: string, userId: string, clientRequestId: string | null = null, owner: string | null = null) =>
    client.query("SELECT streamchat_create_run($1, $2, $3, $4, $5, $6, $7, $8, $9)", [id, conversationId, userId, "demo", "sim", clientRequestId, owner, (t += 1000), null]);
  const events = (runId: string, list: ChatEvent[]) =>
    Promise.all(
      list.map((event, i) =>
        client.query("INSERT INTO events (run_id, seq, type, json) VALUES ($1, $2, $3, $4)", [runId, i + 1, event.type, JSON.stringify(event)]),
      ),
    );
  const finish = (runId: string, withUsage: boolean) =>
    client.query("UPDATE runs SET status = 'done', reason = 'stop', usage = $2, finished_at = $3 WHERE id = $1 AND status = 'running'", [
      runId,
      withUsage ? JSON.stringify(usage) : null,
      (t += 1000),
    ]);
  const done = (runId: string): ChatEvent => ({ type: "done", runId, at: t, reason: "stop", usage });

  await conversation("c1", "alice", "Trip to Tokyo");
  await conversation("c2", "bob", "Maths");
  await conversation("c3", "alice", "Empty");
  await run("r1", "c1", "alice", "req-1", "replica-a");
  await say("c1", "r1", { role: "user", content: "What time is it in TOKYO?" });
  await run("r4", "c2", "bob");
  await say("c2", "r4", { role: "user", content: "What is 12*7?" });
  await events("r1", [
    { type: "run-start", runId: "r1", at: t, conversationId: "c1", model: "demo", provider: "sim" },
    { type: "tool-call", runId: "r1", at: t, callId: "t1", name: "current_time", args: { timeZone: "Asia/Tokyo" } },
    { type: "tool-result", runId: "r1", at: t, callId: "t1", name: "current_time", ok: true, result: { iso: "2026-01-01T05:05:00Z" }, durationMs: 3 },
    { type: "token", runId: "r1", at: t, text: "It is 14:05 in Tokyo." },
    done("r1"),
  ]);
  await say("c1", "r1", { role: "assistant", content: "", toolCalls: [{ id: "t1", name: "current_time", args: { timeZone: "Asia/Tokyo" } }] });
  await say("c1", "r1", { role: "tool", toolCallId: "t1", toolName: "current_time", content: '{"iso":"2026-01-01T05:05:00Z"}' });
  await say("c1", "r1", { role: "assistant", content: "It is 14:05 in Tokyo.", thinking: "Use the tool." });
  await finish("r1", true);

  await run("r2", "c1", "alice");
  const typo = await say("c1", "r2", { role: "user", content: "And in Osaka?" });
  await say("c1", "r2", { role: "assistant", content: "Osaka is in the same time zone." });
  await events("r2", [done("r2")]);
  await finish("r2", true);
  await deleteFrom("c1", typo); // chat.edit
  await run("r3", "c1", "alice");
  await say("c1", "r3", { role: "user", content: "And in Kyoto?" });
  await say("c1", "r3", { role: "assistant", content: "Kyoto is in the same time zone too." });
  await events("r3", [done("r3")]);
  await finish("r3", true);

  const wrong = await say("c2", "r4", { role: "assistant", content: "82" });
  await finish("r4", false);
  await deleteFrom("c2", wrong); // chat.regenerate
  await run("r5", "c2", "bob");
  await say("c2", "r5", { role: "assistant", content: "84" });
  await finish("r5", false);
}
