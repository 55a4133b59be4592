import { describe, expect, it } from "vitest";
import { StderrLog } from "./stderr-log.js";

describe("StderrLog", () => {
  it("logs up to maxLines a window, counts the rest, and logs the count when the window ends", () => {
    let now = 0;
    const lines: Array<[string, Record<string, unknown>]> = [];
    const log = new StderrLog((data, message) => lines.push([message, data]), { maxLines: 2, windowMs: 1000, maxChars: 5 }, () => now);
    for (const text of ["a", "bbbbbbb", "c", "d"]) log.line(text);
    now = 1000;
    log.line("e");
    expect(lines).toEqual([
      ["MCP server stderr", { stderr: "a" }],
      ["MCP server stderr", { stderr: "bbbbb… (7 characters)" }],
      ["MCP server writes too much to stderr; its next lines are counted, not logged", { maxLines: 2, windowMs: 1000 }],
      ["MCP server stderr lines not logged", { droppedLines: 2 }],
      ["MCP server stderr", { stderr: "e" }],
    ]);
  });
});
