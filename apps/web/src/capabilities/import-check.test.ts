import { describe, expect, it } from "vitest";
import { strToU8, zipSync } from "fflate";
import { File as NodeFile } from "node:buffer";
import { checkImportFile, imageLimitOf, importLimitOf, openImportFile, type ImportFile } from "./import-check.js";

const notAnExport = "This file is not a conversation exported from this app";

describe("checking an import file before sending it", () => {
  it("reads the server's import and picture limits from health, and none from a server that does not tell them", () => {
    const base = { ok: true, provider: "sim" as const, demo: true, providerReachable: true, providerVersion: null, store: { kind: "sqlite" as const, ok: true }, version: "0.1.0" };
    const limits = { maxImportBytes: 4096, maxImageBytes: 2048, maxFileChars: 100_000, maxFilesPerMessage: 8, maxContextTokens: 32_768 };
    expect(importLimitOf({ ...base, limits })).toBe(4096);
    expect(imageLimitOf({ ...base, limits })).toBe(2048);
    // A server from before MAX_IMAGE_BYTES was told.
    expect(imageLimitOf({ ...base, limits: { maxImportBytes: 4096 } } as never)).toBeUndefined();
    // An older server, an anonymous answer, no answer yet.
    expect(importLimitOf({ ...base } as never)).toBeUndefined();
    expect(importLimitOf({ ok: true, demo: true, store: { ok: true } })).toBeUndefined();
    expect(importLimitOf(undefined)).toBeUndefined();
    expect(importLimitOf(null)).toBeUndefined();
    expect(importLimitOf({ ...base, limits: { maxImportBytes: "big" } } as never)).toBeUndefined();
  });

  it("judges a file by its size, then its first bytes", async () => {
    const file = (text: string) => new Blob([text]);
    expect(await checkImportFile(file("{}".padEnd(2048)), 1024)).toBe("This file is 2 KB; the server imports files of at most 1 KB.");
    expect(await checkImportFile(file("{}".padEnd(2048)), undefined)).toBeNull();
    expect(await checkImportFile(file('\uFEFF\r\n\t {"format":"x"}'), 1024)).toBeNull();
    // Blanks filling the first bytes: the rest decides, on the server.
    expect(await checkImportFile(file(`${" ".repeat(100)}{}`), undefined)).toBeNull();
    expect(await checkImportFile(file("   "), undefined)).toBe(`${notAnExport} (it is empty).`);
    expect(await checkImportFile(file("%PDF-1.7"), undefined)).toBe(`${notAnExport} (it is not JSON).`);
    expect(await checkImportFile(file("<!doctype html>"), undefined)).toBe(`${notAnExport} (it is not JSON).`);
    expect(await checkImportFile(file("null"), undefined)).toBe(`${notAnExport}.`);
  });

  it("lets a JSON array through whatever its size: another app's export of many conversations, each imported on its own", async () => {
    const file = (text: string) => new Blob([text]);
    expect(await checkImportFile(file(`[${'{"title":"x"},'.repeat(200)}{}]`), 1024)).toBeNull();
    expect(await checkImportFile(file('\uFEFF [{"uuid":"a"}]'), 16)).toBeNull();
    // What else it is, the import says once it has read it.
    expect(await checkImportFile(file("[1, 2]"), undefined)).toBeNull();
  });

  /** What openImportFile gave, with an array's pieces joined (read to the end) and how much of the file was read then. */
  async function opened(file: Blob): Promise<{ array: string; progress: number[] } | Exclude<ImportFile, { kind: "array" }>> {
    const result = await openImportFile(file);
    if (!("kind" in result) || result.kind === "text") return result;
    const parts: string[] = [];
    const progress = [result.progress()];
    for await (const piece of result.pieces) {
      parts.push(piece);
      progress.push(result.progress());
    }
    return { array: parts.join(""), progress };
  }

  it("reads the conversations.json out of a data export's ZIP file as downloaded, as a stream of text when it is an array", async () => {
    const json = JSON.stringify([{ uuid: "a", name: "Grüße", chat_messages: [] }]);
    const archive = zipSync({ "export/conversations.json": strToU8(json), "export/photo.png": [new Uint8Array(8192), { level: 0 }] });
    // Node's File: jsdom's has no stream().
    const file = new NodeFile([archive], "data-2026-12-06.zip", { type: "application/zip" }) as unknown as Blob;
    expect(await checkImportFile(file, 1024)).toBeNull();
    expect(await opened(file)).toMatchObject({ array: json });
    const object = new NodeFile([zipSync({ "conversations.json": strToU8('{"a": 1}') })], "one.zip") as unknown as Blob;
    expect(await opened(object)).toEqual({ kind: "text", text: '{"a": 1}' });
    const without = new NodeFile([zipSync({ "notes.txt": strToU8("hi") })], "other.zip") as unknown as Blob;
    expect(await opened(without)).toEqual({ refusal: "This ZIP file holds no conversations.json (ChatGPT's and Claude's data exports do)." });
    // Cut short (a download that stopped): its directory, at the end, is missing.
    const cut = new NodeFile([archive.subarray(0, 80)], "cut.zip") as unknown as Blob;
    expect(await opened(cut)).toEqual({ refusal: "This ZIP file could not be read: it is damaged or cut short." });
  });

  it("reads a data export's pictures and uploads where they lie, when a conversation points to them, held to the server's limits", async () => {
    const png = new Uint8Array(4096);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const archive = zipSync({ "file-Pic1-cat.png": png, "file-Txt1-notes.txt": strToU8("0123456789"), "conversations.json": strToU8("[]") });
    const file = new NodeFile([archive], "export.zip") as unknown as Blob;
    const result = await openImportFile(file);
    if (!("kind" in result) || result.kind !== "array" || !result.files) throw new Error(`not an archive's array: ${JSON.stringify(result)}`);
    expect(await result.files(["file-Pic1", "file-Txt1", "file-Gone"])).toEqual(
      new Map<string, unknown>([
        ["file-Pic1", { type: "image", mimeType: "image/png", data: Buffer.from(png).toString("base64") }],
        ["file-Txt1", { type: "file", name: "notes.txt", text: "0123456789" }],
      ]),
    );
    const smaller = await openImportFile(file, { maxImageBytes: 4095, maxFileChars: 9 });
    expect("kind" in smaller && smaller.kind === "array" && (await smaller.files?.(["file-Pic1", "file-Txt1"]))?.size).toBe(0);
  });

  it("reads a JSON array file as a stream of text, saying how much of the file was read; anything else whole", async () => {
    // In parts, as a browser's file is read in chunks.
    const parts = ["\uFEFF\n  [", ...Array.from({ length: 20 }, (_, part) => Array.from({ length: 1000 }, (_, i) => `${JSON.stringify({ i: part * 1000 + i, text: "Grüße 😀" })},`).join("")), "0]"];
    const big = parts.join("");
    const result = await opened(new NodeFile(parts, "big.json") as unknown as Blob);
    expect(result).toMatchObject({ array: big.slice(1) });
    const { progress } = result as { progress: number[] };
    // Read in chunks: from part of the file to all of it, never back.
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.at(-1)).toBe(1);
    expect(progress.some((p) => p > 0 && p < 1)).toBe(true);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(await opened(new NodeFile(['\uFEFF{"format": "x"}'], "x.json") as unknown as Blob)).toEqual({ kind: "text", text: '{"format": "x"}' });
    expect(await opened(new NodeFile([""], "empty.json") as unknown as Blob)).toEqual({ kind: "text", text: "" });
  });
});
