import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import ReactMarkdown from "react-markdown";
import remarkGfm from "remark-gfm";
import remarkMath from "remark-math";
import { describe, expect, it } from "vitest";
import { markdownBlocks } from "./markdown-blocks.js";
import { normalizeMath } from "./math-text.js";

/**
 * What react-markdown makes of some markdown, with the app's remark plugins. Without the line breaks it puts between
 * two elements: between blocks they show nothing, and a block rendered alone has none after it.
 */
const html = (markdown: string) =>
  renderToStaticMarkup(createElement(ReactMarkdown, { remarkPlugins: [remarkGfm, [remarkMath, { singleDollarTextMath: false }]] }, markdown)).replace(
    />\n</g,
    "><",
  );

/** Each block rendered on its own, one after the other: what Markdown.tsx puts on the page. */
const htmlOfBlocks = (markdown: string) => markdownBlocks(markdown).map(html).join("");

const answer = [
  "# A heading",
  "",
  "An opening paragraph with **bold**, `code` and a [link](https://example.com).",
  "",
  "- a tight",
  "- list",
  "",
  "1. an ordered",
  "",
  "2. loose list",
  "",
  "   with a continued paragraph",
  "",
  "- outer",
  "  - inner",
  "",
  "    indented code after a list",
  "",
  "```js",
  "const a = 1;",
  "",
  "",
  "console.log(a);",
  "```",
  "",
  "| a | b |",
  "| --- | --- |",
  "| 1 | 2 |",
  "",
  "> a quote",
  ">",
  "> over two paragraphs",
  "",
  "---",
  "",
  "$$",
  "x = 1",
  "",
  "y = 2",
  "$$",
  "",
  "~~~",
  "tilde fence",
  "",
  "~~~",
  "",
  "Setext heading",
  "==============",
  "",
  "* * *",
  "",
  "Last paragraph, ending the answer.",
].join("\n");

describe("markdownBlocks", () => {
  it("cuts an answer into blocks that render exactly as the whole does, and loses no character", () => {
    const blocks = markdownBlocks(answer);
    expect(blocks.join("\n")).toBe(answer);
    expect(blocks.length).toBeGreaterThan(8);
    expect(htmlOfBlocks(answer)).toBe(html(answer));
  });

  it("renders every prefix of a streamed answer as the whole prefix does (cuts never change what shows)", () => {
    for (let end = 0; end <= answer.length; end++) {
      const prefix = answer.slice(0, end);
      expect(htmlOfBlocks(prefix), JSON.stringify(prefix.slice(-40))).toBe(html(prefix));
    }
  });

  it("keeps code, display math and loose lists whole, and never cuts before an indented line", () => {
    const blocks = markdownBlocks(answer);
    expect(blocks).toContain("```js\nconst a = 1;\n\n\nconsole.log(a);\n```\n");
    expect(blocks).toContain("$$\nx = 1\n\ny = 2\n$$\n");
    expect(blocks.find((b) => b.includes("1. an ordered"))).toContain("with a continued paragraph");
    expect(blocks.every((b) => !/^[ \t]/.test(b))).toBe(true);
  });

  it("leaves an answer with link references or footnotes whole (defined in one block, used in another)", () => {
    const withReference = "See [the docs][d].\n\nMore text.\n\n[d]: https://example.com/docs";
    expect(markdownBlocks(withReference)).toEqual([withReference]);
    expect(htmlOfBlocks(withReference)).toContain('href="https://example.com/docs"');
    const withFootnote = "A claim.[^1]\n\nMore.\n\n[^1]: The source.";
    expect(markdownBlocks(withFootnote)).toEqual([withFootnote]);
  });

  it("renders math normalized from every form the same cut or whole", () => {
    const math = normalizeMath("Inline \\(a\\) and $b$.\n\n\\[\nc\n\\]\n\nThen $$d$$\n\n$$e$$\n\nEnd.");
    expect(markdownBlocks(math).length).toBeGreaterThan(3);
    expect(htmlOfBlocks(math)).toBe(html(math));
  });
});
