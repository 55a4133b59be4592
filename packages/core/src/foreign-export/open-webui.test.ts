import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { expectWellFormed, links, messageOf, shape } from "../test-support/foreign-documents.js";
import { ForeignExportError } from "./document.js";
import { openWebUiReader } from "./open-webui.js";

const now = Date.UTC(2025, 0, 2, 3, 4, 5);
const exportRows = JSON.parse(readFileSync(new URL("./testdata/open-webui-export.json", import.meta.url), "utf8")) as Array<Record<string, unknown>>;
/** A real 1×1 PNG (red), as a browser puts it in a data: URL. */
const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";
const pngUrl = `data:image/png;base64,${png}`;

function row(index: number): Record<string, unknown> {
  const found = exportRows[index];
  if (!found) throw new Error(`no row ${index}`);
  return found;
}

function read(value: unknown) {
  const { document, leftOut } = openWebUiReader.read(value, now);
  return { document, leftOut: leftOut.words() };
}

/** A chat row around a history, as the export writes one. */
function chatRow(messages: Record<string, unknown>, currentId: string | null = null): Record<string, unknown> {
  return {
    id: "row-1",
    user_id: "u",
    title: "Test",
    chat: { id: "", title: "Test", models: ["llama3.2:3b"], params: {}, history: { messages, currentId }, messages: [], tags: [], timestamp: 1733000000000, files: [] },
    updated_at: 1733000100,
    created_at: 1733000000,
    share_id: null,
    archived: false,
    pinned: false,
    meta: {},
    folder_id: null,
  };
}

function msg(id: string, parentId: string | null, role: string, content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, parentId, childrenIds: [], role, content, timestamp: 1733000000, ...extra };
}

