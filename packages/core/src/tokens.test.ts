import { describe, expect, it } from "vitest";
import type { ToolSpec } from "./model.js";
import { estimateTextTokens, toolTextTokens } from "./tokens.js";

describe("toolTextTokens", () => {
  const weather: ToolSpec = {
    name: "weather",
    description: "Today's weather in a city — °C",
    parameters: { type: "object", properties: { city: { type: "string", description: "名前" } }, required: ["city"] },
  };
  const bare: ToolSpec = { name: "now", description: "", parameters: { type: "object", properties: {} } };

  it("counts what JSON.stringify of the tools would, for one tool and several, with and without a description", () => {
    for (const tools of [[weather], [bare], [weather, bare, weather]]) {
      expect(toolTextTokens(tools)).toBe(estimateTextTokens(JSON.stringify(tools)));
    }
    expect(toolTextTokens([])).toBe(0);
  });

  it("counts a new tool object with a schema seen before by its own name and description", () => {
    expect(toolTextTokens([weather])).toBe(estimateTextTokens(JSON.stringify([weather])));
    const renamed = { ...weather, name: "weather_in_a_city_with_a_longer_name", description: "Ünïcödé" };
    expect(toolTextTokens([renamed])).toBe(estimateTextTokens(JSON.stringify([renamed])));
  });
});
