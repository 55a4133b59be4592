import { describe, expect, it } from "vitest";
import type { ModelChunk } from "../model.js";
import { collectGarbage } from "../test-support/heap.js";
import { JoinedReader, type ChunkDecoder } from "./joined-chunks.js";

interface Line {
  text: string;
}

/** One item per byte of the chunk; `made` lets the test see them after the reader had them. */
function decoder(made: WeakRef<Line>[]): ChunkDecoder<Line> {
  return {
    push(chunk, into) {
      for (const byte of chunk) {
        const line = { text: String.fromCharCode(byte) };
        made.push(new WeakRef(line));
        into.push(line);
      }
    },
    end() {},
  };
}

const textOf = (line: Line): ModelChunk[] => [{ type: "text", text: line.text }];

describe("JoinedReader", () => {
  it("joins a body chunk's text items into one chunk", () => {
    const reader = new JoinedReader(decoder([]), { accept: textOf, complete: () => false });
    expect(reader.read(new TextEncoder().encode("abc"))).toBeUndefined();
    expect(reader.chunks).toEqual([{ type: "text", text: "abc", pieces: 3 }]);
  });

  it("keeps none of a chunk's decoded items once it has read them: a held answer's next chunk can be minutes away", async () => {
    const made: WeakRef<Line>[] = [];
    const reader = new JoinedReader(decoder(made), { accept: textOf, complete: () => false });
    reader.read(new TextEncoder().encode("xyz"));
    // A WeakRef keeps its target alive until the job that made it ends.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(made).toHaveLength(3);
    expect(made.filter((ref) => ref.deref() !== undefined)).toEqual([]);
    expect(reader.chunks).toEqual([{ type: "text", text: "xyz", pieces: 3 }]);
  });

  it("reads every item of its chunk when a source reads another answer within its own read (the decoded items are shared)", () => {
    const inner = new JoinedReader(decoder([]), { accept: textOf, complete: () => false });
    const innerTexts: string[] = [];
    const outer = new JoinedReader(decoder([]), {
      accept: (line: Line) => {
        expect(inner.read(new TextEncoder().encode(line.text.toUpperCase() + "!"))).toBeUndefined();
        innerTexts.push(inner.chunks.map((chunk) => (chunk.type === "text" ? chunk.text : "")).join(""));
        return textOf(line);
      },
      complete: () => false,
    });
    expect(outer.read(new TextEncoder().encode("ab"))).toBeUndefined();
    expect(outer.chunks).toEqual([{ type: "text", text: "ab", pieces: 2 }]);
    expect(innerTexts).toEqual(["A!", "B!"]);
    // And the shared items are empty again: a later read sees only its own.
    expect(inner.read(new TextEncoder().encode("z"))).toBeUndefined();
    expect(inner.chunks).toEqual([{ type: "text", text: "z" }]);
  });
});
