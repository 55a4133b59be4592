/**
 * Reasoning that a server sends inside the answer's text, as a block before the answer: `<think>…</think>` from
 * DeepSeek-R1, QwQ, Qwen3, GLM and their distills, and the other models' own markers (reasoningMarkers), on servers that
 * do not take it apart (llama.cpp with `--reasoning-format none`, vLLM without a reasoning parser, LM Studio's older
 * builds, many hosted proxies; Ollama for some models with tools). Read as text, a person gets the whole chain of
 * thought as the answer. Only a block that opens a round's text (after whitespace) is reasoning: a tag later on is the
 * answer's own text (a model explaining the tags).
 *
 * Tags may be split anywhere between chunks ("<thi" + "nk>"): what may still be one is held until the next chunk
 * tells, or the round ends (`end`). Once the round's text is known not to start with a marker, or the block has closed,
 * every chunk passes through as it came (`passing`), so the streamed answer pays one check per chunk.
 */

/**
 * The opening and closing markers of a reasoning block, as the servers' own reasoning parsers know them (vLLM's and
 * llama.cpp's): `<think>` for most models, `<thinking>` for models taught to write it (Reflection's fine-tunes and
 * prompts in Anthropic's style), `<seed:think>` for ByteDance's Seed-OSS, `[THINK]` for Mistral's Magistral and
 * `<|START_THINKING|>` for Cohere's Command models. Only a block that opens the text counts, so an answer that starts
 * with one of these literally is the one thing misread, and none of them starts a plain answer.
 */
export const reasoningMarkers: ReadonlyArray<{ readonly open: string; readonly close: string }> = [
  { open: "<think>", close: "</think>" },
  { open: "<thinking>", close: "</thinking>" },
  { open: "<seed:think>", close: "</seed:think>" },
  { open: "[THINK]", close: "[/THINK]" },
  { open: "<|START_THINKING|>", close: "<|END_THINKING|>" },
];

/** Where a round's text goes: its reasoning and its answer, in order. */
export interface SplitTextSink {
  reasoning(text: string): void;
  answer(text: string): void;
}

type State =
  /** Nothing but whitespace yet, or the start of an opening marker (held). */
  | "start"
  /** In the block, before any of its text: its leading whitespace is dropped. */
  | "opened"
  /** In the block (a partial closing tag at the end held). */
  | "inside"
  /** After the block, before the answer's first character: the whitespace between them is dropped. */
  | "closed"
  /** The answer: everything passes. */
  | "text";

export class ThinkTagSplitter {
  #state: State = "start";
  #held = "";
  /** The closing marker of the block that opened the text. */
  #close = "";

  /** True once every further chunk is answer text as it came. */
  get passing(): boolean {
    return this.#state === "text";
  }

  /** One chunk of the round's text. */
  split(chunk: string, sink: SplitTextSink): void {
    if (this.#state === "text") {
      sink.answer(chunk);
      return;
    }
    let text = this.#held + chunk;
    this.#held = "";
    if (this.#state === "start") {
      const trimmed = text.trimStart();
      if (trimmed === "" || reasoningMarkers.some(({ open }) => trimmed.length < open.length && open.startsWith(trimmed))) {
        this.#held = text;
        return;
      }
      const marker = reasoningMarkers.find(({ open }) => trimmed.startsWith(open));
      if (marker === undefined) {
        this.#state = "text";
        sink.answer(text);
        return;
      }
      this.#state = "opened";
      this.#close = marker.close;
      text = trimmed.slice(marker.open.length);
    }
    if (this.#state === "opened") {
      text = text.trimStart();
      if (text === "") return;
      this.#state = "inside";
    }
    if (this.#state === "inside") {
      const close = this.#close;
      const end = text.indexOf(close);
      if (end < 0) {
        const keep = partialTagAtEnd(text, close);
        if (keep < text.length) sink.reasoning(text.slice(0, text.length - keep));
        this.#held = text.slice(text.length - keep);
        return;
      }
      if (end > 0) sink.reasoning(text.slice(0, end));
      this.#state = "closed";
      text = text.slice(end + close.length);
    }
    // closed
    text = text.trimStart();
    if (text === "") return;
    this.#state = "text";
    sink.answer(text);
  }

  /** The round ended: what was held goes where it was heading (an unclosed block's text is reasoning). */
  end(sink: SplitTextSink): void {
    const held = this.#held;
    this.#held = "";
    if (held === "") return;
    if (this.#state === "inside") sink.reasoning(held);
    else if (this.#state === "start") sink.answer(held);
  }
}

/** The characters a marker starts with ("<", "["). */
const markerStarts = new Set(reasoningMarkers.map(({ open }) => open[0]));

/**
 * Whether a round's text that starts with `first` may open a block: it starts with whitespace or with a marker's first
 * character (markerStarts). Other text is the answer from its first character, and needs no splitter.
 */
export function mayOpenThinkBlock(first: string): boolean {
  return markerStarts.has(first[0]) || /^\s/.test(first);
}

/** How many characters at the end of `text` begin `tag` (a tag split between chunks); 0 when none do. */
function partialTagAtEnd(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) if (tag.startsWith(text.slice(text.length - n))) return n;
  return 0;
}

/**
 * A whole text's leading reasoning block and the answer after it, read as the splitter reads a stream: for texts that
 * come whole (an import of another app's chat, a title's answer). No block: all of it is the answer.
 */
export function splitLeadingReasoning(text: string): { reasoning: string; answer: string } {
  let reasoning = "";
  let answer = "";
  const sink: SplitTextSink = {
    reasoning: (part) => void (reasoning += part),
    answer: (part) => void (answer += part),
  };
  const splitter = new ThinkTagSplitter();
  splitter.split(text, sink);
  splitter.end(sink);
  return { reasoning, answer };
}

/**
 * A reasoning block whose opening marker the text lacks ("…reasoning\n</think>\n\nanswer"), taken apart: what a
 * reasoning model sends when its chat template opened the block in the prompt (DeepSeek-R1's distills, QwQ) and its
 * server does not take the reasoning apart (vLLM without `--reasoning-parser`). The tokens before the marker streamed
 * as the answer and cannot be taken back: the web app folds them as the answer's reasoning when it shows it, and the
 * API says so in its log, once per model, so that the server can be set up to separate them. Undefined when the text
 * has no such marker: the first closing marker must end its line, follow text and no opening marker, and not sit in
 * code (a marker in a sentence, a code span or a fenced block is the answer's own).
 */
export function splitUnopenedReasoning(text: string): { reasoning: string; answer: string; marker: string } | undefined {
  for (const { open, close } of reasoningMarkers) {
    const end = text.indexOf(close);
    if (end <= 0) continue;
    const before = text.slice(0, end);
    const after = text.slice(end + close.length);
    if (!/^[ \t]*(?:\r?\n|$)/.test(after) || before.endsWith("`") || insideFence(before) || before.includes(open) || before.trim() === "") continue;
    return { reasoning: before.trim(), answer: after.trimStart(), marker: close };
  }
  return undefined;
}

/** Whether a text ends inside a fenced code block (an odd number of ``` fences opened it). */
function insideFence(text: string): boolean {
  return (text.match(/^[ \t]*```/gm)?.length ?? 0) % 2 === 1;
}
