// @vitest-environment jsdom
import { cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import katex from "katex";
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

  it("shows a block of a language it cannot highlight (an imported run's output) as its text, labelled, with copy", () => {
    const { container, getByRole } = render(<Markdown text={"```output\n16\n  done <ok>\n```"} />);
    expect(container.querySelector(".code-block__lang")?.textContent).toBe("output");
    expect(container.querySelector("pre code")?.textContent).toBe("16\n  done <ok>\n");
    expect(container.querySelector("pre code .hljs-keyword")).toBeNull();
    expect(getByRole("button", { name: "Copy code" })).toBeTruthy();
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

describe("Markdown streaming caret", () => {
  const caretParent = (text: string) => {
    const { container } = render(<Markdown text={text} streaming />);
    const carets = container.querySelectorAll('[data-testid="caret"]');
    expect(carets).toHaveLength(1);
    return carets[0]!;
  };

  it("sits at the end of the last line, inside the last block", () => {
    const inParagraph = caretParent("First paragraph.\n\nSecond one ends here");
    expect(inParagraph.parentElement?.tagName).toBe("P");
    expect(inParagraph.parentElement?.textContent).toBe("Second one ends here");
    expect(inParagraph.nextSibling).toBeNull();
    cleanup();

    const inList = caretParent("Points:\n\n- one\n- two **bold**");
    expect(inList.closest("li")?.textContent).toBe("two bold");
    expect(inList.previousSibling?.textContent).toBe("bold");
    cleanup();

    // In code the caret goes before the closing newline: on the last line, not under it.
    const inCode = caretParent("```js\nconst a = 1;\n");
    expect(inCode.closest("code")).not.toBeNull();
    expect(inCode.nextSibling?.textContent).toBe("\n");
  });

  it("is gone once the answer is finished", () => {
    const { container } = render(<Markdown text="Done." />);
    expect(container.querySelector('[data-testid="caret"]')).toBeNull();
  });
});

describe("Markdown images", () => {
  const origin = window.location.origin;
  const pixel = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

  it("does not load a remote image: shows it as a link with its text and URL instead", () => {
    const { container } = render(<Markdown text={"Look: ![the secret](https://evil.example/?q=secret)"} />);
    expect(container.querySelector("img")).toBeNull();
    const link = container.querySelector<HTMLAnchorElement>('[data-testid="blocked-image"] a');
    expect(link?.getAttribute("href")).toBe("https://evil.example/?q=secret");
    expect(link?.getAttribute("rel")).toContain("noreferrer");
    expect(link?.textContent).toBe("Image: the secret");
    expect(container.textContent).toContain("(https://evil.example/?q=secret)");
  });

  it("treats protocol-relative, other-port and reference-style remote images the same way", () => {
    const host = new URL(origin);
    const otherPort = `${host.protocol}//${host.hostname}:${Number(host.port || 80) + 1}/x.png`;
    const { container } = render(<Markdown text={`![a](//evil.example/a.png) ![b](${otherPort}) ![c][ref]\n\n[ref]: http://evil.example/c.png`} />);
    expect(container.querySelector("img")).toBeNull();
    expect([...container.querySelectorAll('[data-testid="blocked-image"] a')].map((a) => a.getAttribute("href"))).toEqual([
      "//evil.example/a.png",
      otherPort,
      "http://evil.example/c.png",
    ]);
  });

  it("renders same-origin and data: images", () => {
    const { container } = render(<Markdown text={`![logo](/logo.png) ![abs](${origin}/a.png) ![dot](${pixel})`} />);
    expect([...container.querySelectorAll("img")].map((img) => [img.getAttribute("alt"), img.getAttribute("src")])).toEqual([
      ["logo", "/logo.png"],
      ["abs", `${origin}/a.png`],
      ["dot", pixel],
    ]);
    expect(container.querySelector('[data-testid="blocked-image"]')).toBeNull();
  });

  it("loads no image from an unsafe or SVG URL", () => {
    const { container } = render(<Markdown text={"![x](javascript:alert(1)) ![svg](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)"} />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector('a[href^="javascript" i]')).toBeNull();
    expect(container.querySelector('a[href^="data:" i]')).toBeNull();
    expect(container.textContent).toContain("x");
  });
});

describe("Markdown code block copy", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("tells a screen reader that the code was copied (the button's label does not change)", async () => {
    const writeText = vi.fn(() => Promise.resolve());
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    const { getByRole, findByRole } = render(<Markdown text={"```js\nconst x = 1;\n```"} />);
    // There and empty before: a live region that appears with its text is often not read.
    expect((await findByRole("status")).textContent).toBe("");
    fireEvent.click(getByRole("button", { name: "Copy code" }));
    await vi.waitFor(() => expect(writeText).toHaveBeenCalledWith("const x = 1;"));
    await vi.waitFor(() => expect(getByRole("status").textContent).toBe("Code copied"));
  });
});

describe("Markdown math", () => {
  /** Renders, then waits for the math renderer (loaded with the first text that may hold math). */
  const renderMath = async (text: string, streaming = false) => {
    const view = render(<Markdown text={text} streaming={streaming} />);
    await vi.waitFor(() => expect(view.container.querySelector(".katex, .katex-error")).not.toBeNull());
    return view.container;
  };
  /** The TeX of every rendered formula (KaTeX keeps it in its MathML), and whether each is display math. */
  const formulas = (container: HTMLElement) =>
    [...container.querySelectorAll(".katex")].map((katex) => [
      katex.querySelector('annotation[encoding="application/x-tex"]')?.textContent?.trim(),
      katex.parentElement?.classList.contains("katex-display") ?? false,
    ]);

  it("renders inline and display math written in any of the four forms, and ```math blocks", async () => {
    const container = await renderMath(
      "Inline $a^2$ and \\(b_1\\).\n\n\\[\n\\frac{1}{2}\n\\]\n\n$$\nc = 3\n$$\n\n$$d + e$$\n\n```math\nf(x)\n```",
    );
    expect(formulas(container)).toEqual([
      ["a^2", false],
      ["b_1", false],
      ["\\frac{1}{2}", true],
      ["c = 3", true],
      ["d + e", true],
      ["f(x)", true],
    ]);
    expect(container.querySelector("p")?.textContent).toMatch(/^Inline .+ and .+\.$/);
  });

  it("leaves prices, escaped dollars and code as text", async () => {
    const container = await renderMath("It costs $5 and $10, or \\$20. Run `echo $x$` and $y$.");
    expect(formulas(container)).toEqual([["y", false]]);
    expect(container.querySelector("p")?.firstChild?.textContent).toBe("It costs $5 and $10, or $20. Run ");
    expect(container.querySelector("code")?.textContent).toBe("echo $x$");
  });

  it("gives TeX from an answer no links, and a formula it cannot read shows as its TeX, in the text's colour", async () => {
    const container = await renderMath("$\\href{javascript:alert(1)}{click}$ and $$\\frac{1}{$$");
    expect(container.querySelector("a")).toBeNull();
    const error = container.querySelector<HTMLElement>(".katex-error");
    expect(error?.textContent).toBe("\\frac{1}{");
    expect(error?.style.color).toBe("inherit");
  });

  it("shows display math still being streamed as its TeX, and puts the caret after a formula, never inside it", async () => {
    const partial = await renderMath("So\n\n$$\n\\frac{1}{", true);
    expect(partial.querySelector(".katex-error")?.textContent).toBe("\\frac{1}{");
    cleanup();

    const container = await renderMath("The answer is $x^2$", true);
    const caret = container.querySelector('[data-testid="caret"]');
    expect(caret?.closest(".katex")).toBeNull();
    expect(caret?.previousElementSibling?.querySelector(".katex")).not.toBeNull();
    expect(caret?.parentElement?.tagName).toBe("P");
  });

  it("sets each formula once while an answer streams, not again on every frame", async () => {
    const renders = vi.spyOn(katex, "renderToString");
    const frames = ["Let $u_1$", "Let $u_1$ and \\(v_1\\) be", "Let $u_1$ and \\(v_1\\) be\n\n$$\nw_1\n$$\n\nso", "Let $u_1$ and \\(v_1\\) be\n\n$$\nw_1\n$$\n\nso $u_1$ again"];
    const view = render(<Markdown text={frames[0]!} streaming />);
    await vi.waitFor(() => expect(view.container.querySelector(".katex")).not.toBeNull());
    for (const text of frames.slice(1)) view.rerender(<Markdown text={text} streaming />);
    expect(formulas(view.container)).toEqual([["u_1", false], ["v_1", false], ["w_1", true], ["u_1", false]]);
    expect(renders.mock.calls.map(([tex]) => tex)).toEqual(["u_1", "v_1", "w_1"]);
    renders.mockRestore();
  });
});