describe("openWebUiReader: a whole export", () => {
  it("reads every chat of the file into a well-formed document with its id, title and times", () => {
    expect(exportRows).toHaveLength(4);
    const documents = exportRows.map((r) => {
      expect(openWebUiReader.matches(r)).toBe(true);
      return read(r).document;
    });
    for (const document of documents) expectWellFormed(document, now);
    expect(documents.map((d) => d.conversation.id)).toEqual(exportRows.map((r) => r.id));
    expect(documents.map((d) => d.conversation.title)).toEqual([
      "Borrow checker rejects Vec push",
      "Weekend in Lisbon",
      "Picture and meeting notes",
      // "New Chat" is Open WebUI's placeholder: the first question names it instead.
      "Tell me a joke about compilers.",
    ]);
    expect(documents.map((d) => d.conversation.createdAt)).toEqual(exportRows.map((r) => (r.created_at as number) * 1000));
    expect(documents.map((d) => d.conversation.updatedAt)).toEqual(exportRows.map((r) => (r.updated_at as number) * 1000));
    expect(documents.map((d) => d.messages.length)).toEqual([6, 7, 4, 2]);
    // As they were there: the first pinned, the third archived with its own system prompt (its instructions here).
    expect(documents.map((d) => [d.conversation.pinnedAt !== undefined, d.conversation.archivedAt !== undefined, d.conversation.instructions])).toEqual([
      [true, false, undefined],
      [false, false, undefined],
      [false, true, "You are a concise assistant."],
      [false, false, undefined],
    ]);
    expect(documents[0]?.messages[1]?.createdAt).toBe(1733491201000);
  });

  it("titleOf gives the row's title as written, or the chat's, or \"\"", () => {
    expect(exportRows.map((r) => openWebUiReader.titleOf(r))).toEqual([
      "Borrow checker rejects Vec push",
      "Weekend in Lisbon",
      "Picture and meeting notes",
      "New Chat",
    ]);
    const { title: _, ...untitled } = row(0);
    expect(openWebUiReader.titleOf(untitled)).toBe("Borrow checker rejects Vec push");
    expect(openWebUiReader.titleOf({ chat: {} })).toBe("");
    expect(openWebUiReader.titleOf(null)).toBe("");
  });

  it("takes reasoning details as thinking, unquoted and unescaped, and strips tool calls and code runs, counting them", () => {
    const { document, leftOut } = read(row(0));
    expect(messageOf(document, 2)).toEqual({
      role: "assistant",
      content:
        "Because `first` borrows `v` immutably and is still used after `v.push(4)`, which needs a mutable borrow. A push may reallocate the vector's buffer, leaving `first` pointing at freed memory.\n\nCopy the value instead: `let first = v[0];`.",
      thinking: "The user holds an immutable borrow `first` while calling `v.push`, which needs `&mut v`.\n\npush may reallocate, so `first` could dangle.",
    });
    expect(messageOf(document, 4)).toEqual({
      role: "assistant",
      content: "Yes. The 2024 edition changes temporaries and `impl Trait` captures, not this rule: a shared borrow that is used later still forbids a mutable one.",
      thinking: "I should check the edition guide rather than guess.",
    });
    expect(messageOf(document, 6)).toEqual({
      role: "assistant",
      content: "Let me compute it.\n\nA `Vec<u64>` of 1,000,000 elements holds 8,000,000 bytes of data, about **7.63 MiB**, plus 24 bytes for the `Vec` itself.",
    });
    expect(leftOut).toEqual(["2 tool calls"]);
    expect(links(document)).toEqual([
      ["user", null],
      ["assistant", 1],
      ["user", 2],
      ["assistant", 3],
      ["user", 4],
      ["assistant", 5],
    ]);
    expect(document.activeMessageId).toBe(6);
    // The history is read, not the shown path's (here cut short) copy.
    expect(messageOf(document, 1).content).toContain("```rust");
  });

  it("keeps regenerated answers and edited questions as versions, the path shown being the older one", () => {
    const { document, leftOut } = read(row(1));
    expect(shape(document).map(([role, parentId, content]) => [role, parentId, content.slice(0, 24)])).toEqual([
      ["user", null, "Plan a weekend in Lisbon"],
      ["assistant", 1, "Saturday: Alfama and the"],
      ["user", 2, "Add a day trip to Sintra"],
      ["assistant", 3, "Make it Friday: the trai"],
      ["user", 2, "Add a day trip to Sintra"],
      ["assistant", 5, "Do both on Friday: Sintr"],
      ["assistant", 1, "A relaxed plan: Saturday"],
    ]);
    expect(messageOf(document, 5).content).toBe("Add a day trip to Sintra and Cascais.");
    expect(document.activeMessageId).toBe(4);
    expect(leftOut).toEqual([]);
  });

  it("keeps data: URL images and extracted text files, skips the system prompt and the failed answer, and says what it left out", () => {
    const { document, leftOut } = read(row(2));
    expect(links(document)).toEqual([
      ["user", null],
      ["assistant", 1],
      ["user", 2],
      ["assistant", 3],
    ]);
    expect(messageOf(document, 1)).toEqual({
      role: "user",
      content: "What's in this picture? And summarize the notes.",
      images: [{ type: "image", mimeType: "image/png", data: png }],
      files: [{ type: "file", name: "meeting-notes.md", text: "# Meeting notes\n\n- Ship the importer on Friday.\n- Ana reviews the docs.\n" }],
    });
    expect(messageOf(document, 2).content).toMatch(/^The picture is a single red pixel/);
    // Only an http image came with the second question.
    expect(messageOf(document, 3)).toEqual({ role: "user", content: "[image not imported]" });
    expect(leftOut).toEqual(["2 images", "1 file"]);
    expect(document.activeMessageId).toBe(4);
  });

  it("reads a chat of an old version, with only the shown path, as a chain, and its <think> block as thinking", () => {
    const { document } = read(row(3));
    expect(document.messages).toEqual([
      { id: 1, parentId: null, runId: null, createdAt: 1706000000000, message: { role: "user", content: "Tell me a joke about compilers." } },
      {
        id: 2,
        parentId: 1,
        runId: null,
        createdAt: 1706000004000,
        message: {
          role: "assistant",
          content: "Why did the compiler break up with the parser? It felt it was being taken apart.",
          thinking: 'A pun on "parse" might work.',
        },
      },
    ]);
    expect(document.activeMessageId).toBe(2);
  });

  it("reads another model's leading reasoning block kept as sent (<thinking>, [THINK]) as thinking, and no later one", () => {
    const { document } = read(
      chatRow(
        {
          u1: msg("u1", null, "user", "Sum 2 and 3."),
          a1: msg("a1", "u1", "assistant", "<thinking>\nAdd them.\n</thinking>\n\n5. Models write <thinking> too."),
          a2: msg("a2", "u1", "assistant", "[THINK]Add.[/THINK]Five."),
        },
        "a2",
      ),
    );
    expect(document.messages.map(({ message }) => message)).toEqual([
      { role: "user", content: "Sum 2 and 3." },
      { role: "assistant", content: "5. Models write <thinking> too.", thinking: "Add them." },
      { role: "assistant", content: "Five.", thinking: "Add." },
    ]);
  });
});

