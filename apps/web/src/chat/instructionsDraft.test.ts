// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { maxInstructionsChars } from "../components/InstructionsPanel.js";
import { createInstructionsDraft } from "./instructionsDraft.js";

afterEach(() => localStorage.clear());

const item = "streamchat.draftInstructions.new";

describe("a new chat's instructions draft", () => {
  it("is kept in localStorage under the new chat's draft key, trimmed and at most 4,000 characters, and '' forgets it", () => {
    const draft = createInstructionsDraft(() => localStorage);
    expect(draft.get()).toBe("");
    draft.set("  Answer in haiku.\n");
    expect(draft.get()).toBe("Answer in haiku.");
    expect(JSON.parse(localStorage.getItem(item)!)).toEqual({ text: "Answer in haiku." });
    // What a reload reads: the browser's storage.
    expect(createInstructionsDraft(() => localStorage).get()).toBe("Answer in haiku.");

    draft.set("x".repeat(maxInstructionsChars + 10));
    expect(draft.get()).toHaveLength(maxInstructionsChars);
    draft.set(" \n");
    expect(draft.get()).toBe("");
    expect(localStorage.getItem(item)).toBeNull();
  });

  it("reads what it cannot parse as none, and lasts as long as the page when storage refuses", () => {
    localStorage.setItem(item, "{not json");
    expect(createInstructionsDraft(() => localStorage).get()).toBe("");
    localStorage.setItem(item, JSON.stringify({ text: 42 }));
    expect(createInstructionsDraft(() => localStorage).get()).toBe("");

    const refusing = createInstructionsDraft(() => {
      throw new DOMException("denied", "SecurityError");
    });
    expect(refusing.get()).toBe("");
    refusing.set("Be brief.");
    expect(refusing.get()).toBe("Be brief.");
  });

  it("tells its subscribers of changes here and in another tab", () => {
    const draft = createInstructionsDraft(() => localStorage);
    const heard = vi.fn();
    const stop = draft.subscribe(heard);
    draft.set("Be brief.");
    expect(heard).toHaveBeenCalledTimes(1);
    // The same text again is no change.
    draft.set("Be brief. ");
    expect(heard).toHaveBeenCalledTimes(1);

    window.dispatchEvent(new StorageEvent("storage", { key: item, newValue: JSON.stringify({ text: "Answer in Spanish." }) }));
    expect(draft.get()).toBe("Answer in Spanish.");
    expect(heard).toHaveBeenCalledTimes(2);
    // Sent (or cleared) there: none here either.
    window.dispatchEvent(new StorageEvent("storage", { key: item, newValue: null }));
    expect(draft.get()).toBe("");
    expect(heard).toHaveBeenCalledTimes(3);
    window.dispatchEvent(new StorageEvent("storage", { key: "streamchat.draft.new", newValue: JSON.stringify({ text: "x", at: 1 }) }));
    expect(heard).toHaveBeenCalledTimes(3);

    stop();
    draft.set("Later.");
    expect(heard).toHaveBeenCalledTimes(3);
  });
});
