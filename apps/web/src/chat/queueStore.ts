/**
 * Messages typed while a reply streams, per conversation, outside React: a queue outlives the pane that
 * showed it, so switching conversations keeps it, and the app's background sender (QueueRunner) sends it
 * to its own conversation when the reply ends there. Key "" is the new chat (no id yet).
 */
export interface QueuedMessage {
  id: string;
  text: string;
  /** Chosen when it was queued: it is sent with these even if the picker changed meanwhile. */
  model: string | null;
  think: boolean | "low" | "medium" | "high";
  /** Images (vision models), sent with it. */
  attachments?: Array<{ type: "image"; mimeType: "image/png" | "image/jpeg" | "image/webp" | "image/gif"; data: string }>;
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
  /** The new chat got its id: its queue goes with it. */
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
