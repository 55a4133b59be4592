import { describe, expect, it } from "vitest";
import { JsonArrayError, jsonArrayItems, jsonArrayValues, type JsonArrayProblem } from "./json-array-items.js";

/** The text in pieces cut at `cuts` (positions in it), given asynchronously as a file's would be. */
async function* piecesOf(text: string, cuts: number[]): AsyncGenerator<string> {
  let at = 0;
  for (const cut of [...cuts, text.length]) {
    yield text.slice(at, cut);
    at = cut;
  }
}

/** What the generator gave before it ended, and how it ended. */
async function collect<T>(items: AsyncIterable<T>): Promise<{ items: T[]; error?: unknown }> {
  const got: T[] = [];
  try {
    for await (const item of items) got.push(item);
  } catch (error) {
    return { items: got, error };
  }
  return { items: got };
}

// Brackets, braces, commas and quotes inside strings; escaped quotes and backslashes (one ending a string); \u escapes;
// a surrogate pair; nested arrays and objects; every kind of value at the top; whitespace everywhere it may be.
const tricky = `\uFEFF \n[ {"a": "]}[{,\\"", "b\\\\": ["x\\\\", {"c": [1, [2, {"d": null}]]}], "e": "\\u005d\\ud83d\\ude00 😀"} ,
  "a string, with ] and \\" and \\\\",  -12.5e3 ,true,false,null, [], {}, [[["deep"]]] , "", "\\\\" ,0\r\n\t]\n `;

