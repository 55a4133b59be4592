import { describe, expect, it } from "vitest";
import { requestId } from "./ids.js";

describe("requestId", () => {
  it("is a version 7 UUID, unique and increasing, as the API's unique index of client request ids grows best", () => {
    const ids = Array.from({ length: 500 }, () => requestId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
