import type { DatabaseSync } from "node:sqlite";

/** One schema step. `up` is plain DDL, applied once, inside the migration transaction. */
export interface Migration {
  version: number;
  up: string;
}

/**
 * The schema, as an append-only list: never edit a shipped step, add a new version instead.
 * Timestamps are integers in ms since the epoch; JSON columns hold the engine's own shapes.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    up: `
      CREATE TABLE conversations (
        id         TEXT PRIMARY KEY,
        user_id    TEXT NOT NULL,
        title      TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      -- listConversations: one user's conversations, newest activity first. Ascending on purpose: read
      -- backwards it yields (updated_at DESC, rowid DESC), the exact order asked for, with no sort step.
      CREATE INDEX conversations_by_user_activity ON conversations (user_id, updated_at);

      CREATE TABLE messages (
        -- AUTOINCREMENT so ids of deleted messages (edit, regenerate) are never handed out again:
        -- clients hold message ids.
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        -- No foreign key: the user message that starts a run is stored before the run row exists.
        run_id          TEXT,
        role            TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
        -- Copy of the message text for search; json holds the full ChatMessage.
        content         TEXT NOT NULL,
        json            TEXT NOT NULL,
        created_at      INTEGER NOT NULL
      );
      CREATE INDEX messages_by_conversation ON messages (conversation_id, id);

      CREATE TABLE runs (
        id                TEXT PRIMARY KEY,
        conversation_id   TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        user_id           TEXT NOT NULL,
        model             TEXT NOT NULL,
        provider          TEXT NOT NULL,
        client_request_id TEXT,
        status            TEXT NOT NULL CHECK (status IN ('running', 'done')),
        reason            TEXT,
        usage             TEXT,
        created_at        INTEGER NOT NULL,
        finished_at       INTEGER,
        -- Idempotent chat.send; NULLs never collide, so runs without a client id are unconstrained.
        UNIQUE (user_id, client_request_id)
      );
      -- listRunningRuns (start-up recovery), oldest first.
      CREATE INDEX runs_by_status ON runs (status, created_at);
      -- activeRun, and the foreign key's cascade.
      CREATE INDEX runs_by_conversation ON runs (conversation_id, created_at);

      -- The event log. WITHOUT ROWID clusters each run's events by (run_id, seq), so a replay is one range scan.
      CREATE TABLE events (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        seq    INTEGER NOT NULL,
        type   TEXT NOT NULL,
        json   TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    up: `
      -- Which API process executes (executed) the run; NULL for runs started before v2.
      ALTER TABLE runs ADD COLUMN owner TEXT;

      -- v1 allowed several running runs per conversation. Keep the newest running (start-up recovery closes it
      -- with its log) and mark the older ones done as interrupted, so that the unique index below can exist.
      UPDATE runs
         SET status = 'done', reason = 'interrupted',
             finished_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
       WHERE status = 'running'
         AND EXISTS (SELECT 1 FROM runs AS newer
                      WHERE newer.conversation_id = runs.conversation_id AND newer.status = 'running'
                        AND (newer.created_at, newer.rowid) > (runs.created_at, runs.rowid));

      -- At most one running run per conversation, enforced by the database (createRun → conversation_busy).
      CREATE UNIQUE INDEX runs_one_running_per_conversation ON runs (conversation_id) WHERE status = 'running';
      -- countRunningRuns and createRun's maxRunningPerUser.
      CREATE INDEX runs_running_by_user ON runs (user_id) WHERE status = 'running';

      -- readEventsOfTypes (errors, tool results …) without reading a run's thousands of token and reasoning
      -- chunks; the streamed chunks, most of the log, are not in it, so appending them does not touch it.
      CREATE INDEX events_not_streamed ON events (run_id, seq) WHERE type NOT IN ('token', 'reasoning');
    `,
  },
  {
    version: 3,
    up: `
      -- Conversation versions: messages form a tree (edit and regenerate add a sibling instead of deleting), and
      -- the conversation has an active path, from a first message down to its head. No foreign key on parent_id:
      -- the store checks in the append's transaction that the parent is a message of the same conversation (a
      -- one-column key could not say "same conversation"), and messages are deleted only with their conversation.
      ALTER TABLE messages ADD COLUMN parent_id INTEGER;
      -- Linear conversations become single-branch trees: each message follows the one before it by id (ids grow
      -- in append order; edit and regenerate used to delete what came after, so no row points past a gap).
      UPDATE messages
         SET parent_id = (SELECT MAX(previous.id) FROM messages AS previous
                           WHERE previous.conversation_id = messages.conversation_id AND previous.id < messages.id);

      -- The last message of the active path; NULL for an empty conversation.
      ALTER TABLE conversations ADD COLUMN head_message_id INTEGER;
      UPDATE conversations SET head_message_id = (SELECT MAX(m.id) FROM messages AS m WHERE m.conversation_id = conversations.id);
    `,
  },
  {
    version: 4,
    up: `
      -- chat.approve's decisions, kept until the waiting run reads them: a decision survives a restart of the
      -- process running the run, and the first one wins when two clients decide at once.
      CREATE TABLE approval_decisions (
        run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        call_id    TEXT NOT NULL,
        approved   INTEGER NOT NULL CHECK (approved IN (0, 1)),
        reason     TEXT,
        decided_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, call_id)
      ) WITHOUT ROWID;

      -- A user's MCP server switches (the tools panel); a server without a row is on.
      CREATE TABLE tool_server_settings (
        user_id    TEXT NOT NULL,
        server     TEXT NOT NULL,
        enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, server)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    up: `
      -- The event log as a rowid table: rows go to the end of the table in commit order, and (run_id, seq) is a
      -- separate index of small entries. Clustered by run (v1), one commit of many answering runs' tokens wrote
      -- a table page per run, ~4 KB of WAL per token at one token per event; this writes a third of that, and a
      -- replay reads a run's rows through the index instead of one range of the table. Nothing references events,
      -- so the table is rebuilt and renamed in this step's transaction.
      CREATE TABLE events_v5 (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        seq    INTEGER NOT NULL,
        type   TEXT NOT NULL,
        json   TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
      );
      INSERT INTO events_v5 (run_id, seq, type, json) SELECT run_id, seq, type, json FROM events ORDER BY run_id, seq;
      DROP TABLE events;
      ALTER TABLE events_v5 RENAME TO events;
      CREATE INDEX events_not_streamed ON events (run_id, seq) WHERE type NOT IN ('token', 'reasoning');
    `,
  },
  {
    version: 6,
    up: `
      -- Every query of running runs (start-up recovery, the orphan sweep's owners, runningAmong) reads the running-only
      -- partial index runs_running_by_user instead: a handful of rows, sorted in memory. This index held every run, so
      -- each run's start inserted into it and its finish moved its entry: two of the ~25 B-tree pages an answer writes.
      DROP INDEX runs_by_status;
    `,
  },
  {
    version: 7,
    up: `
      -- A user's custom instructions, which every answer keeps in mind; a user without a row has none.
      CREATE TABLE user_settings (
        user_id      TEXT PRIMARY KEY,
        instructions TEXT NOT NULL,
        updated_at   INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    up: `
      -- Pinned conversations: when the user pinned it; NULL when not pinned (every existing conversation).
      ALTER TABLE conversations ADD COLUMN pinned_at INTEGER;
      -- listConversations' order, pinned first (most recently pinned first), then newest activity: read backwards, this
      -- index yields (pinned_at DESC, updated_at DESC, rowid DESC), NULLs (the unpinned) last because SQLite sorts NULL
      -- below every number, with no sort step: a page of 100 reads 100 entries however many conversations the user
      -- has. It replaces conversations_by_user_activity (v1), which the new order cannot use, so an append (it moves
      -- updated_at) still changes one index of conversations, not two.
      DROP INDEX conversations_by_user_activity;
      CREATE INDEX conversations_by_user_pinned_activity ON conversations (user_id, pinned_at, updated_at);
    `,
  },
  {
    version: 9,
    up: `
      -- Import origins: where an imported conversation came from ("ChatGPT:<their id>@<their update time>", made by the
      -- client); NULL for every other conversation (every existing one).
      ALTER TABLE conversations ADD COLUMN origin TEXT;
      -- At most one conversation per user and origin, so importing a newer export of the same account again does not
      -- duplicate every conversation: the database itself refuses the second (insertConversation's conflict "origin"),
      -- whichever process writes it. Partial: only imports have an origin, so the index holds them alone, and the
      -- conversations without one are never compared. Deleting the conversation deletes its entry (frees the origin).
      CREATE UNIQUE INDEX conversations_by_user_origin ON conversations (user_id, origin) WHERE origin IS NOT NULL;
    `,
  },
  {
    version: 10,
    up: `
      -- Branches: the original conversation and its answer a branch was made at, and the branch's own copy of that
      -- answer (branchOrigin); NULL for every other conversation (every existing one). No foreign key: the original
      -- may be deleted and the branch still says it was one.
      ALTER TABLE conversations ADD COLUMN branch_of TEXT;
      ALTER TABLE conversations ADD COLUMN branch_of_message INTEGER;
      ALTER TABLE conversations ADD COLUMN branch_at_message INTEGER;
    `,
  },
  {
    version: 11,
    up: `
      -- Archived conversations: when the user archived it; NULL when not archived (every existing conversation).
      -- listConversations reads conversations_by_user_pinned_activity (v8) as before and filters on it: the user's
      -- archived ones are skipped in the range of the list, and the archived list is the same range's other rows. No
      -- index of its own: an append still changes one index of conversations, not two.
      ALTER TABLE conversations ADD COLUMN archived_at INTEGER;
    `,
  },
  {
    version: 12,
    up: `
      -- A conversation's own instructions, which every answer in it keeps in mind beside the user's (user_settings, v7);
      -- a conversation without a row has none. A table of its own rather than a column of conversations: the list's
      -- rows and every statement that reads or rewrites a conversation row stay as they were, and a run reads both
      -- instructions by primary key in one statement. The foreign key's cascade (foreign_keys is on) deletes the row
      -- with its conversation, as it deletes the conversation's messages and runs, so a conversation made later with
      -- the same id never sees it. WITHOUT ROWID: the key is the only way in, as for user_settings.
      CREATE TABLE conversation_settings (
        conversation_id TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
        instructions    TEXT NOT NULL,
        updated_at      INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 13,
    up: `
      -- A conversation's own sampling (temperature, top P, seed), beside its instructions: the run reads them in the
      -- same primary-key lookup. NULL leaves a setting to the model (every existing row, and a row written by a v12
      -- process, which names only the instructions: its upsert keeps them). REAL for the two fractions; the seed is
      -- a 32-bit integer (samplingLimits). No CHECK: the API holds them to their ranges, and a stored one is sent as is.
      ALTER TABLE conversation_settings ADD COLUMN temperature REAL;
      ALTER TABLE conversation_settings ADD COLUMN top_p REAL;
      ALTER TABLE conversation_settings ADD COLUMN seed INTEGER;
    `,
  },
  {
    version: 14,
    up: `
      -- A user's own sampling (temperature, top P, seed) for all their chats, beside their instructions: a setting a
      -- conversation leaves NULL is the user's, and one both leave NULL the model's. The run reads them in the lookup
      -- that reads the instructions (getRunSettings). NULL for every existing row, and a row written by a v13 process
      -- (which names only the instructions: its upsert keeps them).
      ALTER TABLE user_settings ADD COLUMN temperature REAL;
      ALTER TABLE user_settings ADD COLUMN top_p REAL;
      ALTER TABLE user_settings ADD COLUMN seed INTEGER;
    `,
  },
];

export function latestVersion(list: readonly Migration[] = migrations): number {
  return list.at(-1)?.version ?? 0;
}

/**
 * Brings the database to the latest version of `list` in ONE transaction: either every pending step
 * applies or none does. BEGIN IMMEDIATE takes the write lock before reading the current version, so two
 * processes opening the same file at once cannot both apply a step. Returns the versions applied.
 */
