import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { openPostgresStore } from "../postgres/store.js";
import { openSqliteStore } from "../sqlite.js";
import { largeExport } from "../test-support/large-export.js";
import { connect, describePostgres, useTestDatabase } from "../test-support/postgres.js";
import type { ChatStore } from "../types.js";
import { importConversation } from "./import.js";

/**
 * An import is all or nothing across a crash too: a process killed (SIGKILL: no handler, no clean-up) half-way
 * through importing a large export leaves no conversation, message, run or event behind once the store is opened
 * again. The child process (test-support/import-child.ts) imports as the API does; a test-only trigger stalls its
 * write of message 1,000 of 2,000, so the kill lands half-way on every run, whatever the import's design (one
 * transaction, or a statement per row with the first 999 messages already committed).
 */

const packageDir = fileURLToPath(new URL("../..", import.meta.url));
const childScript = fileURLToPath(new URL("../test-support/import-child.ts", import.meta.url));
const userId = "crash-user";
/** The message whose insert the trigger stalls: half of largeExport's 2,000. */
const stalledContent = "message 1000";

interface ImportProcess {
  child: ChildProcess;
  /** Resolves once the child has its store open and the file read, rejects if it exits first. */
  started: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
}

function startImport(args: string[]): ImportProcess {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", childScript, ...args], {
    cwd: packageDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, output })),
  );
  const started = new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      if (output.includes("importing\n")) resolve();
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    void exited.then(({ code }) => reject(new Error(`The import process exited (${code}) before importing:\n${output}`)));
  });
  started.catch(() => {});
  running.push(child);
  return { child, started, exited };
}

const running: ChildProcess[] = [];
afterEach(() => {
  // A failed test must not leave its child spinning in the stalled statement.
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/** Polls `condition` every 20 ms until it holds; fails after 60 s, or as soon as `child` (when given) exits. */
async function until(what: string, condition: () => boolean | Promise<boolean>, child?: ImportProcess): Promise<void> {
  let exited = false;
  void child?.exited.then(() => (exited = true));
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    if (exited) throw new Error(`The import process exited before ${what}:\n${(await child!.exited).output}`);
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function killed(child: ImportProcess): Promise<void> {
  child.child.kill("SIGKILL");
  const { signal } = await child.exited;
  expect(signal).toBe("SIGKILL");
}

/** What the killed import must not have left: the user's conversations and any row at all (the database was empty). */
async function leftovers(store: ChatStore, count: (table: string) => Promise<number>) {
  return {
    conversations: await store.listConversations(userId),
    rows: {
      conversations: await count("conversations"),
      messages: await count("messages"),
      runs: await count("runs"),
      events: await count("events"),
    },
  };
}
const nothing = { conversations: [], rows: { conversations: 0, messages: 0, runs: 0, events: 0 } };

/** The file imports whole once nothing stalls it: what the crash left out was the import's doing, not the file's. */
async function importsWhole(store: ChatStore, content: string): Promise<void> {
  const { conversationId } = await importConversation(store, userId, content, { maxBytes: 64 * 1024 * 1024 });
  expect((await store.listMessages(conversationId)).length).toBe(2_000);
  expect((await store.listRuns(conversationId)).length).toBe(3);
  expect((await store.activePath(conversationId)).length).toBe(2_000);
}

describe("an import killed half-way on SQLite", () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it("leaves nothing once the store is opened again", async () => {
    dir = mkdtempSync(join(tmpdir(), "import-crash-"));
    const path = join(dir, "chat.db");
    const file = join(dir, "export.json");
    const content = JSON.stringify(largeExport());
    writeFileSync(file, content);
    await openSqliteStore({ path }).close(); // the schema

    const db = new DatabaseSync(path);
    try {
      // SQLite has no sleep: the stalled insert runs a cross join of a billion rows (minutes) inside the import's write.
      db.exec("CREATE TABLE stall (n INTEGER)");
      const insert = db.prepare("INSERT INTO stall (n) VALUES (?)");
      db.exec("BEGIN");
      for (let n = 1; n <= 1_000; n++) insert.run(n);
      db.exec("COMMIT");
      db.exec(`CREATE TRIGGER stall_import AFTER INSERT ON messages WHEN NEW.content = '${stalledContent}'
        BEGIN SELECT max(a.n + b.n + c.n) FROM stall a, stall b, stall c; END`);

      const child = startImport(["sqlite", path, file, userId]);
      await child.started;
      // The write lock held for 300 ms on end: the child is in the stalled insert (its own writes hold it for far less).
      db.exec("PRAGMA busy_timeout = 0");
      let heldSince: number | undefined;
      const stalled = () => {
        try {
          db.exec("BEGIN IMMEDIATE");
          db.exec("ROLLBACK");
          heldSince = undefined;
          return false;
        } catch (error) {
          if (((error as { errcode?: number }).errcode ?? 0) % 256 !== 5) throw error; // SQLITE_BUSY
          heldSince ??= Date.now();
          return Date.now() - heldSince >= 300;
        }
      };
      await until("the stalled insert", stalled, child);
      await killed(child);
      db.exec("DROP TRIGGER stall_import");
    } finally {
      db.close();
    }

    const store = openSqliteStore({ path });
    try {
      const count = (table: string) => {
        const counter = new DatabaseSync(path);
        try {
          return Promise.resolve(Number(counter.prepare(`SELECT count(*) AS n FROM ${table}`).get()?.["n"]));
        } finally {
          counter.close();
        }
      };
      expect(await leftovers(store, count)).toEqual(nothing);
      await importsWhole(store, content);
    } finally {
      await store.close();
    }
  }, 120_000);
});

describePostgres("an import killed half-way on PostgreSQL", () => {
  const database = useTestDatabase("import_crash");
  const applicationName = "streamchat-import-child";
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it("leaves nothing once the store is opened again", async () => {
    dir = mkdtempSync(join(tmpdir(), "import-crash-"));
    const file = join(dir, "export.json");
    const content = JSON.stringify(largeExport());
    writeFileSync(file, content);
    await (await openPostgresStore({ url: database.url() })).close(); // the schema

    const admin = await connect(database.url());
    try {
      await admin.query(`CREATE FUNCTION stall_import() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(600); RETURN NULL; END $$`);
      await admin.query(`CREATE TRIGGER stall_import AFTER INSERT ON messages FOR EACH ROW
        WHEN (NEW.search_text = '${stalledContent}') EXECUTE FUNCTION stall_import()`);
      // A backend notices that its client is gone, while it sleeps, only when it looks: every 100 ms here
      // (PostgreSQL 14+). Without it the server would find out when the sleep ends, and roll back then.
      const url = new URL(database.url());
      url.searchParams.set("options", "-c client_connection_check_interval=100");

      const child = startImport(["postgres", url.toString(), file, userId, applicationName]);
      await child.started;
      const backends = async (where: string) =>
        (await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 ${where}`, [applicationName]))
          .rows[0]!.n;
      await until("the stalled insert", async () => (await backends("AND wait_event = 'PgSleep'")) > 0, child);
      await killed(child);
      // The server ends the dead client's backend, rolling back what it had not committed.
      await until("the server to drop the killed client", async () => (await backends("")) === 0);
      await admin.query("DROP TRIGGER stall_import ON messages");
    } finally {
      await admin.end();
    }

    const store = await openPostgresStore({ url: database.url() });
    const counter = await connect(database.url());
    try {
      const count = async (table: string) => (await counter.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
      expect(await leftovers(store, count)).toEqual(nothing);
      await importsWhole(store, content);
    } finally {
      await counter.end();
      await store.close();
    }
  }, 120_000);
});
