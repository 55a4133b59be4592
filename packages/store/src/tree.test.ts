import { describe, expect, it } from "vitest";
import { MessageTree } from "./tree.js";

describe("MessageTree", () => {
  //  1 ─ 2 ─ 3
  //    │   └ 6 ─ 7
  //    └ 4
  //  5
  const tree = new MessageTree([
    { id: 7, parentId: 6 },
    { id: 1, parentId: null },
    { id: 2, parentId: 1 },
    { id: 3, parentId: 2 },
    { id: 4, parentId: 1 },
    { id: 5, parentId: null },
    { id: 6, parentId: 2 },
  ]);

  it("walks a path from the first message to the head, whatever the input order", () => {
    expect(tree.pathTo(7)).toEqual([1, 2, 6, 7]);
    expect(tree.pathTo(4)).toEqual([1, 4]);
    expect(tree.pathTo(null)).toEqual([]);
  });

  it("descends by the newest child, and gives versions oldest first", () => {
    expect(tree.newestLeafBelow(1)).toBe(4);
    expect(tree.newestLeafBelow(2)).toBe(7);
    expect(tree.newestLeafBelow(7)).toBe(7);
    expect(tree.versionsOf(6)).toEqual({ index: 2, count: 2, siblingIds: [3, 6] });
    expect(tree.versionsOf(5)).toEqual({ index: 2, count: 2, siblingIds: [1, 5] });
    expect(tree.versionsOf(7)).toBeUndefined();
    expect(tree.versionsOf(99)).toBeUndefined();
  });

  it("refuses corrupt data instead of looping: an unknown head, a parent not older than its child", () => {
    expect(() => tree.pathTo(99)).toThrow(/not in the conversation's tree/);
    const cyclic = new MessageTree([
      { id: 1, parentId: 2 },
      { id: 2, parentId: 1 },
    ]);
    expect(() => cyclic.pathTo(2)).toThrow(/not older/);
  });
});
