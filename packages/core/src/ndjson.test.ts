import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChatError } from "./errors.js";
import { decodeNdjson, NdjsonDecoder } from "./ndjson.js";

const encoder = new TextEncoder();

async function* chunksOf(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let start = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (cut <= start || cut >= bytes.length) continue;
    yield bytes.subarray(start, cut);
    start = cut;
  }
  yield bytes.subarray(start);
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const value of decodeNdjson(body)) out.push(value);
  return out;
}

async function decodeText(text: string, cuts: number[] = []): Promise<unknown[]> {
  return collect(chunksOf(encoder.encode(text), cuts));
}

// JSON values whose strings include multi-byte characters (2-, 3- and 4-byte UTF-8, emoji surrogate pairs).
const jsonValue = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const fancyText = fc.string({ unit: fc.constantFrom("a", " ", "é", "ß", "€", "東", "京", "😀", "👍🏽", "\n", "\\", '"') });
const record = fc.record({ content: fancyText, n: fc.integer(), nested: jsonValue });

describe("decodeNdjson", () => {
  it("decodes the same objects for any split of the byte stream, including inside multi-byte characters", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { maxLength: 8 }),
        fc.array(fc.nat({ max: 4000 }), { maxLength: 30 }),
        fc.constantFrom("\n", "\r\n"),
        fc.boolean(),
        async (values, cuts, eol, trailingNewline) => {
          const lines = values.map((v) => JSON.stringify(v));
          const text = lines.join(eol) + (trailingNewline && lines.length > 0 ? eol : "");
          expect(await decodeText(text, cuts)).toEqual(values);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("splits every byte apart", async () => {
    const text = '{"content":"東京 😀"}\n{"content":"é"}\n';
    const bytes = encoder.encode(text);
    const cuts = Array.from({ length: bytes.length }, (_, i) => i);
    expect(await collect(chunksOf(bytes, cuts))).toEqual([{ content: "東京 😀" }, { content: "é" }]);
  });

  it("skips empty and whitespace-only lines and accepts a last line without newline", async () => {
    expect(await decodeText('\n{"a":1}\r\n\r\n  \n{"b":2}')).toEqual([{ a: 1 }, { b: 2 }]);
    expect(await decodeText("")).toEqual([]);
  });

  it("surfaces a line that is not JSON as provider_error, after the good lines before it", async () => {
    const seen: unknown[] = [];
    const error = await (async () => {
      for await (const value of decodeNdjson(chunksOf(encoder.encode('{"a":1}\nnot json at all\n{"b":2}\n'), [3]))) {
        seen.push(value);
      }
    })().catch((e: unknown) => e);
    expect(seen).toEqual([{ a: 1 }]);
    expect(error).toBeInstanceOf(ChatError);
    expect((error as ChatError).code).toBe("provider_error");
    expect((error as ChatError).message).toContain("not JSON (line 2)");
    expect((error as ChatError).message).toContain("not json at all");
  });

  it("surfaces a truncated last line as provider_error", async () => {
    await expect(decodeText('{"a":1}\n{"b":')).rejects.toMatchObject({ code: "provider_error" });
  });

  it("surfaces invalid UTF-8 as provider_error", async () => {
    const bytes = new Uint8Array([...encoder.encode('{"a":"'), 0xff, 0xfe, ...encoder.encode('"}\n')]);
    await expect(collect(chunksOf(bytes, []))).rejects.toMatchObject({ code: "provider_error" });
  });

  it("refuses a line longer than the limit instead of buffering forever", async () => {
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 100; i += 1) yield encoder.encode("x".repeat(100));
    }
    const run = async () => {
      for await (const _ of decodeNdjson(endless(), { maxLineLength: 1000 })) void _;
    };
    await expect(run()).rejects.toMatchObject({ code: "provider_error" });
  });

  it("throws only ChatError for random garbage bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat({ max: 300 }), { maxLength: 10 }), async (bytes, cuts) => {
        try {
          await collect(chunksOf(bytes, cuts));
        } catch (error) {
          expect(error).toBeInstanceOf(ChatError);
          expect((error as ChatError).code).toBe("provider_error");
        }
      }),
      { numRuns: 500 },
    );
  });

  it("throws only ChatError for random text lines", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: "grapheme" }), { maxLength: 10 }), async (lines) => {
        try {
          await decodeText(lines.join("\n"));
        } catch (error) {
          expect(error).toBeInstanceOf(ChatError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("NdjsonDecoder", () => {
  it("hands out the values of the lines each chunk completes, all at once, and the last line at the end", () => {
    const decoder = new NdjsonDecoder();
    const take = (text?: string) => {
      const into: unknown[] = [];
      if (text === undefined) decoder.end(into);
      else decoder.push(encoder.encode(text), into);
      return into;
    };
    expect(take('{"a":1}\n{"b":2}\n{"c"')).toEqual([{ a: 1 }, { b: 2 }]);
    expect(take(":3}\n")).toEqual([{ c: 3 }]);
    expect(take('{"d":4}')).toEqual([]);
    expect(take()).toEqual([{ d: 4 }]);
  });

  it("throws at a line that is not JSON with the values before it already handed out", () => {
    const into: unknown[] = [];
    expect(() => new NdjsonDecoder().push(encoder.encode('{"a":1}\n{"b":2}\nnope\n{"c":3}\n'), into)).toThrow(/not JSON \(line 3\)/);
    expect(into).toEqual([{ a: 1 }, { b: 2 }]);
  });
});
