import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach } from "vitest";
import type { EventBatcherStats } from "../event-batcher.js";
import { createMemoryStore } from "../memory.js";
import { openPostgresStore } from "../postgres/store.js";
import { openSqliteStore } from "../sqlite.js";
import type { ChatStore } from "../types.js";
import { connect, truncateStoreTables, useTestDatabase } from "./postgres.js";

export interface OpenOptions {
  now?: () => number;
  /** Default 60 s: nothing commits on the timer unless a test asks for it. */
  flushIntervalMs?: number;
  maxBatch?: number;
}

export type TestStore = ChatStore & { stats?(): EventBatcherStats };

export interface BackendContext {
  /** Opens a store on this test's data (a second call: another process on the same database). Closed after the test. */
  open(options?: OpenOptions): Promise<TestStore>;
  /** The run's seqs as an independent connection sees them: committed ones only. */
  committedSeqs(runId: string): Promise<number[]>;
}

export interface Backend {
  name: "memory" | "sqlite" | "postgres";
  needsPostgres?: boolean;
  /** Appends are queued and committed in batches (commit counting applies). */
  batched: boolean;
  /** Several stores (processes) can share the data. */
  shared: boolean;
  /** Registers the hooks for one describe block; call inside it. */
  context(): BackendContext;
}

function tracked(): { add<T extends ChatStore>(store: T): T; closeAll(): Promise<void> } {
  const stores: ChatStore[] = [];
  return {
    add(store) {
      stores.push(store);
      return store;
    },
    async closeAll() {
      for (const store of stores.splice(0)) await store.close().catch(() => {});
    },
  };
}

export const memoryBackend: Backend = {
  name: "memory",
  batched: false,
  shared: false,
  context() {
    const stores = tracked();
    let first: ChatStore | undefined;
    afterEach(async () => {
      first = undefined;
      await stores.closeAll();
    });
    return {
      async open(options = {}) {
        // One process's memory: a "second process" would not share it, so every open returns the same store.
        first ??= stores.add(createMemoryStore({ now: options.now }));
        return first;
      },
      async committedSeqs(runId) {
        if (!first) return [];
        return (await first.readEvents(runId)).map((event) => event.seq);
      },
    };
  },
};

export const sqliteBackend: Backend = {
  name: "sqlite",
  batched: true,
  shared: true,
  context() {
    const stores = tracked();
    let dir: string;
    let path: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "store-test-"));
      path = join(dir, "chat.db");
    });
    afterEach(async () => {
      await stores.closeAll();
      rmSync(dir, { recursive: true, force: true });
    });
    return {
      async open(options = {}) {
        return stores.add(
          openSqliteStore({ path, now: options.now, flushIntervalMs: options.flushIntervalMs ?? 60_000, maxBatch: options.maxBatch }),
        );
      },
      async committedSeqs(runId) {
        const db = new DatabaseSync(path);
        try {
          return db
            .prepare("SELECT seq FROM events WHERE run_id = ? ORDER BY seq")
            .all(runId)
            .map((row) => Number(row.seq));
        } finally {
          db.close();
        }
      },
    };
  },
};

export const postgresBackend: Backend = {
  name: "postgres",
  needsPostgres: true,
  batched: true,
  shared: true,
  context() {
    const stores = tracked();
    const database = useTestDatabase("suite");
    let migrated = false;
    beforeEach(async () => {
      if (migrated) await truncateStoreTables(database.url());
    });
    afterEach(() => stores.closeAll());
    return {
      async open(options = {}) {
        const store = await openPostgresStore({
          url: database.url(),
          now: options.now,
          flushIntervalMs: options.flushIntervalMs ?? 60_000,
          maxBatch: options.maxBatch,
        });
        migrated = true;
        return stores.add(store);
      },
      async committedSeqs(runId) {
        const client = await connect(database.url());
        try {
          const { rows } = await client.query<{ seq: string }>("SELECT seq FROM events WHERE run_id = $1 ORDER BY seq", [runId]);
          return rows.map((row) => Number(row.seq));
        } finally {
          await client.end();
        }
      },
    };
  },
};

export const allBackends: readonly Backend[] = [memoryBackend, sqliteBackend, postgresBackend];
