import { afterEach, describe, expect, it } from "vitest";
import { queueStore, type QueuedMessage } from "./queueStore.js";

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

  it("moves the new chat's queue to its conversation id", () => {
    queueStore.push("", q("1"));
    queueStore.move("", "c1");
    expect(queueStore.get("")).toEqual([]);
    expect(queueStore.get("c1").map((m) => m.id)).toEqual(["1"]);
    expect(queueStore.keys()).toEqual(["c1"]);
  });
});
