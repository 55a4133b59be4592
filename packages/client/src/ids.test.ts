import { describe, expect, it } from "vitest";
import { requestId } from "./ids.js";

describe("requestId", () => {
  it("is a version 7 UUID, unique and increasing within a process, its time the clock's", () => {
    const before = Date.now();
    const ids = Array.from({ length: 1000 }, () => requestId());
    const after = Date.now();
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    const ms = (id: string) => Number.parseInt(id.replace(/-/g, "").slice(0, 12), 16);
    expect(ms(ids[0]!)).toBeGreaterThanOrEqual(before);
    expect(ms(ids.at(-1)!)).toBeLessThanOrEqual(after);
  });
});
