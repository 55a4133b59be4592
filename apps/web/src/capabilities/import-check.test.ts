import { describe, expect, it } from "vitest";
import { strToU8, zipSync } from "fflate";
import { File as NodeFile } from "node:buffer";
import { checkImportFile, importLimitOf, readImportText } from "./import-check.js";

const notAnExport = "This file is not a conversation exported from this app";

describe("checking an import file before sending it", () => {
  it("reads the server's import limit from health, and none from a server that does not tell it", () => {
    const base = { ok: true, provider: "sim" as const, demo: true, providerReachable: true, providerVersion: null, store: { kind: "sqlite" as const, ok: true }, version: "0.1.0" };
    expect(importLimitOf({ ...base, limits: { maxImportBytes: 4096, maxFileChars: 100_000, maxFilesPerMessage: 8, maxContextTokens: 32_768 } })).toBe(4096);
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

  it("reads the conversations.json out of a data export's ZIP file as downloaded, whatever the archive's size", async () => {
    const json = JSON.stringify([{ uuid: "a", name: "Grüße", chat_messages: [] }]);
    const archive = zipSync({ "export/conversations.json": strToU8(json), "export/photo.png": [new Uint8Array(8192), { level: 0 }] });
    // Node's File: jsdom's has no stream().
    const file = new NodeFile([archive], "data-2026-12-06.zip", { type: "application/zip" }) as unknown as Blob;
    expect(await checkImportFile(file, 1024)).toBeNull();
    expect(await readImportText(file)).toEqual({ text: json });
    const without = new NodeFile([zipSync({ "notes.txt": strToU8("hi") })], "other.zip") as unknown as Blob;
    expect(await readImportText(without)).toEqual({ refusal: "This ZIP file holds no conversations.json (ChatGPT's and Claude's data exports do)." });
    const cut = new NodeFile([archive.subarray(0, 80)], "cut.zip") as unknown as Blob;
    expect(await readImportText(cut)).toEqual({ refusal: "This ZIP file could not be read: it is damaged or cut short." });
    // Anything else is read as text.
    expect(await readImportText(new NodeFile(["[1]"], "x.json") as unknown as Blob)).toEqual({ text: "[1]" });
  });
});
