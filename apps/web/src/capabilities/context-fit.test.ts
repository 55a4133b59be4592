import type { FileAttachment } from "@streamchat/core/browser";
import { describe, expect, it } from "vitest";
import { contextFitNote, contextOverflow, maxContextTokensOf, textNearWindow } from "./context-fit.js";
import type { RouterOutputs } from "../trpc.js";

const file = (name: string, text: string): FileAttachment => ({ type: "file", name, text });
/** `<file name="a.txt">\n` + text + `\n</file>\n\n`: 29 ASCII characters of tags around a one-letter name. */
const tags = (name: string) => `<file name="${name}">\n\n</file>\n\n`.length;
const ascii = (chars: number) => "x".repeat(chars);

describe("whether a message and its files fit the model's window", () => {
  // A 4096-token window keeps 1024 for the answer: the prompt may fill 3072, 12,288 ASCII characters.
  const window = { contextLength: 4096, maxContextTokens: 32_768 };

  it("says nothing while the files fit, and which file and by how much once they do not", () => {
    const fits = file("a.txt", ascii(12_288 - tags("a.txt")));
    expect(contextOverflow({ text: "", files: [fits], ...window })).toBeNull();
    expect(contextFitNote({ text: "", files: [fits], ...window })).toBeNull();

    const budget = file("budget.csv", ascii(26_000 * 4));
    expect(contextOverflow({ text: "Sum it up", files: [budget], ...window })).toEqual({
      fileTokens: Math.ceil((26_000 * 4 + tags("budget.csv")) / 4),
      tokens: Math.ceil((26_000 * 4 + tags("budget.csv") + 9) / 4),
      budget: 3072,
    });
    expect(contextFitNote({ text: "", files: [budget], ...window })).toBe(
      "budget.csv is about 26K tokens; this model has room for about 3K here, so it will see only part of it.",
    );
    expect(contextFitNote({ text: "", files: [budget, fits], ...window })).toBe(
      "These files are about 29.1K tokens; this model has room for about 3K here, so it will see only part of them.",
    );
  });

  it("counts what is typed with the files: the message is what the model reads", () => {
    const notes = file("a.txt", ascii(12_288 - tags("a.txt")));
    expect(contextOverflow({ text: "", files: [notes], ...window })).toBeNull();
    expect(contextFitNote({ text: "Why?", files: [notes], ...window })).toBe(
      "This message and its file are about 3.1K tokens; this model has room for about 3K here, so it will see only part of it.",
    );
    // Typed (or pasted) text alone too: 40,000 characters are ~10K tokens, past the 3K this window leaves.
    expect(contextFitNote({ text: ascii(40_000), files: [], ...window })).toBe(
      "This message is about 10K tokens; this model has room for about 3K here, so it will see only part of it.",
    );
    expect(contextOverflow({ text: ascii(12_288), files: [], ...window })).toBeNull();
    expect(contextOverflow({ text: ascii(12_292), files: [], ...window })).toEqual({ fileTokens: 0, tokens: 3073, budget: 3072 });
  });

  it("says nothing when the model's window is unknown (OpenAI-compatible servers) or not a window at all", () => {
    const huge = [file("big.log", ascii(400_000))];
    expect(contextOverflow({ text: "", files: huge, contextLength: undefined, maxContextTokens: 4096 })).toBeNull();
    expect(contextOverflow({ text: "", files: huge, contextLength: 0, maxContextTokens: 4096 })).toBeNull();
    expect(contextOverflow({ text: "", files: huge, contextLength: Number.NaN, maxContextTokens: 4096 })).toBeNull();
  });

  it("caps a large window at the server's MAX_CONTEXT_TOKENS, as the engine does", () => {
    // 40K tokens of files: within a 131,072-token window (answer room 4096)…
    const files = [file("a.txt", ascii(160_000))];
    expect(contextOverflow({ text: "", files, contextLength: 131_072, maxContextTokens: 131_072 })).toBeNull();
    // …but this server fills at most 32,768 of it (28,672 for the prompt).
    expect(contextOverflow({ text: "", files, contextLength: 131_072, maxContextTokens: 32_768 })?.budget).toBe(28_672);
    expect(contextFitNote({ text: "", files, contextLength: 131_072, maxContextTokens: 32_768 })).toBe(
      "a.txt is about 40K tokens; this model has room for about 28K here, so it will see only part of it.",
    );
    // A model whose own window is the smaller one: that is the limit.
    expect(contextOverflow({ text: "", files, contextLength: 8192, maxContextTokens: 32_768 })?.budget).toBe(6144);
  });

  it("takes the server's room when it has said it (the instructions and tools taken out, calibrated)", () => {
    const budget = file("budget.csv", ascii(2_800 * 4));
    // Fits the window less the answer's reserve (3072)…
    expect(contextOverflow({ text: "", files: [budget], ...window })).toBeNull();
    // …but not beside this user's instructions and tools.
    expect(contextOverflow({ text: "", files: [budget], ...window, room: 2_600 })?.budget).toBe(2_600);
    expect(contextFitNote({ text: "", files: [budget], ...window, room: 2_600 })).toBe(
      "budget.csv is about 2.8K tokens; this model has room for about 2.6K here, so it will see only part of it.",
    );
    // A room that is no number falls back to the window's arithmetic.
    expect(contextOverflow({ text: "", files: [budget], ...window, room: Number.NaN })).toBeNull();
  });

  it("counts a non-ASCII character as a token, as the engine's estimate does", () => {
    // 3070 CJK characters are ~3070 tokens (as many ASCII ones would be 768): over a 4096 window's 3072 with the tags.
    const cjk = file("メモ.txt", "漢".repeat(3_070));
    const overflow = contextOverflow({ text: "", files: [cjk], ...window });
    // The name's two katakana count one each too; an emoji (a surrogate pair) is one character, not two.
    expect(overflow?.fileTokens).toBe(Math.ceil(3_070 + 2 + (tags("メモ.txt") - 2) / 4));
    expect(contextOverflow({ text: "", files: [file("a.txt", "漢".repeat(3_000))], ...window })).toBeNull();
    expect(contextOverflow({ text: "😀".repeat(3_100), files: [file("a.txt", "x")], ...window })?.tokens).toBe(Math.ceil(3_100 + (tags("a.txt") + 1) / 4));
  });

  it("reads the server's limit from health, and core's default when it does not say", () => {
    const health = (limits: unknown) => ({ ok: true, limits }) as unknown as RouterOutputs["health"];
    expect(maxContextTokensOf(health({ maxContextTokens: 4096 }))).toBe(4096);
    expect(maxContextTokensOf(health({ maxFileChars: 100 }))).toBe(32_768);
    expect(maxContextTokensOf(health({ maxContextTokens: "4096" }))).toBe(32_768);
    expect(maxContextTokensOf(health({ maxContextTokens: -1 }))).toBe(32_768);
    expect(maxContextTokensOf(undefined)).toBe(32_768);
  });
});

describe("textNearWindow", () => {
  it("is true once a text is past half of what a message may take (the window less the answer's reserve), where the window is known", () => {
    // 4096 tokens less 1024 for the answer: 3072; half of it 1536.
    expect(textNearWindow(1536, 4096, 32_768)).toBe(false);
    expect(textNearWindow(1537, 4096, 32_768)).toBe(true);
    // The server's cap on the window counts: a 128K model capped at 4096 is the same.
    expect(textNearWindow(1537, 131_072, 4096)).toBe(true);
    expect(textNearWindow(1537, 131_072, 32_768)).toBe(false);
    // A window the server does not tell: never (no note to give).
    expect(textNearWindow(1_000_000, undefined, 32_768)).toBe(false);
  });
});
