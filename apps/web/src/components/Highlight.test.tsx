import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Highlight } from "./Highlight.js";

const html = (text: string, query: string) => renderToStaticMarkup(<Highlight text={text} query={query} />);

describe("Highlight", () => {
  it("marks each match of the query in the text, and leaves the rest as text", () => {
    expect(html("Weather on Mars", "mars")).toBe('Weather on <mark class="search-match">Mars</mark>');
    expect(html("Café hours", "CAFE hours")).toBe('<mark class="search-match">Café</mark> <mark class="search-match">hours</mark>');
  });

  it("is the plain text without a query or a match", () => {
    expect(html("Weather on Mars", "")).toBe("Weather on Mars");
    expect(html("Weather on Mars", "venus")).toBe("Weather on Mars");
  });

  it("escapes the text like any text (no markup from a title)", () => {
    expect(html("<b>bold</b> plans", "plans")).toBe('&lt;b&gt;bold&lt;/b&gt; <mark class="search-match">plans</mark>');
  });
});
