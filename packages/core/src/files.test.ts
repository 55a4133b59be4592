import { describe, expect, it } from "vitest";
import { checkFiles, defaultMaxFileChars, maxFilesPerMessage, userMessageText, type FileAttachment } from "./files.js";
import { estimateMessageTokens } from "./tokens.js";

const file = (name: string, text: string): FileAttachment => ({ type: "file", name, text });

describe("checkFiles", () => {
  it("passes text files within the limits", () => {
    expect(checkFiles([file("notes.md", "# Notes\n"), file("data.csv", "a,b\n1,2")])).toBeUndefined();
    expect(checkFiles([file("x.txt", "x".repeat(defaultMaxFileChars))])).toBeUndefined();
    expect(checkFiles([file("emoji 😀.txt", "café 😀")])).toBeUndefined();
    expect(checkFiles([])).toBeUndefined();
  });

  it("refuses each problem with a sentence that names the file and the limit", () => {
    const many = Array.from({ length: maxFilesPerMessage + 1 }, (_, i) => file(`f${i}.txt`, "x"));
    expect(checkFiles(many)?.message).toBe(`Too many files: at most ${maxFilesPerMessage} per message, got ${maxFilesPerMessage + 1}.`);
    expect(checkFiles([file("a.txt", "x")], { maxCount: 0 })?.code).toBe("bad_request");
    expect(checkFiles([file("big.log", "x".repeat(101))], { maxChars: 100 })?.message).toBe("The file (big.log) is 101 characters long; each file may be at most 100.");
    expect(checkFiles([file("a.txt", "x"), file("b.txt", "")])?.message).toBe("File 2 (b.txt) is empty.");
    expect(checkFiles([file("  ", "x")])?.message).toBe("The file has no name.");
    expect(checkFiles([file("a\nb.txt", "x")])?.message).toBe("The file's name holds a control character.");
    expect(checkFiles([file("n".repeat(256), "x")])?.message).toBe("The file's name is 256 characters long; at most 255.");
    expect(checkFiles([file("photo.png", "\u0089PNG\r\n\u001a\n\0\0\0")])?.message).toBe("The file (photo.png) is not a text file (it holds binary data).");
    expect(checkFiles([file("half.txt", "a\uD800b")])?.code).toBe("bad_request");
  });
});

describe("userMessageText", () => {
  it("is the content itself without files", () => {
    expect(userMessageText({ content: "hi" })).toBe("hi");
    expect(userMessageText({ content: "hi", files: [] })).toBe("hi");
  });

  it("puts each file in a block named by an attribute that cannot be broken out of, before the question", () => {
    const text = userMessageText({ content: "Compare them.", files: [file("a.md", "# A\n"), file('x" onload="<y>&.txt', "b")] });
    expect(text).toBe('<file name="a.md">\n# A\n</file>\n\n<file name="x&quot; onload=&quot;&lt;y&gt;&amp;.txt">\nb\n</file>\n\nCompare them.');
  });

  it("a file's text counts in the message's token estimate", () => {
    const plain = estimateMessageTokens({ role: "user", content: "Summarize" });
    const withFile = estimateMessageTokens({ role: "user", content: "Summarize", files: [file("a.txt", "word ".repeat(400))] });
    expect(withFile - plain).toBeGreaterThanOrEqual(500);
  });
});
