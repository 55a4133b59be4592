import { describe, expect, it } from "vitest";
import { AllocationMeter } from "./alloc-meter.js";

describe("AllocationMeter", () => {
  it("counts from its first reading what the heap allocated, through any number of collections", () => {
    const meter = new AllocationMeter();
    expect(meter.allocatedBytes()).toBe(0);
    // 20,000 arrays of 1,000 doubles (8 KB each): ~160 MB, far more than the young generation holds, so collections
    // run in between; only the last array stays alive.
    let kept: number[] = [];
    for (let i = 0; i < 20_000; i++) kept = new Array<number>(1_000).fill(i + 0.5);
    const allocated = meter.allocatedBytes();
    expect(kept[0]).toBe(20_000 - 0.5);
    expect(allocated).toBeGreaterThan(20_000 * 8_000);
    expect(allocated).toBeLessThan(20_000 * 8_000 * 1.5);
    // A reading with nothing allocated in between adds (next to) nothing.
    expect(meter.allocatedBytes() - allocated).toBeLessThan(64 * 1024);
  });
});
