// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  adoptStoredQueues,
  adoptStoredReturnedDrafts,
  loadQueues,
  newChatKey,
  queueHolds,
  queueStore,
  returnedDrafts,
  returnedEdits,
  unsentKey,
  type QueuedMessage,
} from "./queueStore.js";

const conversation = "0196f0c4-0000-7000-8000-000000000001";
const image = { type: "image" as const, mimeType: "image/png" as const, data: "A".repeat(5_000) };
const stored = () => loadQueues(localStorage.getItem("streamchat.queues"));

afterEach(() => {
  vi.restoreAllMocks();
  for (const lists of [queueStore, returnedDrafts, returnedEdits]) for (const key of lists.keys()) lists.clear(key);
  for (const key of queueHolds.keys()) queueHolds.release(key);
  localStorage.clear();
});

describe("queues kept in localStorage", () => {
  it("keeps a queued message's text when its images do not fit in storage, and its images in memory", () => {
    const setItem = Storage.prototype.setItem;
    // A quota that takes text but not images.
    vi.spyOn(Storage.prototype, "setItem").mockImplementation(function (this: Storage, key: string, value: string) {
      if (value.length > 2_000) throw new DOMException("quota", "QuotaExceededError");
      setItem.call(this, key, value);
    });
    const withImage: QueuedMessage = { id: "1", text: "look at this", model: null, think: false, attachments: [image] };
    const plain: QueuedMessage = { id: "2", text: "and then this", model: null, think: false };
    queueStore.push(conversation, withImage);
    queueStore.push(conversation, plain);

    expect(stored().get(conversation)?.map((m) => ({ text: m.text, images: m.attachments?.length ?? 0 }))).toEqual([
      { text: "look at this", images: 0 },
      { text: "and then this", images: 0 },
    ]);
    expect(queueStore.get(conversation)[0]?.attachments).toEqual([image]);
    // What another tab's write of the same queue looks like here (its storage event): the images stay.
    adoptStoredQueues(localStorage.getItem("streamchat.queues"));
    expect(queueStore.get(conversation).map((m) => m.attachments ?? [])).toEqual([[image], []]);
  });
});

describe("text files on queued messages, kept in localStorage", () => {
  const file = { type: "file" as const, name: "notes.md", text: "n".repeat(1_500) };
  /** A quota that takes up to `chars` characters in one item. */
  const quota = (chars: number) => {
    const setItem = Storage.prototype.setItem;
    vi.spyOn(Storage.prototype, "setItem").mockImplementation(function (this: Storage, key: string, value: string) {
      if (value.length > chars) throw new DOMException("quota", "QuotaExceededError");
      setItem.call(this, key, value);
    });
  };

  it("keeps a queued message's files across a reload", async () => {
    queueStore.push(conversation, { id: "1", text: "read this", model: null, think: false, attachments: [file] });
    vi.resetModules();
    const next = await import("./queueStore.js");
    expect(next.queueStore.get(conversation)[0]?.attachments).toEqual([file]);
  });

  it("leaves out the images first when storage is short, then the files; this page keeps them all", () => {
    quota(4_000); // room for the file, not for the image
    queueStore.push(conversation, { id: "1", text: "both", model: null, think: false, attachments: [image, file] });
    expect(stored().get(conversation)?.[0]?.attachments).toEqual([file]);
    expect(queueStore.get(conversation)[0]?.attachments).toEqual([image, file]);
    // Another tab's write of the same queue (without the image): this tab keeps what it has.
    adoptStoredQueues(localStorage.getItem("streamchat.queues"));
    expect(queueStore.get(conversation)[0]?.attachments).toEqual([image, file]);

    vi.restoreAllMocks();
    quota(1_000); // room for the text only
    returnedDrafts.push(conversation, { text: "given back", attachments: [file] });
    expect(JSON.parse(localStorage.getItem("streamchat.returnedDrafts")!)).toEqual({ [conversation]: [{ text: "given back", attachments: [] }] });
    adoptStoredReturnedDrafts(localStorage.getItem("streamchat.returnedDrafts"));
    expect(returnedDrafts.get(conversation)).toEqual([{ text: "given back", attachments: [file] }]);
  });
});

