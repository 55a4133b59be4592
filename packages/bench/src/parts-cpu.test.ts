import { describe, expect, it } from "vitest";
import { type PartsCpu, windowedParts } from "./parts-cpu.js";

describe("windowedParts", () => {
  it("counts each part's CPU between the two readings of a window, never between windows", () => {
    const readings: PartsCpu[] = [
      { replicas: 10, nginx: 1, redis: 2, postgres: 3 }, // window 1 opens
      { replicas: 30, nginx: 2, redis: 4, postgres: 13 }, // window 1 closes: +20 +1 +2 +10
      { replicas: 500, nginx: 50, redis: 60, postgres: 900 }, // window 2 opens (another path's work before it)
      { replicas: 505, nginx: 50, redis: 61, postgres: 904 }, // window 2 closes: +5 +0 +1 +4
      { replicas: 600, nginx: 60, redis: 70, postgres: 1000 }, // a window opened and never closed
    ];
    let next = 0;
    const parts = windowedParts(() => readings[next++]!);
    const seen = readings.map(() => parts.mark());
    expect(seen).toEqual(readings);
    expect(parts.inWindows).toEqual({ replicas: 25, nginx: 1, redis: 3, postgres: 14 });
  });
});
