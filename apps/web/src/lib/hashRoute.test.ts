import { describe, expect, it } from "vitest";
import { conversationHash, parseConversationHash } from "./hashRoute.js";

describe("conversation hash route", () => {
  it("round-trips ids, including ones that need escaping", () => {
    for (const id of ["c_123", "01JD8Z", "a b/c"]) expect(parseConversationHash(conversationHash(id))).toBe(id);
  });

  it("treats anything else as a new conversation", () => {
    for (const hash of ["", "#", "#/", "#/c/", "#/x/1", "#/c/1/extra", "#/c/%E0%A4%A"]) {
      expect(parseConversationHash(hash), hash).toBeNull();
    }
    expect(conversationHash(null)).toBe("#/");
  });
});
