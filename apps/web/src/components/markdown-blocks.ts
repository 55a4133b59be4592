import { closesFence, fenceOpenedBy, type Fence } from "./code-fences.js";

/**
 * An answer's markdown cut into top-level blocks that render the same apart as together, so that a streamed answer
 * re-renders only its last block on each frame (Markdown.tsx keeps the others). Rendering the whole answer on every
 * frame made the page's work grow with the square of the answer's length: 2.6 s of script for 700 tokens, 16 s for
 * 2,800 (Chromium, the web e2e's simulator at 8 ms a token).
 *
 * A cut goes only at a blank line outside code fences and display math, and only where what follows cannot belong to
 * what came before: not before an indented line (a list item's continuation, indented code) or a list item (a loose
 * list stays one list). An answer with link reference definitions or footnotes is not cut at all: they are defined
 * in one block and used in others.
 */
export function markdownBlocks(text: string): string[] {
  if (/^ {0,3}\[[^\]\n]+\]:/m.test(text)) return [text];
  const lines = text.split("\n");
  const blocks: string[] = [];
  let start = 0;
  let fence: Fence | null = null;
  let math = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (fence !== null) {
      if (closesFence(line, fence)) fence = null;
      continue;
    }
    if (math) {
      if (line.trim() === "$$") math = false;
      continue;
    }
    fence = fenceOpenedBy(line);
    if (fence !== null) continue;
    if (line.trim() === "$$") {
      math = true;
      continue;
    }
    // A blank line, then a line that starts a block of its own: cut between them.
    if (line.trim() !== "" || i + 1 >= lines.length) continue;
    const next = lines[i + 1]!;
    if (next.trim() === "" || /^[ \t]/.test(next) || /^(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)/.test(next)) continue;
    blocks.push(lines.slice(start, i + 1).join("\n"));
    start = i + 1;
  }
  blocks.push(lines.slice(start).join("\n"));
  return blocks;
}
