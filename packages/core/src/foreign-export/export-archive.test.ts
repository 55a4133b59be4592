import { strToU8, zipSync, type Zippable } from "fflate";
import { describe, expect, it } from "vitest";
import { attachmentIdOfFileName, toBase64 } from "./chatgpt-files.js";
import { openExportArchive } from "./export-archive.js";
import { readForeignExportItems, type ForeignConversation } from "./read.js";
import { NoConversationsJsonError, ZipReadError } from "./zip.js";

/** Bytes that sniff as the type (its signature), then filler. */
function picture(kind: "png" | "jpeg" | "heic", length = 2_000, seed = 1): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  const signature = { png: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], jpeg: [0xff, 0xd8, 0xff, 0xe0], heic: [0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70] }[kind];
  bytes.set(signature);
  return bytes;
}

type Json = Record<string, unknown>;

/** One ChatGPT conversation of questions (each a list of parts, or parts and uploads) without answers, in a line. */
function chatGptConversation(id: string, questions: Array<unknown[] | { parts: unknown[]; attachments: Json[] }>): Json {
  const mapping: Json = {};
  let parent: string | null = null;
  questions.forEach((question, i) => {
    const nodeId = `${id}-n${i}`;
    const { parts, attachments } = Array.isArray(question) ? { parts: question, attachments: undefined } : question;
    mapping[nodeId] = {
      id: nodeId,
      parent,
      children: i + 1 < questions.length ? [`${id}-n${i + 1}`] : [],
      message: {
        id: nodeId,
        author: { role: "user" },
        create_time: 1_700_000_000 + i,
        content: { content_type: "multimodal_text", parts },
        metadata: attachments ? { attachments } : {},
      },
    };
    parent = nodeId;
  });
  return { title: id, conversation_id: id, create_time: 1_700_000_000, update_time: 1_700_000_100, mapping, current_node: parent };
}

const pointer = (assetPointer: string) => ({ content_type: "image_asset_pointer", asset_pointer: assetPointer, size_bytes: 2000, width: 10, height: 10 });

async function importOf(files: Zippable, options: { maxImageBytes?: number; maxFileChars?: number; maxDocumentBytes?: number } = {}) {
  const { maxDocumentBytes, ...limits } = options;
  const archive = await openExportArchive(new Blob([zipSync(files)]), limits);
  const stream = await readForeignExportItems(archive.pieces, { files: archive.files, maxDocumentBytes, now: 1 });
  if (!stream) throw new Error("not read as another app's export");
  const conversations: ForeignConversation[] = [];
  for await (const conversation of stream.conversations) conversations.push(conversation);
  return { conversations, leftOut: stream.leftOut(), progress: archive.progress() };
}

/** Each question as its text, its images' types and data lengths, and its files' names and lengths. */
function questions(conversation: ForeignConversation | undefined) {
  return (conversation?.document?.messages ?? []).map(({ message }) => ({
    content: message.content,
    images: message.role === "user" ? (message.images ?? []).map((image) => `${image.mimeType} ${image.data.length}`) : [],
    ...(message.role === "user" && message.files ? { files: message.files.map((file) => `${file.name} ${file.text.length}`) } : {}),
  }));
}

describe("attachmentIdOfFileName", () => {
  it("takes the id ChatGPT's pointers name from an export's file names, in any folder", () => {
    expect(attachmentIdOfFileName("file-AbC123-Screenshot 2024-05-01.png")).toBe("file-AbC123");
    expect(attachmentIdOfFileName("user-xyz/file_00000000a1b2c3-6f1d-4e2a.jpeg")).toBe("file_00000000a1b2c3");
    expect(attachmentIdOfFileName("dalle-generations/file-Q9.webp")).toBe("file-Q9");
    expect(attachmentIdOfFileName("file-Z9")).toBe("file-Z9");
    expect(attachmentIdOfFileName("conversations.json")).toBeUndefined();
    expect(attachmentIdOfFileName("profile-file-A1.png")).toBeUndefined();
    expect(attachmentIdOfFileName("file-A1!.png")).toBeUndefined();
  });
});

describe("toBase64", () => {
  it("encodes as Node's Buffer does, past one chunk of the encoder", () => {
    for (const bytes of [new Uint8Array(0), picture("png", 9), picture("png", 0x8000 * 3 + 7)]) expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
  });
});

