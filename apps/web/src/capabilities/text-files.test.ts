import { defaultMaxFileChars, maxFilesPerMessage } from "@streamchat/core/browser";
import { describe, expect, it, vi } from "vitest";
import { draftFilesBack, fileFacts, fileLabel, fileLimitsOf, fileNameOf, lineCount, readTextFile, utf8Bytes } from "./text-files.js";

// Node's File reads its bytes like the browser's (jsdom's cannot).

describe("reading a text file", () => {
  it("takes UTF-8 text as it is, byte order mark dropped", async () => {
    const text = "# Notizen\n\nGrüße aus Köln — 日本語 too 🎉\n";
    expect(await readTextFile(new File([text], "notes.md"), 1_000)).toEqual({ file: { type: "file", name: "notes.md", text } });
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("a,b\n")]);
    expect(await readTextFile(new File([bom], "excel.csv"), 1_000)).toEqual({ file: { type: "file", name: "excel.csv", text: "a,b\n" } });
  });

  it("refuses bytes that are not UTF-8, and UTF-8 holding a NUL, as no text file", async () => {
    // A PDF's header is ASCII, but its binary marker line (0xE2 0xE3 0xCF 0xD3) is no UTF-8.
    const pdf = new Uint8Array([...new TextEncoder().encode("%PDF-1.7\n%"), 0xe2, 0xe3, 0xcf, 0xd3, 0x0a]);
    expect(await readTextFile(new File([pdf], "report.pdf"), 1_000)).toEqual({ problem: "report.pdf is not a text file.", binary: true });
    // Valid UTF-8 (every byte below 0x80) with a NUL: a binary format that happens to be ASCII-clean.
    const withNul = new Uint8Array([0x53, 0x51, 0x4c, 0x00, 0x01, 0x02]);
    expect(await readTextFile(new File([withNul], "data.db"), 1_000)).toEqual({ problem: "data.db is not a text file.", binary: true });
  });

  it("refuses a file whose size alone is over the limit without reading it, and one over it once read", async () => {
    // 100 characters take at most 303 bytes (3 a character, and a byte order mark).
    const big = new File(["x".repeat(304)], "big.log");
    const read = vi.spyOn(big, "arrayBuffer");
    expect(await readTextFile(big, 100)).toEqual({ problem: "big.log is too long (304 bytes): a file may have at most 100 characters." });
    expect(read).not.toHaveBeenCalled();
    // 101 ASCII characters are only 101 bytes: read, then counted.
    expect(await readTextFile(new File(["y".repeat(101)], "long.txt"), 100)).toEqual({ problem: "long.txt is too long: 101 characters, at most 100." });
    // 100 three-byte characters are 300 bytes, and exactly the limit.
    expect(await readTextFile(new File(["語".repeat(100)], "ok.txt"), 100)).toEqual({ file: { type: "file", name: "ok.txt", text: "語".repeat(100) } });
  });

  it("refuses an empty file", async () => {
    expect(await readTextFile(new File([], "empty.txt"), 100)).toEqual({ problem: "empty.txt is empty." });
  });

  it("sends a name the server takes: control characters made spaces, a name over 255 characters cut keeping its extension", async () => {
    expect(fileNameOf("line\nbreak.txt")).toBe("line break.txt");
    expect(fileNameOf("  ")).toBe("untitled.txt");
    const cut = fileNameOf(`${"n".repeat(300)}.json`);
    expect(cut.length).toBe(255);
    expect(cut.endsWith("n….json")).toBe(true);
    // Never half a surrogate pair.
    const emoji = fileNameOf(`${"🎉".repeat(200)}.md`);
    expect(emoji.length).toBeLessThanOrEqual(255);
    expect(emoji.endsWith("🎉….md")).toBe(true);
    const read = await readTextFile(new File(["x"], "a\tb\u0007.txt"), 10);
    expect(read).toEqual({ file: { type: "file", name: "a\tb .txt", text: "x" } });
  });
});

describe("text files kept with a draft, back in the tray", () => {
  it("takes back what the tray would take, and says why each other one is not back", () => {
    const back = draftFilesBack(
      [
        { name: "notes.md", text: "# Notes\n" },
        { name: "bad\nname.txt", text: "fixed name" },
        { name: "empty.txt", text: "" },
        { name: "long.txt", text: "x".repeat(11) },
        { name: "binary.bin", text: "a\0b" },
        { name: "lone.txt", text: "\ud800" },
        { name: "third.txt", text: "3" },
        { name: "fourth.txt", text: "4" },
      ],
      { maxChars: 10, maxCount: 3 },
    );
    expect(back.files.map((d) => d.attachment)).toEqual([
      { type: "file", name: "notes.md", text: "# Notes\n" },
      { type: "file", name: "bad name.txt", text: "fixed name" },
      { type: "file", name: "third.txt", text: "3" },
    ]);
    expect(back.problems).toEqual([
      "empty.txt is empty.",
      "long.txt is too long: 11 characters, at most 10.",
      "binary.bin is not a text file.",
      "The file (lone.txt) is not a text file (it holds binary data).",
      "At most 3 files per message.",
    ]);
    // Each is a tray entry of its own.
    expect(new Set(back.files.map((d) => d.id)).size).toBe(3);
  });
});

describe("what a file chip says", () => {
  it("counts lines as an editor does and the size as UTF-8", () => {
    expect([lineCount("one"), lineCount("one\n"), lineCount("one\ntwo"), lineCount("one\ntwo\n"), lineCount("\n\n")]).toEqual([1, 1, 2, 2, 2]);
    expect([utf8Bytes("abc"), utf8Bytes("ü"), utf8Bytes("語"), utf8Bytes("🎉")]).toEqual([3, 2, 3, 4]);
    const text = `${"line of the notes\n".repeat(180)}`; // 3,240 bytes
    expect(fileFacts({ text })).toEqual(["180 lines", "3.2 KB"]);
    expect(fileLabel({ name: "notes.md", text })).toBe("notes.md, 180 lines, 3.2 KB");
    expect(fileLabel({ name: "one.txt", text: "x" })).toBe("one.txt, 1 line, 1 byte");
    // A stored file asked for without its text: its length only.
    expect(fileLabel({ name: "big.txt", chars: 12_345 })).toBe("big.txt, 12,345 characters");
  });
});

describe("file limits", () => {
  it("reads the server's limits from health, and core's defaults when it does not tell them", () => {
    const base = { ok: true, provider: "sim" as const, demo: true, providerReachable: true, providerVersion: null, store: { kind: "sqlite" as const, ok: true }, version: "0.1.0" };
    expect(fileLimitsOf({ ...base, limits: { maxImportBytes: 1, maxImageBytes: 1, maxFileChars: 5_000, maxFilesPerMessage: 3, maxContextTokens: 4096 } })).toEqual({ maxChars: 5_000, maxCount: 3 });
    const defaults = { maxChars: defaultMaxFileChars, maxCount: maxFilesPerMessage };
    expect(fileLimitsOf({ ...base, limits: { maxImportBytes: 1 } } as never)).toEqual(defaults);
    expect(fileLimitsOf({ ok: true, demo: true, store: { ok: true } })).toEqual(defaults);
    expect(fileLimitsOf(undefined)).toEqual(defaults);
    expect(fileLimitsOf({ ...base, limits: { maxImportBytes: 1, maxFileChars: "big", maxFilesPerMessage: -1 } } as never)).toEqual(defaults);
  });
});
