import { describe, expect, it } from "vitest";
import { bundleImportSummary } from "./import-bundle.js";

describe("bundleImportSummary", () => {
  it("says how many were imported, and the first failure with its line", () => {
    expect(bundleImportSummary(1, [])).toBe("Imported 1 chat.");
    expect(bundleImportSummary(12, [])).toBe("Imported 12 chats.");
    expect(bundleImportSummary(12, [{ label: "Line 5", message: "The conversation export is invalid: x." }])).toBe(
      "Imported 11 of 12 chats. Line 5: The conversation export is invalid: x.",
    );
    expect(bundleImportSummary(3, [{ label: "Line 1", message: "Too large." }, { label: "Line 2", message: "Too large." }, { label: "Line 3", message: "Too large." }])).toBe(
      "Imported 0 of 3 chats. Line 1: Too large. (and 2 more lines)",
    );
  });

  it("names another app, the first conversation it could not import, and what its conversations held that was not imported", () => {
    expect(bundleImportSummary(3, [], { source: "ChatGPT", leftOut: ["2 images", "1 tool call"] })).toBe(
      "Imported 3 chats from ChatGPT. Not imported: 2 images, 1 tool call.",
    );
    expect(bundleImportSummary(1, [], { source: "Claude", leftOut: [] })).toBe("Imported 1 chat from Claude.");
    expect(
      bundleImportSummary(4, [{ label: "Chat 2 (“Trip”)", message: "It has no messages." }, { label: "Chat 4", message: "It has no messages." }], {
        source: "Open WebUI",
        leftOut: ["1 file"],
      }),
    ).toBe("Imported 2 of 4 chats from Open WebUI. Chat 2 (“Trip”): It has no messages. (and 1 more chat) Not imported: 1 file.");
  });

  it("says where a stopped import stopped, and what the chats read until then held that was not imported", () => {
    expect(bundleImportSummary(126, [], { source: "ChatGPT", stoppedAt: 40, skipped: 30 })).toBe("Stopped: imported 10 of 126 chats from ChatGPT. Skipped 30 imported before.");
    // Another app's export read as it is imported: no total is known before its end.
    expect(bundleImportSummary(undefined, [], { source: "ChatGPT", stoppedAt: 40, skipped: 30, leftOut: ["1 image"] })).toBe(
      "Stopped: imported 10 chats from ChatGPT. Skipped 30 imported before. Not imported: 1 image.",
    );
    expect(bundleImportSummary(undefined, [], { source: "Claude", stoppedAt: 1 })).toBe("Stopped: imported 1 chat from Claude.");
    // A file broken part way: why it stopped there.
    expect(
      bundleImportSummary(undefined, [{ label: "Chat 1", message: "It has no messages." }], {
        source: "Claude",
        stoppedAt: 3,
        broken: "The file could not be read after Chat 3: The JSON text is cut short in the middle of conversation 4.",
        leftOut: ["2 images"],
      }),
    ).toBe(
      "Stopped: imported 2 chats from Claude. The file could not be read after Chat 3: The JSON text is cut short in the middle of conversation 4. 1 could not be imported (Chat 1: It has no messages.) Not imported: 2 images.",
    );
    expect(bundleImportSummary(12, [{ label: "Line 2", message: "Too large." }], { stoppedAt: 3 })).toBe(
      "Stopped: imported 2 of 12 chats. 1 could not be imported (Line 2: Too large.)",
    );
  });

  it("counts the chats imported before (unchanged since) as skipped, not as failures", () => {
    expect(bundleImportSummary(126, [], { source: "ChatGPT", skipped: 120, leftOut: ["1 image"] })).toBe(
      "Imported 6 of 126 chats from ChatGPT. Skipped 120 imported before. Not imported: 1 image.",
    );
    expect(bundleImportSummary(126, [], { source: "ChatGPT", skipped: 126 })).toBe("All 126 chats from ChatGPT were imported before: nothing new.");
    expect(bundleImportSummary(1, [], { source: "Claude", skipped: 1 })).toBe("The chat from Claude was imported before: nothing new.");
    expect(bundleImportSummary(5, [{ label: "Chat 1", message: "Too long." }], { source: "Claude", skipped: 3 })).toBe(
      "Imported 1 of 5 chats from Claude. Chat 1: Too long. Skipped 3 imported before.",
    );
  });

  it("says how many of those imported brought an earlier copy up to date (the chat went on in that app since)", () => {
    expect(bundleImportSummary(126, [], { source: "ChatGPT", skipped: 120, updated: 4 })).toBe(
      "Imported 6 of 126 chats from ChatGPT. Updated 4 chats continued there since the last import. Skipped 120 imported before.",
    );
    expect(bundleImportSummary(undefined, [], { source: "ChatGPT", stoppedAt: 3, updated: 1 })).toBe(
      "Stopped: imported 3 chats from ChatGPT. Updated 1 chat continued there since the last import.",
    );
  });
});