describe("openWebUiReader: the tree", () => {
  it("puts parents before children whatever the order of the history", () => {
    const { document } = read(
      chatRow(
        {
          a2: msg("a2", "u2", "assistant", "second answer"),
          u2: msg("u2", "a1", "user", "second question"),
          a1: msg("a1", "u1", "assistant", "first answer"),
          u1: msg("u1", null, "user", "first question"),
        },
        "a2",
      ),
    );
    expect(shape(document)).toEqual([
      ["user", null, "first question"],
      ["assistant", 1, "first answer"],
      ["user", 2, "second question"],
      ["assistant", 3, "second answer"],
    ]);
    expect(document.activeMessageId).toBe(4);
  });

  it("ends parent links that go round in a circle instead of looping, and imports every message once", () => {
    const { document } = read(
      chatRow({
        x: msg("x", "y", "user", "x"),
        y: msg("y", "z", "assistant", "y"),
        z: msg("z", "x", "user", "z"),
        self: msg("self", "self", "user", "self"),
        child: msg("child", "self", "assistant", "child of self"),
      }),
    );
    expectWellFormed(document, now);
    // x → y → z → x is cut at z's link back to x: z becomes a first message.
    expect(shape(document)).toEqual([
      ["user", null, "z"],
      ["assistant", 1, "y"],
      ["user", 2, "x"],
      ["user", null, "self"],
      ["assistant", 4, "child of self"],
    ]);
  });

  it("makes a message whose parent is missing a first one, and hangs a skipped message's children from its parent", () => {
    const { document } = read(
      chatRow({
        orphan: msg("orphan", "gone", "user", "orphan"),
        sys: msg("sys", "orphan", "system", "be brief"),
        answer: msg("answer", "sys", "assistant", "answer"),
      }),
    );
    expect(shape(document)).toEqual([
      ["user", null, "orphan"],
      ["assistant", 1, "answer"],
    ]);
  });

  it("shows the path of the current message, its question when it is a failed answer, and the last message without one", () => {
    const messages = {
      u1: msg("u1", null, "user", "q"),
      a1: msg("a1", "u1", "assistant", "a"),
      a1b: msg("a1b", "u1", "assistant", "", { error: { content: "model not found" } }),
    };
    expect(read(chatRow(messages, "a1b")).document.activeMessageId).toBe(1);
    expect(read(chatRow(messages, "a1")).document.activeMessageId).toBe(2);
    expect(read(chatRow(messages, null)).document.activeMessageId).toBe(2);
    expect(read(chatRow(messages, "not-there")).document.activeMessageId).toBe(2);
  });

  it("keeps the text of an answer that failed part way, and takes times written in milliseconds", () => {
    const { document } = read(
      chatRow({
        u1: msg("u1", null, "user", "q", { timestamp: 1733000000123 }),
        a1: msg("a1", "u1", "assistant", "Half an answ", { error: { content: "connection reset" } }),
      }),
    );
    expect(messageOf(document, 2)).toEqual({ role: "assistant", content: "Half an answ" });
    expect(document.messages[0]?.createdAt).toBe(1733000000123);
  });
});

