import { closesFence, fenceOpenedBy, type Fence } from "./code-fences.js";

/**
 * Models write TeX math four ways: `$…$`, `$$…$$`, `\(…\)` and `\[…\]`. remark-math reads only dollars, and its
 * single dollar has no rule against prices ("$5 and $10" would be math). `normalizeMath` rewrites an answer into the
 * one form remark-math is given (single-dollar math off): `$$…$$` inside a line for inline math, `$$` on lines of
 * their own around display math. Code (fenced blocks and inline spans) is left exactly as written.
 *
 * A single `$…$` is math by Pandoc's rule: the opening `$` has a non-space character right after it, the closing one
 * a non-space character right before it and no digit right after it, both on one line. So "$5 and $10" and "$20-$30"
 * stay text, and "$x$" and "$E = mc^2$" are math.
 */
export function normalizeMath(text: string): string {
  const paragraphs = new Paragraphs(text);
  let out = "";
  let i = 0;
  let fence: Fence | null = null;
  while (i < text.length) {
    if (fence !== null || isLineStart(text, i)) {
      const lineEnd = endOfLine(text, i);
      const line = text.slice(i, lineEnd);
      if (fence !== null) {
        // Inside a fenced block: copied as is, up to and including the fence that closes it.
        if (closesFence(line, fence)) fence = null;
        out += text.slice(i, Math.min(lineEnd + 1, text.length));
        i = lineEnd + 1;
        continue;
      }
      fence = fenceOpenedBy(line);
      if (fence !== null) {
        out += text.slice(i, Math.min(lineEnd + 1, text.length));
        i = lineEnd + 1;
        continue;
      }
    }
    const c = text[i]!;
    if (c === "\n") {
      out += c;
      i++;
    } else if (c === "`") {
      // An inline code span: the run of backticks is closed by a run of the same length, within the paragraph.
      const run = runLength(text, i, "`");
      const close = paragraphs.closingRun(i + run, run);
      const end = close === -1 ? i + run : close + run;
      out += text.slice(i, end);
      i = end;
    } else if (c === "\\") {
      const next = text[i + 1];
      if (next === "(" || next === "[") {
        const closer = next === "(" ? "\\)" : "\\]";
        const close = paragraphs.find(i + 2, closer);
        if (close !== -1) {
          const inner = text.slice(i + 2, close);
          out += next === "[" && standsAlone(text, i, close + 2) ? displayBlock(inner, indentOf(text, i)) : inlineMath(inner);
          i = close + 2;
          continue;
        }
      }
      // Any other escape (`\$` included) stays one, and its character is never a delimiter.
      out += text.slice(i, i + 2);
      i += 2;
    } else if (c === "$") {
      if (text[i + 1] === "$") {
        const close = paragraphs.find(i + 2, "$$");
        if (close === -1) {
          // An unclosed `$$`: a display block still being written (remark-math shows it as math to the end), or text.
          out += "$$";
          i += 2;
          continue;
        }
        const inner = text.slice(i + 2, close);
        // On a line of its own, `$$…$$` is display math; remark-math would read it as inline.
        out += !inner.includes("\n") && standsAlone(text, i, close + 2) ? displayBlock(inner, indentOf(text, i)) : text.slice(i, close + 2);
        i = close + 2;
      } else {
        const close = singleDollarClose(text, i);
        if (close === -1) {
          out += "$";
          i++;
        } else {
          out += inlineMath(text.slice(i + 1, close));
          i = close + 1;
        }
      }
    } else {
      // Plain text up to the next character that can start anything above.
      let j = i + 1;
      while (j < text.length && !"`\\$\n".includes(text[j]!)) j++;
      out += text.slice(i, j);
      i = j;
    }
  }
  return out;
}

