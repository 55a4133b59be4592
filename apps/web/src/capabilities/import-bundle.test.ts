import { describe, expect, it } from "vitest";
import { bundleImportSummary, exportBundleLines } from "./import-bundle.js";

const doc = (title: string) => JSON.stringify({ format: "streamchat.conversation", version: 1, conversation: { title } });

describe("exportBundleLines", () => {
  it("reads a JSON Lines file one conversation a line, with line numbers, blank lines and CRLF allowed", () => {
    const text = `\uFEFF${doc("a")}\r\n\r\n${doc("b")}\n${doc("c")}\n`;
    expect(exportBundleLines(text)).toEqual([
      { line: 1, content: doc("a") },
      { line: 3, content: doc("b") },
      { line: 4, content: doc("c") },
    ]);
  });

  it("is null for one export, pretty-printed or not, and for anything that is not one JSON object a line", () => {
    expect(exportBundleLines(doc("a"))).toBeNull();
    expect(exportBundleLines(JSON.stringify(JSON.parse(doc("a")), null, 2))).toBeNull();
    expect(exportBundleLines(`${doc("a")}\n{not json\n`)).toBeNull();
    expect(exportBundleLines(`${doc("a")}\n[1, 2]\n`)).toBeNull();
    expect(exportBundleLines("")).toBeNull();
    expect(exportBundleLines("# A Markdown export\n\nHello")).toBeNull();
  });
});

describe("bundleImportSummary", () => {
  it("says how many were imported, and the first failure with its line", () => {
    expect(bundleImportSummary(1, [])).toBe("Imported 1 chat.");
    expect(bundleImportSummary(12, [])).toBe("Imported 12 chats.");
    expect(bundleImportSummary(12, [{ line: 5, message: "The conversation export is invalid: x." }])).toBe(
      "Imported 11 of 12 chats. Line 5: The conversation export is invalid: x.",
    );
    expect(bundleImportSummary(3, [{ line: 1, message: "Too large." }, { line: 2, message: "Too large." }, { line: 3, message: "Too large." }])).toBe(
      "Imported 0 of 3 chats. Line 1: Too large. (and 2 more lines)",
    );
  });
});