describe("openWebUiReader: attachments", () => {
  it("keeps at most 4 images, of the types chat.send takes, by their bytes, and leaves out the rest", () => {
    const gifUrl = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==";
    const files = [
      { type: "image", url: pngUrl },
      // The URL says JPEG, the bytes are a PNG: kept as what it is.
      { type: "image", url: `data:image/jpeg;base64,${png}` },
      { type: "image", url: "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=" },
      { type: "image", url: gifUrl },
      { type: "image", url: "data:image/png;base64,not base64!" },
      { type: "image", url: pngUrl },
      { type: "image", url: pngUrl },
    ];
    const { document, leftOut } = read(chatRow({ u1: msg("u1", null, "user", "look", { files }) }));
    const question = messageOf(document, 1);
    expect(question.role === "user" ? question.images?.map((i) => i.mimeType) : undefined).toEqual(["image/png", "image/png", "image/gif", "image/png"]);
    expect(leftOut).toEqual(["3 images"]);
    expectWellFormed(document, now);
  });

  it("keeps at most 8 text files, named as the version wrote them, and leaves out empty, too long and extra ones", () => {
    const upload = (name: string, content: string) => ({ type: "file", file: { filename: name, meta: { name, content_type: "text/plain" }, data: { content } } });
    const files = [
      ...Array.from({ length: 8 }, (_, i) => upload(`f${i}.txt`, `text ${i}`)),
      upload("ninth.txt", "one too many"),
      upload("empty.txt", "  \n"),
      upload("huge.log", "x".repeat(100_001)),
      { type: "file", name: "older.md", data: { content: "older shape" } },
      { type: "file", file: { meta: { name: "meta-only.csv" }, data: { content: "a,b" } } },
      { type: "doc", name: "knowledge", collection_name: "kb-1" },
      { type: "file", file: { filename: "photo.heic", meta: { content_type: "image/heic" }, data: {} } },
    ];
    const { document, leftOut } = read(chatRow({ u1: msg("u1", null, "user", "", { files }) }));
    const question = messageOf(document, 1);
    expect(question.role === "user" ? question.files?.map((f) => f.name) : undefined).toEqual(Array.from({ length: 8 }, (_, i) => `f${i}.txt`));
    expect(question.content).toBe("");
    expect(leftOut).toEqual(["6 files", "1 image"]);

    const small = read(chatRow({ u1: msg("u1", null, "user", "", { files: files.slice(11, 13) }) })).document;
    const smallQuestion = messageOf(small, 1);
    expect(smallQuestion.role === "user" ? smallQuestion.files : undefined).toEqual([
      { type: "file", name: "older.md", text: "older shape" },
      { type: "file", name: "meta-only.csv", text: "a,b" },
    ]);
  });

  it("says what a question with only left-out attachments had", () => {
    const files = [{ type: "image", url: "https://x/a.png" }, { type: "image", url: "https://x/b.png" }, { type: "file", name: "a.pdf", file: { data: {} } }];
    const { document } = read(chatRow({ u1: msg("u1", null, "user", " ", { files }), a1: msg("a1", "u1", "assistant", "ok") }));
    expect(messageOf(document, 1).content).toBe("[2 images and file not imported]");
  });

  it("keeps a question longer than the import takes as a text file, and skips one with nothing at all", () => {
    const long = "word ".repeat(7_000);
    const { document } = read(
      chatRow({
        u1: msg("u1", null, "user", long),
        a1: msg("a1", "u1", "assistant", "ok"),
        u2: msg("u2", "a1", "user", ""),
        a2: msg("a2", "u2", "assistant", "hm?"),
      }),
    );
    expect(messageOf(document, 1)).toEqual({ role: "user", content: "", files: [{ type: "file", name: "message.txt", text: long }] });
    expect(links(document)).toEqual([
      ["user", null],
      ["assistant", 1],
      ["assistant", 2],
    ]);
    expectWellFormed(document, now);
  });

  it("counts the images an answer made as left out", () => {
    const { leftOut } = read(
      chatRow({ u1: msg("u1", null, "user", "draw a cat"), a1: msg("a1", "u1", "assistant", "Here it is.", { files: [{ type: "image", url: "/api/v1/files/1/content" }] }) }),
    );
    expect(leftOut).toEqual(["1 image"]);
  });
});

