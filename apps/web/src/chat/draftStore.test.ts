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
});
