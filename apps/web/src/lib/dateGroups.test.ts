import { describe, expect, it } from "vitest";
import { dateGroupOf, groupByDate } from "./dateGroups.js";

// Local times: the sections follow the user's calendar days.
const at = (y: number, m: number, d: number, h = 12, min = 0) => new Date(y, m - 1, d, h, min).getTime();
const now = at(2026, 3, 10, 9, 30);

describe("dateGroupOf", () => {
  it("sorts by calendar day, not by 24-hour windows", () => {
    expect(dateGroupOf(at(2026, 3, 10, 0, 1), now)).toBe("Today");
    expect(dateGroupOf(at(2026, 3, 9, 23, 59), now)).toBe("Yesterday");
    expect(dateGroupOf(at(2026, 3, 9, 0, 0), now)).toBe("Yesterday");
    expect(dateGroupOf(at(2026, 3, 8, 23, 59), now)).toBe("Previous 7 days");
    expect(dateGroupOf(at(2026, 3, 3, 0, 0), now)).toBe("Previous 7 days");
    expect(dateGroupOf(at(2026, 3, 2, 23, 59), now)).toBe("Older");
    expect(dateGroupOf(at(2025, 12, 31), now)).toBe("Older");
  });

  it("puts a time slightly in the future (another device's clock) in Today", () => {
    expect(dateGroupOf(now + 60_000, now)).toBe("Today");
  });
});

describe("groupByDate", () => {
  it("keeps the given order inside each section and leaves out empty sections", () => {
    const items = [
      { id: "a", t: at(2026, 3, 10, 9) },
      { id: "b", t: at(2026, 3, 10, 8) },
      { id: "c", t: at(2026, 3, 5) },
      { id: "d", t: at(2026, 1, 1) },
    ];
    expect(groupByDate(items, (i) => i.t, now).map((g) => [g.label, g.items.map((i) => i.id)])).toEqual([
      ["Today", ["a", "b"]],
      ["Previous 7 days", ["c"]],
      ["Older", ["d"]],
    ]);
  });
});
