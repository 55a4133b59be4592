import { Zip, ZipDeflate, zipSync, strToU8 } from "fflate";
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { readForeignExport, readForeignExportItems, type ForeignConversation } from "./read.js";
import { conversationsJsonPiecesFromZip, isZip, NoConversationsJsonError, ZipReadError } from "./zip.js";

/** The archive's bytes in chunks of `size`, counting how many were read. */
function chunked(bytes: Uint8Array, size = 1024) {
  const read = { chunks: 0 };
  const iterable = {
    async *[Symbol.asyncIterator]() {
      for (let at = 0; at < bytes.length; at += size) {
        read.chunks++;
        yield bytes.subarray(at, at + size);
      }
    },
  };
  return { iterable, read, total: Math.ceil(bytes.length / size) };
}

/** Random bytes: they do not compress, like the pictures of a real export. */
function noise(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = 12345;
  for (let i = 0; i < length; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return bytes;
}

const json = JSON.stringify([{ title: "Grüße aus Köln — 😀", mapping: {} }]);

/** The whole conversations.json of an archive, its pieces joined; undefined when the archive holds none. */
async function conversationsJsonFromZip(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<string | undefined> {
  const parts: string[] = [];
  try {
    for await (const piece of conversationsJsonPiecesFromZip(chunks)) parts.push(piece);
  } catch (error) {
    if (error instanceof NoConversationsJsonError) return undefined;
    throw error;
  }
  return parts.join("");
}

describe("conversationsJsonPiecesFromZip, joined", () => {
  it("reads conversations.json from a data export's archive, deflated or stored, at its top or in a folder", async () => {
    for (const [name, level] of [
      ["conversations.json", 6],
      ["conversations.json", 0],
      ["chatgpt-export-2026-12-06/conversations.json", 9],
    ] as const) {
      const archive = zipSync({ "chat.html": strToU8("<html></html>"), [name]: [strToU8(json), { level }], "user.json": strToU8("{}") });
      expect(isZip(archive)).toBe(true);
      expect(await conversationsJsonFromZip(chunked(archive, 7).iterable)).toBe(json);
    }
  });

  it("reads an archive written as a stream (sizes after the data), as export services write them", async () => {
    const pieces: Uint8Array[] = [];
    const zip = new Zip((error, data) => {
      if (error) throw error;
      pieces.push(data);
    });
    const entry = new ZipDeflate("conversations.json", { level: 6 });
    zip.add(entry);
    const bytes = strToU8(json.repeat(50));
    entry.push(bytes.subarray(0, 100));
    entry.push(bytes.subarray(100), true);
    zip.end();
    const archive = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const piece of pieces) {
      archive.set(piece, at);
      at += piece.length;
    }
    expect(await conversationsJsonFromZip(chunked(archive, 64).iterable)).toBe(json.repeat(50));
  });

  it("stops reading once the file is whole: the pictures after it are not read", async () => {
    const archive = zipSync({ "conversations.json": strToU8(json), "file-abc.png": [noise(512 * 1024), { level: 0 }] });
    const { iterable, read, total } = chunked(archive, 4096);
    expect(await conversationsJsonFromZip(iterable)).toBe(json);
    expect(read.chunks).toBeLessThan(total / 10);
  });

  it("is undefined for an archive without conversations.json; refuses a damaged or cut one", async () => {
    expect(await conversationsJsonFromZip(chunked(zipSync({ "notes.txt": strToU8("hi") })).iterable)).toBeUndefined();
    const archive = zipSync({ "conversations.json": [strToU8(json.repeat(200)), { level: 6 }] });
    const cut = archive.subarray(0, Math.floor(archive.length / 2));
    await expect(conversationsJsonFromZip(chunked(cut, 64).iterable)).rejects.toThrow(ZipReadError);
    const damaged = archive.slice();
    damaged.fill(0xff, 60, 120);
    await expect(conversationsJsonFromZip(chunked(damaged, 64).iterable)).rejects.toThrow(ZipReadError);
  });

  it("tells a ZIP archive by its first bytes", () => {
    expect(isZip(strToU8("PK\x03\x04rest"))).toBe(true);
    expect(isZip(strToU8('[{"title":"x"}]'))).toBe(false);
    expect(isZip(strToU8("PK"))).toBe(false);
  });
});

describe("conversationsJsonPiecesFromZip", () => {
  const pieces = async (chunks: AsyncIterable<Uint8Array>) => {
    const got: string[] = [];
    for await (const piece of conversationsJsonPiecesFromZip(chunks)) got.push(piece);
    return got;
  };

  it("gives conversations.json's text in pieces as it is inflated, characters whole wherever the chunks split them", async () => {
    const big = json.repeat(3000);
    for (const level of [0, 6] as const) {
      const archive = zipSync({ "chat.html": strToU8("<html></html>"), "export/conversations.json": [strToU8(big), { level }] });
      const got = await pieces(chunked(archive, 7).iterable);
      expect(got.length).toBeGreaterThan(1);
      expect(got.join("")).toBe(big);
      // No piece ends in half a surrogate pair (the emoji) or holds a replacement character (half a UTF-8 sequence).
      for (const piece of got) expect(piece).not.toMatch(/\uFFFD|[\uD800-\uDBFF]$/);
    }
  });

  it("gives the first pieces before the archive is read to its end, and stops once the file is whole", async () => {
    const archive = zipSync({ "conversations.json": [strToU8(json.repeat(5000)), { level: 0 }], "file-abc.png": [noise(512 * 1024), { level: 0 }] });
    const { iterable, read, total } = chunked(archive, 4096);
    const generator = conversationsJsonPiecesFromZip(iterable);
    await generator.next();
    expect(read.chunks).toBeLessThan(5);
    for await (const _ of generator);
    expect(read.chunks).toBeLessThan(total / 2);
  });

  it("throws NoConversationsJsonError (a ZipReadError, with a sentence) for an archive without conversations.json", async () => {
    const error: unknown = await pieces(chunked(zipSync({ "notes.txt": strToU8("hi") })).iterable).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NoConversationsJsonError);
    expect(error).toBeInstanceOf(ZipReadError);
    expect((error as Error).message).toBe("This ZIP file holds no conversations.json (ChatGPT's and Claude's data exports do).");
  });

  it("throws ZipReadError for an archive cut short inside conversations.json, after the pieces before the cut", async () => {
    const archive = zipSync({ "conversations.json": [strToU8(json.repeat(2000)), { level: 0 }] });
    const got: string[] = [];
    let error: unknown;
    try {
      for await (const piece of conversationsJsonPiecesFromZip(chunked(archive.subarray(0, archive.length / 2), 512).iterable)) got.push(piece);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ZipReadError);
    expect(error).not.toBeInstanceOf(NoConversationsJsonError);
    expect((error as Error).message).toMatch(/^This ZIP file .*cut short/);
    expect(json.repeat(2000).startsWith(got.join(""))).toBe(true);
    expect(got.join("").length).toBeGreaterThan(0);
  });

  it("feeds the streaming reader: a data export's archive read one conversation at a time", async () => {
    const text = readFileSync(new URL("./testdata/chatgpt-export.json", import.meta.url), "utf8");
    const archive = zipSync({ "conversations.json": [strToU8(text), { level: 6 }], "file-abc.png": [noise(64 * 1024), { level: 0 }] });
    const now = Date.UTC(2026, 11, 6);
    const stream = (await readForeignExportItems(conversationsJsonPiecesFromZip(chunked(archive, 333).iterable), { now }))!;
    const got: ForeignConversation[] = [];
    for await (const conversation of stream.conversations) got.push(conversation);
    const whole = readForeignExport(text, { now })!;
    expect(got).toEqual(whole.conversations);
    expect(stream.leftOut()).toEqual(whole.leftOut);
  });
});
