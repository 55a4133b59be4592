import { describe, expect, it } from "vitest";
import { embedsOnly } from "./embedding-models.js";

describe("embedsOnly", () => {
  it("is true for a model listed with embedding and without completion, false for chat models and unknowns", () => {
    expect(embedsOnly(["embedding"])).toBe(true);
    expect(embedsOnly(["completion", "embedding"])).toBe(false);
    expect(embedsOnly(["completion", "tools"])).toBe(false);
    expect(embedsOnly(["tools", "vision"])).toBe(false);
    expect(embedsOnly([])).toBe(false);
  });
});
