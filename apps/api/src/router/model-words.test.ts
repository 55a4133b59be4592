import { describe, expect, it } from "vitest";
import { capabilitiesInWords, tokensInWords } from "./model-words.js";

describe("capabilities in words", () => {
  it("names what a model does in a fixed order, with its think levels and window", () => {
    expect(capabilitiesInWords({ capabilities: ["completion", "thinking", "tools", "vision"], thinkLevels: ["low", "medium", "high"], contextLength: 131_072 })).toEqual([
      "sees images",
      "uses tools",
      "thinks (low, medium, high)",
      "128K context",
    ]);
    expect(capabilitiesInWords({ capabilities: ["completion", "thinking"] })).toEqual(["thinks"]);
    expect(capabilitiesInWords({ capabilities: ["completion", "insert"] })).toEqual([]);
  });

  it("writes windows as people do", () => {
    expect([4096, 8192, 40_960, 131_072, 2000, 32_000].map(tokensInWords)).toEqual(["4K", "8K", "40K", "128K", "2000", "32K"]);
  });
});
