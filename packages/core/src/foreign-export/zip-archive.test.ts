import { deflateSync, strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { ZipArchive } from "./zip-archive.js";
import { ZipReadError } from "./zip.js";

async function text(pieces: AsyncIterable<string>): Promise<string> {
  const parts: string[] = [];
  for await (const piece of pieces) parts.push(piece);
  return parts.join("");
}

/** Random bytes: they do not compress, like a real export's pictures. */
function noise(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = 99;
  for (let i = 0; i < length; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return bytes;
}

const longJson = JSON.stringify(Array.from({ length: 40_000 }, (_, i) => ({ i, title: `Grüße ${i} — 😀` })));

/**
 * An archive written the ZIP64 way, as archivers do past 4 GB or 65,535 files: every size and offset in the ZIP64
 * extra field and end records, the 32-bit fields full. fflate writes no such archive, so it is built here field by
 * field (deflated entries, one comment at the end).
 */
function zip64(files: Record<string, Uint8Array>, comment = ""): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const push = (bytes: Uint8Array) => {
    parts.push(bytes);
    offset += bytes.length;
  };
  for (const [name, content] of Object.entries(files)) {
    const nameBytes = strToU8(name);
    const data = deflateSync(content);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 45, true);
    local.setUint16(8, 8, true);
    local.setUint32(18, 0xffffffff, true);
    local.setUint32(22, 0xffffffff, true);
    local.setUint16(26, nameBytes.length, true);
    const headerAt = offset;
    push(new Uint8Array(local.buffer));
    push(nameBytes);
    push(data);
    const extra = new DataView(new ArrayBuffer(28));
    extra.setUint16(0, 1, true);
    extra.setUint16(2, 24, true);
    extra.setBigUint64(4, BigInt(content.length), true);
    extra.setBigUint64(12, BigInt(data.length), true);
    extra.setBigUint64(20, BigInt(headerAt), true);
    const header = new DataView(new ArrayBuffer(46));
    header.setUint32(0, 0x02014b50, true);
    header.setUint16(4, 45, true);
    header.setUint16(6, 45, true);
    header.setUint16(10, 8, true);
    header.setUint32(20, 0xffffffff, true);
    header.setUint32(24, 0xffffffff, true);
    header.setUint16(28, nameBytes.length, true);
    header.setUint16(30, 28, true);
    header.setUint32(42, 0xffffffff, true);
    central.push(new Uint8Array(header.buffer), nameBytes, new Uint8Array(extra.buffer));
  }
  const directoryAt = offset;
  for (const bytes of central) push(bytes);
  const directorySize = offset - directoryAt;
  const count = BigInt(Object.keys(files).length);
  const record = new DataView(new ArrayBuffer(56));
  record.setUint32(0, 0x06064b50, true);
  record.setBigUint64(4, 44n, true);
  record.setBigUint64(24, count, true);
  record.setBigUint64(32, count, true);
  record.setBigUint64(40, BigInt(directorySize), true);
  record.setBigUint64(48, BigInt(directoryAt), true);
  const recordAt = offset;
  push(new Uint8Array(record.buffer));
  const locator = new DataView(new ArrayBuffer(20));
  locator.setUint32(0, 0x07064b50, true);
  locator.setBigUint64(8, BigInt(recordAt), true);
  locator.setUint32(16, 1, true);
  push(new Uint8Array(locator.buffer));
  const commentBytes = strToU8(comment);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, 0xffff, true);
  end.setUint16(10, 0xffff, true);
  end.setUint32(12, 0xffffffff, true);
  end.setUint32(16, 0xffffffff, true);
  end.setUint16(20, commentBytes.length, true);
  push(new Uint8Array(end.buffer));
  push(commentBytes);
  const all = new Uint8Array(offset);
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
}

