import { maxInstructionsChars } from "@streamchat/core/browser";
import { useSyncExternalStore } from "react";
import { z } from "zod";
import { newChatDraft } from "./draftStore.js";

/**
 * A new chat's own instructions, set before its first message (the header's button): kept in localStorage under the
 * new chat's draft key, as the message box's draft is (draftStore), so a reload keeps them and the next new chat has
 * them until they are sent. Its first message takes them along (chat.send `instructions`), and they are forgotten then.
 * Storage may refuse (disabled, private mode, quota): they last as long as the page then.
 */
const storedSchema = z.object({ text: z.string().max(maxInstructionsChars) });

type InstructionsStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

export function createInstructionsDraft(storage: () => InstructionsStorage | null, key: string = newChatDraft) {
  const item = `streamchat.draftInstructions.${key}`;
  const listeners = new Set<() => void>();
  const read = (raw: string | null): string => {
    if (raw === null) return "";
    try {
      return storedSchema.safeParse(JSON.parse(raw)).data?.text ?? "";
    } catch {
      return "";
    }
  };
  /** What this page knows: read once, then kept here too (storage that refuses a write loses nothing for the page). */
  let current: string | null = null;
  const load = (): string => {
    if (current !== null) return current;
    try {
      current = read(storage()?.getItem(item) ?? null);
    } catch {
      current = "";
    }
    return current;
  };
  const changed = (text: string) => {
    if (text === current) return;
    current = text;
    for (const listener of listeners) listener();
  };

  return {
    get: load,
    /** Keeps `text` (trimmed, at most the API's 4,000 characters) as the new chat's instructions; "" forgets them. */
    set(text: string): void {
      const kept = text.trim().slice(0, maxInstructionsChars);
      changed(kept);
      try {
        const s = storage();
        if (kept === "") s?.removeItem(item);
        else s?.setItem(item, JSON.stringify({ text: kept } satisfies z.infer<typeof storedSchema>));
      } catch {
        // Kept for this page only.
      }
    },
    /** For useSyncExternalStore: hears of changes here and in other tabs (the same new chat's box follows them there too). */
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

export const newChatInstructions = createInstructionsDraft(() => (typeof localStorage === "undefined" ? null : localStorage));

/** The new chat's instructions ("" when none), and a way to keep others. */
export function useNewChatInstructions(): [string, (text: string) => void] {
  const text = useSyncExternalStore(newChatInstructions.subscribe, newChatInstructions.get, newChatInstructions.get);
  return [text, newChatInstructions.set];
}
