import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogDestination } from "./log-destination.js";

/** A reader that takes writes only when the test lets it (a pipe nobody reads, then a reader catching up). */
function stuckReader() {
  const held: Array<{ chunk: string; done: (error?: Error | null) => void }> = [];
  const written: string[] = [];
  const out = new Writable({
    highWaterMark: 64,
    write(chunk: Buffer, _encoding, done) {
      held.push({ chunk: chunk.toString(), done });
    },
  });
  return {
    out,
    written,
    /** Lets every held write complete, and those that follow. */
    release() {
      out._write = (chunk: Buffer, _encoding, done) => {
        written.push(chunk.toString());
        done();
      };
      for (const { chunk, done } of held.splice(0)) {
        written.push(chunk);
        done();
      }
    },
    fail(error: Error) {
      held.shift()?.done(error);
    },
  };
}

describe("log destination", () => {
  it("holds at most the bound for a reader that stopped, drops the rest, and says so once it catches up", async () => {
    const reader = stuckReader();
    const log = createLogDestination(reader.out, 1000, () => 42);
    const line = `${"x".repeat(99)}\n`;
    for (let i = 0; i < 100; i++) expect(log.write(line)).toBe(true);
    // The first write is in flight; the stream holds the rest up to the bound (1000 bytes = 10 lines).
    expect(reader.out.writableLength).toBeLessThanOrEqual(1000 + line.length);
    expect(log.dropped()).toBe(100 - 10);

    const flushed = log.flush(60_000);
    reader.release();
    await flushed;
    expect(reader.written.slice(0, 10)).toEqual(Array(10).fill(line));
    expect(JSON.parse(reader.written.at(-1)!)).toEqual({ level: 40, time: 42, pid: process.pid, msg: "log output fell behind: dropped 90 lines" });

    // Caught up: lines pass again.
    log.write("after\n");
    expect(reader.written.at(-1)).toBe("after\n");
  });

  it("a flush gives up after its timeout when the reader never reads", async () => {
    const reader = stuckReader();
    const log = createLogDestination(reader.out, 1000);
    log.write("stuck\n");
    log.write("stuck too\n");
    await log.flush(50); // resolves although nothing drained
    expect(reader.written).toEqual([]);
  });

  it("stops writing, without throwing, when the reader went away (EPIPE)", async () => {
    const reader = stuckReader();
    const log = createLogDestination(reader.out, 1000);
    log.write("one\n");
    const epipe = Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
    reader.fail(epipe);
    await new Promise((resolve) => setImmediate(resolve));
    expect(() => log.write("two\n")).not.toThrow();
    expect(log.dropped()).toBe(1);
    await log.flush(60_000); // nothing to wait for
  });
});
