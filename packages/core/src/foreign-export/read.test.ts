import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { JsonArrayError } from "./json-array-items.js";
import { readForeignExport, readForeignExportItems, type ForeignConversation } from "./read.js";

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

/** The text in pieces of `size` characters, given asynchronously as a file's would be; `read` counts those given. */
function inPieces(text: string, size: number) {
  const read = { pieces: 0, closed: false };
  async function* pieces() {
    try {
      for (let at = 0; at < text.length; at += size) {
        read.pieces += 1;
        yield text.slice(at, at + size);
      }
    } finally {
      read.closed = true;
    }
  }
  return { pieces: pieces(), read, total: Math.ceil(text.length / size) };
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const got: T[] = [];
  for await (const item of items) got.push(item);
  return got;
}

describe("readForeignExportItems", () => {
  it("reads each app's export one conversation at a time, as readForeignExport reads it whole", async () => {
    for (const [file, source] of [
      ["chatgpt-export.json", "ChatGPT"],
      ["claude-conversations.json", "Claude"],
      ["open-webui-export.json", "Open WebUI"],
    ] as const) {
      const whole = readForeignExport(testdata(file), { now })!;
      for (const size of [1, 13, 4096]) {
        const stream = (await readForeignExportItems(inPieces(testdata(file), size).pieces, { now }))!;
        expect(stream.source).toBe(source);
        expect(stream.leftOut()).toEqual([]);
        expect(await all(stream.conversations)).toEqual(whole.conversations);
        expect(stream.leftOut()).toEqual(whole.leftOut);
      }
    }
  });

  it("totals what was left out of the conversations read so far", async () => {
    const whole = readForeignExport(testdata("chatgpt-export.json"), { now })!;
    const stream = (await readForeignExportItems([testdata("chatgpt-export.json")], { now }))!;
    const seen: string[][] = [];
    for await (const conversation of stream.conversations) {
      seen.push(stream.leftOut());
      if (conversation.index === 3) break;
    }
    const firstThree = readForeignExport(JSON.stringify((JSON.parse(testdata("chatgpt-export.json")) as unknown[]).slice(0, 3)), { now })!;
    expect(seen.at(-1)).toEqual(firstThree.leftOut);
    expect(seen[0]).toEqual(whole.conversations[0]!.leftOut);
  });

  it("keeps elements that are not conversations in their place, as readForeignExport does", async () => {
    const conversations = JSON.parse(testdata("claude-conversations.json")) as unknown[];
    const mixed = JSON.stringify([42, "x", conversations[0], { uuid: "x", name: "Broken", chat_messages: "nope" }, conversations[1]]);
    const stream = (await readForeignExportItems(inPieces(mixed, 50).pieces, { now }))!;
    expect(await all(stream.conversations)).toEqual(readForeignExport(mixed, { now })!.conversations);
  });

  it("after a fault mid-file, the conversations before it were given; the iteration ends with a JsonArrayError saying where", async () => {
    const text = testdata("claude-conversations.json");
    const whole = readForeignExport(text, { now })!;
    const items = JSON.parse(text) as unknown[];
    const firstTwo = `[${JSON.stringify(items[0])},${JSON.stringify(items[1])}`;
    const cut = `${firstTwo},${JSON.stringify(items[2]).slice(0, 40)}`;
    const broken = `${firstTwo},{"uuid": "u", "chat_messages": [}]`;
    for (const [faulty, problem, message] of [
      [cut, "cut-short", "The JSON text is cut short in the middle of conversation 3."],
      [broken, "invalid-element", "Conversation 3 is not valid JSON."],
      [`${firstTwo} garbage`, "unexpected-text", "After conversation 2, “g” stands where a comma or the array's closing “]” belongs."],
    ] as const) {
      const stream = (await readForeignExportItems(inPieces(faulty, 7).pieces, { now }))!;
      const got: ForeignConversation[] = [];
      let error: unknown;
      try {
        for await (const conversation of stream.conversations) got.push(conversation);
      } catch (caught) {
        error = caught;
      }
      expect(got).toEqual(whole.conversations.slice(0, 2));
      expect(error).toBeInstanceOf(JsonArrayError);
      expect({ problem: (error as JsonArrayError).problem, message: (error as JsonArrayError).message }).toEqual({ problem, message });
      expect(stream.leftOut()).toEqual(readForeignExport(`${firstTwo}]`, { now })!.leftOut);
    }
    // Broken before any conversation: there is nothing to tell the app by.
    await expect(readForeignExportItems(['[{"uuid": "u", "chat_messages": [}]'])).rejects.toThrow("Conversation 1 is not valid JSON.");
  });

  it("stops reading the text when the iteration is left", async () => {
    const text = JSON.stringify(Array.from({ length: 50 }, () => JSON.parse(testdata("open-webui-export.json")) as unknown[]).flat());
    const { pieces, read, total } = inPieces(text, 1000);
    const stream = (await readForeignExportItems(pieces, { now }))!;
    for await (const conversation of stream.conversations) if (conversation.index === 2) break;
    expect(read.closed).toBe(true);
    expect(read.pieces).toBeLessThan(total / 10);
  });

  it("is undefined for what is not an array of another app's conversations: an object, JSON Lines, other arrays", async () => {
    const own = { format: "streamchat.conversation", version: 1, exportedAt: now, conversation: { id: "c", title: "t" }, activeMessageId: null, messages: [], runs: [] };
    const [first] = JSON.parse(testdata("open-webui-export.json")) as unknown[];
    for (const content of [JSON.stringify(own), `${JSON.stringify(own)}\n${JSON.stringify(own)}\n`, JSON.stringify(first), "[]", "[1, 2]", '[{"a":1}]', `[${JSON.stringify(own)}]`, "null", "", "  "]) {
      expect(await readForeignExportItems(inPieces(content, 5).pieces, { now }), content).toBeUndefined();
    }
  });
});
