import { describe, expect, it, vi } from "vitest";
import { stringify } from "uuid";
import { formatUuid, newRecordId } from "./ids.js";

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

describe("newRecordId when the clock goes back", () => {
  it("keeps its ids in order", () => {
    const now = vi.spyOn(Date, "now");
    try {
      now.mockReturnValue(2_000_000_000_000);
      const first = newRecordId();
      now.mockReturnValue(1_999_999_999_000);
      const later = [newRecordId(), newRecordId()];
      expect([first, ...later].sort()).toEqual([first, ...later]);
      // Still the time of the first id: the counter went on, the clock's step back did not show.
      for (const id of later) expect(id.slice(0, 13)).toBe(first.slice(0, 13));
    } finally {
      now.mockRestore();
    }
  });
});

describe("formatUuid", () => {
  it("writes the text uuid's stringify writes", () => {
    const bytes = new Uint8Array(16);
    for (let n = 0; n < 2_000; n++) {
      crypto.getRandomValues(bytes);
      if (n === 0) bytes.fill(0);
      if (n === 1) bytes.fill(255);
      // A version 7 UUID's version and variant bits (stringify refuses the text of any other).
      bytes[6] = (bytes[6]! & 0x0f) | 0x70;
      bytes[8] = (bytes[8]! & 0x3f) | 0x80;
      expect(formatUuid(bytes)).toBe(stringify(bytes));
    }
  });
});
