import { useSyncExternalStore } from "react";
import { newChatDraft } from "./draftStore.js";

/**
 * One of a new chat's own settings (its instructions, its sampling), set before its first message from the header:
 * kept in localStorage under the new chat's draft key, as the message box's draft is (draftStore), so a reload keeps it
 * and the next new chat has it until it is sent. Its first message takes it along (chat.send), and it is forgotten then.
 * Storage may refuse (disabled, private mode, quota): it lasts as long as the page then.
 */
export interface SettingsDraftKind<T> {
  /** Its localStorage item, before the draft key. */
  item: string;
  /** None set: not stored, and not sent. */
  none: T;
  /** Its stored JSON read back; undefined when it is not one (another version's, or edited by hand): none then. */
  read: (stored: unknown) => T | undefined;
  /** What is stored for it (JSON). */
  write: (value: T) => unknown;
  /** As it is kept (trimmed, within the API's limits): what the dialog shows again, and what is sent. */
  tidy?: (value: T) => T;
  same: (a: T, b: T) => boolean;
}

/** Where the drafts are kept (localStorage); null, or one that throws, keeps them for the page only. */
export type SettingsStorage = () => Pick<Storage, "getItem" | "setItem" | "removeItem"> | null;

export interface SettingsDraft<T> {
  get: () => T;
  /** Keeps `value` (tidied) for the new chat; none forgets it. */
  set: (value: T) => void;
  /** For useSyncExternalStore: hears of changes here and in other tabs (the same new chat's header follows them there too). */
  subscribe: (listener: () => void) => () => void;
}

export function createSettingsDraft<T>(kind: SettingsDraftKind<T>, storage: SettingsStorage, key: string = newChatDraft): SettingsDraft<T> {
  const item = `${kind.item}.${key}`;
  const listeners = new Set<() => void>();
  const read = (raw: string | null): T => {
    if (raw === null) return kind.none;
    try {
      return kind.read(JSON.parse(raw)) ?? kind.none;
    } catch {
      return kind.none;
    }
  };
  // What this page knows: read once, then kept here too (storage that refuses a write loses nothing for the page). The
  // same value is the same object, as useSyncExternalStore needs: a change that changes nothing keeps the one there.
  let current: { value: T } | null = null;
  const load = (): T => {
    if (current !== null) return current.value;
    let value: T;
    try {
      value = read(storage()?.getItem(item) ?? null);
    } catch {
      value = kind.none;
    }
    current = { value };
    return value;
  };
  const changed = (value: T) => {
    if (current !== null && kind.same(value, current.value)) return;
    current = { value };
    for (const listener of listeners) listener();
  };

  return {
    get: load,
    set(value: T): void {
      const kept = kind.tidy ? kind.tidy(value) : value;
      changed(kept);
      try {
        const s = storage();
        if (kind.same(kept, kind.none)) s?.removeItem(item);
        else s?.setItem(item, JSON.stringify(kind.write(kept)));
      } catch {
        // Kept for this page only.
      }
    },
    subscribe(listener: () => void): () => void {
      listeners.add(listener);
      const fromOtherTab = (event: StorageEvent) => {
        if (event.key === item || event.key === null) changed(read(event.newValue));
      };
      if (typeof window !== "undefined") window.addEventListener("storage", fromOtherTab);
      return () => {
        listeners.delete(listener);
        if (typeof window !== "undefined") window.removeEventListener("storage", fromOtherTab);
      };
    },
  };
}

/** The browser's localStorage, where there is one. */
export const browserStorage: SettingsStorage = () => (typeof localStorage === "undefined" ? null : localStorage);

/** A new chat's setting (none when it has none), and a way to keep another. */
export function useSettingsDraft<T>(draft: SettingsDraft<T>): [T, (value: T) => void] {
  const value = useSyncExternalStore(draft.subscribe, draft.get, draft.get);
  return [value, draft.set];
}
