import { describe, expect, it } from "vitest";
import { checkImportFile, importLimitOf } from "./import-check.js";

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
});
