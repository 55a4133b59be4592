import { describe, expect, it } from "vitest";
import type { ModelRequest } from "../model.js";
import { bodyJson } from "./body-json.js";
import { toOllamaRequest } from "./ollama.js";
import { toOpenAIRequest } from "./openai.js";

const weather = {
  name: "weather",
  description: 'Says "sunny" or\nnot — in any city ☀',
  parameters: { type: "object", properties: { city: { type: "string", description: 'a "quoted" name' } }, required: ["city"] },
};
const clock = { name: "clock", description: "The time", parameters: { type: "object", properties: {} } };

const request: ModelRequest = {
  model: "m",
  messages: [
    { role: "system", content: "be brief" },
    { role: "user", content: "weather in \"Oslo\"?" },
  ],
  tools: [weather, clock],
  think: "high",
  options: { temperature: 0.2, topP: 0.9, seed: 7, numPredict: 100 },
};

describe("bodyJson", () => {
  it.each([
    ["Ollama", toOllamaRequest(request)],
    ["OpenAI", toOpenAIRequest(request)],
  ])("serializes a %s chat body with tools to JSON that parses back to the body, tools last", (_name, body) => {
    const text = bodyJson(body);
    expect(JSON.parse(text)).toEqual(body);
    // The cached path was taken: JSON.stringify would have put tools before the keys that follow them.
    expect(Object.keys(JSON.parse(text) as object).at(-1)).toBe("tools");
    expect(Object.keys(body).at(-1)).not.toBe("tools");
  });

  it("gives the same text for the same body again, and each schema its own text", () => {
    const body = toOllamaRequest(request);
    expect(bodyJson(body)).toBe(bodyJson(toOllamaRequest(request)));
    // Two schemas with the same shape but other content: a cache keyed by anything but the object would mix them.
    const other = { ...weather, parameters: { ...weather.parameters, required: [] } };
    const both = toOllamaRequest({ ...request, tools: [weather, other] });
    const parsed = JSON.parse(bodyJson(both)) as { tools: Array<{ function: { parameters: { required: string[] } } }> };
    expect(parsed.tools.map((t) => t.function.parameters.required)).toEqual([["city"], []]);
  });

  it("is JSON.stringify exactly for a body without tools, with no tools, or with tools of another shape", () => {
    const bodies: unknown[] = [
      toOllamaRequest({ ...request, tools: undefined }),
      { model: "m", tools: [] },
      // An extra field (here `strict`) must not be dropped by the cached path.
      { model: "m", tools: [{ type: "function", function: { ...clock, strict: true } }] },
      { model: "m", tools: [{ type: "function", function: { ...clock, description: undefined } }] },
      { model: "m", tools: [{ type: "code_interpreter" }] },
      { model: "m", tools: "none" },
      { tools: [{ type: "function", function: { ...clock, parameters: ["not", "an", "object"] } }] },
      { model: "m" },
      ["an", "array"],
      "text",
    ];
    for (const body of bodies) expect(bodyJson(body)).toBe(JSON.stringify(body));
  });

  it("writes a body of tools alone as a valid object", () => {
    const body = { tools: [{ type: "function", function: clock }] };
    expect(JSON.parse(bodyJson(body))).toEqual(body);
  });
});
