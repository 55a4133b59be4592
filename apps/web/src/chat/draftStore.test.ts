// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { createDraftStore, draftStore, maxDrafts } from "./draftStore.js";

afterEach(() => {
  localStorage.clear();
  vi.useRealTimers();
});

describe("draftStore", () => {
  it("keeps a draft per conversation in localStorage, and forgets a blank one", () => {
    draftStore.set("c1", "half a thought");
    draftStore.set("c2", "another");
    expect(draftStore.get("c1")).toBe("half a thought");
    expect(draftStore.get("c2")).toBe("another");
    expect(draftStore.get("c3")).toBe("");
    // What a reload reads: the browser's storage, not this module's memory.
    expect(createDraftStore(() => localStorage).get("c1")).toBe("half a thought");

    draftStore.set("c1", "  \n");
    expect(draftStore.get("c1")).toBe("");
    expect(localStorage.length).toBe(1);
  });

  it(`keeps the ${maxDrafts} drafts written last`, () => {
    vi.useFakeTimers();
    for (let i = 0; i <= maxDrafts; i++) {
      vi.setSystemTime(1_000 + i);
      draftStore.set(`c${i}`, `draft ${i}`);
    }
    expect(localStorage.length).toBe(maxDrafts);
    expect(draftStore.get("c0")).toBe("");
    expect(draftStore.get("c1")).toBe("draft 1");
    expect(draftStore.get(`c${maxDrafts}`)).toBe(`draft ${maxDrafts}`);
  });

  it("reads an entry it cannot parse as no draft, and works on without storage", () => {
    localStorage.setItem("streamchat.draft.c1", "{not json");
    localStorage.setItem("streamchat.draft.c2", JSON.stringify({ text: 42, at: 1 }));
    expect(draftStore.get("c1")).toBe("");
    expect(draftStore.get("c2")).toBe("");

    const refusing = createDraftStore(() => {
      throw new DOMException("The operation is insecure.", "SecurityError");
    });
    refusing.set("c1", "kept nowhere");
    expect(refusing.get("c1")).toBe("");
    const none = createDraftStore(() => null);
    none.set("c1", "kept nowhere");
    expect(none.get("c1")).toBe("");
  });

  it("hears of its conversation's draft written in another tab, and of one sent or cleared there", () => {
    const heard: string[] = [];
    const stop = draftStore.watch("c1", (text) => heard.push(text));
    const fromAnotherTab = (key: string | null, newValue: string | null) =>
      window.dispatchEvent(new StorageEvent("storage", { key, newValue, storageArea: localStorage }));
    fromAnotherTab("streamchat.draft.c1", JSON.stringify({ text: "typed there", at: 1 }));
    fromAnotherTab("streamchat.draft.c2", JSON.stringify({ text: "another conversation", at: 1 }));
    fromAnotherTab("streamchat.draft.c1", null);
    fromAnotherTab(null, null);
    stop();
    fromAnotherTab("streamchat.draft.c1", JSON.stringify({ text: "after stop", at: 1 }));
    expect(heard).toEqual(["typed there", "", ""]);
  });

  it("does not write a draft again that storage already holds (it would tell every other tab)", () => {
    draftStore.set("c1", "same");
    const written = vi.spyOn(Storage.prototype, "setItem");
    draftStore.set("c1", "same");
    expect(written).not.toHaveBeenCalled();
    draftStore.set("c1", "changed");
    expect(written).toHaveBeenCalledTimes(1);
    written.mockRestore();
  });

  describe("text files kept with the draft", () => {
    const notes = { name: "notes.md", text: "# Notes\n" };
    const data = { name: "data.csv", text: "a,b\n1,2\n" };

    it("keeps them by conversation beside the text, and forgets them when the tray empties or the conversation goes", () => {
      draftStore.set("c1", "about these");
      expect(draftStore.setFiles("c1", [notes, data])).toBe(true);
      expect(draftStore.setFiles("new", [data])).toBe(true);
      // What a reload reads: the browser's storage.
      const reloaded = createDraftStore(() => localStorage);
      expect(reloaded.files("c1")).toEqual([notes, data]);
      expect(reloaded.get("c1")).toBe("about these");
      expect(reloaded.files("new")).toEqual([data]);
      expect(reloaded.files("c2")).toEqual([]);

      // Files without text are a draft too: blank text leaves them.
      draftStore.set("c1", "");
      expect(draftStore.files("c1")).toEqual([notes, data]);
      draftStore.setFiles("c1", [data]);
      expect(draftStore.files("c1")).toEqual([data]);
      draftStore.setFiles("c1", []);
      expect(draftStore.files("c1")).toEqual([]);

      draftStore.set("new", "typed");
      draftStore.forget("new");
      expect([draftStore.get("new"), draftStore.files("new"), localStorage.length]).toEqual(["", [], 0]);
    });

    it("does not tell the typed text's watchers when the files change", () => {
      const heard: string[] = [];
      const stop = draftStore.watch("c1", (text) => heard.push(text));
      draftStore.setFiles("c1", [notes]);
      const item = Object.keys(localStorage).find((key) => key !== "streamchat.draft.c1")!;
      window.dispatchEvent(new StorageEvent("storage", { key: item, newValue: localStorage.getItem(item), storageArea: localStorage }));
      stop();
      expect(heard).toEqual([]);
    });

    it(`keeps the files of the ${maxDrafts} drafts that attached them last`, () => {
      vi.useFakeTimers();
      for (let i = 0; i <= maxDrafts; i++) {
        vi.setSystemTime(1_000 + i);
        draftStore.setFiles(`c${i}`, [{ name: `f${i}.txt`, text: "x" }]);
      }
      expect(localStorage.length).toBe(maxDrafts);
      expect(draftStore.files("c0")).toEqual([]);
      expect(draftStore.files("c1")).toEqual([{ name: "f1.txt", text: "x" }]);
    });

    it("drops what it cannot read back, and does not keep it taking room", () => {
      const stored = (value: unknown) => localStorage.setItem("streamchat.draftFiles.c1", typeof value === "string" ? value : JSON.stringify(value));
      for (const corrupt of [
        "{not json",
        "null",
        { at: 1, files: "notes.md" },
        { at: 1, files: [{ name: "notes.md" }] },
        { at: 1, files: [{ name: 7, text: "x" }] },
        { at: 1, files: [] },
        { files: [notes] },
      ]) {
        stored(corrupt);
        expect(draftStore.files("c1"), JSON.stringify(corrupt)).toEqual([]);
        expect(localStorage.getItem("streamchat.draftFiles.c1")).toBeNull();
      }
      // Only the name and text come back: nothing else stored with them reaches the tray.
      stored({ at: 1, files: [{ ...notes, type: "image", data: "AAAA" }] });
      expect(draftStore.files("c1")).toEqual([notes]);
    });

    /** localStorage with a quota of `chars` characters (keys and values), as a browser's ~5 MB. */
    function storageWithQuota(chars: number) {
      const items = new Map<string, string>();
      const used = () => [...items].reduce((n, [k, v]) => n + k.length + v.length, 0);
      const storage = {
        get length() {
          return items.size;
        },
        key: (i: number) => [...items.keys()][i] ?? null,
        getItem: (key: string) => items.get(key) ?? null,
        removeItem: (key: string) => void items.delete(key),
        setItem(key: string, value: string) {
          const before = items.get(key);
          items.set(key, value);
          if (used() <= chars) return;
          if (before === undefined) items.delete(key);
          else items.set(key, before);
          throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
        },
      };
      return { storage, items };
    }

    it("over the quota keeps the typed text without the files, and never throws", () => {
      const { storage, items } = storageWithQuota(2_000);
      const store = createDraftStore(() => storage);
      store.set("c1", "my question about the attached log");
      const big = { name: "big.log", text: "x".repeat(5_000) };
      expect(() => store.setFiles("c1", [big])).not.toThrow();
      expect(store.setFiles("c1", [big])).toBe(false);
      expect(store.files("c1")).toEqual([]);
      expect(store.get("c1")).toBe("my question about the attached log");

      // Files kept before and a larger set that no longer fits: the old ones do not come back after a reload.
      expect(store.setFiles("c1", [notes])).toBe(true);
      expect(store.setFiles("c1", [notes, big])).toBe(false);
      expect(store.files("c1")).toEqual([]);
      expect([...items.keys()]).toEqual(["streamchat.draft.c1"]);
    });

    it("makes room for typed text by leaving out kept files, the oldest first", () => {
      vi.useFakeTimers();
      const { storage } = storageWithQuota(3_000);
      const store = createDraftStore(() => storage);
      const file = (name: string) => [{ name, text: "x".repeat(1_200) }];
      vi.setSystemTime(1_000);
      expect(store.setFiles("old", file("old.txt"))).toBe(true);
      vi.setSystemTime(2_000);
      expect(store.setFiles("c1", file("new.txt"))).toBe(true);
      vi.setSystemTime(3_000);
      const typed = "y".repeat(600);
      expect(() => store.set("c1", typed)).not.toThrow();
      expect(store.get("c1")).toBe(typed);
      expect(store.files("old")).toEqual([]);
      expect(store.files("c1")).toEqual(file("new.txt"));

      // Text that fits nowhere, even without any files: not kept, and nothing thrown into the page.
      expect(() => store.set("c2", "z".repeat(5_000))).not.toThrow();
      expect(store.get("c2")).toBe("");
    });
  });
});
