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
  attachments?: Array<{ type: "image"; mimeType: "image/png" | "image/jpeg" | "image/webp" | "image/gif"; data: string }>;
  /** A new chat's first message whose send failed after its pane closed: the next new chat's composer gets it back. */
  returned?: true;
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

const empty: readonly QueuedMessage[] = Object.freeze([]);
const queues = new Map<string, readonly QueuedMessage[]>();
const listeners = new Set<() => void>();

function set(key: string, next: readonly QueuedMessage[]) {
  if (next.length === 0) queues.delete(key);
  else queues.set(key, next);
  for (const listener of listeners) listener();
}

export const queueStore = {
  /** The same array until it changes (useSyncExternalStore snapshot). */
  get(key: string): readonly QueuedMessage[] {
    return queues.get(key) ?? empty;
  },
  /** Conversations with something queued. */
  keys(): string[] {
    return [...queues.keys()];
  },
  push(key: string, message: QueuedMessage): void {
    set(key, [...queueStore.get(key), message]);
  },
  /** Takes the next message off the queue. */
  shift(key: string): QueuedMessage | undefined {
    const [next, ...rest] = queueStore.get(key);
    if (next) set(key, rest);
    return next;
  },
  /** Puts a message back at the front (a send that failed). */
  unshift(key: string, message: QueuedMessage): void {
    set(key, [message, ...queueStore.get(key)]);
  },
  remove(key: string, id: string): void {
    set(
      key,
      queueStore.get(key).filter((m) => m.id !== id),
    );
  },
  /** Moves a whole queue behind another's (a new chat got its id; a closed new chat's messages to the next). */
  move(from: string, to: string): void {
    const moving = queueStore.get(from);
    if (moving.length === 0) return;
    queues.delete(from);
    set(to, [...queueStore.get(to), ...moving]);
  },
  clear(key: string): void {
    set(key, []);
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