describe("ZipArchive", () => {
  it("lists an archive's files and reads the one asked for, stored or deflated, in a folder or not", async () => {
    const picture = noise(50_000);
    const archive = await ZipArchive.open(
      new Blob([
        zipSync({
          "file-A1-photo.png": [picture, { level: 0 }],
          "export/conversations.json": [strToU8(longJson), { level: 6 }],
          "empty/": new Uint8Array(0),
        }),
      ]),
    );
    expect(archive.entries.map((e) => [e.name, e.size])).toEqual([
      ["file-A1-photo.png", 50_000],
      ["export/conversations.json", strToU8(longJson).length],
      ["empty/", 0],
    ]);
    expect(archive.entries.slice(0, 2).map((e) => e.method)).toEqual([0, 8]);
    const json = archive.find("conversations.json");
    expect(json?.name).toBe("export/conversations.json");
    expect(json && json.compressedSize < json.size).toBe(true);
    let read = 0;
    expect(await text(archive.textPieces(json!, (bytes) => (read = bytes)))).toBe(longJson);
    expect(read).toBe(json?.compressedSize);
    const photo = archive.find("file-A1-photo.png")!;
    expect(await archive.bytes(photo, 50_000)).toEqual(picture);
    // Larger than asked for: not read at all.
    expect(await archive.bytes(photo, 49_999)).toBeUndefined();
    expect(archive.find("nothing.json")).toBeUndefined();
  });

  it("reads ZIP64 archives (sizes and offsets in the extra field, the end in ZIP64 records) with a comment after them", async () => {
    const picture = noise(3_000);
    const archive = await ZipArchive.open(new Blob([zip64({ "conversations.json": strToU8(longJson), "user-1/file_00ab-1.jpg": picture }, "made by hand")]));
    expect(archive.entries.map((e) => e.name)).toEqual(["conversations.json", "user-1/file_00ab-1.jpg"]);
    expect(await text(archive.textPieces(archive.find("conversations.json")!))).toBe(longJson);
    expect(await archive.bytes(archive.find("file_00ab-1.jpg")!, 10_000)).toEqual(picture);
  });

  it("finds the end record behind a comment that itself holds the record's signature", async () => {
    const plain = zipSync({ "a.txt": strToU8("hello") });
    // fflate writes no comment: one is put after the end record (its length field set to match).
    const comment = strToU8("PK\x05\x06 looks like an end record");
    const bytes = new Uint8Array(plain.length + comment.length);
    bytes.set(plain);
    bytes.set(comment, plain.length);
    new DataView(bytes.buffer).setUint16(plain.length - 2, comment.length, true);
    const archive = await ZipArchive.open(new Blob([bytes]));
    expect(new TextDecoder().decode(await archive.bytes(archive.find("a.txt")!, 100))).toBe("hello");
  });

  it("refuses what is no archive, a cut one and a damaged entry with ZipReadError", async () => {
    const whole = zipSync({ "conversations.json": strToU8(longJson) });
    for (const blob of [new Blob([strToU8("not a zip at all")]), new Blob([]), new Blob([whole.subarray(0, whole.length - 30)])]) {
      await expect(ZipArchive.open(blob)).rejects.toBeInstanceOf(ZipReadError);
    }
    // The directory is whole, the entry's deflated bytes are not what they were.
    const damaged = whole.slice();
    for (let i = 60; i < 400; i++) damaged[i] = 0xff;
    const archive = await ZipArchive.open(new Blob([damaged]));
    await expect(text(archive.textPieces(archive.entries[0]!))).rejects.toBeInstanceOf(ZipReadError);
    await expect(archive.bytes(archive.entries[0]!, 10_000_000)).rejects.toBeInstanceOf(ZipReadError);
  });

  it("says an encrypted entry or another compression cannot be read, by name", async () => {
    const bytes = zipSync({ "secret.json": strToU8("{}") });
    const view = new DataView(bytes.buffer);
    const directoryAt = view.getUint32(bytes.length - 22 + 16, true);
    view.setUint16(directoryAt + 8, 1, true); // encrypted
    const encrypted = await ZipArchive.open(new Blob([bytes]));
    await expect(encrypted.bytes(encrypted.entries[0]!, 100)).rejects.toThrow(/secret\.json is encrypted/);
    view.setUint16(directoryAt + 8, 0, true);
    view.setUint16(directoryAt + 10, 14, true); // LZMA
    const lzma = await ZipArchive.open(new Blob([bytes]));
    await expect(text(lzma.textPieces(lzma.entries[0]!))).rejects.toThrow(/secret\.json is compressed in a way this reader does not know/);
  });
});
