import { describe, expect, it } from "vitest";
import { mightHaveMath, normalizeMath } from "./math-text.js";

describe("normalizeMath", () => {
  it("gives inline math of every form as $$…$$ within its line", () => {
    expect(normalizeMath("Euler: $e^{i\\pi} + 1 = 0$.")).toBe("Euler: $$e^{i\\pi} + 1 = 0$$.");
    expect(normalizeMath("Area \\(A = \\pi r^2\\) of a disc")).toBe("Area $$A = \\pi r^2$$ of a disc");
    expect(normalizeMath("already $$x_1$$ inline")).toBe("already $$x_1$$ inline");
    expect(normalizeMath("a \\[x\\] mid-sentence")).toBe("a $$x$$ mid-sentence");
  });

  it("gives display math of every form as $$ lines around the TeX", () => {
    expect(normalizeMath("Then\n\\[\n\\int_0^1 x\\,dx = \\tfrac12\n\\]\nso.")).toBe("Then\n$$\n\\int_0^1 x\\,dx = \\tfrac12\n$$\nso.");
    expect(normalizeMath("\\[ a^2 + b^2 = c^2 \\]")).toBe("$$\na^2 + b^2 = c^2\n$$");
    // On a line of its own `$$…$$` means display; remark-math alone would set it inline.
    expect(normalizeMath("Hence:\n$$E = mc^2$$\nwhere")).toBe("Hence:\n$$\nE = mc^2\n$$\nwhere");
    // Already in the flow form: unchanged.
    const flow = "$$\n\\sum_{k=1}^n k = \\frac{n(n+1)}{2}\n$$";
    expect(normalizeMath(flow)).toBe(flow);
  });

  it("keeps display math at the indentation of the list item it is in", () => {
    expect(normalizeMath("1. Square it:\n   \\[ x^2 \\]\n2. Done")).toBe("1. Square it:\n   $$\n   x^2\n   $$\n2. Done");
  });

  it("leaves prices alone (Pandoc's rule for a single $)", () => {
    for (const text of ["It costs $5 and $10.", "$20-$30 a month", "|$5|$10|", "from $ 3 to $4", "US$5", "only $5"]) {
      expect(normalizeMath(text)).toBe(text);
    }
    // A price before a formula on the same line: the price stays text, the formula is math.
    expect(normalizeMath("Pay $5 for $x$ units")).toBe("Pay $5 for $$x$$ units");
    // A closing $ must have a non-space before it.
    expect(normalizeMath("$x $ no")).toBe("$x $ no");
  });

  it("leaves escaped delimiters escaped", () => {
    expect(normalizeMath("a \\$5 and \\$x\\$")).toBe("a \\$5 and \\$x\\$");
    expect(normalizeMath("not math: \\\\(x\\\\)")).toBe("not math: \\\\(x\\\\)");
  });

  it("leaves code exactly as written: fenced blocks and inline spans", () => {
    const fenced = "```bash\necho $HOME $PATH\nprintf '\\(x\\)'\n```\n````md\n```\n$a$\n```\n````";
    expect(normalizeMath(fenced)).toBe(fenced);
    const tilde = "~~~\n$a$ \\[b\\]\n~~~\n$c$";
    expect(normalizeMath(tilde)).toBe("~~~\n$a$ \\[b\\]\n~~~\n$$c$$");
    expect(normalizeMath("Run `echo $a$` or ``x `$b$` y`` then $c$")).toBe("Run `echo $a$` or ``x `$b$` y`` then $$c$$");
    // A fence indented in a list item is still a fence.
    expect(normalizeMath("- step\n  ```sh\n  echo $x$\n  ```")).toBe("- step\n  ```sh\n  echo $x$\n  ```");
    // A stray backtick does not reach into the next fenced block.
    expect(normalizeMath("one ` tick\n```js\nconst s = `$a$`;\n```\n$b$")).toBe("one ` tick\n```js\nconst s = `$a$`;\n```\n$$b$$");
  });

  it("does not join delimiters across paragraphs", () => {
    expect(normalizeMath("a \\(x\n\nb\\) c")).toBe("a \\(x\n\nb\\) c");
    expect(normalizeMath("$$x\n\ny$$")).toBe("$$x\n\ny$$");
  });

  it("passes through what is still being streamed, to be read again when it completes", () => {
    expect(normalizeMath("Take \\(x^")).toBe("Take \\(x^");
    expect(normalizeMath("$$\n\\frac{a}{")).toBe("$$\n\\frac{a}{");
    expect(normalizeMath("so $x")).toBe("so $x");
    expect(normalizeMath("")).toBe("");
  });
});

describe("mightHaveMath", () => {
  it("is true for any form of math and false for text without a delimiter", () => {
    expect(["$x$", "\\(x\\)", "\\[x\\]", "$$\nx\n$$", "```math\nx\n```", "$5"].every(mightHaveMath)).toBe(true);
    expect(["plain text", "a (b) [c]", "`code`"].some(mightHaveMath)).toBe(false);
  });
});