/** Whether an answer may hold math: worth loading the math renderer for (a price is a false positive, and harmless). */
export function mightHaveMath(text: string): boolean {
  return /\$|\\[([]|```math/.test(text);
}

const endOfLine = (text: string, from: number) => {
  const end = text.indexOf("\n", from);
  return end === -1 ? text.length : end;
};

const isLineStart = (text: string, i: number) => i === 0 || text[i - 1] === "\n";

const runLength = (text: string, from: number, char: string) => {
  let end = from;
  while (text[end] === char) end++;
  return end - from;
};

/**
 * Where the text's paragraphs end (blank lines and code fences' lines), found once per text: every delimiter looks for
 * its closer up to there, and finding it again for each one made an answer of one long paragraph (a table of prices)
 * cost quadratic time on every streamed frame.
 */
class Paragraphs {
  readonly #ends: number[] = [];

  constructor(readonly text: string) {
    const boundary = /\n[ \t]*\n|\n[ \t]*(?:`{3,}|~{3,})/g;
    for (let match = boundary.exec(text); match !== null; match = boundary.exec(text)) {
      this.#ends.push(match.index);
      // Overlapping boundaries ("\n\n\n"): the next one may start at this one's second newline.
      boundary.lastIndex = match.index + 1;
    }
  }

  /** The end of the paragraph that `from` is in: the first boundary at or after it, or the end of the text. */
  endAfter(from: number): number {
    const ends = this.#ends;
    let low = 0;
    let high = ends.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (ends[mid]! < from) low = mid + 1;
      else high = mid;
    }
    return low < ends.length ? ends[low]! : this.text.length;
  }

  /** The start of the next run of exactly `length` backticks in the paragraph, or -1. */
  closingRun(from: number, length: number): number {
    const { text } = this;
    const limit = this.endAfter(from);
    let i = text.indexOf("`", from);
    while (i !== -1 && i < limit) {
      const run = runLength(text, i, "`");
      if (run === length) return i;
      i = text.indexOf("`", i + run);
    }
    return -1;
  }

  /** The next unescaped `closer` in the paragraph, or -1. */
  find(from: number, closer: string): number {
    const { text } = this;
    const limit = this.endAfter(from);
    for (let i = from; i < limit; i++) {
      if (text.startsWith(closer, i)) return i;
      if (text[i] === "\\" && closer[0] !== "\\") i++;
    }
    return -1;
  }
}

/** The closing `$` of a single-dollar math span opened at `open` (Pandoc's rule), or -1. */
function singleDollarClose(text: string, open: number): number {
  const first = text[open + 1];
  if (first === undefined || /\s/.test(first)) return -1;
  for (let i = open + 1; i < text.length && text[i] !== "\n"; i++) {
    if (text[i] === "\\") {
      i++;
      continue;
    }
    if (text[i] !== "$") continue;
    // The first unescaped `$` decides: a price's second `$` ("$5 and $10") is no closer, and no later one is tried.
    const valid = !/\s/.test(text[i - 1]!) && !/[0-9]/.test(text[i + 1] ?? "") && text[i + 1] !== "$";
    return valid ? i : -1;
  }
  return -1;
}

/** Whether `text[from, to)` is all its lines hold but for whitespace (read only as far as the first other character). */
function standsAlone(text: string, from: number, to: number): boolean {
  for (let i = from - 1; i >= 0 && text[i] !== "\n"; i--) if (text[i] !== " " && text[i] !== "\t") return false;
  for (let i = to; i < text.length && text[i] !== "\n"; i++) if (!/\s/.test(text[i]!)) return false;
  return true;
}

/** The whitespace before `at` on its line (called for math that stands alone: nothing else is before it). */
function indentOf(text: string, at: number): string {
  let start = at;
  while (start > 0 && text[start - 1] !== "\n") start--;
  return text.slice(start, at);
}

/** Display math as remark-math's flow form: `$$` lines around the TeX, at the indentation the math was written at. */
function displayBlock(inner: string, indent: string): string {
  const tex = inner.replace(/^[ \t]*\n/, "").replace(/\n[ \t]*$/, "").trim();
  return `$$\n${indent}${tex}\n${indent}$$`;
}

/** Inline math as remark-math's text form, on one line. */
function inlineMath(inner: string): string {
  return `$$${inner.replace(/\n/g, " ")}$$`;
}
