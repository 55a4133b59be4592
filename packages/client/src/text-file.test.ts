import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTextFileAttachment } from "./index.js";

describe("readTextFileAttachment", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "streamchat-text-file-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: string | Uint8Array) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it("reads a UTF-8 file as { type: file, name: the path's last part, text } with its text exactly", async () => {
    const text = "name,city\nAda,Zürich\nLin,東京 😀\r\n\ttabbed line without end";
    expect(await readTextFileAttachment(write("people.csv", text))).toEqual({ type: "file", name: "people.csv", text });
  });

  it("drops a UTF-8 byte order mark, as the decoder does", async () => {
    const path = write("bom.txt", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("hello\n")]));
    expect(await readTextFileAttachment(path)).toEqual({ type: "file", name: "bom.txt", text: "hello\n" });
  });

  it("refuses bytes that are not UTF-8, naming the file and not the directories", async () => {
    const png = write("photo.png", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe]));
    await expect(readTextFileAttachment(png)).rejects.toThrow(/^photo\.png is not a text file \(it is not UTF-8\)$/);
    // Latin-1 text is not UTF-8 either: sent as it is, "é" would reach the model as a replacement character.
    await expect(readTextFileAttachment(write("latin1.txt", Buffer.from("caf\xe9\n", "latin1")))).rejects.toThrow(
      "latin1.txt is not a text file (it is not UTF-8)",
    );
    // A surrogate encoded on its own (CESU-8) is no UTF-8: the server could not store it.
    await expect(readTextFileAttachment(write("cesu.txt", Buffer.from([0x61, 0xed, 0xa0, 0x80])))).rejects.toThrow("cesu.txt is not a text file");
  });

  it("refuses valid UTF-8 that holds a NUL byte", async () => {
    await expect(readTextFileAttachment(write("data.bin", "abc\0def"))).rejects.toThrow(/^data\.bin is not a text file \(it holds NUL bytes\)$/);
  });

  it("refuses an empty file, and one that holds only a byte order mark", async () => {
    await expect(readTextFileAttachment(write("empty.md", ""))).rejects.toThrow(/^empty\.md is empty$/);
    await expect(readTextFileAttachment(write("only-bom.md", Buffer.from([0xef, 0xbb, 0xbf])))).rejects.toThrow(/^only-bom\.md is empty$/);
  });

  it("says why a path cannot be read, with the path given", async () => {
    const missing = join(dir, "nope.txt");
    await expect(readTextFileAttachment(missing)).rejects.toThrow(`cannot read ${missing} (ENOENT)`);
    const folder = join(dir, "folder");
    mkdirSync(folder);
    await expect(readTextFileAttachment(folder)).rejects.toThrow(`cannot read ${folder} (EISDIR)`);
  });
});
