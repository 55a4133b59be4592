import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { claudeReader } from "./claude.js";
import { expectWellFormed, links, messageOf, shape } from "../test-support/foreign-documents.js";
import { ForeignExportError } from "./document.js";

const now = Date.UTC(2025, 6, 1, 0, 0, 0);
const conversations = JSON.parse(readFileSync(new URL("./testdata/claude-conversations.json", import.meta.url), "utf8")) as Array<Record<string, unknown>>;
const rootParent = "00000000-0000-4000-8000-000000000000";

function conversation(index: number): Record<string, unknown> {
  const found = conversations[index];
  if (!found) throw new Error(`no conversation ${index}`);
  return found;
}

function read(value: unknown) {
  const { document, leftOut } = claudeReader.read(value, now);
  return { document, leftOut: leftOut.words() };
}

let uuid = 0;
function chatMessage(sender: string, text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  uuid += 1;
  return {
    uuid: `m-${uuid}`,
    text,
    content: [{ start_timestamp: null, stop_timestamp: null, type: "text", text, citations: [] }],
    sender,
    created_at: "2025-01-01T00:00:00.000000Z",
    updated_at: "2025-01-01T00:00:00.000000Z",
    attachments: [],
    files: [],
    ...extra,
  };
}

function claudeConversation(messages: unknown[]): Record<string, unknown> {
  return {
    uuid: "conv-1",
    name: "Test",
    summary: "",
    created_at: "2025-01-01T00:00:00.000000Z",
    updated_at: "2025-01-01T00:10:00.000000Z",
    account: { uuid: "acc" },
    chat_messages: messages,
  };
}

