import { z } from "zod";

/**
 * What the user typed and has not sent, per conversation (a new chat's under `newChatDraft`), kept in localStorage:
 * opening another conversation, a reload or a closed tab keeps it, as the best chat apps do. With it the text files
 * attached to it (name and text); not images, which would soon fill localStorage's few MB: they stay with the page.
 *
 * One item per draft, written as the user types: a keystroke writes its own conversation's text, not every draft. The
 * files are an item of their own, written when the tray changes: up to 8 files of 100,000 characters each are far
 * too much to write again with every keystroke (and to send to every other tab with it).
 *
 * localStorage holds ~5 MB for the whole app (the queues too), and files fill it first. The typed text always wins:
 * files that do not fit are not kept (the tray keeps them for this page), and a text that does not fit makes room by
 * leaving out kept files, the oldest first.
 */
export const newChatDraft = "new";

const prefix = "streamchat.draft.";
const filesPrefix = "streamchat.draftFiles.";
/** Drafts kept at most (and as many drafts' files); the oldest go first (a draft left in a conversation never opened again). */
export const maxDrafts = 50;

type DraftStorage = Pick<Storage, "getItem" | "setItem" | "removeItem" | "key" | "length">;

const storedDraftSchema = z.object({
  text: z.string(),
  /** When it was last written (ms): which drafts go first. */
  at: z.number(),
});
type StoredDraft = z.infer<typeof storedDraftSchema>;

/** A text file kept with a draft: what the tray needs to show and send it again (checked again when read back). */
export interface DraftTextFile {
  name: string;
  text: string;
}

const storedFilesSchema = z.object({
  /** First in the item, so finding the oldest does not parse megabytes of files (atOf). */
  at: z.number(),
  files: z.array(z.object({ name: z.string(), text: z.string() })).min(1),
});
type StoredFiles = z.infer<typeof storedFilesSchema>;

function parseWith<T>(schema: z.ZodType<T>, raw: string | null): T | null {
  if (raw === null) return null;
  try {
    return schema.safeParse(JSON.parse(raw)).data ?? null;
  } catch {
    return null;
  }
}

const parse = (raw: string | null): StoredDraft | null => parseWith(storedDraftSchema, raw);

/** When an item was written; 0 when it cannot be read (it goes first). */
function atOf(raw: string | null): number {
  if (raw === null) return 0;
  const leading = /^\{"at":(\d+)[,}]/.exec(raw);
  if (leading) return Number(leading[1]);
  try {
    const at: unknown = (JSON.parse(raw) as { at?: unknown } | null)?.at;
    return typeof at === "number" ? at : 0;
  } catch {
    return 0;
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

  /** The items under `under`, the oldest written first (one that cannot be read counts as oldest). */
  const oldestFirst = (s: DraftStorage, under: string): string[] => {
    const drafts: Array<{ item: string; at: number }> = [];
    for (let i = 0; i < s.length; i++) {
      const item = s.key(i);
      if (item?.startsWith(under)) drafts.push({ item, at: atOf(s.getItem(item)) });
    }
    return drafts.sort((a, b) => a.at - b.at).map((d) => d.item);
  };

  const dropOldest = (s: DraftStorage, under: string) => {
    const items = oldestFirst(s, under);
    for (const item of items.slice(0, Math.max(0, items.length - maxDrafts))) s.removeItem(item);
  };

  /** Writes a draft's text; over the quota, kept files leave (the oldest first) until it fits: typed text is never lost to them. */
  const writeText = (s: DraftStorage, item: string, value: string) => {
    try {
      return s.setItem(item, value);
    } catch (error) {
      const files = oldestFirst(s, filesPrefix);
      if (files.length === 0) throw error;
      for (const kept of files) {
        s.removeItem(kept);
        try {
          return s.setItem(item, value);
        } catch {
          // Still too large: the next ones go too.
        }
      }
      throw error;
    }
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
        writeText(s, item, JSON.stringify({ text, at: Date.now() } satisfies StoredDraft));
        if (added) dropOldest(s, prefix);
      }, undefined);
    },
    /** The text files kept with `key`'s draft; none when there are none or what is stored cannot be read (it is dropped). */
    files(key: string): DraftTextFile[] {
      return attempt((s) => {
        const item = filesPrefix + key;
        const raw = s.getItem(item);
        const stored = parseWith(storedFilesSchema, raw);
        // Unreadable (another version, a hand edit): no files, and not kept taking room.
        if (raw !== null && stored === null) s.removeItem(item);
        return stored?.files.map(({ name, text }) => ({ name, text })) ?? [];
      }, []);
    },
    /**
     * Keeps `files` with `key`'s draft (none: forgets them). Returns whether they are kept: over the quota they are not,
     * and the files kept before go too, or a reload would bring back files the user has removed since.
     */
    setFiles(key: string, files: readonly DraftTextFile[]): boolean {
      return attempt((s) => {
        const item = filesPrefix + key;
        if (files.length === 0) {
          s.removeItem(item);
          return true;
        }
        const added = s.getItem(item) === null;
        const stored: StoredFiles = { at: Date.now(), files: files.map(({ name, text }) => ({ name, text })) };
        try {
          s.setItem(item, JSON.stringify(stored));
        } catch {
          s.removeItem(item);
          return false;
        }
        if (added) dropOldest(s, filesPrefix);
        return true;
      }, false);
    },
    /** Forgets `key`'s draft and its files (a deleted conversation). */
    forget(key: string): void {
      attempt((s) => {
        s.removeItem(prefix + key);
        s.removeItem(filesPrefix + key);
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
