import { describe, expect, it, vi } from "vitest";
import { exportBundleLines } from "./export-bundle.js";

// The cases the CLI's and the web app's own readers were tested with (packages/client cli, apps/web import-bundle),
// before both read bundles with this one function.
describe("exportBundleLines", () => {
  const of = (text: string) => exportBundleLines(text)?.map(({ line, text }) => [line, text]);

  it("takes two or more non-blank lines that are each a JSON object, numbered as in the file", () => {
    expect(of('{"a":1}\n{"b":"é"}\n')).toEqual([
      [1, '{"a":1}'],
      [2, '{"b":"é"}'],
    ]);
    expect(of('\uFEFF\n{"a":1}\r\n  \n{"b":2}')).toEqual([
      [2, '{"a":1}'],
      [4, '{"b":2}'],
    ]);
  });

  it("leaves anything else to the single import: one value, pretty-printed JSON, a line that is no object", () => {
    expect(of('{"a":1}\n')).toBeUndefined();
    expect(of('{\n  "a": 1\n}\n')).toBeUndefined();
    expect(of('{"a":1}\n[1]\n')).toBeUndefined();
    expect(of('{"a":1}\n{"b":\n')).toBeUndefined();
    expect(of('{"a":1}\nnull\n')).toBeUndefined();
    expect(of("")).toBeUndefined();
    expect(of("\n\n")).toBeUndefined();
  });

  const doc = (title: string) => JSON.stringify({ format: "streamchat.conversation", version: 1, conversation: { title } });

  it("reads a JSON Lines file one conversation a line, with line numbers, blank lines and CRLF allowed", () => {
    const text = `\uFEFF${doc("a")}\r\n\r\n${doc("b")}\n${doc("c")}\n`;
    expect(exportBundleLines(text)).toEqual([
      { line: 1, text: doc("a") },
      { line: 3, text: doc("b") },
      { line: 4, text: doc("c") },
    ]);
  });

  it("is none for one export, pretty-printed or not, and for anything that is not one JSON object a line", () => {
    expect(exportBundleLines(doc("a"))).toBeUndefined();
    expect(exportBundleLines(JSON.stringify(JSON.parse(doc("a")), null, 2))).toBeUndefined();
    expect(exportBundleLines(`${doc("a")}\n{not json\n`)).toBeUndefined();
    expect(exportBundleLines(`${doc("a")}\n[1, 2]\n`)).toBeUndefined();
    expect(exportBundleLines("")).toBeUndefined();
    expect(exportBundleLines("# A Markdown export\n\nHello")).toBeUndefined();
  });

  it("does not parse a line that cannot be an object: another app's export, one long line of JSON array, is parsed once, later", () => {
    const parse = vi.spyOn(JSON, "parse");
    try {
      expect(exportBundleLines(`${JSON.stringify([{ title: "x".repeat(100_000) }])}\n`)).toBeUndefined();
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });
});
