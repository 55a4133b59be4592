import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { forEachLine } from "./lines.js";

describe("forEachLine", () => {
  it("hands over whole lines as they complete, a character split between chunks included, and the rest at the end", async () => {
    const body = new PassThrough();
    const lines: string[] = [];
    const ended = new Promise<void>((resolve) => forEachLine(body, (line) => lines.push(line), resolve));
    const bytes = Buffer.from('{"a":1}\n{"t":"é"}\n\n{"b"', "utf8");
    const split = bytes.indexOf(0xc3) + 1; // inside é
    body.write(bytes.subarray(0, split));
    body.write(bytes.subarray(split));
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual(['{"a":1}', '{"t":"é"}', ""]);
    body.end(":2}");
    await ended;
    expect(lines).toEqual(['{"a":1}', '{"t":"é"}', "", '{"b":2}']);
  });
});
