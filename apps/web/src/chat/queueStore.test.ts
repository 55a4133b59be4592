import { afterEach, describe, expect, it } from "vitest";
import { adoptStoredQueues, isConversationKey, loadQueues, newChatKey, queueStore, returnedDrafts, unsentKey, type QueuedMessage } from "./queueStore.js";

const q = (id: string): QueuedMessage => ({ id, text: `text ${id}`, model: null, think: false });

afterEach(() => {
  for (const key of queueStore.keys()) queueStore.clear(key);
});

describe("queueStore", () => {
  it("keeps a queue per conversation, in order", () => {
    queueStore.push("a", q("1"));
    queueStore.push("b", q("2"));
    queueStore.push("a", q("3"));
    expect(queueStore.get("a").map((m) => m.id)).toEqual(["1", "3"]);
    expect(queueStore.get("b").map((m) => m.id)).toEqual(["2"]);
    expect(queueStore.shift("a")?.id).toBe("1");
    expect(queueStore.get("a").map((m) => m.id)).toEqual(["3"]);
    queueStore.unshift("a", q("1"));
    queueStore.remove("a", "3");
    queueStore.remove("a", "unknown");
    expect(queueStore.get("a").map((m) => m.id)).toEqual(["1"]);
    expect(queueStore.keys().sort()).toEqual(["a", "b"]);
  });

  it("returns the same snapshot until it changes, and notifies on change", () => {
    let calls = 0;
    const unsubscribe = queueStore.subscribe(() => calls++);
    const before = queueStore.get("a");
    expect(queueStore.get("a")).toBe(before);
    queueStore.push("a", q("1"));
    const after = queueStore.get("a");
    expect(after).not.toBe(before);
    expect(queueStore.get("a")).toBe(after);
    expect(calls).toBe(1);
    unsubscribe();
    queueStore.push("a", q("2"));
    expect(calls).toBe(1);
  });

  it("moves a new chat's queue to its conversation id", () => {
    const key = newChatKey();
    queueStore.push(key, q("1"));
    queueStore.move(key, "c1");
    expect(queueStore.get(key)).toEqual([]);
    expect(queueStore.get("c1").map((m) => m.id)).toEqual(["1"]);
    expect(queueStore.keys()).toEqual(["c1"]);
  });

  it("keys each new chat apart from the others and from every conversation", () => {
    const [a, b] = [newChatKey(), newChatKey()];
    expect(a).not.toBe(b);
    for (const key of [a, b, unsentKey]) expect(isConversationKey(key)).toBe(false);
    expect(isConversationKey("01a2333b-a36d-7053-89ea-bb9ec9cace13")).toBe(true);
  });

  it("hands a conversation's returned drafts over once", () => {
    returnedDrafts.push("c1", { text: "lost", attachments: [] });
    returnedDrafts.push("c1", { text: "lost too", attachments: [] });
    expect(returnedDrafts.get("c2")).toEqual([]);
    expect(returnedDrafts.take("c1").map((d) => d.text)).toEqual(["lost", "lost too"]);
    expect(returnedDrafts.take("c1")).toEqual([]);
    expect(returnedDrafts.keys()).toEqual([]);
  });

  it("reads the conversations' queues an earlier page kept, and leaves out what it cannot read and new chats' queues", () => {
    const image = { type: "image", mimeType: "image/png", data: "iVBORw0KGgo=" };
    const kept = JSON.stringify({
      c1: [q("1"), { ...q("2"), think: "high", attachments: [image] }, { id: "bad" }],
      "new:abc": [q("3")],
      "new:def": [q("4")],
      c2: "not a list",
      c3: [{ ...q("5"), think: "hard" }, { ...q("6"), attachments: [{ ...image, mimeType: "text/html" }] }],
    });
    const loaded = loadQueues(kept);
    expect([...loaded.keys()]).toEqual(["c1"]);
    expect(loaded.get("c1")!.map((m) => m.id)).toEqual(["1", "2"]);
    expect(loadQueues("{not json").size).toBe(0);
    expect(loadQueues(null).size).toBe(0);
    expect(loadQueues("[1,2]").size).toBe(0);
  });

  it("takes the conversations' queues another tab wrote, keeps its new chats' own, and the images storage had no room for", () => {
    const image = { type: "image" as const, mimeType: "image/png" as const, data: "iVBORw0KGgo=" };
    const newChat = newChatKey();
    queueStore.push(newChat, q("n"));
    queueStore.push("c1", { ...q("1"), attachments: [image] });
    queueStore.push("c1", q("2"));
    queueStore.push("c2", q("3"));
    let calls = 0;
    const unsubscribe = queueStore.subscribe(() => calls++);

    // The other tab removed "2", queued "4" in c3, and dropped c2's; "1" was stored without its image.
    adoptStoredQueues(JSON.stringify({ c1: [q("1")], c3: [q("4")] }));
    expect(calls).toBe(1);
    expect(queueStore.keys().sort()).toEqual(["c1", "c3", newChat].sort());
    expect(queueStore.get("c1")).toEqual([{ ...q("1"), attachments: [image] }]);
    expect(queueStore.get("c3").map((m) => m.id)).toEqual(["4"]);
    expect(queueStore.get(newChat).map((m) => m.id)).toEqual(["n"]);

    // Storage cleared there: no conversation has a queue here either.
    adoptStoredQueues(null);
    expect(queueStore.keys()).toEqual([newChat]);
    unsubscribe();
  });
});
