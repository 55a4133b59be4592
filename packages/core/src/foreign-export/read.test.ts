import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readForeignExport } from "./read.js";

const now = Date.UTC(2026, 11, 6);
const testdata = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), "utf8");

describe("readForeignExport", () => {
  it("tells each app's export by its first conversation and reads every conversation of it", () => {
    for (const [file, source, count] of [
      ["chatgpt-export.json", "ChatGPT", 6],
      ["claude-conversations.json", "Claude", 4],
      ["open-webui-export.json", "Open WebUI", 4],
    ] as const) {
      const read = readForeignExport(testdata(file), { now })!;
      expect(read.source).toBe(source);
      expect(read.conversations.map((c) => c.index)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      for (const conversation of read.conversations) {
        // Exactly one of the two, always.
        expect(conversation.document === undefined).toBe(conversation.problem !== undefined);
        if (conversation.document) {
          expect(conversation.document).toMatchObject({ format: "streamchat.conversation", version: 1, exportedAt: now, runs: [] });
          expect(conversation.document.messages.length).toBeGreaterThan(0);
        }
      }
    }
  });

  it("totals what the file's conversations held that is not imported, and words it per conversation", () => {
    const read = readForeignExport(testdata("chatgpt-export.json"), { now })!;
    const perConversation = read.conversations.flatMap((c) => c.leftOut);
    expect(perConversation.length).toBeGreaterThan(0);
    // The total of "N kind" over the conversations, kind by kind.
    const sum = new Map<string, number>();
    for (const words of perConversation) {
      const [, n, kind] = /^(\d+) (.+?)s?$/.exec(words)!;
      sum.set(kind!, (sum.get(kind!) ?? 0) + Number(n));
    }
    expect(read.leftOut).toEqual([...sum].map(([kind, n]) => `${n} ${n === 1 ? kind : `${kind}s`}`));
  });

  it("gives each conversation its origin: the app, its id there and its last change there, the same from any export", () => {
    const read = readForeignExport(testdata("chatgpt-export.json"), { now })!;
    const first = read.conversations[0]!.document!;
    expect(first.conversation.origin).toBe(`ChatGPT:${first.conversation.id}@${first.conversation.updatedAt}`);
    expect(new Set(read.conversations.map((c) => c.document?.conversation.origin)).size).toBe(read.conversations.length);
    // Read again later (another export of the account): the same origins.
    expect(readForeignExport(testdata("chatgpt-export.json"), { now: now + 1 })!.conversations.map((c) => c.document?.conversation.origin)).toEqual(
      read.conversations.map((c) => c.document?.conversation.origin),
    );
    // Continued in ChatGPT since: another origin, imported again.
    const conversations = JSON.parse(testdata("chatgpt-export.json")) as Array<{ update_time: number }>;
    conversations[0]!.update_time += 60;
    expect(readForeignExport(JSON.stringify(conversations), { now })!.conversations[0]!.document!.conversation.origin).not.toBe(first.conversation.origin);
    // Without an id there is nothing to know it again by.
    const [owui] = JSON.parse(testdata("open-webui-export.json")) as Array<Record<string, unknown>>;
    const anonymous = readForeignExport(JSON.stringify([{ ...owui, id: undefined, chat: { ...(owui!.chat as object), id: undefined } }]), { now })!;
    expect(anonymous.conversations[0]!.document!.conversation).not.toHaveProperty("origin");
  });

  it("one conversation that cannot be read says why and does not stop the others", () => {
    const conversations = JSON.parse(testdata("claude-conversations.json")) as unknown[];
    const mixed = [conversations[0], { uuid: "x", name: "Broken", chat_messages: "nope" }, 42, conversations[1]];
    const read = readForeignExport(JSON.stringify(mixed), { now })!;
    expect(read.source).toBe("Claude");
    expect(read.conversations.map((c) => [c.index, c.title, c.document !== undefined])).toEqual([
      [1, "Regex for ISO dates", true],
      [2, "Broken", false],
      [3, "", false],
      [4, "Landing page for the bakery", true],
    ]);
    expect(read.conversations[1]!.problem).toMatch(/^[A-Z].*\.$/);
    expect(read.conversations[2]!.problem).toBe("It is not a Claude conversation like the others in the file.");
  });

  it("reads a file of one conversation (an object), with a byte order mark", () => {
    const [first] = JSON.parse(testdata("open-webui-export.json")) as unknown[];
    const read = readForeignExport(`\uFEFF${JSON.stringify(first, null, 2)}`, { now })!;
    expect(read.source).toBe("Open WebUI");
    expect(read.conversations).toHaveLength(1);
    expect(read.conversations[0]!.document?.conversation.title).toBe("Borrow checker rejects Vec push");
  });

  it("is undefined for this app's own export, JSON Lines, other JSON and what is not JSON: the server judges those", () => {
    const own = { format: "streamchat.conversation", version: 1, exportedAt: now, conversation: { id: "c", title: "t" }, activeMessageId: null, messages: [], runs: [] };
    for (const content of [JSON.stringify(own), `${JSON.stringify(own)}\n${JSON.stringify(own)}\n`, "[]", "[1, 2]", '[{"a":1}]', "null", "{}", "not json", ""]) {
      expect(readForeignExport(content, { now })).toBeUndefined();
    }
  });
});
