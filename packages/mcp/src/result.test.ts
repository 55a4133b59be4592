import { describe, expect, it } from "vitest";
import { errorText, modelContent, toToolResult } from "./result.js";

const megabyteOfBase64 = "A".repeat(1_400_000);

describe("modelContent", () => {
  it("starts with the text content, then summarises images without their data", () => {
    const result = toToolResult({
      content: [
        { type: "image", data: megabyteOfBase64, mimeType: "image/png" },
        { type: "text", text: "Here is the chart." },
        { type: "text", text: "Sales rose." },
      ],
    });
    const text = modelContent(result);
    expect(text).toBe("Here is the chart.\nSales rose.\n[image image/png, 1025.4 KB: shown to the user, not included here]");
    expect(result.content[0]).toEqual({ type: "image", data: megabyteOfBase64, mimeType: "image/png" });
  });

  it("sends structuredContent as JSON when there is no text", () => {
    const result = toToolResult({ content: [], structuredContent: { temperature: 21 } });
    expect(result).toEqual({ content: [], structuredContent: { temperature: 21 } });
    expect(modelContent(result)).toBe('{"temperature":21}');
  });

  it("keeps the text when there is both (servers repeat the JSON as text)", () => {
    expect(modelContent(toToolResult({ content: [{ type: "text", text: "21 degrees" }], structuredContent: { t: 21 } }))).toBe("21 degrees");
  });

  it("includes embedded text resources and names links, audio and binary resources", () => {
    const text = modelContent(
      toToolResult({
        content: [
          { type: "resource_link", uri: "file:///a.txt", name: "a.txt" },
          { type: "resource", resource: { uri: "file:///b.txt", text: "bee" } },
          { type: "resource", resource: { uri: "file:///c.gz", mimeType: "application/gzip", blob: "AAAA" } },
          { type: "audio", data: "AAAA", mimeType: "audio/wav" },
        ],
      }),
    );
    expect(text).toBe(
      [
        "[resource link: a.txt file:///a.txt]",
        "[resource file:///b.txt]\nbee",
        "[resource file:///c.gz application/gzip, 3 B: not included here]",
        "[audio audio/wav, 3 B: shown to the user, not included here]",
      ].join("\n"),
    );
  });

  it("cuts a result longer than the model should read, saying how long it was; the result keeps it all", () => {
    const log = "line of a log file\n".repeat(200_000); // 3.8 MB of text
    const result = toToolResult({ content: [{ type: "text", text: log }] });
    const text = modelContent(result);
    expect(text.length).toBeLessThan(50_200);
    expect(text.startsWith(log.slice(0, 50_000))).toBe(true);
    expect(text.endsWith(`\n[The result is cut here: it has ${log.length} characters, of which the first 50000 are shown.]`)).toBe(true);
    expect(result.content[0]).toEqual({ type: "text", text: log });
    // A smaller limit, never inside a surrogate pair.
    expect(modelContent(toToolResult({ content: [{ type: "text", text: "ab😀cd" }] }), 3)).toBe("ab\n[The result is cut here: it has 6 characters, of which the first 2 are shown.]");
    expect(modelContent(toToolResult({ content: [{ type: "text", text: "short" }] }), 5)).toBe("short");
  });

  it("says so when there is nothing", () => {
    expect(modelContent(toToolResult({ content: [] }))).toBe("(the tool returned no content)");
  });
});

describe("errorText", () => {
  it("is the server's message, or says there was none", () => {
    expect(errorText({ isError: true, content: [{ type: "text", text: " disk on fire " }] })).toBe("disk on fire");
    expect(errorText({ isError: true, content: [] })).toBe("the server reported an error without a message");
  });
});
