/**
 * The math renderer, loaded only when an answer may hold math (KaTeX is larger than the rest of the markdown stack):
 * remark-math reads `$$…$$` (normalizeMath gives every form of math that way), and `renderTex` sets each formula with
 * KaTeX. KaTeX's stylesheet and fonts come with this chunk.
 *
 * Not rehype-katex: it renders every formula of an answer again on every streamed frame (and parses KaTeX's HTML back
 * into a tree each time). Measured in Chromium on an answer of 666 tokens with 36 formulas, that doubled the page's
 * script time while it streamed (1.9 → 4.7 s); Markdown.tsx renders each formula once, from this cache.
 */
import "katex/dist/katex.min.css";
import katex from "katex";
import type { Options as MarkdownOptions } from "react-markdown";
import remarkMath from "remark-math";

export const mathRemarkPlugins: NonNullable<MarkdownOptions["remarkPlugins"]> = [[remarkMath, { singleDollarTextMath: false }]];

const settings = {
  // TeX KaTeX cannot read (an answer still being written, a command it lacks) shows as the TeX itself, in the text's
  // colour, not in KaTeX's alarming red: a formula completes a moment later, and its source is still readable.
  throwOnError: false,
  errorColor: "inherit",
  // No \href, \url, \includegraphics or HTML classes and ids from a model's answer (KaTeX's default, said here): its
  // HTML is then made of KaTeX's own elements and the TeX's text, escaped.
  trust: false,
  // `\rule{1000em}{1000em}` and friends cannot cover the page.
  maxSize: 20,
  strict: "ignore",
} as const;

/** Formulas set lately, by display mode and TeX: a streamed answer shows the same ones on every frame. */
const cache = new Map<string, string>();
const cacheLimit = 500;

/** KaTeX's HTML for `tex` (display or inline). */
export function renderTex(tex: string, display: boolean): string {
  const key = (display ? "D" : "I") + tex;
  const cached = cache.get(key);
  if (cached !== undefined) {
    // Most recently used last: the first key is the one to drop.
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  let html: string;
  try {
    html = katex.renderToString(tex, { ...settings, displayMode: display });
  } catch {
    // KaTeX reports TeX it cannot parse in its output; anything else it throws (a bug of its own) shows the TeX.
    html = `<span class="katex-error">${escapeHtml(tex)}</span>`;
  }
  if (cache.size >= cacheLimit) cache.delete(cache.keys().next().value!);
  cache.set(key, html);
  return html;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
