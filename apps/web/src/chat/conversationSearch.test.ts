import { describe, expect, it } from "vitest";
import { titleMatches } from "./conversationSearch.js";

describe("titleMatches", () => {
  it("finds every word of the query in any order, ignoring case and accents", () => {
    expect(titleMatches("What time is it in Tokyo?", "tokyo time")).toBe(true);
    expect(titleMatches("Café opening hours", "cafe")).toBe(true);
    expect(titleMatches("What time is it in Tokyo?", "tokyo weather")).toBe(false);
    expect(titleMatches("Anything", "   ")).toBe(true);
  });
});
