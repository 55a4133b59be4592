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
});