describe("jsonArrayItems", () => {
  it("gives each element's text of a tricky array, wherever the text is split", async () => {
    const expected = (JSON.parse(tricky.slice(1)) as unknown[]).map((value) => JSON.stringify(value));
    const check = async (cuts: number[]) => {
      const { items, error } = await collect(jsonArrayItems(piecesOf(tricky, cuts)));
      expect(error).toBeUndefined();
      expect(items.map((text) => JSON.stringify(JSON.parse(text)))).toEqual(expected);
    };
    await check([]);
    for (let cut = 0; cut <= tricky.length; cut++) await check([cut]);
    for (let cut = 0; cut + 7 <= tricky.length; cut++) await check([cut, cut + 1, cut + 2, cut + 7]);
    // One character a piece (a surrogate pair's halves apart).
    await check(Array.from({ length: tricky.length }, (_, i) => i));
  });

  it("gives an element's exact text, without the whitespace around it", async () => {
    const { items } = await collect(jsonArrayItems(['[ {"a" : [ 1 ] } ,\n"x\\"" ,7]']));
    expect(items).toEqual(['{"a" : [ 1 ] }', '"x\\""', "7"]);
  });

  it("gives nothing for an empty array, and takes synchronous pieces too", async () => {
    expect(await collect(jsonArrayItems(["  [", " ", "]  "]))).toEqual({ items: [] });
    expect(await collect(jsonArrayItems(["[]"]))).toEqual({ items: [] });
  });

  it("ends with a JsonArrayError saying what is wrong, after the elements that were whole before it", async () => {
    const cases: Array<[text: string, problem: JsonArrayProblem, message: string, before: string[]]> = [
      ["", "not-an-array", "The text is not a JSON array; it is empty.", []],
      [" \n ", "not-an-array", "The text is not a JSON array; it is empty.", []],
      ['{"a": [1]}', "not-an-array", "The text is not a JSON array; it begins with “{”.", []],
      ["\uFEFF  null", "not-an-array", "The text is not a JSON array; it begins with “n”.", []],
      ['[1, 2 3]', "unexpected-text", "After element 2, “3” stands where a comma or the array's closing “]” belongs.", ["1"]],
      ['[{"a":1} {"b":2}]', "unexpected-text", "After element 1, “{” stands where a comma or the array's closing “]” belongs.", []],
      ["[1,]", "unexpected-text", "Element 2 is missing; “]” stands where it begins.", ["1"]],
      ["[,1]", "unexpected-text", "Element 1 is missing; “,” stands where it begins.", []],
      ["[1,,2]", "unexpected-text", "Element 2 is missing; “,” stands where it begins.", ["1"]],
      ["[}]", "unexpected-text", "Element 1 is missing; “}” stands where it begins.", []],
      ["[1]]", "unexpected-text", "Text follows the array's closing “]”, beginning with “]”.", ["1"]],
      ['[1] \n{"x": 2}', "unexpected-text", "Text follows the array's closing “]”, beginning with “{”.", ["1"]],
      ["[1]\u0000", "unexpected-text", "Text follows the array's closing “]”, beginning with the character U+0000.", ["1"]],
      ["[", "cut-short", "The JSON text is cut short right after the array's opening “[”.", []],
      ["[1, 2", "cut-short", "The JSON text is cut short in the middle of element 2.", ["1"]],
      ['[{"a": "b"}, {"c": "d\\"]}', "cut-short", "The JSON text is cut short in the middle of element 2.", []],
      ["[[1], [2]", "cut-short", "The JSON text is cut short after element 2, before the array's closing “]”.", ["[1]", "[2]"]],
      ["[[1, [2]", "cut-short", "The JSON text is cut short in the middle of element 1.", []],
      ['[1, "a"b]', "unexpected-text", "After element 2, “b” stands where a comma or the array's closing “]” belongs.", ["1", '"a"']],
      ['[{"a": 1},', "cut-short", "The JSON text is cut short after element 1, before the array's closing “]”.", []],
      ['["a\\', "cut-short", "The JSON text is cut short in the middle of element 1.", []],
    ];
    for (const [text, problem, message, before] of cases) {
      // Whole, and one character a piece: the same end.
      for (const pieces of [[text], [...text]]) {
        const { items, error } = await collect(jsonArrayItems(pieces));
        expect(error, text).toBeInstanceOf(JsonArrayError);
        expect({ problem: (error as JsonArrayError).problem, message: (error as JsonArrayError).message }, text).toEqual({ problem, message });
        expect(items.slice(0, before.length), text).toEqual(before);
        expect((error as JsonArrayError).elementsBefore, text).toBeGreaterThanOrEqual(before.length);
      }
    }
  });

  it("names the elements as the caller knows them", async () => {
    const { error } = await collect(jsonArrayItems(['[{"a":1}, {"b":'], { itemName: "conversation" }));
    expect((error as Error).message).toBe("The JSON text is cut short in the middle of conversation 2.");
  });

  it("reads a long text of long strings with many escapes, one element at a time", async () => {
    // 70 million characters; the scan jumps from quote to backslash within strings rather than concatenating.
    const element = JSON.stringify({ text: `${"word \\ \"quoted\" ".repeat(2000)}${"x".repeat(30_000)}`, list: [1, 2, { a: "]" }] });
    const count = 1000;
    async function* pieces() {
      yield "[";
      for (let i = 0; i < count; i++) yield i === 0 ? element : `,${element}`;
      yield "]";
    }
    let seen = 0;
    for await (const text of jsonArrayItems(pieces())) {
      expect(text.length).toBe(element.length);
      seen += 1;
    }
    expect(seen).toBe(count);
  });
});

describe("jsonArrayValues", () => {
  it("parses each element", async () => {
    expect(await collect(jsonArrayValues(piecesOf('[{"a": [1]}, "x", 2]', [3, 9])))).toEqual({ items: [{ a: [1] }, "x", 2] });
  });

  it("ends with a JsonArrayError for an element that is not valid JSON, after the ones before it", async () => {
    for (const text of ['[{"a": 1}, {"a": 1]}]', '[{"a": 1}, {a: 1}]', "[1, tru]", "[1, 2x]", '[1, {"a":\n"line\nbreak"}]']) {
      const { items, error } = await collect(jsonArrayValues([text], { itemName: "conversation" }));
      expect(items, text).toEqual([items[0]]);
      expect(error, text).toBeInstanceOf(JsonArrayError);
      expect((error as JsonArrayError).problem, text).toBe("invalid-element");
      expect((error as JsonArrayError).message, text).toBe("Conversation 2 is not valid JSON.");
      expect((error as JsonArrayError).elementsBefore, text).toBe(1);
    }
  });
});
