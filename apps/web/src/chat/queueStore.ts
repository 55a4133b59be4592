import { attachmentSchema, thinkSettingSchema } from "@streamchat/core/browser";
import { z } from "zod";
import type { MessageAttachment } from "../capabilities/attachments.js";
import { randomId } from "../lib/ids.js";

/**
 * Messages typed while a reply streams, per conversation, outside React: a queue outlives the pane that
 * showed it, so switching conversations keeps it, and the app's background sender (QueueRunner) sends it
 * to its own conversation when the reply ends there. A new chat (no id yet) queues under a key of its own pane
 * (`newChatKey()`), so two new chats never share one; see `unsentKey` for what a closed new chat leaves behind.
 */
const queuedMessageSchema = z.object({
  id: z.string(),
  text: z.string(),
  /** Chosen when it was queued: it is sent with these even if the picker changed meanwhile. */
  model: z.string().nullable(),
  think: thinkSettingSchema,
  /** Images (vision models) and text files, sent with it. */
  attachments: z.array(attachmentSchema).optional(),
});
export type QueuedMessage = z.infer<typeof queuedMessageSchema>;

/** A message whose send failed after the user left its pane: the composer it came from is gone. */
const returnedDraftSchema = z.object({ text: z.string(), attachments: z.array(attachmentSchema) });
export type ReturnedDraft = z.infer<typeof returnedDraftSchema>;

/** An edit that failed after the user left its pane: the message and the text it was to get. */
const returnedEditSchema = z.object({ messageId: z.number(), text: z.string() });
type ReturnedEdit = z.infer<typeof returnedEditSchema>;

/** Conversation ids are UUIDs: no conversation's key starts like this. */
const newChatPrefix = "new:";

