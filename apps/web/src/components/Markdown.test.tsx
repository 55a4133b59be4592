// @vitest-environment jsdom
import { cleanup, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { Markdown } from "./Markdown.js";

afterEach(cleanup);

describe("Markdown", () => {
  it("renders GFM and highlights fenced code with a copy button", () => {
    const { container, getByRole } = render(
      <Markdown text={"| a | b |\n|---|---|\n| 1 | 2 |\n\n```js\nconst x = 1;\n```"} />,
    );
    expect(container.querySelector("table td")?.textContent).toBe("1");
    expect(container.querySelector("pre code.hljs .hljs-keyword")?.textContent).toBe("const");
    expect(getByRole("button", { name: "Copy code" })).toBeTruthy();
    expect(container.querySelector(".code-block__lang")?.textContent).toBe("js");
  });

  it("does not render raw HTML", () => {
    const { container } = render(<Markdown text={'Hi <img src="x" onerror="window.__xss=1"> <script>x()</script>'} />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("script")).toBeNull();
    expect(container.textContent).toContain("Hi");
  });

  it("strips javascript: links but keeps safe ones", () => {
    const { container } = render(
      <Markdown text={"[bad](javascript:alert(1)) [also bad](JAVASCRIPT:alert(1)) [good](https://example.com/a)"} />,
    );
    const hrefs = [...container.querySelectorAll("a")].map((a) => a.getAttribute("href"));
    expect(hrefs.filter((h) => h && /^\s*javascript:/i.test(h))).toEqual([]);
    expect(hrefs).toContain("https://example.com/a");
    const good = container.querySelector('a[href="https://example.com/a"]');
    expect(good?.getAttribute("rel")).toContain("noopener");
  });
});
