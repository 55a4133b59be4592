import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findCity, respondDemo, wordTokens } from "./demo-model.js";
import { startSimulator } from "./server.js";
import { allTools, chatLines, contentOf, thinkingOf, user, type Line } from "./test-support/http.js";
import type { SimChatRequest, Simulator } from "./types.js";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0 });
});
afterAll(async () => {
  await sim.close();
});

const calls = (lines: Line[]) => lines.flatMap((l) => l.message?.tool_calls ?? []).map((c) => c.function);

describe("demo model over HTTP", () => {
  it("asks current_time with the city's zone, then answers from the supplied tool result", async () => {
    const question = user("What time is it in Tokyo?");
    const round1 = await chatLines(sim.url, { model: "demo", tools: allTools, messages: question });
    expect(calls(round1)).toEqual([{ index: 0, name: "current_time", arguments: { timeZone: "Asia/Tokyo" } }]);
    expect(contentOf(round1)).toBe("");
    expect(round1.at(-1)).toMatchObject({ done: true, done_reason: "stop" });

    const call = round1.flatMap((l) => l.message?.tool_calls ?? [])[0]!;
    const round2 = await chatLines(sim.url, {
      model: "demo",
      tools: allTools,
      messages: [
        ...question,
        { role: "assistant", content: "", tool_calls: [call] },
        // 2025-06-01T05:05Z is Sunday 14:05 in Tokyo
        { role: "tool", tool_name: "current_time", tool_call_id: call.id, content: JSON.stringify({ timeZone: "Asia/Tokyo", iso: "2025-06-01T05:05:00.000Z", formatted: "Sunday, June 1, 2025 at 14:05" }) },
      ],
    });
    expect(contentOf(round2)).toBe("It's 14:05 (Sunday) in Tokyo.");
    expect(calls(round2)).toEqual([]);
    expect(round2.length).toBeGreaterThan(3); // word-sized tokens, not one blob
  });

  it.each([
    ["what's the time in London", "Europe/London"],
    ["Clock check: New York please", "America/New_York"],
    ["time in paris?", "Europe/Paris"],
    ["What time is it in Sydney", "Australia/Sydney"],
    ["what time is it in berlin", "Europe/Berlin"],
  ])("%s → %s", async (text, zone) => {
    const lines = await chatLines(sim.url, { model: "llama3.2", tools: allTools, messages: user(text) });
    expect(calls(lines)).toEqual([{ index: 0, name: "current_time", arguments: { timeZone: zone } }]);
  });

  it("asks current_time without a zone when no city is named", async () => {
    const lines = await chatLines(sim.url, { model: "demo", tools: allTools, messages: user("what time is it?") });
    expect(calls(lines)).toEqual([{ index: 0, name: "current_time", arguments: {} }]);
  });

  it("uses the calculator for arithmetic and answers from its result", async () => {
    const lines = await chatLines(sim.url, { model: "demo", tools: allTools, messages: user("What is 12 * (3 + 4)?") });
    expect(calls(lines)).toEqual([{ index: 0, name: "calculator", arguments: { expression: "12 * (3 + 4)" } }]);
    const answer = await chatLines(sim.url, {
      model: "demo",
      tools: allTools,
      messages: [
        ...user("What is 12 * (3 + 4)?"),
        { role: "assistant", content: "", tool_calls: [{ function: { name: "calculator", arguments: { expression: "12 * (3 + 4)" } } }] },
        { role: "tool", content: JSON.stringify({ expression: "12 * (3 + 4)", result: "84" }) }, // no tool_name: paired by position
      ],
    });
    expect(contentOf(answer)).toBe("12 * (3 + 4) = **84**");
  });

  it("searches conversations and summarises the hits", async () => {
    const lines = await chatLines(sim.url, { model: "demo", tools: allTools, messages: user('Search my conversations for "sourdough"') });
    expect(calls(lines)).toEqual([{ index: 0, name: "search_conversations", arguments: { query: "sourdough" } }]);
    const answer = await chatLines(sim.url, {
      model: "demo",
      tools: allTools,
      messages: [
        ...user('Search my conversations for "sourdough"'),
        { role: "assistant", content: "", tool_calls: [{ function: { name: "search_conversations", arguments: { query: "sourdough" } } }] },
        { role: "tool", tool_name: "search_conversations", content: JSON.stringify([{ conversationId: "c1", title: "Baking", snippet: "my sourdough starter" }]) },
      ],
    });
    expect(contentOf(answer)).toBe('I found 1 conversation mentioning "sourdough":\n\n- **Baking** — my sourdough starter');
  });

  it("reports a failed tool instead of inventing a result", async () => {
    const answer = await chatLines(sim.url, {
      model: "demo",
      tools: allTools,
      messages: [
        ...user("what time is it in Tokyo"),
        { role: "assistant", content: "", tool_calls: [{ function: { name: "current_time", arguments: { timeZone: "Asia/Tokyo" } } }] },
        { role: "tool", tool_name: "current_time", content: JSON.stringify({ error: "tool timed out" }) },
      ],
    });
    expect(contentOf(answer)).toBe("Sorry — the current_time tool failed: tool timed out");
  });

  it("answers without calling tools when the request offers none", async () => {
    const time = await chatLines(sim.url, { model: "demo", messages: user("What time is it in Tokyo?") });
    expect(calls(time)).toEqual([]);
    expect(contentOf(time)).toContain("can't check the clock");
    const math = await chatLines(sim.url, { model: "demo", messages: user("calculate 2^10 / 4") });
    expect(calls(math)).toEqual([]);
    expect(contentOf(math)).toBe("2^10 / 4 = **256**");
  });

  it("gives a markdown paragraph and list for general questions, code when asked", async () => {
    const general = contentOf(await chatLines(sim.url, { model: "demo", messages: user("Tell me about tide pools") }));
    expect(general).toMatch(/^Here is a short overview of \*\*tide pools\*\*\.\n\n/);
    expect(general.match(/^- \*\*/gm)).toHaveLength(3);
    const code = contentOf(await chatLines(sim.url, { model: "demo", messages: user("write a python function that greets") }));
    expect(code).toContain("```python\ndef greet(name: str) -> str:");
  });

  it('"long" streams about 200 word tokens', async () => {
    const lines = await chatLines(sim.url, { model: "demo", messages: user("give me a long answer about caching") });
    const tokens = lines.filter((l) => l.message?.content).length;
    expect(tokens).toBeGreaterThanOrEqual(195);
    expect(tokens).toBeLessThanOrEqual(240);
  });

  it("think:true streams thinking chunks before the answer", async () => {
    const lines = await chatLines(sim.url, { model: "qwen3", think: true, messages: user("hello") });
    const firstThinking = lines.findIndex((l) => l.message?.thinking);
    const firstContent = lines.findIndex((l) => l.message?.content);
    expect(firstThinking).toBe(0);
    expect(firstContent).toBeGreaterThan(3);
    expect(lines.slice(0, firstContent).every((l) => l.message?.content === "" && l.message.thinking)).toBe(true);
    expect(thinkingOf(lines)).toBe("A greeting. I'll greet back and say what I can do.");
    const plain = await chatLines(sim.url, { model: "qwen3", messages: user("hello") });
    expect(thinkingOf(plain)).toBe("");
  });

  it("[sim:html] answers with an XSS probe", async () => {
    const text = contentOf(await chatLines(sim.url, { model: "demo", messages: user("show html [sim:html]") }));
    expect(text).toContain('<img src=x onerror="window.__xss=1">');
    expect(text).toContain("[click](javascript:window.__xss=1)");
  });
});

describe("demo model pieces", () => {
  it("wordTokens joins back to the exact text", () => {
    const text = "Hello world.\n\n- **a** b\n```ts\nx\n```\n  ";
    const tokens = wordTokens(text);
    expect(tokens.join("")).toBe(text);
    expect(tokens.slice(0, 3)).toEqual(["Hello", " world.", "\n\n-"]);
    expect(wordTokens("")).toEqual([]);
  });

  it("findCity prefers the longest name and keeps the user's spelling", () => {
    expect(findCity("time in new york city")).toEqual({ city: "New york", timeZone: "America/New_York" });
    expect(findCity("Tokyo")).toEqual({ city: "Tokyo", timeZone: "Asia/Tokyo" });
    expect(findCity("Parisian cafe")).toBeUndefined();
  });

  it("uses the configured token delay between chunks", () => {
    const req: SimChatRequest = { model: "demo", messages: user("hello") };
    const chunks = respondDemo(req, { tokenDelayMs: 35 });
    expect(chunks.every((c) => c.delayMs === 35)).toBe(true);
    expect(chunks.at(-1)).toEqual({ done: true, doneReason: "stop", delayMs: 35 });
  });
});