export function migrate(db: DatabaseSync, list: readonly Migration[] = migrations, now: () => number = Date.now): number[] {
  assertOrdered(list);
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    );
    const row = db.prepare("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations").get();
    const current = Number(row?.version ?? 0);
    const latest = latestVersion(list);
    if (current > latest) {
      throw new Error(
        `Database schema version ${current} is newer than this build knows (${latest}); refusing to open it with older code.`,
      );
    }
    const record = db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
    const applied: number[] = [];
    for (const migration of list) {
      if (migration.version <= current) continue;
      db.exec(migration.up);
      record.run(migration.version, now());
      applied.push(migration.version);
    }
    db.exec("COMMIT");
    return applied;
  } catch (error) {
    // Some errors end the transaction themselves; never let ROLLBACK's own error hide the real one.
    try {
      db.exec("ROLLBACK");
    } catch {
      // already rolled back
    }
    throw error;
  }
}

export function assertOrdered(list: readonly Migration[]): void {
  list.forEach((migration, index) => {
    const previous = index === 0 ? 0 : list[index - 1]!.version;
    if (!Number.isInteger(migration.version) || migration.version <= previous) {
      throw new Error(`Migrations must have strictly increasing positive integer versions (got ${migration.version} after ${previous}).`);
    }
  });
}
