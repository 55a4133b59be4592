/**
 * Reasoning that a server sends inside the answer's text, as `<think>…</think>` before the answer: DeepSeek-R1, QwQ,
 * Qwen3 and their distills on servers that do not take it apart (llama.cpp with `--reasoning-format none`, vLLM
 * without a reasoning parser, LM Studio's older builds, many hosted proxies; Ollama for some models with tools). Read
 * as text, a person gets the whole chain of thought as the answer. Only a block that opens a round's text (after
 * whitespace) is reasoning: a tag later on is the answer's own text (a model explaining the tags).
 *
 * Tags may be split anywhere between chunks ("<thi" + "nk>"): what may still be one is held until the next chunk
 * tells, or the round ends (`end`). Once the round's text is known not to start with the tag, or the block has closed,
 * every chunk passes through as it came (`passing`), so the streamed answer pays one check per chunk.
 */

const open = "<think>";
const close = "</think>";

/** Where a round's text goes: its reasoning and its answer, in order. */
export interface SplitTextSink {
  reasoning(text: string): void;
  answer(text: string): void;
}

type State =
  /** Nothing but whitespace yet, or the start of the opening tag (held). */
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
      if (trimmed === "" || (trimmed.length < open.length && open.startsWith(trimmed))) {
        this.#held = text;
        return;
      }
      if (!trimmed.startsWith(open)) {
        this.#state = "text";
        sink.answer(text);
        return;
      }
      this.#state = "opened";
      text = trimmed.slice(open.length);
    }
    if (this.#state === "opened") {
      text = text.trimStart();
      if (text === "") return;
      this.#state = "inside";
    }
    if (this.#state === "inside") {
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

/**
 * Whether a round's text that starts with `first` may open a block: it starts with whitespace or with "<". Other
 * text is the answer from its first character, and needs no splitter.
 */
export function mayOpenThinkBlock(first: string): boolean {
  return first.startsWith("<") || /^\s/.test(first);
}

/** How many characters at the end of `text` begin `tag` (a tag split between chunks); 0 when none do. */
function partialTagAtEnd(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) if (tag.startsWith(text.slice(text.length - n))) return n;
  return 0;
}
