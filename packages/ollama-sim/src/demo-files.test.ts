import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { csvRecords, markdownHeadings, parseFileBlocks, summarizeFile } from "./demo-files.js";
import { respondDemo } from "./demo-model.js";
import { titleForRequest } from "./demo-title.js";
import { startSimulator } from "./server.js";
import { chatLines, contentOf, sseData, rawRequest, thinkingOf } from "./test-support/http.js";
import { solidPng } from "./test-images.js";
import type { SimChatRequest, SimChunk, Simulator } from "./types.js";

/**
 * A user message's content as the API writes it (core's `userMessageText`, which this package cannot import: it
 * depends on Node built-ins only). The client's CLI test checks the two agree, through the real API.
 */
function withFiles(question: string, ...files: Array<[name: string, text: string]>): string {
  const attribute = (name: string) => name.replace(/[&"<>]/g, (c) => ({ "&": "&amp;", '"': "&quot;", "<": "&lt;", ">": "&gt;" })[c]!);
  return files.map(([name, text]) => `<file name="${attribute(name)}">\n${text}${text.endsWith("\n") ? "" : "\n"}</file>\n\n`).join("") + question;
}

const salesCsv = "region,month,total\nnorth,jan,10\nsouth,jan,12\neast,feb,7\n";

const textOf = (chunks: SimChunk[]) => chunks.map((c) => c.content ?? "").join("");
const ask = (content: string, extra: Partial<SimChatRequest> = {}) =>
  respondDemo({ model: "demo", messages: [{ role: "user", content }], ...extra }, { tokenDelayMs: 0 });

describe("parseFileBlocks", () => {
  it("takes the file blocks off the front of the message, in order, and leaves the question", () => {
    const content = withFiles("Compare them.", ["a.md", "# A\n"], ["b.txt", "no final newline"]);
    expect(parseFileBlocks(content)).toEqual({
      files: [
        { name: "a.md", text: "# A\n" },
        // The newline the API added is part of what the model got.
        { name: "b.txt", text: "no final newline\n" },
      ],
      question: "Compare them.",
    });
  });

  it("is the whole content as the question when the message carries no files", () => {
    expect(parseFileBlocks("What is 2+2?")).toEqual({ files: [], question: "What is 2+2?" });
    // Typed in the middle of a question, a block is part of the question: the API only writes them first.
    const typed = `Why does <file name="x">\nhi\n</file>\n\n fail?`;
    expect(parseFileBlocks(typed)).toEqual({ files: [], question: typed });
    // An opening without its end is not a block.
    expect(parseFileBlocks('<file name="cut.txt">\nhalf a file')).toEqual({ files: [], question: '<file name="cut.txt">\nhalf a file' });
  });

  it("decodes the entities of the name, named and numeric", () => {
    const name = 'say "hi" <b> & bye.txt';
    expect(parseFileBlocks(withFiles("?", [name, "x"])).files[0]?.name).toBe(name);
    expect(parseFileBlocks('<file name="caf&#233; &#x1F600;&apos;s &unknown;.txt">\nx\n</file>\n\n?').files[0]?.name).toBe("café 😀's &unknown;.txt");
  });

  it("keeps a </file> line inside a file's text, unless a block opening follows it", () => {
    const xml = "<files>\n</file>\n\n<note>not a block</note>\n</files>\n";
    expect(parseFileBlocks(withFiles("What is this?", ["files.xml", xml], ["b.txt", "second"]))).toEqual({
      files: [
        { name: "files.xml", text: xml },
        { name: "b.txt", text: "second\n" },
      ],
      question: "What is this?",
    });
    // The last file, too: it runs to the last end.
    expect(parseFileBlocks(withFiles("Q", ["last.xml", xml])).files).toEqual([{ name: "last.xml", text: xml }]);
  });

  it("reads files sent without a question, and a message trimmed after the last block", () => {
    expect(parseFileBlocks(withFiles("", ["a.txt", "x"]))).toEqual({ files: [{ name: "a.txt", text: "x\n" }], question: "" });
    expect(parseFileBlocks('<file name="a.txt">\nx\n</file>')).toEqual({ files: [{ name: "a.txt", text: "x\n" }], question: "" });
    // A file of one blank line.
    expect(parseFileBlocks(withFiles("Q", ["blank.txt", "\n"])).files).toEqual([{ name: "blank.txt", text: "\n" }]);
  });
});

describe("what the demo model makes of a file", () => {
  const kind = (name: string, text: string) => summarizeFile({ name, text }).kind;

  it("counts lines, words and characters of the text as received", () => {
    expect(summarizeFile({ name: "a.txt", text: "one two\nthree\n\nfour  five\n" })).toMatchObject({ lines: 4, words: 5, characters: 26 });
    expect(summarizeFile({ name: "a.txt", text: "no newline" })).toMatchObject({ lines: 1, words: 2, characters: 10 });
  });

  it("reads a CSV's columns and counts its rows, quoted fields and blank lines included", () => {
    expect(kind("sales.csv", salesCsv)).toBe("CSV with 3 columns (`region`, `month` and `total`) and **3 rows** under the header.");
    const quoted = 'name,"note, with comma",age\n"Ada","said ""hi""\nover two lines",36\n\nLin,x,28\n';
    expect(csvRecords(quoted, ",")).toEqual([
      ["name", "note, with comma", "age"],
      ["Ada", 'said "hi"\nover two lines', "36"],
      ["Lin", "x", "28"],
    ]);
    expect(kind("people.csv", quoted)).toContain("and **2 rows** under the header");
    expect(kind("euro.csv", "a;b;c\n1;2;3\n4;5\n")).toBe(
      "CSV (separated by `;`) with 3 columns (`a`, `b` and `c`) and **2 rows** under the header. One row has another number of fields than the header.",
    );
    expect(kind("t.tsv", "x\ty\n1\t2\n")).toBe("TSV with 2 columns (`x` and `y`) and **1 row** under the header.");
    const wide = Array.from({ length: 15 }, (_, i) => `c${i + 1}`).join(",");
    expect(kind("wide.csv", `${wide}\n`)).toContain("15 columns (`c1`, `c2`, `c3`, `c4`, `c5`, `c6`, `c7`, `c8`, `c9`, `c10`, `c11`, `c12` and 3 more) and **0 rows**");
  });

  it("lists Markdown's headings, not a # line inside a code fence", () => {
    const md = "# Plan\n\nText.\n\n```sh\n# a comment, not a heading\n```\n\n## Risks ##\nSetext title\n===\n\n- item\n---\n";
    expect(markdownHeadings(md)).toEqual([
      { level: 1, text: "Plan" },
      { level: 2, text: "Risks" },
      { level: 1, text: "Setext title" },
    ]);
    expect(kind("notes.md", md)).toBe("Markdown with 3 headings: “Plan”, “Risks” and “Setext title”.");
    expect(kind("plain.md", "just text\n")).toBe("Markdown without headings.");
    // A heading's markdown is shown as text, not as formatting.
    expect(kind("x.md", "# **Bold** <b>\n")).toBe("Markdown with 1 heading: “\\*\\*Bold\\*\\* \\<b\\>”.");
  });

  it("names JSON's top-level keys or counts its items, and says when it does not parse", () => {
    expect(kind("package.json", '{"name":"x","version":"1.0.0","scripts":{}}')).toBe("JSON: an object with 3 top-level keys: `name`, `version` and `scripts`.");
    expect(kind("list.json", '[{"a":1},{"a":2}]')).toBe("JSON: an array of **2 items**, all objects.");
    expect(kind("mixed.json", '[1,"a",null]')).toBe("JSON: an array of **3 items**, mixed (number, string and null).");
    expect(kind("broken.json", '{"a": }')).toBe("Named like JSON, but it does not parse as JSON.");
    expect(kind("events.jsonl", '{"a":1}\n{"a":2}\nnot json\n')).toBe("JSON Lines: **2 records**, and 1 line that does not parse.");
    // Without an extension, text that parses as JSON is JSON; other text is plain text.
    expect(kind("response", '{"ok": true}\n')).toBe("JSON: an object with 1 top-level key: `ok`.");
    expect(kind("README", "Hello.\n\nSecond paragraph.\n")).toBe("Plain text in 2 paragraphs.");
  });

  it("names code's language from the extension, or a script's from its #! line", () => {
    expect(kind("main.rs", "fn main() {}\n")).toBe("Code: **Rust** (from the `.rs` extension).");
    expect(kind("App.TSX", "export {}\n")).toBe("Code: **TypeScript (TSX)** (from the `.tsx` extension).");
    expect(kind("deploy", "#!/usr/bin/env bash\necho hi\n")).toBe("Code: a **shell** script (from its `#!` line).");
    expect(kind("Dockerfile", "FROM node:24\n")).toBe("Code: a **Dockerfile**.");
    expect(kind("config.yaml", "a: 1\n")).toBe("YAML.");
  });
});

describe("the demo model answering a question with files", () => {
  it("describes a CSV (its columns and 3 rows), then speaks to the question", () => {
    const answer = textOf(ask(withFiles("What is in this file?", ["sales.csv", salesCsv])));
    expect(answer).toBe(
      "You sent one file:\n\n" +
        "- **sales.csv** — 4 lines, 4 words, 56 characters. CSV with 3 columns (`region`, `month` and `total`) and **3 rows** under the header.\n\n" +
        "You asked: “What is in this file?” I'm the offline demo model, so I can outline what you sent but not read it for meaning; a real model reads the whole text and answers from it.",
    );
  });

  it("lists several files in order and answers a counting question from the counts", () => {
    const answer = textOf(ask(withFiles("How many lines are there?", ["notes.md", "# Plan\n\nShip it."], ["main.py", "print('hi')\n"])));
    expect(answer).toMatch(/^You sent 2 files:\n\n- \*\*notes\.md\*\* — 3 lines, 4 words, 17 characters\. Markdown with 1 heading: “Plan”\.\n- \*\*main\.py\*\* — 1 line, 1 word, 12 characters\. Code: \*\*Python\*\*/);
    expect(answer).toMatch(/\n\nYou asked: “How many lines are there\?” — the counts above answer that, as the model received them\.$/);
    // Without a question it says so rather than quoting nothing.
    expect(textOf(ask(withFiles("", ["a.txt", "x"])))).toMatch(/\n\nYou sent the file without a question\. /);
  });

  it("streams word-sized tokens, the same ones every time, with reasoning when asked", () => {
    const content = withFiles("Summarise", ["sales.csv", salesCsv]);
    const chunks = ask(content, { think: true });
    expect(chunks.filter((c) => c.content !== undefined).length).toBeGreaterThan(20);
    expect(chunks.map((c) => c.thinking ?? "").join("")).toBe("The user sent a file, sales.csv. I'll count lines and words and look at how it is laid out.");
    expect(ask(content, { think: true })).toEqual(chunks);
    expect(chunks.at(-1)).toMatchObject({ done: true, doneReason: "stop" });
    // The question is not mistaken for a request the file's text happens to match (no tool call for "what time").
    const timeFile = ask(withFiles("Summarise", ["t.txt", "what time is it in Tokyo?"]), { tools: [{ type: "function", function: { name: "current_time" } }] });
    expect(timeFile.some((c) => c.toolCalls)).toBe(false);
  });

  it("names a conversation that started with files after them", () => {
    const title = (content: string): string => {
      const req: SimChatRequest = {
        model: "demo",
        messages: [
          { role: "user", content },
          { role: "assistant", content: "…" },
          { role: "user", content: "Write a short title for the conversation above." },
        ],
      };
      return titleForRequest(req);
    };
    expect(title(withFiles("What is this?", ["sales.csv", salesCsv]))).toBe("About sales.csv");
    expect(title(withFiles("", ["a.md", "x"], ["b.md", "y"], ["c.md", "z"]))).toBe("About a.md and 2 more files");
    expect(title("What time is it in Tokyo?")).toBe("Current time in Tokyo");
  });

  it("a follow-up such as \"now in Go\" after a question with files refers to the question", () => {
    const chunks = respondDemo(
      {
        model: "demo",
        messages: [
          { role: "user", content: withFiles("write fizzbuzz in python", ["spec.txt", "Print 1 to 100."]) },
          { role: "assistant", content: "…" },
          { role: "user", content: "now in go" },
        ],
      },
      { tokenDelayMs: 0 },
    );
    expect(textOf(chunks)).toContain("func fizzbuzz(");
  });
});

describe("files over the wire", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ tokenDelayMs: 0 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it("answers /api/chat about the files of the last user message, on a model without vision", async () => {
    const lines = await chatLines(sim.url, { model: "gemma3", messages: [{ role: "user", content: withFiles("What is this?", ["sales.csv", salesCsv]) }] });
    expect(contentOf(lines)).toContain("**3 rows**");
    expect(thinkingOf(lines)).toBe("");
  });

  it("takes a [sim:x] tag from the question, never from a file's text", async () => {
    const fixture: [string, string] = ["fault-test.ts", 'await ask("[sim:stall] please");\n'];
    const answered = await chatLines(sim.url, { model: "demo", messages: [{ role: "user", content: withFiles("What is this?", fixture) }] });
    expect(contentOf(answered)).toContain("**fault-test.ts**");
    expect(answered.at(-1)).toMatchObject({ done: true });
    const cut = await chatLines(sim.url, { model: "demo", messages: [{ role: "user", content: withFiles("[sim:truncated] go", fixture) }] });
    expect(contentOf(cut)).toBe("The answer starts ");
    expect(cut.some((line) => line.done)).toBe(false);
  });

  it("on a vision model, describes the images and the files of one message (OpenAI parts)", async () => {
    const png = solidPng(4, 3, [255, 0, 0]).toString("base64");
    const res = await rawRequest(sim.url, "/v1/chat/completions", {
      model: "demo-vision",
      stream: true,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: withFiles("And these?", ["a.json", "[1,2]"]) },
            { type: "image_url", image_url: { url: `data:image/png;base64,${png}` } },
          ],
        },
      ],
    });
    const text = sseData(res.text)
      .flatMap((d) => (d === "[DONE]" ? [] : ((d["choices"] as Array<{ delta?: { content?: string } }> | undefined) ?? [])))
      .map((c) => c.delta?.content ?? "")
      .join("");
    expect(text).toMatch(/^I see a PNG image of \*\*4×3\*\* pixels\. [^\n]+\n\nYou sent one file:\n\n- \*\*a\.json\*\* — 1 line, 1 word, 6 characters\. JSON: an array of \*\*2 items\*\*, all numbers\./);
  });
});
