import { describe, expect, it } from "vitest";
import { cleanTitle, titleInstruction, titleRequestMessages } from "./title-prompt.js";

describe("cleanTitle", () => {
  it("keeps the title from what models answer around it", () => {
    expect(cleanTitle("Current time in Tokyo")).toBe("Current time in Tokyo");
    expect(cleanTitle('"Planning a Kyoto Trip."')).toBe("Planning a Kyoto Trip");
    expect(cleanTitle("Title: **SSE vs WebSockets**\n\nThis title captures…")).toBe("SSE vs WebSockets");
    expect(cleanTitle("<think>The user asked about bread.</think>\n\n# Sourdough starter tips!")).toBe("Sourdough starter tips");
    expect(cleanTitle("[THINK]Bread again.[/THINK]Sourdough basics")).toBe("Sourdough basics");
    expect(cleanTitle("<thinking>\nA title about bread.\n</thinking>\nBread")).toBe("Bread");
    expect(cleanTitle("The user wants a title about bread.\n</think>\n\nBaking bread")).toBe("Baking bread");
    // Cut off by the title's token limit while still thinking: no title rather than the thoughts' first line.
    expect(cleanTitle("<think>\nThe user asked about bread, so a title")).toBeUndefined();
    expect(cleanTitle("  \n  “Rust ownership basics”  ")).toBe("Rust ownership basics");
    // Emphasis goes; what is written with * or _ stays.
    expect(cleanTitle("Calculating 12*7")).toBe("Calculating 12*7");
    expect(cleanTitle("*Reading* a `snake_case` name, __twice__ and _once_")).toBe("Reading a snake_case name, twice and once");
    expect(cleanTitle("**Unclosed emphasis")).toBe("Unclosed emphasis");
  });

  it("gives up on nothing usable, and cuts long titles at a word with an ellipsis", () => {
    expect(cleanTitle("")).toBeUndefined();
    expect(cleanTitle(' "" \n')).toBeUndefined();
    expect(cleanTitle("...")).toBeUndefined();
    const long = cleanTitle("A very long title that keeps going well past the sixty characters a sidebar can show");
    expect(long).toBe("A very long title that keeps going well past the sixty…");
    expect(long!.length).toBeLessThanOrEqual(61);
    // Never half a surrogate pair, nor NUL.
    const emoji = cleanTitle(`${"x".repeat(59)}🎉 and more words`)!;
    expect(emoji).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(cleanTitle("a\u0000b")).toBe("ab");
  });
});

describe("titleRequestMessages", () => {
  it("sends the first exchange, cut to an excerpt, then the instruction", () => {
    const messages = titleRequestMessages("q".repeat(5000), "short answer");
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(messages[0]!.content.length).toBeLessThan(1600);
    expect(messages[2]!.content).toBe(titleInstruction);
  });

  it("shows the question's files by name and first lines, before the question, however long they are", () => {
    const files = [
      { type: "file" as const, name: "sales.csv", text: "region,revenue\nnorth,120\n" },
      { type: "file" as const, name: "book.txt", text: "w".repeat(100_000) },
    ];
    const [question] = titleRequestMessages("What is in these?", "Two files.", files);
    expect(question!.content).toBe(`<file name="sales.csv">\nregion,revenue\nnorth,120\n</file>\n\n<file name="book.txt">\n${"w".repeat(200)}…\n</file>\n\nWhat is in these?`);
  });
});
