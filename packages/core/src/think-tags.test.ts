import { describe, expect, it } from "vitest";
import { mayOpenThinkBlock, reasoningMarkers, splitLeadingReasoning, ThinkTagSplitter, splitUnopenedReasoning } from "./think-tags.js";

/** The chunks through one splitter, then its end: the reasoning and the answer as they came out, joined. */
function split(chunks: string[]): { reasoning: string; answer: string; pieces: Array<["reasoning" | "answer", string]> } {
  const pieces: Array<["reasoning" | "answer", string]> = [];
  const sink = { reasoning: (text: string) => pieces.push(["reasoning", text]), answer: (text: string) => pieces.push(["answer", text]) };
  const splitter = new ThinkTagSplitter();
  for (const chunk of chunks) splitter.split(chunk, sink);
  splitter.end(sink);
  const joined = (kind: string) => pieces.filter(([k]) => k === kind).map(([, text]) => text).join("");
  return { reasoning: joined("reasoning"), answer: joined("answer"), pieces };
}

describe("ThinkTagSplitter", () => {
  it("takes a block that opens the text as reasoning, the rest as the answer, without the whitespace between", () => {
    expect(split(["<think>\nThe user greets me.\n</think>\n\nHello!"])).toMatchObject({ reasoning: "The user greets me.\n", answer: "Hello!" });
    expect(split(["\n  <think>Short.</think>Hi"])).toMatchObject({ reasoning: "Short.", answer: "Hi" });
  });

  it("finds the tags split anywhere between chunks, one character at a time too", () => {
    const text = "<think>\nLet me count: 1, 2, 3.\n</think>\n\nThree.";
    const expected = { reasoning: "Let me count: 1, 2, 3.\n", answer: "Three." };
    expect(split([...text])).toMatchObject(expected);
    for (let at = 1; at < text.length; at++) expect(split([text.slice(0, at), text.slice(at)]), `split at ${at}`).toMatchObject(expected);
  });

  it("streams the reasoning as it comes, holding back only what may be the closing tag", () => {
    const { pieces } = split(["<think>One", " two</", "thi", "nk>Answer", " more"]);
    expect(pieces).toEqual([
      ["reasoning", "One"],
      ["reasoning", " two"],
      ["answer", "Answer"],
      ["answer", " more"],
    ]);
    // "</" that is not the tag goes on as reasoning with the next chunk.
    expect(split(["<think>a </", "b> c</think>d"])).toMatchObject({ reasoning: "a </b> c", answer: "d" });
  });

  it("passes text that does not open with the tag through untouched, chunk by chunk", () => {
    const { pieces } = split(["Hello", " <think>not reasoning</think>", " there"]);
    expect(pieces).toEqual([
      ["answer", "Hello"],
      ["answer", " <think>not reasoning</think>"],
      ["answer", " there"],
    ]);
    expect(split(["<thinker>x</thinker>"])).toMatchObject({ reasoning: "", answer: "<thinker>x</thinker>" });
    expect(split(["[THINKING] x"])).toMatchObject({ reasoning: "", answer: "[THINKING] x" });
    expect(split(["<", "div>hi</div>"])).toMatchObject({ reasoning: "", answer: "<div>hi</div>" });
    // Leading whitespace of an answer without a block is kept, as sent.
    expect(split(["\n", "  Indented"])).toMatchObject({ answer: "\n  Indented" });
  });

  it("says it passes once the answer is known, not before", () => {
    const splitter = new ThinkTagSplitter();
    const sink = { reasoning: () => undefined, answer: () => undefined };
    splitter.split("<th", sink);
    expect(splitter.passing).toBe(false);
    splitter.split("ink>x</think>", sink);
    expect(splitter.passing).toBe(false); // the answer's first character is still to come
    splitter.split(" y", sink);
    expect(splitter.passing).toBe(true);
  });

  it("gives what was held at the end where it was heading: an unclosed block is reasoning, a partial tag is text", () => {
    expect(split(["<think>Cut off by the length limit </thi"])).toMatchObject({ reasoning: "Cut off by the length limit </thi", answer: "" });
    expect(split(["<thi"])).toMatchObject({ reasoning: "", answer: "<thi" });
    expect(split(["  "])).toMatchObject({ reasoning: "", answer: "  " });
    expect(split(["<think></think>"])).toMatchObject({ reasoning: "", answer: "" });
    expect(split([])).toMatchObject({ reasoning: "", answer: "" });
  });
});

