import { describe, expect, it } from "vitest";
import { ConversationBuilder, epochToMs, importedTitle, isoToMs, LeftOut, secondsToMs } from "./document.js";

describe("ConversationBuilder", () => {
  it("numbers messages from 1 in the order added and takes the conversation's times from them when it has none", () => {
    const builder = new ConversationBuilder();
    const q = builder.add(null, { role: "user", content: "Hi" }, 2_000);
    const a = builder.add(q, { role: "assistant", content: "Hello", thinking: "Greet back." }, 3_000);
    const doc = builder.build({ id: "x", title: undefined, createdAt: undefined, updatedAt: undefined, activeMessageId: a, now: 9 });
    expect(doc).toEqual({
      format: "streamchat.conversation",
      version: 1,
      exportedAt: 9,
      conversation: { id: "x", title: "Hi", createdAt: 2_000, updatedAt: 3_000 },
      activeMessageId: 2,
      messages: [
        { id: 1, parentId: null, runId: null, createdAt: 2_000, message: { role: "user", content: "Hi" } },
        { id: 2, parentId: 1, runId: null, createdAt: 3_000, message: { role: "assistant", content: "Hello", thinking: "Greet back." } },
      ],
      runs: [],
    });
  });

  it("is named after the first question asked in words, not one that was only a picture or a long paste", () => {
    const builder = new ConversationBuilder();
    const q1 = builder.add(null, { role: "user", content: "[image not imported]" }, undefined);
    const a1 = builder.add(q1, { role: "assistant", content: "A stork." }, undefined);
    const q2 = builder.add(a1, { role: "user", content: "x".repeat(40_000) }, undefined);
    const a2 = builder.add(q2, { role: "assistant", content: "Long." }, undefined);
    builder.add(a2, { role: "user", content: "Where do storks winter?\nThanks" }, undefined);
    const doc = builder.build({ id: "x", title: "", createdAt: 1, updatedAt: 1, activeMessageId: 5, now: 1 });
    expect(doc.conversation.title).toBe("Where do storks winter?");
    const only = new ConversationBuilder();
    only.add(null, { role: "user", content: "[2 images not imported]" }, undefined);
    expect(only.build({ id: "y", title: undefined, createdAt: 1, updatedAt: 1, activeMessageId: 1, now: 1 }).conversation.title).toBe("Imported chat");
  });

  it("takes the times of a very long conversation (hundreds of thousands of messages) without overflowing the stack", () => {
    const builder = new ConversationBuilder();
    let parent: number | null = null;
    for (let i = 0; i < 300_000; i++) parent = builder.add(parent, { role: i % 2 === 0 ? "user" : "assistant", content: "…" }, 1_000 + i);
    const doc = builder.build({ id: "x", title: "Long", createdAt: undefined, updatedAt: undefined, activeMessageId: parent, now: 1 });
    expect(doc.conversation).toMatchObject({ createdAt: 1_000, updatedAt: 300_999 });
  });

  it("keeps a question longer than the server takes (32,000 characters) as a text file, which the model reads alike", () => {
    const builder = new ConversationBuilder();
    const long = "x".repeat(32_001);
    builder.add(null, { role: "user", content: long }, undefined);
    builder.add(null, { role: "user", content: "y".repeat(32_000) }, undefined);
    // Past a file's limit too: left as it is, for the server to refuse in its words.
    builder.add(null, { role: "user", content: "z".repeat(100_001) }, undefined);
    const doc = builder.build({ id: "x", title: "t", createdAt: 1, updatedAt: 1, activeMessageId: 1, now: 1 });
    expect(doc.messages[0]!.message).toEqual({ role: "user", content: "", files: [{ type: "file", name: "message.txt", text: long }] });
    expect(doc.messages[1]!.message.content).toHaveLength(32_000);
    expect(doc.messages[2]!.message.content).toHaveLength(100_001);
  });
});

describe("importedTitle", () => {
  it("takes the conversation's own title, else the first line of its first question, else a name that says what it is", () => {
    expect(importedTitle("  Trip\n to  Lisbon ", "q")).toBe("Trip to Lisbon");
    expect(importedTitle("", "  First line of the question\nsecond")).toBe("First line of the question");
    expect(importedTitle(undefined, `${"word ".repeat(20)}`)).toBe(`${"word ".repeat(12).trim()}…`);
    expect(importedTitle("   ", "")).toBe("Imported chat");
    expect(importedTitle("a\0b", undefined)).toBe("a\uFFFDb");
    expect(importedTitle("t".repeat(250), undefined)).toHaveLength(200);
    // Never half a surrogate pair at the cut.
    expect(importedTitle(`${"t".repeat(198)}😀😀`, undefined)).toBe(`${"t".repeat(198)}…`);
  });
});

describe("times and left-out counts", () => {
  it("reads seconds, milliseconds and ISO times; refuses what is none", () => {
    expect(secondsToMs(1_700_000_000.1234)).toBe(1_700_000_000_123);
    expect(epochToMs(1_700_000_000)).toBe(1_700_000_000_000);
    expect(epochToMs(1_700_000_000_000)).toBe(1_700_000_000_000);
    expect(isoToMs("2024-06-01T12:00:00.123456Z")).toBe(Date.UTC(2024, 5, 1, 12, 0, 0, 123));
    for (const bad of [null, "1", -1, Number.NaN, {}]) {
      expect(secondsToMs(bad)).toBeUndefined();
      expect(epochToMs(bad)).toBeUndefined();
    }
    expect(isoToMs("yesterday")).toBeUndefined();
  });

  it("words counts by kind in the order first met, and adds counters up", () => {
    const a = new LeftOut();
    a.add("image");
    a.add("tool call", 2);
    a.add("image", 0);
    const b = new LeftOut();
    b.add("file");
    b.add("image");
    b.addAll(a);
    expect(a.words()).toEqual(["1 image", "2 tool calls"]);
    expect(b.words()).toEqual(["1 file", "2 images", "2 tool calls"]);
  });
});
