import { describe, expect, it } from "vitest";
import { bundleImportSummary } from "./import-bundle.js";

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
