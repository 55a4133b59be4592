import { describe, expect, it } from "vitest";
import { afterTaken, importTextOf, utf8Pieces } from "./text-source.js";

async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe("importTextOf", () => {
  it("keeps an array in pieces, read no further than its first character, and reads anything else whole", async () => {
    let read = 0;
    async function* counted(): AsyncGenerator<string> {
      for (const piece of ["  ", "\n", " [1,", "2]"]) {
        read++;
        yield piece;
      }
    }
    const array = await importTextOf(counted());
    expect(array.kind).toBe("array");
    expect(read).toBe(3);
    expect(array.kind === "array" && (await all(array.pieces)).join("")).toBe("  \n [1,2]");
    expect(await importTextOf(from([" ", '{"a":', "1}"]))).toEqual({ kind: "text", text: ' {"a":1}' });
    expect(await importTextOf(from(["", "  "]))).toEqual({ kind: "text", text: "  " });
    expect(await importTextOf(from<string>([]))).toEqual({ kind: "text", text: "" });
  });
});

describe("utf8Pieces", () => {
  it("gives a character split between two chunks whole, in the later piece, and drops a byte order mark", async () => {
    const bytes = new TextEncoder().encode("\uFEFF[\"café 🍣\"]");
    const chunks = [bytes.subarray(0, 8), bytes.subarray(8, 12), bytes.subarray(12)];
    const pieces = await all(utf8Pieces(from(chunks)));
    expect(pieces.join("")).toBe('["café 🍣"]');
    expect(pieces.every((piece) => !/[\uD800-\uDBFF]$/.test(piece) && !piece.includes("\uFFFD"))).toBe(true);
  });
});

describe("afterTaken", () => {
  it("gives the taken items, then the rest, and closes the rest when left early", async () => {
    let closed = false;
    async function* rest(): AsyncGenerator<number> {
      try {
        yield* [3, 4, 5];
      } finally {
        closed = true;
      }
    }
    const iterator = rest();
    expect(await all(afterTaken([1, 2], iterator))).toEqual([1, 2, 3, 4, 5]);
    closed = false;
    const again = rest();
    for await (const n of afterTaken([1], again)) if (n === 3) break;
    expect(closed).toBe(true);
  });
});
