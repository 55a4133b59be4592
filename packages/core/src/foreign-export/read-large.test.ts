import { describe, expect, it } from "vitest";
import { readForeignExportItems, type ForeignConversation } from "./read.js";

/** V8's longest string (2^29 - 24 characters on 64-bit): a file longer than this cannot be read as one string. */
const longestString = 2 ** 29;

describe("readForeignExportItems on an export larger than a string can hold", () => {
  // 565 million characters (30,000 conversations): about 2.5 s on a 2-core machine, the test process under 200 MB.
  it("reads it conversation by conversation", { timeout: 60_000 }, async () => {
    // Claude's form (the least work per character for its reader): two messages of about 8,800 characters each, with
    // escapes and text beyond ASCII, so about 18 KB a conversation.
    const paragraph = 'Line one of a long answer, "quoted", with a \\ backslash, brackets ] } [ { and Grüße 😀.\n';
    const text = `${paragraph.repeat(100)}The end.`;
    const conversationText = (i: number) =>
      JSON.stringify({
        uuid: `conv-${i}`,
        name: `Conversation ${i}`,
        created_at: "2024-06-01T12:00:00Z",
        updated_at: "2024-06-01T12:05:00Z",
        chat_messages: [
          { uuid: `q-${i}`, sender: "human", text: `Question ${i}: ${text}`, created_at: "2024-06-01T12:00:00Z", attachments: [], files: [{ file_name: "photo.png" }] },
          { uuid: `a-${i}`, sender: "assistant", text: `Answer ${i}: ${text}`, created_at: "2024-06-01T12:01:00Z", attachments: [], files: [] },
        ],
      });
    const count = 30_000;
    let length = 0;
    // Never one string: each conversation's text, cut in two at a place that moves through it (inside its strings,
    // escapes and surrogate pairs too), as a file's chunks cut it.
    async function* pieces(): AsyncGenerator<string> {
      yield "[\n";
      length += 2;
      for (let i = 1; i <= count; i++) {
        const conversation = `${i === 1 ? "" : ",\n"}${conversationText(i)}`;
        const cut = (i * 7919) % conversation.length;
        length += conversation.length;
        yield conversation.slice(0, cut);
        yield conversation.slice(cut);
      }
      yield "\n]\n";
      length += 3;
    }

    const stream = (await readForeignExportItems(pieces(), { now: Date.UTC(2026, 11, 6) }))!;
    expect(stream.source).toBe("Claude");
    let read = 0;
    let last: ForeignConversation | undefined;
    for await (const conversation of stream.conversations) {
      read += 1;
      expect(conversation.index).toBe(read);
      last = conversation;
    }
    expect(length).toBeGreaterThan(longestString);
    expect(read).toBe(count);
    expect(last!.document!.conversation).toMatchObject({ id: `conv-${count}`, title: `Conversation ${count}` });
    expect(last!.document!.messages.map((m) => m.message.content)).toEqual([`Question ${count}: ${text}`, `Answer ${count}: ${text}`]);
    expect(stream.leftOut()).toEqual([`${count} images`]);
  });
});