describe("claudeReader: a whole export", () => {
  it("reads each conversation of the file into a well-formed document, and refuses the empty one", () => {
    expect(conversations).toHaveLength(4);
    for (const c of conversations) expect(claudeReader.matches(c)).toBe(true);
    const documents = conversations.slice(0, 3).map((c) => read(c).document);
    for (const document of documents) expectWellFormed(document, now, { everyMessageTimed: true });
    expect(documents.map((d) => d.conversation.id)).toEqual(conversations.slice(0, 3).map((c) => c.uuid));
    // The third has no name: its first question names it.
    expect(documents.map((d) => d.conversation.title)).toEqual(["Regex for ISO dates", "Landing page for the bakery", "Name three prime numbers above 100."]);
    expect(documents[0]?.conversation.createdAt).toBe(Date.UTC(2024, 5, 1, 12, 0, 0, 123));
    expect(documents[0]?.conversation.updatedAt).toBe(Date.UTC(2024, 5, 1, 12, 5, 30, 654));
    expect(documents[0]?.messages[1]?.createdAt).toBe(Date.UTC(2024, 5, 1, 12, 0, 9, 987));
    expect(() => read(conversation(3))).toThrow(new ForeignExportError("It has no messages."));
  });

  it("titleOf gives the name as written, or \"\"", () => {
    expect(conversations.map((c) => claudeReader.titleOf(c))).toEqual(["Regex for ISO dates", "Landing page for the bakery", "", ""]);
    expect(claudeReader.titleOf({ uuid: "x", chat_messages: [], name: 3 })).toBe("");
    expect(claudeReader.titleOf("x")).toBe("");
  });

  it("reads an old export's messages (text only) as a chain, with extracted files kept and uploads left out", () => {
    const { document, leftOut } = read(conversation(0));
    expect(links(document)).toEqual([
      ["user", null],
      ["assistant", 1],
      ["user", 2],
      ["assistant", 3],
    ]);
    expect(messageOf(document, 1)).toEqual({
      role: "user",
      content: "Write a regex that matches the dates in this file, and tell me what the screenshot shows.",
      files: [
        { type: "file", name: "dates.txt", text: "2024-06-01\n2023-12-31\nnot a date\n1999-01-15\n" },
        // A long paste becomes an attachment without a name.
        { type: "file", name: "pasted.txt", text: "log: started at 2024-05-30" },
      ],
    });
    expect(messageOf(document, 2).content).toMatch(/^Use `\\b\\d\{4\}-\\d\{2\}-\\d\{2\}\\b`\./);
    expect(messageOf(document, 3)).toEqual({ role: "user", content: "[file not imported]" });
    expect(leftOut).toEqual(["1 image", "1 file"]);
    expect(document.activeMessageId).toBe(4);
  });

  it("takes the text blocks of a newer message, its thinking, and the artifacts it wrote where Claude showed them", () => {
    const { document, leftOut } = read(conversation(1));
    expect(links(document)).toEqual([
      ["user", null],
      ["assistant", 1],
      ["user", 2],
      ["assistant", 3],
    ]);
    const page = (h1: string) =>
      `**Pão Quente landing page**\n\n\`\`\`html\n<!DOCTYPE html><html><head><title>Pão Quente</title></head><body>${h1}Pão Quente</h1><p>Open 7–19</p></body></html>\n\`\`\``;
    expect(messageOf(document, 2)).toEqual({
      role: "assistant",
      // Not the `text` field: it holds a placeholder where the artifact was.
      content: `I'll build it as a single HTML file.\n\n${page("<h1>")}\n\nHere is the page: warm colours, the hours in the header, and a map link in the footer.`,
      thinking: "The brief asks for warm colours and opening hours 7–19.\nA single HTML file with inline CSS is enough.",
    });
    // An answer that only changed the page: the page as it changed it.
    expect(messageOf(document, 4)).toEqual({ role: "assistant", content: page('<h1 style="position:sticky;top:0">') });
    // brief.pdf is both an upload and an extracted attachment: its text is imported, so it is not counted.
    expect(messageOf(document, 1)).toMatchObject({ files: [{ type: "file", name: "brief.pdf" }] });
    // The artifacts are not tool calls left out.
    expect(leftOut).toEqual(["1 image"]);
    expect(document.activeMessageId).toBe(4);
  });

  it("builds each artifact along its own branch, shows it once an answer at its last place, and counts other tools", () => {
    const artifact = (input: Record<string, unknown>) => ({ type: "tool_use", name: "artifacts", input: { id: "a1", ...input } });
    const blocks = (...content: unknown[]) => ({ content });
    const question = chatMessage("human", "Write it", { parent_message_uuid: rootParent });
    const first = chatMessage("assistant", "", {
      parent_message_uuid: question.uuid,
      ...blocks(
        { type: "text", text: "Here:" },
        artifact({ command: "create", type: "application/vnd.ant.code", language: "python", title: "Sum *two*", content: "print(1 + 1)\n" }),
        { type: "text", text: "And a fix:" },
        artifact({ command: "update", old_str: "1 + 1", new_str: "1 + 2" }),
        { type: "tool_use", name: "web_search", input: { query: "python" } },
        { type: "text", text: "Done." },
      ),
    });
    // Two versions of the next question, each changing the script its own way.
    const askA = chatMessage("human", "Use three", { parent_message_uuid: first.uuid });
    const answerA = chatMessage("assistant", "", { parent_message_uuid: askA.uuid, ...blocks(artifact({ command: "update", old_str: "1 + 2", new_str: "1 + 3" })) });
    const askB = chatMessage("human", "Rewrite it", { parent_message_uuid: first.uuid });
    const answerB = chatMessage("assistant", "", {
      parent_message_uuid: askB.uuid,
      ...blocks(artifact({ command: "rewrite", content: "s = '```'\nprint(s)" }), artifact({ command: "update", old_str: "not there", new_str: "x" })),
    });
    const orphan = chatMessage("assistant", "", { parent_message_uuid: answerB.uuid, ...blocks(artifact({ id: "gone", command: "update", old_str: "a", new_str: "b" })) });
    const { document, leftOut } = read(claudeConversation([question, first, askA, answerA, askB, answerB, orphan]));
    const contents = document.messages.map((m) => m.message.content);
    expect(contents[1]).toBe("Here:\n\nAnd a fix:\n\n**Sum \\*two\\***\n\n```python\nprint(1 + 2)\n```\n\nDone.");
    expect(contents[3]).toBe("**Sum \\*two\\***\n\n```python\nprint(1 + 3)\n```");
    // A change whose passage is not in the text (after a rewrite here): the text is no longer known.
    expect(contents[5]).toBe("**Sum \\*two\\***\n\n*(changed here; the export does not hold its whole text)*");
    expect(contents[6]).toBe("**gone**\n\n*(changed here; the export does not hold its whole text)*");
    expect(leftOut).toEqual(["1 tool call"]);
  });

  it("fences an artifact's text with more backticks than it holds, by its type's language", () => {
    const answer = chatMessage("assistant", "", {
      content: [{ type: "tool_use", name: "artifacts", input: { id: "d", command: "create", type: "text/markdown", title: "Notes", content: "# Notes\n\n````js\nx\n````\n" } }],
    });
    const { document } = read(claudeConversation([chatMessage("human", "Notes please"), answer]));
    expect(document.messages[1]?.message.content).toBe("**Notes**\n\n`````markdown\n# Notes\n\n````js\nx\n````\n`````");
  });

  it("follows parent links when every message has one: edited questions are versions, the last message is shown", () => {
    const { document } = read(conversation(2));
    expect(shape(document)).toEqual([
      ["user", null, "Name three prime numbers above 100."],
      ["assistant", 1, "101, 103 and 107."],
      ["user", 2, "And above 1000?"],
      ["assistant", 3, "1009, 1013 and 1019."],
      ["user", 2, "And above 10,000?"],
      ["assistant", 5, "10007, 10009 and 10037."],
    ]);
    expect(document.activeMessageId).toBe(6);
  });
});