describe("messages and edits given back, kept in localStorage", () => {
  it("keeps a message given back until a pane takes it, and a reload starts with it", async () => {
    returnedDrafts.push(conversation, { text: "lost on the way", attachments: [image] });
    returnedDrafts.push(unsentKey, { text: "a new chat's first message", attachments: [] });
    returnedEdits.push(conversation, { messageId: 7, text: "edited on the way" });

    // The next page (a reload, or a tab opened later) starts with what this one kept.
    vi.resetModules();
    const next = await import("./queueStore.js");
    expect(next.returnedDrafts.get(conversation)).toEqual([{ text: "lost on the way", attachments: [image] }]);
    expect(next.returnedDrafts.get(unsentKey)).toEqual([{ text: "a new chat's first message", attachments: [] }]);
    expect(next.returnedEdits.get(conversation)).toEqual([{ messageId: 7, text: "edited on the way" }]);

    // Taken by the conversation's pane: gone from storage too, so no later page gives it back twice.
    next.returnedDrafts.take(conversation);
    next.returnedEdits.take(conversation);
    vi.resetModules();
    const after = await import("./queueStore.js");
    expect(after.returnedDrafts.get(conversation)).toEqual([]);
    expect(after.returnedDrafts.get(unsentKey)).toHaveLength(1);
    expect(after.returnedEdits.get(conversation)).toEqual([]);
  });

  it("keeps the text of a message given back when its images do not fit in storage", async () => {
    const setItem = Storage.prototype.setItem;
    vi.spyOn(Storage.prototype, "setItem").mockImplementation(function (this: Storage, key: string, value: string) {
      if (value.length > 2_000) throw new DOMException("quota", "QuotaExceededError");
      setItem.call(this, key, value);
    });
    returnedDrafts.push(conversation, { text: "with a photo", attachments: [image] });
    expect(returnedDrafts.get(conversation)).toEqual([{ text: "with a photo", attachments: [image] }]);
    // Another tab's write of the same lists (text only): the images stay in this tab.
    adoptStoredReturnedDrafts(localStorage.getItem("streamchat.returnedDrafts"));
    expect(returnedDrafts.get(conversation)).toEqual([{ text: "with a photo", attachments: [image] }]);
    vi.resetModules();
    const next = await import("./queueStore.js");
    expect(next.returnedDrafts.get(conversation)).toEqual([{ text: "with a photo", attachments: [] }]);
  });

  it("lets the pane of another tab take a message given back: this tab does not give it back again", () => {
    returnedDrafts.push(conversation, { text: "lost on the way", attachments: [] });
    const before = localStorage.getItem("streamchat.returnedDrafts");
    expect(before).not.toBeNull();
    // The other tab's pane took it: its write removed the item.
    window.dispatchEvent(new StorageEvent("storage", { key: "streamchat.returnedDrafts", oldValue: before, newValue: null, storageArea: localStorage }));
    expect(returnedDrafts.get(conversation)).toEqual([]);
  });
});

describe("a queue held behind a message that was not sent, kept in localStorage", () => {
  it("is still held after a reload, and released in every tab", async () => {
    const newChat = newChatKey();
    queueHolds.hold(conversation, "not sent");
    queueHolds.hold(conversation, "a later failure does not replace it");
    queueHolds.hold(newChat, "a new chat's");
    expect(queueHolds.get(conversation)).toEqual({ text: "not sent" });

    vi.resetModules();
    const next = await import("./queueStore.js");
    expect(next.queueHolds.get(conversation)).toEqual({ text: "not sent" });
    // A new chat's queue is not kept, nor what holds it.
    expect(next.queueHolds.get(newChat)).toBeNull();

    // Another tab sent it again: this one hears of it.
    const before = localStorage.getItem("streamchat.heldQueues");
    next.queueHolds.release(conversation);
    window.dispatchEvent(new StorageEvent("storage", { key: "streamchat.heldQueues", oldValue: before, newValue: null, storageArea: localStorage }));
    expect(queueHolds.get(conversation)).toBeNull();
  });
});
