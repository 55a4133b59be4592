/**
 * Messages typed while a reply streams, per conversation, outside React: a queue outlives the pane that
 * showed it, so switching conversations keeps it, and the app's background sender (QueueRunner) sends it
 * to its own conversation when the reply ends there. A new chat (no id yet) queues under a key of its own pane
 * (`newChatKey()`), so two new chats never share one; see `unsentKey` for what a closed new chat leaves behind.
 */
export interface QueuedMessage {
  id: string;
  text: string;
  /** Chosen when it was queued: it is sent with these even if the picker changed meanwhile. */
  model: string | null;
  think: boolean | "low" | "medium" | "high";
  /** Images (vision models), sent with it. */
  attachments?: Attachment[];
}

type Attachment = { type: "image"; mimeType: "image/png" | "image/jpeg" | "image/webp" | "image/gif"; data: string };

/** A message whose send failed after the user left its pane: the composer it came from is gone. */
export interface ReturnedDraft {
  text: string;
  attachments: Attachment[];
}

/** Conversation ids are UUIDs: no conversation's key starts like this. */
const newChatPrefix = "new:";

/** A key for one new chat's queue, taken by its pane. */
export function newChatKey(): string {
  return newChatPrefix + Math.random().toString(36).slice(2);
}

/**
 * Where a new chat's messages wait when its pane was closed before its first message could be sent (the send
 * failed after the user left): the new chat opened next takes them, so nothing the user wrote is lost.
 */
export const unsentKey = newChatPrefix;

/** A key of a conversation that exists (BackgroundQueues sends those), not of a new chat's pane. */
export function isConversationKey(key: string): boolean {
  return !key.startsWith(newChatPrefix);
}

/** Lists of items per key, outside React, for useSyncExternalStore. */
function keyedLists<T>() {
  const empty: readonly T[] = Object.freeze([]);
  const lists = new Map<string, readonly T[]>();
  const listeners = new Set<() => void>();
  const set = (key: string, next: readonly T[]) => {
    if (next.length === 0) lists.delete(key);
    else lists.set(key, next);
    for (const listener of listeners) listener();
  };
  const store = {
    /** The same array until it changes (useSyncExternalStore snapshot). */
    get: (key: string): readonly T[] => lists.get(key) ?? empty,
    /** Keys with something in their list. */
    keys: (): string[] => [...lists.keys()],
    push: (key: string, item: T): void => set(key, [...store.get(key), item]),
    /** Takes the first item off the list. */
    shift(key: string): T | undefined {
      const [next, ...rest] = store.get(key);
      if (next) set(key, rest);
      return next;
    },
    /** Puts an item back at the front (a send that failed). */
    unshift: (key: string, item: T): void => set(key, [item, ...store.get(key)]),
    /** Takes the whole list. */
    take(key: string): readonly T[] {
      const all = store.get(key);
      if (all.length > 0) set(key, []);
      return all;
    },
    /** Moves a whole list behind another's (a new chat got its id; a closed new chat's messages to the next). */
    move(from: string, to: string): void {
      const moving = store.get(from);
      if (moving.length === 0) return;
      lists.delete(from);
      set(to, [...store.get(to), ...moving]);
    },
    /** Keeps only the items `keep` says yes to. */
    keep: (key: string, keep: (item: T) => boolean): void => set(key, store.get(key).filter(keep)),
    clear: (key: string): void => set(key, []),
    subscribe(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return store;
}

const queues = keyedLists<QueuedMessage>();
export const queueStore = {
  ...queues,
  remove: (key: string, id: string): void => queues.keep(key, (m) => m.id !== id),
};

/**
 * Messages whose send failed after their pane was closed, per conversation (a new chat's under `unsentKey`): the
 * conversation's pane, when it opens again (the next new chat), puts them back in its composer.
 */
export const returnedDrafts = keyedLists<ReturnedDraft>();

/** Edits that failed after their pane was closed, per conversation: its pane opens the message's editor with the text. */
export const returnedEdits = keyedLists<{ messageId: number; text: string }>();