describe("claudeReader: the tree", () => {
  it("reads the file order as a chain when a message lacks its parent link", () => {
    const withLinks = (conversation(2).chat_messages as Array<Record<string, unknown>>).map((m) => ({ ...m }));
    delete withLinks[4]?.parent_message_uuid;
    const { document } = read({ ...conversation(2), chat_messages: withLinks });
    expect(shape(document).map(([, parentId]) => parentId)).toEqual([null, 1, 2, 3, 4, 5]);
    expect(document.activeMessageId).toBe(6);
  });

  it("makes a message whose parent is unknown a first one, and cuts a circle of parent links instead of looping", () => {
    const a = chatMessage("human", "a", { uuid: "a", parent_message_uuid: "c" });
    const b = chatMessage("assistant", "b", { uuid: "b", parent_message_uuid: "a" });
    const c = chatMessage("human", "c", { uuid: "c", parent_message_uuid: "b" });
    const d = chatMessage("assistant", "d", { uuid: "d", parent_message_uuid: "gone" });
    const e = chatMessage("human", "e", { uuid: "e", parent_message_uuid: rootParent });
    const { document } = read(claudeConversation([a, b, c, d, e]));
    expectWellFormed(document, now, { everyMessageTimed: true });
    // a → c → b → a is cut at b's link back to a: b becomes a first message.
    expect(shape(document)).toEqual([
      ["assistant", null, "b"],
      ["user", 1, "c"],
      ["user", 2, "a"],
      ["assistant", null, "d"],
      ["user", null, "e"],
    ]);
    expect(document.activeMessageId).toBe(5);
  });

  it("skips a question with nothing at all, and an answer with no text", () => {
    const { document } = read(
      claudeConversation([
        chatMessage("human", "hi"),
        chatMessage("assistant", "hello"),
        chatMessage("human", "", { content: [] }),
        chatMessage("assistant", "  "),
        chatMessage("human", "still there?"),
      ]),
    );
    expect(shape(document)).toEqual([
      ["user", null, "hi"],
      ["assistant", 1, "hello"],
      ["user", 2, "still there?"],
    ]);
  });

  it("reads `text` when `content` is missing or empty, and joins several text blocks", () => {
    const blocks = [
      { type: "text", text: "First part.", citations: [] },
      { type: "voice_note", title: "ignored" },
      { type: "text", text: "  Second part.\n", citations: [] },
    ];
    const { document } = read(
      claudeConversation([
        chatMessage("human", "q", { content: undefined }),
        chatMessage("assistant", "from text", { content: [] }),
        chatMessage("human", "ignored", { content: blocks }),
      ]),
    );
    expect(shape(document).map(([, , content]) => content)).toEqual(["q", "from text", "First part.\n\nSecond part."]);
  });
});

describe("claudeReader: attachments", () => {
  it("keeps at most 8 extracted files and leaves out the rest, empty and too long ones, and says so on an empty question", () => {
    const attachment = (name: string, text: string) => ({ file_name: name, file_size: text.length, file_type: "txt", extracted_content: text });
    const attachments = [
      ...Array.from({ length: 9 }, (_, i) => attachment(`a${i}.txt`, `text ${i}`)),
      attachment("empty.txt", ""),
      attachment("huge.txt", "x".repeat(100_001)),
      { file_name: "no-content.docx", file_size: 10, file_type: "docx" },
    ];
    const files = [{ file_name: "a.JPG" }, { file_name: "b.heic" }, { file_name: "notes.pages" }, { file_uuid: "f" }];
    const { document, leftOut } = read(claudeConversation([chatMessage("human", "", { attachments, files, content: [] })]));
    const question = messageOf(document, 1);
    expect(question.role === "user" ? question.files?.map((f) => f.name) : undefined).toEqual(Array.from({ length: 8 }, (_, i) => `a${i}.txt`));
    expect(question.content).toBe("");
    expect(leftOut).toEqual(["6 files", "2 images"]);

    const onlyUploads = read(claudeConversation([chatMessage("human", "", { files, content: [] })])).document;
    expect(messageOf(onlyUploads, 1).content).toBe("[2 images and 2 files not imported]");
  });
});

describe("claudeReader: what it refuses", () => {
  it("matches conversations with a uuid and chat_messages only", () => {
    expect(claudeReader.matches(claudeConversation([]))).toBe(true);
    expect(claudeReader.matches({ chat_messages: [] })).toBe(false);
    expect(claudeReader.matches({ uuid: "x", chat_messages: {} })).toBe(false);
    expect(claudeReader.matches({ id: "x", chat: { history: { messages: {} } } })).toBe(false);
    expect(claudeReader.matches(null)).toBe(false);
  });

  it.each([
    ["a message that is not an object", claudeConversation(["hi"]), "One of its messages is not in the form Claude's export writes."],
    ["a message without a sender", claudeConversation([{ uuid: "m", text: "hi" }]), "One of its messages is not in the form Claude's export writes."],
    ["a text that is not text", claudeConversation([chatMessage("human", "x", { text: ["x"], content: undefined })]), "One of its messages is not in the form Claude's export writes."],
    ["no messages", claudeConversation([]), "It has no messages."],
    ["only empty messages", claudeConversation([chatMessage("human", ""), chatMessage("assistant", "")]), "It has no messages."],
    ["something else", { uuid: "x", chat_messages: "none" }, "It is not in the form of a Claude conversation."],
  ])("refuses %s with a sentence", (_, value, sentence) => {
    expect(() => read(value)).toThrow(ForeignExportError);
    expect(() => read(value)).toThrow(sentence);
  });
});
