/**
 * Splits a JSON document that is one top-level array into its elements' texts, as the document's text goes by in
 * pieces, so that a file larger than a string can hold (V8's longest is 2^29 characters, about 540 MB) is read one
 * element at a time, in the memory of the largest element.
 *
 * Not a streaming JSON parser (nor a library of one): JSON.parse stays the parser, native, exact and fast; this only
 * finds where each element begins and ends, which takes no more than whether the scan is inside a string (and after a
 * backslash there) and how deep in brackets it is. An element's text is checked by JSON.parse when it is parsed
 * (`jsonArrayValues`), not here.
 */

/** What is wrong with the document, for callers that act on the kind (an import treats "not-an-array" as another format). */
export type JsonArrayProblem = "not-an-array" | "unexpected-text" | "cut-short" | "invalid-element";

/** The document is not a well-formed JSON array; the message says where, in a sentence. */
export class JsonArrayError extends Error {
  override name = "JsonArrayError";

  constructor(
    readonly problem: JsonArrayProblem,
    message: string,
    /** How many elements were whole (and yielded) before the problem. */
    readonly elementsBefore: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface JsonArrayOptions {
  /** What the messages call an element ("conversation"): the array's elements are what the reader of the file knows. */
  itemName?: string;
}

const quote = 0x22;
const backslash = 0x5c;
const comma = 0x2c;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const byteOrderMark = 0xfeff;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Where the scan is between elements; inside one, `inElement` holds. */
type Place = "start" | "afterOpen" | "afterComma" | "afterElement" | "end";

function capitalized(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** A character for a message: one that prints, in quotes, else its code point. */
function shown(text: string, at: number): string {
  const c = text.codePointAt(at) ?? 0;
  return c > 0x20 && c !== 0x7f ? `“${String.fromCodePoint(c)}”` : `the character U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * The texts of the elements of the top-level JSON array whose text `pieces` are (split anywhere: inside a string, an
 * escape, a surrogate pair), each yielded as soon as it is whole; the text of an element already yielded is not kept.
 * A byte order mark and whitespace may come first. Throws JsonArrayError, after the elements that were whole before
 * it, when the text is not an array, has something other than whitespace where a comma or bracket belongs or after
 * the array, or ends before the array does.
 */
export async function* jsonArrayItems(pieces: AsyncIterable<string> | Iterable<string>, options: JsonArrayOptions = {}): AsyncGenerator<string, void, undefined> {
  const noun = options.itemName ?? "element";
  let place: Place = "start";
  let inElement = false;
  let inString = false;
  // The last piece ended just after a backslash in a string: the next piece's first character is escaped.
  let escaped = false;
  let depth = 0;
  // The element's text from the pieces before this one.
  let earlier: string[] = [];
  let count = 0;
  let first = true;
  for await (const piece of pieces) {
    const n = piece.length;
    let i = 0;
    if (first && n > 0) {
      first = false;
      if (piece.charCodeAt(0) === byteOrderMark) i = 1;
    }
    let from = inElement ? 0 : -1;
    // The next backslash and quote at or after i, each searched for again only once passed: a long string with many
    // escapes is then scanned once, not once per escape.
    let nextBackslash = -1;
    let nextQuote = -1;
    while (i < n) {
      if (inElement) {
        if (inString) {
          if (escaped) {
            escaped = false;
            i += 1;
            continue;
          }
          if (nextBackslash < i) {
            nextBackslash = piece.indexOf("\\", i);
            if (nextBackslash === -1) nextBackslash = n;
          }
          if (nextQuote < i) {
            nextQuote = piece.indexOf('"', i);
            if (nextQuote === -1) nextQuote = n;
          }
          if (nextBackslash < nextQuote) {
            // The backslash and the character it escapes (\" is not the string's end; \u's hex digits are plain).
            i = nextBackslash + 2;
            if (i > n) {
              escaped = true;
              i = n;
            }
            continue;
          }
          if (nextQuote === n) {
            i = n;
            continue;
          }
          inString = false;
          i = nextQuote + 1;
          if (depth > 0) continue;
          // A string element ends with its closing quote.
        } else {
          const c = piece.charCodeAt(i);
          if (c === quote) {
            inString = true;
            i += 1;
            continue;
          }
          if (c === openBrace || c === openBracket) {
            depth += 1;
            i += 1;
            continue;
          }
          if (c === closeBrace || c === closeBracket) {
            // At depth 0 it closes the array (or is out of place, which the place after the element says).
            if (depth > 0) {
              depth -= 1;
              i += 1;
              if (depth > 0) continue;
            }
          } else if (depth > 0 || !(c === comma || isWhitespace(c))) {
            i += 1;
            continue;
          }
          // A number, true, false or null ends before the comma, bracket or whitespace after it.
        }
        const text = earlier.length === 0 ? piece.slice(from, i) : earlier.join("") + piece.slice(from, i);
        earlier = [];
        inElement = false;
        from = -1;
        place = "afterElement";
        yield text;
        continue;
      }
      const c = piece.charCodeAt(i);
      if (isWhitespace(c)) {
        i += 1;
        continue;
      }
      switch (place) {
        case "start":
          if (c !== openBracket) throw new JsonArrayError("not-an-array", `The text is not a JSON array; it begins with ${shown(piece, i)}.`, 0);
          place = "afterOpen";
          i += 1;
          continue;
        case "afterOpen":
        case "afterComma":
          if (c === closeBracket && place === "afterOpen") {
            place = "end";
            i += 1;
            continue;
          }
          if (c === comma || c === closeBracket || c === closeBrace) {
            throw new JsonArrayError("unexpected-text", `${capitalized(noun)} ${count + 1} is missing; ${shown(piece, i)} stands where it begins.`, count);
          }
          count += 1;
          inElement = true;
          from = i;
          continue;
        case "afterElement":
          if (c === comma) place = "afterComma";
          else if (c === closeBracket) place = "end";
          else throw new JsonArrayError("unexpected-text", `After ${noun} ${count}, ${shown(piece, i)} stands where a comma or the array's closing “]” belongs.`, count);
          i += 1;
          continue;
        case "end":
          throw new JsonArrayError("unexpected-text", `Text follows the array's closing “]”, beginning with ${shown(piece, i)}.`, count);
      }
    }
    if (inElement && from < n) earlier.push(piece.slice(from));
  }
  if (place === "end") return;
  if (place === "start") throw new JsonArrayError("not-an-array", "The text is not a JSON array; it is empty.", 0);
  if (inElement) throw new JsonArrayError("cut-short", `The JSON text is cut short in the middle of ${noun} ${count}.`, count - 1);
  if (count === 0) throw new JsonArrayError("cut-short", "The JSON text is cut short right after the array's opening “[”.", 0);
  throw new JsonArrayError("cut-short", `The JSON text is cut short after ${noun} ${count}, before the array's closing “]”.`, count);
}

/**
 * The elements of the top-level JSON array whose text `pieces` are, each parsed with JSON.parse as it is whole (see
 * `jsonArrayItems`). An element that is not valid JSON ends the iteration with a JsonArrayError ("invalid-element").
 */
export async function* jsonArrayValues(pieces: AsyncIterable<string> | Iterable<string>, options: JsonArrayOptions = {}): AsyncGenerator<unknown, void, undefined> {
  const noun = options.itemName ?? "element";
  let count = 0;
  for await (const text of jsonArrayItems(pieces, options)) {
    count += 1;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      // The parser's own message quotes the text around the fault, which may be a long stretch of someone's chat.
      throw new JsonArrayError("invalid-element", `${capitalized(noun)} ${count} is not valid JSON.`, count - 1, { cause: error });
    }
    yield value;
  }
}
