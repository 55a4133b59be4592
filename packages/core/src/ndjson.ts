import { ChatError } from "./errors.js";

export interface NdjsonOptions {
  /** A line longer than this (in UTF-16 code units) is a broken stream, not a reason to buffer forever. */
  maxLineLength?: number;
}

const defaultMaxLineLength = 8 * 1024 * 1024;

/**
 * Newline-delimited JSON, decoded chunk by chunk as the bytes arrive, without an async step per line: a reader that
 * handles a whole body chunk at once (the Ollama provider joins the text of one chunk) pays for the chunk, not for
 * each line in it.
 *
 * Chunks may split lines and multi-byte UTF-8 characters anywhere (TCP does). `\r\n` is accepted, blank lines are
 * skipped and a last line without a trailing newline still counts (`end`). A line that is not JSON, or bytes that are
 * not UTF-8, throw ChatError("provider_error"): a corrupt stream is reported, not skipped (ollama-js skips such lines,
 * which hides half-lost answers). The values of the lines before it are in `into` by then.
 */
export class NdjsonDecoder {
  private readonly maxLineLength: number;
  // fatal: invalid UTF-8 throws instead of silently becoming U+FFFD; stream mode keeps a split character's
  // leading bytes until the next chunk completes it.
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });
  private buffer = "";
  private lineNumber = 0;

  constructor(options: NdjsonOptions = {}) {
    this.maxLineLength = options.maxLineLength ?? defaultMaxLineLength;
  }

  /** Appends the values of the lines `chunk` completes to `into`, in order. */
  push(chunk: Uint8Array, into: unknown[]): void {
    const buffer = this.buffer + this.decode(chunk);
    // Walk the lines by index and cut the buffer once per chunk: a flood of short lines stays linear.
    let start = 0;
    let newline = buffer.indexOf("\n");
    try {
      while (newline !== -1) {
        this.parse(buffer.slice(start, newline), into);
        start = newline + 1;
        newline = buffer.indexOf("\n", start);
      }
    } finally {
      this.buffer = buffer.slice(start);
    }
    if (this.buffer.length > this.maxLineLength) {
      throw new ChatError("provider_error", `The model server sent a line longer than ${this.maxLineLength} characters.`);
    }
  }

  /** The stream ended: appends the value of a last line without a newline, if there is one. */
  end(into: unknown[]): void {
    const last = this.buffer + this.decode();
    this.buffer = "";
    this.parse(last, into);
  }

  private parse(line: string, into: unknown[]): void {
    this.lineNumber += 1;
    const text = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (text.trim() === "") return;
    try {
      into.push(JSON.parse(text));
    } catch {
      throw new ChatError("provider_error", `The model server sent a line that is not JSON (line ${this.lineNumber}): ${preview(text)}`);
    }
  }

  private decode(chunk?: Uint8Array): string {
    try {
      return chunk === undefined ? this.decoder.decode() : this.decoder.decode(chunk, { stream: true });
    } catch (cause) {
      throw new ChatError("provider_error", "The model server sent bytes that are not valid UTF-8.", { cause });
    }
  }
}

/** Decodes a newline-delimited JSON byte stream into values, one per non-empty line (see NdjsonDecoder). */
export async function* decodeNdjson(body: AsyncIterable<Uint8Array>, options: NdjsonOptions = {}): AsyncGenerator<unknown> {
  const decoder = new NdjsonDecoder(options);
  for await (const chunk of body) yield* decodedBy(decoder, chunk);
  yield* decodedBy(decoder);
}

/** The values of one chunk (or of the end), then the error that stopped the chunk's lines, if one did. */
function* decodedBy(decoder: NdjsonDecoder, chunk?: Uint8Array): Generator<unknown> {
  const values: unknown[] = [];
  let failure: unknown;
  try {
    if (chunk === undefined) decoder.end(values);
    else decoder.push(chunk, values);
  } catch (error) {
    failure = error;
  }
  yield* values;
  if (failure !== undefined) throw failure;
}

function preview(text: string): string {
  const max = 80;
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
