import { describe, expect, it } from "vitest";
import { newRecordId } from "./ids.js";

describe("newRecordId", () => {
  it("makes version 7 UUIDs that sort in the order they were made, also within one millisecond", () => {
    const ids = Array.from({ length: 5_000 }, () => newRecordId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it("leads with the time it was made", () => {
    const before = Date.now();
    const id = newRecordId();
    const after = Date.now();
    const ms = parseInt(id.replaceAll("-", "").slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });
});
