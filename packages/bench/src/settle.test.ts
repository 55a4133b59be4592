import { describe, expect, it } from "vitest";
import { waitForQuiet } from "./settle.js";

/** A machine that spends `share(t)` of a core t ms after it was made: its CPU time so far, in ms. */
function machine(share: (elapsedMs: number) => number) {
  const started = performance.now();
  let last = started;
  let spent = 0;
  return () => {
    const now = performance.now();
    spent += (now - last) * share(last - started);
    last = now;
    return spent;
  };
}

describe("waiting for a quiet machine", () => {
  it("waits while the machine is busy, and returns once a look finds it quiet", async () => {
    const result = await waitForQuiet({ sampleMs: 20, busyShare: 0.1, timeoutMs: 5_000, busyMs: machine((t) => (t < 100 ? 1 : 0)) });
    expect(result.quiet).toBe(true);
    expect(result.busyShare).toBeLessThanOrEqual(0.1);
    // The looks that began within the busy first 100 ms were busy.
    expect(result.waitedMs).toBeGreaterThanOrEqual(100);
  });

  it("gives up after its timeout on a machine that stays busy", async () => {
    const result = await waitForQuiet({ sampleMs: 20, busyShare: 0.1, timeoutMs: 100, busyMs: machine(() => 0.5) });
    expect(result.quiet).toBe(false);
    expect(result.waitedMs).toBeGreaterThanOrEqual(100);
    expect(result.busyShare).toBeGreaterThan(0.1);
  });

  it("returns after one look on a quiet machine", async () => {
    const result = await waitForQuiet({ sampleMs: 20, busyShare: 0.1, timeoutMs: 5_000, busyMs: machine(() => 0) });
    expect(result).toMatchObject({ quiet: true, busyShare: 0 });
    expect(result.waitedMs).toBeLessThan(5_000);
  });
});