describe("openExportArchive with readForeignExportItems", () => {
  it("puts the pictures a ChatGPT question was asked with on it, by the ids its parts point to", async () => {
    const png = picture("png");
    const jpeg = picture("jpeg", 3_000, 2);
    const { conversations, leftOut, progress } = await importOf({
      "conversations.json": strToU8(
        JSON.stringify([
          chatGptConversation("c1", [["What is this?", pointer("file-service://file-Cat1")], [pointer("sediment://file_00aa"), "And this one?"]]),
          chatGptConversation("c2", [[pointer("file-service://file-Missing"), "Gone?"]]),
        ]),
      ),
      "file-Cat1-cat.png": [png, { level: 0 }],
      "user-1/file_00aa-2b3c.jpg": jpeg,
    });
    expect(questions(conversations[0])).toEqual([
      { content: "What is this?", images: ["image/png 2668"] },
      { content: "And this one?", images: ["image/jpeg 4000"] },
    ]);
    const first = conversations[0]?.document?.messages[0]?.message;
    expect(first?.role === "user" && first.images?.[0]?.data).toBe(Buffer.from(png).toString("base64"));
    expect(conversations[0]?.leftOut).toEqual([]);
    // Not in the archive: counted as before.
    expect(questions(conversations[1])).toEqual([{ content: "Gone?", images: [] }]);
    expect(leftOut).toEqual(["1 image"]);
    expect(progress).toBe(1);
  });

  it("leaves out, and counts, pictures larger than the server takes, of a type a model cannot read, or past four a question", async () => {
    const { conversations, leftOut } = await importOf(
      {
        "conversations.json": strToU8(
          JSON.stringify([
            chatGptConversation("big", [["Large", pointer("file-service://file-Big")], ["HEIC", pointer("file-service://file-Heic")]]),
            chatGptConversation("five", [["Five", ...[1, 2, 3, 4, 5].map((n) => pointer(`file-service://file-P${n}`))]]),
            chatGptConversation("only", [[pointer("file-service://file-Big")]]),
          ]),
        ),
        "file-Big-large.png": picture("png", 5_000),
        "file-Heic-photo.heic": picture("heic"),
        ...Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`file-P${n}.png`, picture("png", 100, n)])),
      },
      { maxImageBytes: 4_000 },
    );
    expect(questions(conversations[0])).toEqual([
      { content: "Large", images: [] },
      { content: "HEIC", images: [] },
    ]);
    expect(questions(conversations[1])).toEqual([{ content: "Five", images: Array(4).fill("image/png 136") }]);
    expect(conversations[1]?.leftOut).toEqual(["1 image"]);
    // A question that was only a picture left out still says so.
    expect(questions(conversations[2])).toEqual([{ content: "[image not imported]", images: [] }]);
    expect(leftOut).toEqual(["4 images"]);
  });

  it("takes a conversation's pictures in order while they fit in what the server imports, and counts the rest", async () => {
    const files: Zippable = {
      "conversations.json": strToU8(
        JSON.stringify([
          chatGptConversation("heavy", [
            ["First", pointer("file-service://file-H1")],
            ["Second", pointer("file-service://file-H2")],
            ["Third", pointer("file-service://file-H3")],
            ["Small", pointer("file-service://file-S1")],
          ]),
        ]),
      ),
      ...Object.fromEntries(["H1", "H2", "H3"].map((id, i) => [`file-${id}.png`, picture("png", 30_000, i + 1)])),
      "file-S1.png": picture("png", 3_000),
    };
    const all = await importOf(files, { maxDocumentBytes: 200_000 });
    expect(questions(all.conversations[0]).map((q) => q.images.length)).toEqual([1, 1, 1, 1]);
    // 40 KB a picture as base64: two fit in 100 KB beside the text, the third does not, the small one after it does.
    const some = await importOf(files, { maxDocumentBytes: 100_000 });
    expect(questions(some.conversations[0])).toEqual([
      { content: "First", images: ["image/png 40000"] },
      { content: "Second", images: ["image/png 40000"] },
      { content: "Third", images: [] },
      { content: "Small", images: ["image/png 4000"] },
    ]);
    expect(some.leftOut).toEqual(["1 image"]);
    const document = some.conversations[0]?.document;
    expect(new TextEncoder().encode(JSON.stringify(document)).length).toBeLessThanOrEqual(100_000);
    // No room at all beside the text: the conversation comes with none.
    const none = await importOf(files, { maxDocumentBytes: 1_000 });
    expect(questions(none.conversations[0]).map((q) => q.images.length)).toEqual([0, 0, 0, 0]);
    expect(none.leftOut).toEqual(["4 images"]);
  });

  it("imports a conversation without its files when they weigh more as JSON than their size foretold (a file of quotes)", async () => {
    const files: Zippable = {
      "conversations.json": strToU8(
        JSON.stringify([chatGptConversation("quotes", [{ parts: ["Quoted"], attachments: [{ id: "file-Q1", name: "quotes.txt", mimeType: "text/plain" }] }])]),
      ),
      // 6,000 bytes, foretold as ~8 KB; each quote is escaped as two characters in JSON.
      "file-Q1-quotes.txt": strToU8('"'.repeat(6_000)),
    };
    const roomy = await importOf(files, { maxDocumentBytes: 20_000 });
    expect(questions(roomy.conversations[0])).toEqual([{ content: "Quoted", images: [], files: ["quotes.txt 6000"] }]);
    const tight = await importOf(files, { maxDocumentBytes: 11_000 });
    expect(questions(tight.conversations[0])).toEqual([{ content: "Quoted", images: [] }]);
    expect(tight.leftOut).toEqual(["1 file"]);
  });

  it("puts a question's uploaded text files on it, under the names they were uploaded with; a PDF or a longer one is counted", async () => {
    const upload = (id: string, name: string, mimeType: string) => ({ id, name, mimeType, size: 100 });
    const { conversations, leftOut } = await importOf(
      {
        "conversations.json": strToU8(
          JSON.stringify([
            chatGptConversation("files", [
              {
                parts: ["Compare these"],
                attachments: [
                  upload("file-N1", "notes.md", "text/markdown"),
                  upload("file-C1", "data.csv", "text/csv"),
                  upload("file-P1", "report.pdf", "application/pdf"),
                  upload("file-L1", "long.txt", "text/plain"),
                  upload("file-G1", "gone.txt", "text/plain"),
                ],
              },
              // A picture uploaded as a file, not in the parts.
              { parts: ["And the chart"], attachments: [upload("file-I1", "chart.png", "image/png")] },
            ]),
          ]),
        ),
        "file-N1-notes.md": strToU8("# Notes\n\nGrüße — 😀"),
        "file-C1-data.csv": strToU8("a,b\n1,2\n"),
        "file-P1-report.pdf": new Uint8Array([...strToU8("%PDF-1.7\n"), 0, 0xff, 0xfe, 0x01]),
        "file-L1-long.txt": strToU8("x".repeat(1_001)),
        "file-I1-chart.png": picture("png", 500),
      },
      { maxFileChars: 1_000 },
    );
    expect(questions(conversations[0])).toEqual([
      { content: "Compare these", images: [], files: ["notes.md 19", "data.csv 8"] },
      { content: "And the chart", images: ["image/png 668"] },
    ]);
    expect(leftOut).toEqual(["3 files"]);
  });

  it("reads Claude's archive, which has no pictures, as before", async () => {
    const claude = [{ uuid: "u1", name: "Hi", created_at: "2024-01-01T00:00:00Z", updated_at: "2024-01-01T00:00:00Z", chat_messages: [{ sender: "human", text: "Hello", created_at: "2024-01-01T00:00:00Z" }] }];
    const { conversations } = await importOf({ "data/conversations.json": strToU8(JSON.stringify(claude)), "users.json": strToU8("[]") });
    expect(questions(conversations[0])).toEqual([{ content: "Hello", images: [] }]);
  });

  it("refuses an archive without conversations.json, and one that is no archive, with ZipReadError", async () => {
    await expect(openExportArchive(new Blob([zipSync({ "users.json": strToU8("[]") })]))).rejects.toBeInstanceOf(NoConversationsJsonError);
    await expect(openExportArchive(new Blob([strToU8("[]")]))).rejects.toBeInstanceOf(ZipReadError);
  });
});
