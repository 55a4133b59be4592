import { describe, expect, it } from "vitest";
import { branchPointItem } from "./branchPoint.js";

describe("branchPointItem", () => {
  const path = [
    { id: 1, role: "user" as const },
    { id: 2, role: "assistant" as const },
    { id: 3, role: "tool" as const },
    { id: 4, role: "assistant" as const },
    { id: 9, role: "user" as const },
    { id: 10, role: "assistant" as const },
  ];

  it("is the turn of the branch's copy of the answer: the questions asked in the branch follow the line", () => {
    expect(branchPointItem(path, 4)).toBe("a1");
    expect(branchPointItem(path.slice(0, 4), 4)).toBe("a1");
  });

  it("moves above a copied question edited in the branch (a newer version), and leads when even the first one was", () => {
    // The second turn's question (copied as 5) was edited in the branch: 9 is the branch's own.
    expect(branchPointItem(path, 6)).toBe("a1");
    expect(branchPointItem([{ id: 12, role: "user" }, { id: 13, role: "assistant" }], 4)).toBeNull();
  });
});
