import { describe, expect, it } from "vitest";
import { dateGroupOf, groupByDate, isPinned, listGroups } from "./dateGroups.js";

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
    expect(dateGroupOf(at(2026, 3, 2, 23, 59), now)).toBe("Previous 30 days");
    expect(dateGroupOf(at(2026, 2, 8, 0, 0), now)).toBe("Previous 30 days");
  });

  it("names older months, with the year before this one", () => {
    expect(dateGroupOf(at(2026, 2, 7, 23, 59), now)).toBe("February");
    expect(dateGroupOf(at(2026, 2, 1, 0, 0), now)).toBe("February");
    expect(dateGroupOf(at(2026, 1, 31, 23, 59), now)).toBe("January");
    expect(dateGroupOf(at(2025, 12, 31), now)).toBe("December 2025");
    expect(dateGroupOf(at(2024, 3, 10), now)).toBe("March 2024");
    // The month just begun is within the last 30 days, however late in it today is.
    const endOfMarch = at(2026, 3, 31, 23, 0);
    expect(dateGroupOf(at(2026, 3, 1, 0, 0), endOfMarch)).toBe("Previous 30 days");
    expect(dateGroupOf(at(2026, 2, 28, 23, 59), endOfMarch)).toBe("February");
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
      ["January", ["d"]],
    ]);
  });

  it("puts the sections newest first whatever the order of the items, months by how far back", () => {
    const items = [
      { id: "2024", t: at(2024, 12, 1) },
      { id: "jan", t: at(2026, 1, 20) },
      { id: "dec", t: at(2025, 12, 24) },
      { id: "today", t: at(2026, 3, 10, 8) },
      { id: "jan2", t: at(2026, 1, 2) },
      { id: "30", t: at(2026, 2, 20) },
    ];
    expect(groupByDate(items, (i) => i.t, now).map((g) => [g.label, g.items.map((i) => i.id)])).toEqual([
      ["Today", ["today"]],
      ["Previous 30 days", ["30"]],
      ["January", ["jan", "jan2"]],
      ["December 2025", ["dec"]],
      ["December 2024", ["2024"]],
    ]);
  });
});

describe("listGroups", () => {
  const now = new Date(2026, 5, 15, 12).getTime();
  const day = 24 * 60 * 60 * 1000;
  const chat = (id: string, updatedAt: number, pinnedAt: number | null = null) => ({ id, updatedAt, pinnedAt });

  it("puts the pinned first, most recently pinned first, then the rest by newest activity in date sections", () => {
    const groups = listGroups([chat("old", now - 30 * day), chat("p1", now - 40 * day, 100), chat("today", now), chat("p2", now - day, 200), chat("yesterday", now - day)], now);
    expect(groups.map((g) => [g.label, g.items.map((c) => c.id)])).toEqual([
      ["Pinned", ["p2", "p1"]],
      ["Today", ["today"]],
      ["Yesterday", ["yesterday"]],
      ["Previous 30 days", ["old"]],
    ]);
  });

  it("has no Pinned section without pinned chats, and reads a list without pinnedAt (an older server) as none pinned", () => {
    expect(listGroups([chat("a", now)], now).map((g) => g.label)).toEqual(["Today"]);
    const older = [{ id: "a", updatedAt: now }] as Array<{ id: string; updatedAt: number; pinnedAt: number | null }>;
    expect(listGroups(older, now).map((g) => g.label)).toEqual(["Today"]);
    expect(isPinned({})).toBe(false);
    expect(isPinned({ pinnedAt: 0 })).toBe(true);
  });
});