describe("other models' markers", () => {
  it("reads each marker's block, split at every point, and closes it only with its own closing marker", () => {
    for (const { open, close } of reasoningMarkers) {
      const text = `${open}\nWeigh it.\n${close}\n\nDone.`;
      const expected = { reasoning: "Weigh it.\n", answer: "Done." };
      for (let at = 1; at < text.length; at++) expect(split([text.slice(0, at), text.slice(at)]), `${open} split at ${at}`).toMatchObject(expected);
      expect(split([...text]), open).toMatchObject(expected);
    }
    // Magistral's block does not end at </think>, and <think>'s does not end at [/THINK].
    expect(split(["[THINK]a</think>b[/THINK]c"])).toMatchObject({ reasoning: "a</think>b", answer: "c" });
    expect(split(["<think>a[/THINK]b</think>c"])).toMatchObject({ reasoning: "a[/THINK]b", answer: "c" });
    // <think> is held while it may still be <thinking>, and the other way round.
    expect(split(["<think", "ing>a</thinking>b"])).toMatchObject({ reasoning: "a", answer: "b" });
    expect(split(["<think", ">a</thinking></think>b"])).toMatchObject({ reasoning: "a</thinking>", answer: "b" });
  });
});

describe("splitLeadingReasoning", () => {
  it("takes a whole text's leading block apart as a stream's is, and leaves other text whole", () => {
    expect(splitLeadingReasoning("\n<seed:think>Plan.</seed:think>\n\nAnswer <think>x</think>")).toEqual({ reasoning: "Plan.", answer: "Answer <think>x</think>" });
    expect(splitLeadingReasoning("  Just text")).toEqual({ reasoning: "", answer: "  Just text" });
    expect(splitLeadingReasoning("<thinking>Cut off")).toEqual({ reasoning: "Cut off", answer: "" });
    expect(splitLeadingReasoning("")).toEqual({ reasoning: "", answer: "" });
  });
});

describe("splitUnopenedReasoning", () => {
  it("names a closing marker that has reasoning before it and no opening marker, and nothing else", () => {
    expect(splitUnopenedReasoning("Okay, the user asks.\n</think>\n\nHello!")).toEqual({ reasoning: "Okay, the user asks.", answer: "Hello!", marker: "</think>" });
    expect(splitUnopenedReasoning("Plan.[/THINK]\nDone.")).toEqual({ reasoning: "Plan.", answer: "Done.", marker: "[/THINK]" });
    expect(splitUnopenedReasoning("Still thinking\n</think>")).toEqual({ reasoning: "Still thinking", answer: "", marker: "</think>" });
    // An answer that shows the tags, a block it opened itself, or a bare marker at the start.
    expect(splitUnopenedReasoning("Write `<think>` and `</think>` around it.")).toBeUndefined();
    expect(splitUnopenedReasoning("Write </think> after <think>.")).toBeUndefined();
    expect(splitUnopenedReasoning("Close it with `</think>`\nthen answer.")).toBeUndefined();
    expect(splitUnopenedReasoning("The template ends:\n```\nreasoning\n</think>\n```\nThat is all.")).toBeUndefined();
    // Reasoning that wrote a fenced block before its end is still reasoning.
    expect(splitUnopenedReasoning("Try:\n```js\nf()\n```\nYes.\n</think>\n\nUse f().")).toMatchObject({ answer: "Use f()." });
    expect(splitUnopenedReasoning("<think>x</think>y")).toBeUndefined();
    expect(splitUnopenedReasoning("  </think>Hi")).toBeUndefined();
    expect(splitUnopenedReasoning("Hello there.")).toBeUndefined();
  });
});

describe("mayOpenThinkBlock", () => {
  it("is true for text that starts with whitespace, < or [, false for any other first character", () => {
    for (const first of ["<think>", "<", "[THINK]", "[", " ", "\n<think>", "\t", "\r\n", "\u00a0x", "\u2003"]) expect(mayOpenThinkBlock(first), JSON.stringify(first)).toBe(true);
    for (const first of ["Hello", "x<think>", "😀", ">", "«"]) expect(mayOpenThinkBlock(first), JSON.stringify(first)).toBe(false);
  });
});
