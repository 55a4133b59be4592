import type { EventOf } from "@streamchat/core";
import type { RunRecord, StoredMessage } from "@streamchat/store";

/** How a run started. */
export interface RunStart {
  /** It writes on from the conversation's last answer (chat.continue). */
  continues: boolean;
}

/**
 * Observers of what runs change in a conversation (the conversation feed, title generation). Called after the
 * change is stored; they must return at once and never throw: a run never waits for them.
 */
export interface RunHooks {
  /** The run was created and its messages are in place; it starts executing now. */
  runStarted?(record: RunRecord, how: RunStart): void;
  /** A message was stored: the user's (chat.send, chat.edit) or one the run produced. */
  messageAdded?(userId: string, stored: StoredMessage): void;
  /** The run's `done` is committed and handed to its subscribers. */
  runFinished?(record: RunRecord, done: EventOf<"done">): void;
}
