import type { Migration } from "../migrations.js";

/**
 * The PostgreSQL schema, as an append-only list (the SQLite one is migrations.ts): never edit a shipped step, add
 * a new version. Applied by migrate.ts under an advisory lock, one transaction for all pending steps.
 *
 * Timestamps are bigint milliseconds since the epoch (as in SQLite and the API). Messages, events and usage are JSON
 * text in `text` columns, as in SQLite: readable in psql (`json::json->>'content'`), and stored verbatim, so they read
 * back exactly (key order, and the escapes JSON.stringify writes for NUL and lone surrogates, which the json type
 * would refuse). `search_text` is the message text folded in JavaScript (search.ts): PostgreSQL's lower() folds
 * differently, so the search never uses it.
 */
export const postgresMigrations: readonly Migration[] = [
  {
    version: 1,
    up: `
      CREATE TABLE conversations (
        id            text PRIMARY KEY,
        user_id       text NOT NULL,
        title         text NOT NULL,
        created_at    bigint NOT NULL,
        updated_at    bigint NOT NULL,
        -- Creation order: the tie-break of listConversations on equal updated_at.
        created_order bigint GENERATED ALWAYS AS IDENTITY
      );
      CREATE INDEX conversations_by_user_activity ON conversations (user_id, updated_at DESC, created_order DESC);

      CREATE TABLE messages (
        -- An identity never hands out a number twice: ids of deleted messages (edit, regenerate) are not reused.
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        -- No foreign key: the user message that starts a run is stored before the run row exists.
        run_id          text,
        role            text NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
        -- searchableText(content) for user and assistant messages, '' for the others.
        search_text     text NOT NULL,
        json            text NOT NULL,
        created_at      bigint NOT NULL
      );
      CREATE INDEX messages_by_conversation ON messages (conversation_id, id);

      CREATE TABLE runs (
        id                text PRIMARY KEY,
        conversation_id   text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        user_id           text NOT NULL,
        model             text NOT NULL,
        provider          text NOT NULL,
        client_request_id text,
        -- Replica id of the API process executing the run.
        owner             text,
        status            text NOT NULL CHECK (status IN ('running', 'done')),
        reason            text,
        usage             text,
        created_at        bigint NOT NULL,
        finished_at       bigint,
        created_order     bigint GENERATED ALWAYS AS IDENTITY,
        -- Idempotent chat.send from any process; NULLs never collide, so runs without a client id are unconstrained.
        CONSTRAINT runs_client_request_id_key UNIQUE (user_id, client_request_id)
      );
      -- At most one running run per conversation, across every process (createRun → conversation_busy).
      CREATE UNIQUE INDEX runs_one_running_per_conversation ON runs (conversation_id) WHERE status = 'running';
      -- countRunningRuns and maxRunningPerUser.
      CREATE INDEX runs_running_by_user ON runs (user_id) WHERE status = 'running';
      -- listRunningRuns (recovery), oldest first.
      CREATE INDEX runs_running ON runs (created_at, created_order) WHERE status = 'running';
      -- listRuns, and the cascade from conversations.
      CREATE INDEX runs_by_conversation ON runs (conversation_id, created_at, created_order);

      CREATE TABLE events (
        run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        seq    bigint NOT NULL,
        type   text NOT NULL,
        json   text NOT NULL,
        PRIMARY KEY (run_id, seq)
      );
      -- readEventsOfTypes for errors, tool results …, without the token and reasoning chunks (most of a log).
      CREATE INDEX events_not_streamed ON events (run_id, seq) WHERE type NOT IN ('token', 'reasoning');

      -- createRun in one round trip. With a limit, the per-user advisory lock serialises run starts of one user
      -- across every process, so two cannot both take the last place; each statement of a VOLATILE function takes
      -- a new snapshot, so the count sees every run committed before the lock was granted. Unique violations
      -- (id, client request id, one running run per conversation) surface as errors with the constraint's name.
      -- False: nothing inserted (the conversation is not the user's, or the limit is reached).
      CREATE FUNCTION streamchat_create_run(
        p_id text, p_conversation_id text, p_user_id text, p_model text, p_provider text,
        p_client_request_id text, p_owner text, p_created_at bigint, p_max_running integer
      ) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        IF p_max_running IS NOT NULL THEN
          PERFORM pg_advisory_xact_lock(hashtextextended('streamchat:running-runs:' || p_user_id, 0));
        END IF;
        INSERT INTO runs (id, conversation_id, user_id, model, provider, client_request_id, owner, status, created_at)
        SELECT p_id, p_conversation_id, p_user_id, p_model, p_provider, p_client_request_id, p_owner, 'running', p_created_at
         WHERE EXISTS (SELECT 1 FROM conversations WHERE id = p_conversation_id AND user_id = p_user_id)
           AND (p_max_running IS NULL
                OR (SELECT count(*) FROM runs WHERE user_id = p_user_id AND status = 'running') < p_max_running);
        RETURN FOUND;
      END
      $$;
    `,
  },
  {
    version: 2,
    up: `
      -- Conversation versions: messages form a tree (edit and regenerate add a sibling instead of deleting), and
      -- the conversation has an active path, from a first message down to its head. No foreign key on parent_id:
      -- the store checks in the append's transaction that the parent is a message of the same conversation, and
      -- messages are deleted only with their conversation.
      ALTER TABLE messages ADD COLUMN parent_id bigint;
      -- Linear conversations become single-branch trees: each message follows the one before it by id (ids grow
      -- in append order; edit and regenerate used to delete what came after). One pass over the table.
      UPDATE messages AS m SET parent_id = linear.previous
        FROM (SELECT id, lag(id) OVER (PARTITION BY conversation_id ORDER BY id) AS previous FROM messages) AS linear
       WHERE m.id = linear.id AND linear.previous IS NOT NULL;

      -- The last message of the active path; NULL for an empty conversation.
      ALTER TABLE conversations ADD COLUMN head_message_id bigint;
      UPDATE conversations AS c SET head_message_id = last.id
        FROM (SELECT conversation_id, max(id) AS id FROM messages GROUP BY conversation_id) AS last
       WHERE c.id = last.conversation_id;
    `,
  },
  {
    version: 3,
    up: `
      -- chat.approve's decisions, kept until the waiting run reads them (from any process, after any restart); the
      -- primary key makes the first decision win when two clients decide at once.
      CREATE TABLE approval_decisions (
        run_id     text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        call_id    text NOT NULL,
        approved   boolean NOT NULL,
        reason     text,
        decided_at bigint NOT NULL,
        PRIMARY KEY (run_id, call_id)
      );

      -- A user's MCP server switches (the tools panel); a server without a row is on.
      CREATE TABLE tool_server_settings (
        user_id    text NOT NULL,
        server     text NOT NULL,
        enabled    boolean NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (user_id, server)
      );
    `,
  },
  {
    version: 4,
    up: `
      -- appendMessage in one round trip (it was BEGIN, a row lock, a parent check, the insert, COMMIT), and the
      -- append that startRun makes inside its own call. Each statement of a VOLATILE function takes a new snapshot:
      -- the parent check sees every message committed before the row lock was granted.
      -- p_under_head: append under the head (appendMessage without parentId); else under p_parent_id (NULL: a new
      -- first message). A conversation or parent that is not there raises no_data_found (P0002): StoreError
      -- not_found in the store, and the whole calling statement is rolled back.
      CREATE FUNCTION streamchat_append_message(
        p_conversation_id text, p_run_id text, p_created_at bigint,
        p_under_head boolean, p_parent_id bigint, p_role text, p_search_text text, p_json text,
        OUT message_id bigint, OUT message_parent_id bigint
      ) LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_head bigint;
      BEGIN
        -- The row lock makes appends to one conversation take turns: the head read here is still the head when the
        -- message lands under it (concurrent appends form a chain, never siblings).
        SELECT head_message_id INTO v_head FROM conversations WHERE id = p_conversation_id FOR UPDATE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'Unknown conversation %.', p_conversation_id USING ERRCODE = 'no_data_found';
        END IF;
        message_parent_id := CASE WHEN p_under_head THEN v_head ELSE p_parent_id END;
        IF message_parent_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM messages WHERE id = message_parent_id AND conversation_id = p_conversation_id) THEN
          RAISE EXCEPTION 'Message % is not in conversation %.', message_parent_id, p_conversation_id USING ERRCODE = 'no_data_found';
        END IF;
        INSERT INTO messages (conversation_id, parent_id, run_id, role, search_text, json, created_at)
        VALUES (p_conversation_id, message_parent_id, p_run_id, p_role, p_search_text, p_json, p_created_at)
        RETURNING id INTO message_id;
        UPDATE conversations SET updated_at = p_created_at, head_message_id = message_id WHERE id = p_conversation_id;
      END
      $$;

      -- startRun in one round trip, one transaction: the conversation when p_title is given, the run (as
      -- streamchat_create_run, with its lock and counted insert), its question (as streamchat_append_message). When
      -- the run is refused (the conversation is not the user's, or the limit is reached) it raises 'SC001' so the
      -- conversation inserted before is rolled back with it; unique violations and no_data_found roll back the same.
      CREATE FUNCTION streamchat_start_run(
        p_id text, p_conversation_id text, p_user_id text, p_model text, p_provider text,
        p_client_request_id text, p_owner text, p_created_at bigint, p_max_running integer, p_title text,
        p_under_head boolean, p_parent_id bigint, p_role text, p_search_text text, p_json text,
        OUT message_id bigint, OUT message_parent_id bigint, OUT conversation_title text, OUT conversation_created_at bigint
      ) LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        IF p_title IS NOT NULL THEN
          INSERT INTO conversations (id, user_id, title, created_at, updated_at)
          VALUES (p_conversation_id, p_user_id, p_title, p_created_at, p_created_at);
        END IF;
        IF NOT streamchat_create_run(p_id, p_conversation_id, p_user_id, p_model, p_provider, p_client_request_id,
                                     p_owner, p_created_at, p_max_running) THEN
          RAISE EXCEPTION 'Run % was not started.', p_id USING ERRCODE = 'SC001';
        END IF;
        SELECT a.message_id, a.message_parent_id INTO message_id, message_parent_id
          FROM streamchat_append_message(p_conversation_id, p_id, p_created_at, p_under_head, p_parent_id, p_role,
                                         p_search_text, p_json) AS a;
        SELECT c.title, c.created_at INTO conversation_title, conversation_created_at FROM conversations c WHERE c.id = p_conversation_id;
      END
      $$;
    `,
  },
  {
    version: 5,
    up: `
      -- A run's answer in the statement that commits its done (appendDone): the messages of the batch's answers, each
      -- appended as streamchat_append_message appends it under the head, in array order (RETURN NEXT keeps it), one
      -- row each. It was one round trip per message before the done's own.
      CREATE FUNCTION streamchat_append_answers(
        p_conversation_ids text[], p_run_ids text[], p_created_at bigint, p_roles text[], p_search_texts text[], p_jsons text[]
      ) RETURNS TABLE (message_id bigint, message_parent_id bigint) LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        FOR i IN 1 .. coalesce(array_length(p_jsons, 1), 0) LOOP
          SELECT a.message_id, a.message_parent_id INTO message_id, message_parent_id
            FROM streamchat_append_message(p_conversation_ids[i], p_run_ids[i], p_created_at, true, NULL, p_roles[i],
                                           p_search_texts[i], p_jsons[i]) AS a;
          RETURN NEXT;
        END LOOP;
      END
      $$;
    `,
  },
  {
    version: 6,
    up: `
      -- The owners of running runs (runningOwners, which every replica's orphan sweep reads every second) by a skip
      -- scan of this index: one probe per owner, instead of reading and sorting every running run.
      CREATE INDEX runs_running_by_owner ON runs (owner) WHERE status = 'running';
    `,
  },
  {
    version: 7,
    up: `
      -- A user's custom instructions, which every answer keeps in mind; a user without a row has none.
      CREATE TABLE user_settings (
        user_id      text PRIMARY KEY,
        instructions text NOT NULL,
        updated_at   bigint NOT NULL
      );
    `,
  },
  {
    version: 8,
    up: `
      -- Pinned conversations: when the user pinned it; NULL when not pinned (every existing conversation). A nullable
      -- column without a default: no rewrite of the table.
      ALTER TABLE conversations ADD COLUMN pinned_at bigint;
      -- listConversations' order, pinned first (most recently pinned first), then newest activity: a page is the first
      -- entries of the user's range, with no sort however many conversations the user has. It replaces
      -- conversations_by_user_activity (v1), which the new order cannot use, so an append (it moves updated_at) still
      -- changes one index of conversations, not two.
      DROP INDEX conversations_by_user_activity;
      CREATE INDEX conversations_by_user_pinned_activity
        ON conversations (user_id, pinned_at DESC NULLS LAST, updated_at DESC, created_order DESC);

      -- startRun answers with the conversation, pinnedAt included: streamchat_start_run (v4) also returns pinned_at.
      -- A function's OUT parameters cannot change in place; the new one returns v4's columns first, so a process still
      -- running the v7 code (it selects them by name) keeps working during a rolling deploy.
      DROP FUNCTION streamchat_start_run(text, text, text, text, text, text, text, bigint, integer, text, boolean, bigint, text, text, text);
      CREATE FUNCTION streamchat_start_run(
        p_id text, p_conversation_id text, p_user_id text, p_model text, p_provider text,
        p_client_request_id text, p_owner text, p_created_at bigint, p_max_running integer, p_title text,
        p_under_head boolean, p_parent_id bigint, p_role text, p_search_text text, p_json text,
        OUT message_id bigint, OUT message_parent_id bigint, OUT conversation_title text, OUT conversation_created_at bigint,
        OUT conversation_pinned_at bigint
      ) LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        IF p_title IS NOT NULL THEN
          INSERT INTO conversations (id, user_id, title, created_at, updated_at)
          VALUES (p_conversation_id, p_user_id, p_title, p_created_at, p_created_at);
        END IF;
        IF NOT streamchat_create_run(p_id, p_conversation_id, p_user_id, p_model, p_provider, p_client_request_id,
                                     p_owner, p_created_at, p_max_running) THEN
          RAISE EXCEPTION 'Run % was not started.', p_id USING ERRCODE = 'SC001';
        END IF;
        SELECT a.message_id, a.message_parent_id INTO message_id, message_parent_id
          FROM streamchat_append_message(p_conversation_id, p_id, p_created_at, p_under_head, p_parent_id, p_role,
                                         p_search_text, p_json) AS a;
        SELECT c.title, c.created_at, c.pinned_at INTO conversation_title, conversation_created_at, conversation_pinned_at
          FROM conversations c WHERE c.id = p_conversation_id;
      END
      $$;
    `,
  },
  {
    version: 9,
    up: `
      -- Import origins: where an imported conversation came from ("ChatGPT:<their id>@<their update time>", made by the
      -- client); NULL for every other conversation (every existing one). Nullable without a default: no rewrite.
      ALTER TABLE conversations ADD COLUMN origin text;
      -- At most one conversation per user and origin, so importing a newer export of the same account again does not
      -- duplicate every conversation: the database itself refuses the second (a unique violation on this index is
      -- insertConversation's conflict "origin"), however many API processes import at once. Partial: only imports have
      -- an origin, so the index holds them alone. Deleting the conversation deletes its entry (frees the origin).
      CREATE UNIQUE INDEX conversations_by_user_origin ON conversations (user_id, origin) WHERE origin IS NOT NULL;
    `,
  },
  {
    version: 10,
    up: `
      -- Branches: the original conversation and its answer a branch was made at, and the branch's own copy of that
      -- answer (branchOrigin); NULL for every other conversation (every existing one). Nullable without a default: no
      -- rewrite. No foreign key: the original may be deleted and the branch still says it was one.
      ALTER TABLE conversations ADD COLUMN branch_of text, ADD COLUMN branch_of_message bigint, ADD COLUMN branch_at_message bigint;
    `,
  },
  {
    version: 11,
    up: `
      -- Archived conversations: when the user archived it; NULL when not archived (every existing conversation).
      -- Nullable without a default: no rewrite. listConversations reads conversations_by_user_pinned_activity (v8) as
      -- before and filters on it; no index of its own, so an append still changes one index of conversations, not two.
      ALTER TABLE conversations ADD COLUMN archived_at bigint;

      -- startRun answers with the conversation, archivedAt included: streamchat_start_run (v8) also returns archived_at.
      -- A function's OUT parameters cannot change in place; the new one returns v8's columns first, so a process still
      -- running the v10 code (it selects them by name) keeps working during a rolling deploy.
      DROP FUNCTION streamchat_start_run(text, text, text, text, text, text, text, bigint, integer, text, boolean, bigint, text, text, text);
      CREATE FUNCTION streamchat_start_run(
        p_id text, p_conversation_id text, p_user_id text, p_model text, p_provider text,
        p_client_request_id text, p_owner text, p_created_at bigint, p_max_running integer, p_title text,
        p_under_head boolean, p_parent_id bigint, p_role text, p_search_text text, p_json text,
        OUT message_id bigint, OUT message_parent_id bigint, OUT conversation_title text, OUT conversation_created_at bigint,
        OUT conversation_pinned_at bigint, OUT conversation_archived_at bigint
      ) LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        IF p_title IS NOT NULL THEN
          INSERT INTO conversations (id, user_id, title, created_at, updated_at)
          VALUES (p_conversation_id, p_user_id, p_title, p_created_at, p_created_at);
        END IF;
        IF NOT streamchat_create_run(p_id, p_conversation_id, p_user_id, p_model, p_provider, p_client_request_id,
                                     p_owner, p_created_at, p_max_running) THEN
          RAISE EXCEPTION 'Run % was not started.', p_id USING ERRCODE = 'SC001';
        END IF;
        SELECT a.message_id, a.message_parent_id INTO message_id, message_parent_id
          FROM streamchat_append_message(p_conversation_id, p_id, p_created_at, p_under_head, p_parent_id, p_role,
                                         p_search_text, p_json) AS a;
        SELECT c.title, c.created_at, c.pinned_at, c.archived_at
          INTO conversation_title, conversation_created_at, conversation_pinned_at, conversation_archived_at
          FROM conversations c WHERE c.id = p_conversation_id;
      END
      $$;
    `,
  },
  {
    version: 12,
    up: `
      -- A conversation's own instructions, which every answer in it keeps in mind beside the user's (user_settings, v7);
      -- a conversation without a row has none. A table of its own rather than a column of conversations: the list's
      -- rows, streamchat_start_run (v11) and every statement that reads or rewrites a conversation row stay as they
      -- were, and a run reads both instructions by primary key in one query. The foreign key's cascade deletes the row
      -- with its conversation, as it deletes the conversation's messages and runs (its primary key is the index the
      -- cascade looks it up by), so a conversation made later with the same id never sees it.
      CREATE TABLE conversation_settings (
        conversation_id text PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
        instructions    text NOT NULL,
        updated_at      bigint NOT NULL
      );
    `,
  },
  {
    version: 13,
    up: `
      -- A conversation's own sampling (temperature, top P, seed), beside its instructions: the run reads them in the
      -- same primary-key lookup. NULL leaves a setting to the model (every existing row, and a row written by a v12
      -- process, which names only the instructions: its upsert keeps them). Nullable without a default: no rewrite.
      -- The seed is an integer, not bigint: samplingLimits keeps it within int4, and node-postgres reads int4 as a
      -- number. No CHECK: the API holds them to their ranges, and a stored one is sent as is.
      ALTER TABLE conversation_settings ADD COLUMN temperature double precision, ADD COLUMN top_p double precision,
        ADD COLUMN seed integer;
    `,
  },
  {
    version: 14,
    up: `
      -- A user's own sampling for all their chats, beside their instructions: a setting a conversation leaves NULL is
      -- the user's, and one both leave NULL the model's (getRunSettings reads both in its one query). NULL for every
      -- existing row, and a row written by a v13 process (which names only the instructions: its upsert keeps them).
      ALTER TABLE user_settings ADD COLUMN temperature double precision, ADD COLUMN top_p double precision,
        ADD COLUMN seed integer;
    `,
  },
];
