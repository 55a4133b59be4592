import { z } from "zod";

/**
 * What the user typed and has not sent, per conversation (a new chat's under `newChatDraft`), kept in localStorage:
 * opening another conversation, a reload or a closed tab keeps it, as the best chat apps do. Text only: images
 * would soon fill localStorage's few MB, and stay with the page.
 *
 * One item per draft, written as the user types: a keystroke writes its own conversation's text, not every draft.
 */
export const newChatDraft = "new";

const prefix = "streamchat.draft.";
/** Drafts kept at most; the oldest go first (a draft left in a conversation never opened again). */
export const maxDrafts = 50;

type DraftStorage = Pick<Storage, "getItem" | "setItem" | "removeItem" | "key" | "length">;

const storedDraftSchema = z.object({
  text: z.string(),
  /** When it was last written (ms): which drafts go first. */
  at: z.number(),
});
type StoredDraft = z.infer<typeof storedDraftSchema>;

function parse(raw: string | null): StoredDraft | null {
  if (raw === null) return null;
  try {
    return storedDraftSchema.safeParse(JSON.parse(raw)).data ?? null;
  } catch {
    return null;
  }
}

export function createDraftStore(storage: () => DraftStorage | null) {
  /** Storage can refuse any call (disabled, private mode, quota): a draft then lasts as long as the page. */
  const attempt = <T>(fn: (s: DraftStorage) => T, fallback: T): T => {
    try {
      const s = storage();
      return s ? fn(s) : fallback;
    } catch {
      return fallback;
    }
  };

  const dropOldest = (s: DraftStorage) => {
    const drafts: Array<{ item: string; at: number }> = [];
    for (let i = 0; i < s.length; i++) {
      const item = s.key(i);
      if (item?.startsWith(prefix)) drafts.push({ item, at: parse(s.getItem(item))?.at ?? 0 });
    }
    drafts.sort((a, b) => a.at - b.at);
    for (const { item } of drafts.slice(0, Math.max(0, drafts.length - maxDrafts))) s.removeItem(item);
  };

  return {
    get: (key: string): string => attempt((s) => parse(s.getItem(prefix + key))?.text ?? "", ""),
    /** Keeps `text` as the draft of `key`; blank text removes it. */
    set(key: string, text: string): void {
      attempt((s) => {
        const item = prefix + key;
        if (text.trim() === "") return s.removeItem(item);
        const stored = s.getItem(item);
        // Unchanged (a draft another tab wrote, now shown here): writing it again would only tell the others.
        if (parse(stored)?.text === text) return;
        const added = stored === null;
        s.setItem(item, JSON.stringify({ text, at: Date.now() } satisfies StoredDraft));
        if (added) dropOldest(s);
      }, undefined);
    },
    /**
     * Hears of `key`'s draft written in another tab ("" when it was sent, emptied or storage cleared there): a box
     * the user left alone takes it, so closing either tab keeps what was typed in the other.
     */
    watch(key: string, changed: (text: string) => void): () => void {
      if (typeof window === "undefined") return () => {};
      const listener = (event: StorageEvent) => {
        if (event.key === prefix + key || event.key === null) changed(parse(event.newValue)?.text ?? "");
      };
      window.addEventListener("storage", listener);
      return () => window.removeEventListener("storage", listener);
    },
  };
}

export const draftStore = createDraftStore(() => (typeof localStorage === "undefined" ? null : localStorage));
