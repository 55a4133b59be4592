// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { adoptStoredQueues, loadQueues, queueStore, type QueuedMessage } from "./queueStore.js";

const conversation = "0196f0c4-0000-7000-8000-000000000001";
const image = { type: "image" as const, mimeType: "image/png" as const, data: "A".repeat(5_000) };
const stored = () => loadQueues(localStorage.getItem("streamchat.queues"));

afterEach(() => {
  vi.restoreAllMocks();
  for (const key of queueStore.keys()) queueStore.clear(key);
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