describe("openWebUiReader: the chat's settings", () => {
  const oneTurn = { u1: msg("u1", null, "user", "Plan a week in Kyoto"), a1: msg("a1", "u1", "assistant", "Day one: Fushimi Inari.") };
  const withChat = (extra: Record<string, unknown>, params: Record<string, unknown> = {}) => {
    const base = chatRow(oneTurn, "a1");
    return { ...base, ...extra, chat: { ...(base.chat as Record<string, unknown>), params } };
  };

  it("takes the chat's own system prompt (chat.params.system) as the conversation's instructions, trimmed", () => {
    const { document, leftOut } = read(withChat({}, { system: "  We travel in April, on a small budget.\n", temperature: 0.4 }));
    expect(document.conversation.instructions).toBe("We travel in April, on a small budget.");
    expect(leftOut).toEqual([]);
  });

  it("gives none for no prompt, a blank one or one that is not text", () => {
    for (const params of [{}, { system: "   " }, { system: 42 }]) {
      expect(read(withChat({}, params)).document.conversation).not.toHaveProperty("instructions");
    }
    const { chat: _, ...rest } = withChat({});
    expect(read({ ...rest, chat: { history: { messages: oneTurn, currentId: "a1" } } }).document.conversation).not.toHaveProperty("instructions");
  });

  it("leaves out a prompt longer than a conversation's instructions may be, and says so", () => {
    const long = "x".repeat(4001);
    const { document, leftOut } = read(withChat({}, { system: long }));
    expect(document.conversation).not.toHaveProperty("instructions");
    expect(leftOut).toEqual(["1 long chat system prompt"]);
    expect(read(withChat({}, { system: "y".repeat(4000) })).document.conversation.instructions).toHaveLength(4000);
  });

  it("takes the chat's own temperature, top P and seed (chat.params) as the conversation's sampling; null ones are the model's", () => {
    const { document, leftOut } = read(withChat({}, { temperature: 0.4, top_p: 0.9, seed: 42, top_k: 40 }));
    expect(document.conversation.sampling).toEqual({ temperature: 0.4, topP: 0.9, seed: 42 });
    expect(leftOut).toEqual([]);
    expect(read(withChat({}, { temperature: null, top_p: 0.5, seed: "7" })).document.conversation.sampling).toEqual({ topP: 0.5 });
    for (const params of [{}, { temperature: null }, { system: "Be brief." }]) {
      expect(read(withChat({}, params)).document.conversation).not.toHaveProperty("sampling");
    }
  });

  it("leaves out a sampling setting this app's servers would refuse, and says so", () => {
    const { document, leftOut } = read(withChat({}, { temperature: 3, top_p: 0, seed: 1.5 }));
    expect(document.conversation).not.toHaveProperty("sampling");
    expect(leftOut).toEqual(["3 out-of-range chat sampling settings"]);
    expect(read(withChat({}, { temperature: 2, seed: -1 })).document.conversation.sampling).toEqual({ temperature: 2 });
  });

  it("keeps the chat archived or pinned as it was there, at its last change", () => {
    const archived = read(withChat({ archived: true })).document.conversation;
    expect(archived.archivedAt).toBe(1733000100 * 1000);
    expect(archived).not.toHaveProperty("pinnedAt");
    const pinned = read(withChat({ pinned: true })).document.conversation;
    expect(pinned.pinnedAt).toBe(1733000100 * 1000);
    expect(pinned).not.toHaveProperty("archivedAt");
  });
});

describe("openWebUiReader: what it refuses", () => {
  it("matches rows with a history or a shown path only", () => {
    expect(openWebUiReader.matches(chatRow({}))).toBe(true);
    expect(openWebUiReader.matches({ id: "x", chat: { messages: [] } })).toBe(true);
    expect(openWebUiReader.matches({ id: "x", chat: { history: { messages: [] } } })).toBe(false);
    expect(openWebUiReader.matches({ uuid: "x", chat_messages: [] })).toBe(false);
    expect(openWebUiReader.matches({ title: "x", mapping: {} })).toBe(false);
    // This app's own export has a `messages` array too, but no `chat`.
    expect(openWebUiReader.matches({ format: "streamchat.conversation", version: 1, messages: [] })).toBe(false);
    expect(openWebUiReader.matches(null)).toBe(false);
    expect(openWebUiReader.matches([chatRow({})])).toBe(false);
  });

  it.each([
    ["a message that is not an object", chatRow({ u1: "hello" }), "One of its messages is not in the form Open WebUI writes."],
    ["a message without a role", chatRow({ u1: { id: "u1", content: "hi" } }), "One of its messages is not in the form Open WebUI writes."],
    ["a content that is not text", chatRow({ u1: msg("u1", null, "user", "x", { content: 42 }) }), "One of its messages is not in the form Open WebUI writes."],
    ["a path entry that is not an object", { id: "r", chat: { messages: [msg("u1", null, "user", "hi"), 7] } }, "One of its messages is not in the form Open WebUI writes."],
    ["no messages", chatRow({}), "It has no messages."],
    ["only a system prompt and a failed answer", chatRow({ s: msg("s", null, "system", "be nice"), a: msg("a", "s", "assistant", "", { error: {} }) }), "It has no messages."],
    ["something else", { id: "r", chat: "nope" }, "It is not in the form of an Open WebUI chat."],
  ])("refuses %s with a sentence", (_, value, sentence) => {
    expect(() => read(value)).toThrow(ForeignExportError);
    expect(() => read(value)).toThrow(sentence);
  });
});
