import { ChatError } from "./errors.js";

export interface NdjsonOptions {
  /** A line longer than this (in UTF-16 code units) is a broken stream, not a reason to buffer forever. */
  maxLineLength?: number;
}

const defaultMaxLineLength = 8 * 1024 * 1024;

/**
 * Decodes a newline-delimited JSON byte stream into values, one per non-empty line.
 *
 * Chunks may split lines and multi-byte UTF-8 characters anywhere (TCP does). `\r\n` is accepted, blank
 * lines are skipped and a last line without a trailing newline still counts. A line that is not JSON, or
 * bytes that are not UTF-8, throw ChatError("provider_error"): a corrupt stream is reported, not skipped
 * (ollama-js skips such lines, which hides half-lost answers).
 */
export async function* decodeNdjson(body: AsyncIterable<Uint8Array>, options: NdjsonOptions = {}): AsyncGenerator<unknown> {
  const maxLineLength = options.maxLineLength ?? defaultMaxLineLength;
  // fatal: invalid UTF-8 throws instead of silently becoming U+FFFD; stream mode keeps a split character's
  // leading bytes until the next chunk completes it.
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let buffer = "";
  let lineNumber = 0;

  const parse = (line: string): { value: unknown } | undefined => {
    lineNumber += 1;
    const text = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (text.trim() === "") return undefined;
    try {
      return { value: JSON.parse(text) };
    } catch {
      throw new ChatError("provider_error", `The model server sent a line that is not JSON (line ${lineNumber}): ${preview(text)}`);
    }
  };

  const decode = (chunk?: Uint8Array): string => {
    try {
      return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
    } catch (cause) {
      throw new ChatError("provider_error", "The model server sent bytes that are not valid UTF-8.", { cause });
    }
  };

  for await (const chunk of body) {
    buffer += decode(chunk);
    // Walk the lines by index and cut the buffer once per chunk: a flood of short lines stays linear.
    let start = 0;
    let newline = buffer.indexOf("\n");
    while (newline !== -1) {
      const parsed = parse(buffer.slice(start, newline));
      start = newline + 1;
      if (parsed) yield parsed.value;
      newline = buffer.indexOf("\n", start);
    }
    buffer = buffer.slice(start);
    if (buffer.length > maxLineLength) {
      throw new ChatError("provider_error", `The model server sent a line longer than ${maxLineLength} characters.`);
    }
  }
  buffer += decode();
  const last = parse(buffer);
  if (last) yield last.value;
}

function preview(text: string): string {
  const max = 80;
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
