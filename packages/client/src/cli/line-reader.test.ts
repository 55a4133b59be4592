import { PassThrough } from "node:stream";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { LineReader } from "./line-reader.js";

function typed(): { reader: LineReader; type(text: string): void; end(): void } {
  const input = new PassThrough();
  const rl = createInterface({ input, terminal: false });
  return { reader: new LineReader(rl[Symbol.asyncIterator]()), type: (text) => input.write(text), end: () => input.end() };
}

describe("LineReader", () => {
  it("hands out lines in order, one per call, then undefined at the end of input", async () => {
    const { reader, type, end } = typed();
    const first = reader.next();
    type("one\ntwo\n");
    expect(await first).toBe("one");
    expect(await reader.next()).toBe("two");
    end();
    expect(await reader.next()).toBeUndefined();
    expect(await reader.next()).toBeUndefined();
  });

  it("gives a line typed after a reader stopped waiting to the next reader (it is not lost)", async () => {
    const { reader, type } = typed();
    const gaveUp = new AbortController();
    const prompt = reader.next(gaveUp.signal);
    gaveUp.abort();
    expect(await prompt).toBeUndefined();
    const question = reader.next();
    type("/exit\n");
    expect(await question).toBe("/exit");
  });

  it("answers undefined at once for a signal that already aborted, and takes no line for it", async () => {
    const { reader, type } = typed();
    type("kept\n");
    expect(await reader.next()).toBe("kept");
    const aborted = AbortSignal.abort();
    expect(await reader.next(aborted)).toBeUndefined();
    const next = reader.next();
    type("after\n");
    expect(await next).toBe("after");
  });
});