/** A key for one new chat's queue, taken by its pane. */
export function newChatKey(): string {
  return newChatPrefix + randomId();
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

/** Lists of items per key, outside React, for useSyncExternalStore; `saved` hears of every change (and its key). */
function keyedLists<T>(opts: { initial?: Map<string, readonly T[]>; saved?: (lists: ReadonlyMap<string, readonly T[]>, key: string) => void } = {}) {
  const empty: readonly T[] = Object.freeze([]);
  const lists = opts.initial ?? new Map<string, readonly T[]>();
  const listeners = new Set<() => void>();
  const set = (key: string, next: readonly T[]) => {
    if (next.length === 0) lists.delete(key);
    else lists.set(key, next);
    opts.saved?.(lists, key);
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
    /**
     * Replaces the lists of the keys `owns` says are its with `next`'s, without telling `saved` (they came from
     * where it writes to); the other keys' lists stay.
     */
    adopt(next: ReadonlyMap<string, readonly T[]>, owns: (key: string) => boolean): void {
      for (const key of [...lists.keys()]) if (owns(key) && !next.has(key)) lists.delete(key);
      for (const [key, list] of next) if (owns(key)) lists.set(key, list);
      for (const listener of listeners) listener();
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

/** How a kind of list is kept in localStorage: under one item, every key's list at once. */
interface StoredLists<T> {
  storageKey: string;
  item: z.ZodType<T>;
  /** The keys whose lists are kept (the others last as long as the page). */
  keeps: (key: string) => boolean;
  /**
   * The item with only the attachments `keep` says yes to: what is kept of it when storage is over its quota (images
   * go first, then files).
   */
  lighten: (item: T, keep: (attachment: MessageAttachment) => boolean) => T;
  /**
   * An item another tab wrote, with the attachments this page still has of it (`here`: this page's list of the same
   * key, `index`: the item's place in the written list), when storage kept it without some of them.
   */
  keepAttachments: (item: T, here: readonly T[], index: number) => T;
}

/** What each try to store a kind keeps of the items' attachments: all, files only, none (null: the items as they are). */
const lighterSteps: ReadonlyArray<((attachment: MessageAttachment) => boolean) | null> = [null, (a) => a.type === "file", () => false];

/** The attachments this page has of an item when storage kept fewer of them (left out to fit); undefined when it has no more. */
function fuller(stored: readonly MessageAttachment[] | undefined, here: readonly MessageAttachment[] | undefined): readonly MessageAttachment[] | undefined {
  return here && here.length > (stored?.length ?? 0) ? here : undefined;
}

/** What an earlier page (or another tab) kept; anything it cannot read is left out. */
function loadLists<T>(raw: string | null, kind: StoredLists<T>): Map<string, readonly T[]> {
  const loaded = new Map<string, readonly T[]>();
  let stored: unknown;
  try {
    stored = raw === null ? null : JSON.parse(raw);
  } catch {
    return loaded;
  }
  if (typeof stored !== "object" || stored === null || Array.isArray(stored)) return loaded;
  for (const [key, list] of Object.entries(stored)) {
    const items = Array.isArray(list) ? list.flatMap((m) => kind.item.safeParse(m).data ?? []) : [];
    if (kind.keeps(key) && items.length > 0) loaded.set(key, items);
  }
  return loaded;
}

/** Writes every kept list of a kind once one of them changed (`changed`). */
function saveLists<T>(kind: StoredLists<T>) {
  return (lists: ReadonlyMap<string, readonly T[]>, changed: string): void => {
    if (!kind.keeps(changed)) return;
    try {
      const kept = [...lists].filter(([key]) => kind.keeps(key));
      if (kept.length === 0) return localStorage.removeItem(kind.storageKey);
      // Over the quota: attachments are what make a list large. Images go first (megabytes each), then files (up to
      // a few hundred KB); the text of every item is still kept, and what was left out stays in this page's memory.
      for (const keep of lighterSteps) {
        const lighter = keep === null ? kept : kept.map(([key, list]) => [key, list.map((item) => kind.lighten(item, keep))]);
        try {
          localStorage.setItem(kind.storageKey, JSON.stringify(Object.fromEntries(lighter)));
          return;
        } catch {
          // Still too large (or storage refuses any write): lighter next.
        }
      }
    } catch {
      // Storage disabled or full: the lists last as long as the page.
    }
  };
}

/** The lists of a kind this page starts with: what an earlier page kept. */
function storedLists<T>(kind: StoredLists<T>): Map<string, readonly T[]> {
  try {
    return loadLists(typeof localStorage === "undefined" ? null : localStorage.getItem(kind.storageKey), kind);
  } catch {
    return new Map();
  }
}

/** Every kept kind's storage item, and how a page takes what another tab wrote there (the storage event, below). */
const keptKinds: Array<{ storageKey: string; adoptStored: (raw: string | null) => void }> = [];

/**
 * keyedLists kept in localStorage as `kind` says, starting with what an earlier page kept. `adoptStored` takes what
 * another tab wrote: every tab writes all of a kind's lists at once, so a tab that kept its own copy would write over
 * the other's (a reload or a crash then lost what it held) and would still act on an item the other had taken away.
 */
function keptLists<T>(kind: StoredLists<T>) {
  const lists = keyedLists<T>({ initial: storedLists(kind), saved: saveLists(kind) });
  const adoptStored = (raw: string | null): void => {
    const stored = loadLists(raw, kind);
    for (const [key, list] of stored) {
      const here = lists.get(key);
      stored.set(key, list.map((item, index) => kind.keepAttachments(item, here, index)));
    }
    lists.adopt(stored, kind.keeps);
  };
  keptKinds.push({ storageKey: kind.storageKey, adoptStored });
  return { ...lists, adoptStored };
}

/**
 * Conversations' queues are kept in localStorage too, so a reload or a closed tab does not lose them: on the next
 * load the background sender sends each one when its conversation's answer ends, as it would have. The server runs a
 * clientRequestId once, so a message another open tab also sends runs once. A new chat's queue is not kept: it lives
 * only while the chat's first message is on its way, and another tab must not take it for its own new chat.
 */
const storedQueueKind: StoredLists<QueuedMessage> = {
  storageKey: "streamchat.queues",
  item: queuedMessageSchema,
  keeps: isConversationKey,
  lighten: (m, keep) => (m.attachments?.length ? { ...m, attachments: m.attachments.filter(keep) } : m),
  keepAttachments(m, here) {
    const attachments = fuller(m.attachments, here.find((h) => h.id === m.id)?.attachments);
    return attachments ? { ...m, attachments: [...attachments] } : m;
  },
};

/** What an earlier page kept of the conversations' queues; anything it cannot read is left out. */
export const loadQueues = (raw: string | null): Map<string, readonly QueuedMessage[]> => loadLists(raw, storedQueueKind);

const queues = keptLists(storedQueueKind);

/**
 * Takes the conversations' queues another tab wrote. Both tabs may send the same message: the server runs its
 * clientRequestId once. A message whose attachments did not fit in storage keeps them where they are still in memory.
 */
export const adoptStoredQueues = (raw: string | null): void => queues.adoptStored(raw);

export const queueStore = {
  ...queues,
  remove: (key: string, id: string): void => queues.keep(key, (m) => m.id !== id),
};

/**
 * Messages whose send failed after their pane was closed, per conversation (a new chat's under `unsentKey`): the
 * conversation's pane, when it opens again (the next new chat), puts them back in its composer. Kept in localStorage
 * like the queues, so a reload or a closed tab before that pane opens loses none of them; the pane of whichever tab
 * opens first takes them (the others hear of it, below).
 */
const returnedDraftKind: StoredLists<ReturnedDraft> = {
  storageKey: "streamchat.returnedDrafts",
  item: returnedDraftSchema,
  keeps: () => true,
  lighten: (draft, keep) => ({ ...draft, attachments: draft.attachments.filter(keep) }),
  keepAttachments(draft, here, index) {
    const attachments = here[index]?.text === draft.text ? fuller(draft.attachments, here[index].attachments) : undefined;
    return attachments ? { ...draft, attachments: [...attachments] } : draft;
  },
};
export const returnedDrafts = keptLists(returnedDraftKind);

/**
 * Takes the messages given back that another tab wrote (its pane took some, or it gave one back). A message whose
 * attachments did not fit in storage keeps them where they are still in memory.
 */
export const adoptStoredReturnedDrafts = (raw: string | null): void => returnedDrafts.adoptStored(raw);

/** Edits that failed after their pane was closed, per conversation: its pane opens the message's editor with the text. */
const returnedEditKind: StoredLists<ReturnedEdit> = {
  storageKey: "streamchat.returnedEdits",
  item: returnedEditSchema,
  keeps: () => true,
  lighten: (edit) => edit,
  keepAttachments: (edit) => edit,
};
export const returnedEdits = keptLists(returnedEditKind);

/**
 * A conversation's queue held behind a message that was not sent (the message that failed, for the pane to name). The
 * message went back to the composer; what was queued after it waits until the user sends it again (or another message
 * in its place) or says to go on without it, so the conversation keeps the order the user wrote in. Kept in
 * localStorage like the queues: a reload must not send the rest first. A new chat's hold lives as long as its queue.
 */
const heldQueueSchema = z.object({ text: z.string() });
export type HeldQueue = z.infer<typeof heldQueueSchema>;
const heldQueueKind: StoredLists<HeldQueue> = {
  storageKey: "streamchat.heldQueues",
  item: heldQueueSchema,
  keeps: isConversationKey,
  lighten: (held) => held,
  keepAttachments: (held) => held,
};
const holds = keptLists(heldQueueKind);

export const queueHolds = {
  subscribe: holds.subscribe,
  keys: holds.keys,
  /** The failed message the queue of `key` waits for, or null: nothing holds it. */
  get: (key: string): HeldQueue | null => holds.get(key)[0] ?? null,
  /** Holds the queue of `key` behind the message `text` (the first message that failed, if it is held already). */
  hold(key: string, text: string): void {
    if (holds.get(key).length === 0) holds.push(key, { text });
  },
  release: (key: string): void => holds.clear(key),
  /** Goes with its queue (queueStore.move). */
  move: (from: string, to: string): void => holds.move(from, to),
};

if (typeof window !== "undefined") {
  window.addEventListener("storage", (event) => {
    if (event.storageArea !== localStorage) return;
    // key null: the other tab cleared all of storage. A message given back is taken by the first pane to open its
    // conversation, in whichever tab: not twice.
    for (const kept of keptKinds) if (event.key === kept.storageKey || event.key === null) kept.adoptStored(event.newValue);
  });
}
