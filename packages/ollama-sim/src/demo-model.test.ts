import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findCity, respondDemo, wordTokens } from "./demo-model.js";
import { topics } from "./demo-topics.js";
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

  it("calls any offered tool it is asked to use, with the message's JSON object as arguments, and reports a denial", async () => {
    const mcpTools = [
      ...allTools,
      { type: "function", function: { name: "files__write", description: "writes", parameters: { type: "object", properties: {} } } },
    ];
    const ask = 'Please use the files__write tool with {"path": "notes/a {b}.txt", "text": "say \\"hi\\""} now.';
    const round1 = await chatLines(sim.url, { model: "demo", tools: mcpTools, messages: user(ask) });
    expect(calls(round1)).toEqual([{ index: 0, name: "files__write", arguments: { path: "notes/a {b}.txt", text: 'say "hi"' } }]);
    // Without JSON: no arguments. A tool that is not offered is not called.
    expect(calls(await chatLines(sim.url, { model: "demo", tools: mcpTools, messages: user("call files__write") }))).toEqual([
      { index: 0, name: "files__write", arguments: {} },
    ]);
    expect(calls(await chatLines(sim.url, { model: "demo", tools: allTools, messages: user("use the files__write tool") }))).toEqual([]);
    // A built-in named without JSON keeps its own rule (the calculator finds the expression).
    expect(calls(await chatLines(sim.url, { model: "demo", tools: mcpTools, messages: user("what is 3*4? use the calculator") }))).toEqual([
      { index: 0, name: "calculator", arguments: { expression: "3*4" } },
    ]);

    const denial = { error: { code: "tool_denied", message: "The user denied the call to files__write: it was not run. Reason: wrong folder" } };
    const answer = await chatLines(sim.url, {
      model: "demo",
      tools: mcpTools,
      messages: [
        ...user(ask),
        { role: "assistant", content: "", tool_calls: [{ function: { name: "files__write", arguments: { path: "a" } } }] },
        { role: "tool", tool_name: "files__write", content: JSON.stringify(denial) },
      ],
    });
    expect(contentOf(answer)).toBe("I did not use files__write: The user denied the call to files__write: it was not run. Reason: wrong folder");
  });

  it("answers without calling tools when the request offers none", async () => {
    const time = await chatLines(sim.url, { model: "demo", messages: user("What time is it in Tokyo?") });
    expect(calls(time)).toEqual([]);
    expect(contentOf(time)).toContain("can't check the clock");
    const math = await chatLines(sim.url, { model: "demo", messages: user("calculate 2^10 / 4") });
    expect(calls(math)).toEqual([]);
    expect(contentOf(math)).toBe("2^10 / 4 = **256**");
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

/** What the demo streams for one user message (or a conversation of user messages), offline. */
function answer(...userMessages: string[]): { text: string; thinking: string; tokens: number } {
  const chunks = respondDemo({ model: "demo", think: true, messages: userMessages.map((content) => ({ role: "user", content })) }, { tokenDelayMs: 0 });
  return {
    text: chunks.map((c) => c.content ?? "").join(""),
    thinking: chunks.map((c) => c.thinking ?? "").join(""),
    tokens: chunks.filter((c) => c.content).length,
  };
}

function paragraphs(text: string): string[] {
  return text.split(/\n{2,}/).map((p) => p.trim()).filter((p) => p !== "");
}

/** The suggestion chips of the web UI's empty chat (apps/web/src/components/ChatPane.tsx). */
const webSuggestions = ["What time is it in Tokyo?", "What is 12*7?", "Explain server-sent events in a short list", "Write a long answer about streaming"];

describe("demo model answers what was asked", () => {
  it("writes a Python function that reverses a string (not a greeting example)", () => {
    const { text, thinking } = answer("write a python function to reverse a string");
    expect(text).toContain("```python\n");
    expect(text).toContain("def reverse_string(");
    expect(text).toContain("[::-1]");
    expect(text).toContain("`olleh`");
    expect(text).not.toContain("greet");
    expect(thinking).toContain("reverses a string");
  });

  it.each([
    ["write fizzbuzz in javascript", "```js\n", "FizzBuzz"],
    ["fibonacci function in rust", "```rust\n", "fn fibonacci("],
    ["how do I sort a list in python", "```python\n", "sorted(numbers)"],
    ["read a file in go", "```go\n", "bufio.NewScanner"],
    ["make an HTTP request in TypeScript", "```ts\n", "await fetch("],
    ["java program to check for a palindrome", "```java\n", "isPalindrome"],
    ["write a function to reverse a string", "```ts\n", "Array.from(text).reverse()"],
    ["Write code in typescript that greets", "```ts\n", "export function greet"],
    ["write a python function that greets", "```python\n", "def greet(name: str) -> str:"],
  ])("%s", (prompt, fence, code) => {
    const { text } = answer(prompt);
    expect(text).toContain(fence);
    expect(text).toContain(code);
  });

  it("answers a follow-up such as \"now in Go\" with the same task in the new language", () => {
    const { text } = answer("write fizzbuzz in python", "now in go");
    expect(text).toContain("```go\n");
    expect(text).toContain("func fizzbuzz(");
  });

  it("says so when it has no example, with a skeleton named after the task, instead of inventing code", () => {
    const { text } = answer("write a python function to parse a CSV file");
    expect(text).toContain("**parse a CSV file**");
    expect(text).toContain("def parse_csv_file(");
    expect(text).toContain("NotImplementedError");
    const cpp = answer("write a C++ function to reverse a string").text;
    expect(cpp).toContain("no C++ examples");
    expect(cpp).toContain("reverseString");
  });

  it("answers the SSE suggestion chip with a short list about server-sent events", () => {
    const { text, thinking } = answer(webSuggestions[2]!);
    expect(text).not.toMatch(/in a short list\*\*/);
    expect(text).toMatch(/^(Server-sent events \(SSE\)|The essentials of server-sent events)/);
    const items = text.split("\n").filter((l) => l.startsWith("- **"));
    expect(items.length).toBeGreaterThanOrEqual(3);
    expect(items.length).toBeLessThanOrEqual(6);
    expect(text).toContain("EventSource");
    expect(text).toContain("Last-Event-ID");
    expect(thinking.length).toBeGreaterThan(10);
  });

  it("answers the long-answer chip about streaming at length, without repeating a paragraph", () => {
    const { text, tokens } = answer(webSuggestions[3]!);
    expect(tokens).toBeGreaterThanOrEqual(180);
    expect(text).toMatch(/^Streaming means/);
    expect(text).toContain("NDJSON");
    const paras = paragraphs(text);
    expect(paras.length).toBeGreaterThanOrEqual(4);
    expect(new Set(paras).size).toBe(paras.length);
  });

  it("never repeats a paragraph in a long answer, on any topic it knows or does not know", () => {
    for (const prompt of [...topics.map((t) => `write a long answer about ${t.name}`), "Write a long answer about oceans", "give me a long answer about caching"]) {
      const { text, tokens } = answer(prompt);
      const paras = paragraphs(text);
      expect(new Set(paras).size, prompt).toBe(paras.length);
      expect(tokens, prompt).toBeGreaterThanOrEqual(150);
    }
  });

  it("knows every topic by its own name and explains it with a definition and key points", () => {
    for (const note of topics) {
      const { text } = answer(`what is ${note.name}?`);
      expect(text.startsWith(note.summary), note.id).toBe(true);
      expect(text.split("\n").filter((l) => l.startsWith("- **")), note.id).toHaveLength(note.points.length);
    }
  });

  it("compares two topics in a markdown table and gives one topic a table when asked", () => {
    const { text } = answer("compare SSE and WebSockets");
    expect(text).toContain("| | SSE | WebSockets |");
    expect(text).toContain("| --- | --- | --- |");
    expect(text).toMatch(/\| \*\*Good for\*\* \| .*streaming LLM tokens .*\| .*games/);
    const single = answer("tool calling as a table").text;
    expect(single).toContain("| Aspect | Details |");
    expect(single).toContain("| **Validate everything** |");
  });

  it("explains sampling temperature with TeX in the forms models write it, and takes no weather question for it", () => {
    const { text } = answer("Explain sampling temperature");
    expect(text).toContain("\\(p_i = \\frac{e^{z_i/T}}{\\sum_j e^{z_j/T}}\\)");
    expect(text).toContain("- **Low temperature:** as $T \\to 0$ sampling");
    const long = answer("Write a long answer about sampling temperature").text;
    expect(long).toContain("\n\n$$\np_i = \\frac{\\exp(z_i / T)}{\\sum_j \\exp(z_j / T)}\n$$\n\n");
    // The worked example's numbers are the softmax's: e/(1+e), e²/(1+e²), 1/(1+e^-0.5).
    const percent = (x: number) => `${Math.round(100 * x)}%`;
    expect(long).toContain(`about ${percent(Math.E / (1 + Math.E))} and ${percent(1 / (1 + Math.E))}`);
    expect(long).toContain(`the first gets about ${percent(Math.E ** 2 / (1 + Math.E ** 2))}`);
    expect(long).toContain(`about ${percent(1 / (1 + Math.exp(-0.5)))} to ${percent(1 - 1 / (1 + Math.exp(-0.5)))}`);
    for (const weather of ["What's the temperature in Oslo?", "temperature today"]) expect(answer(weather).text).not.toContain("softmax");
  });

  it("keeps a one-sentence answer to one sentence", () => {
    expect(answer("explain typescript in one sentence").text).toBe(
      "TypeScript is JavaScript with a static type system: you annotate values with types, the compiler checks them before the code runs, and the output is ordinary JavaScript.",
    );
  });

  it("falls back gracefully on an unknown topic: names it, invents nothing, says what it can do", () => {
    const { text } = answer("Tell me about tide pools");
    expect(text).toContain("**tide pools**");
    expect(text).toMatch(/demo model/);
    expect(text).toContain("Write code");
    expect(text).not.toContain("Here is a short overview");
    const long = answer("Write a long answer about oceans").text;
    expect(long).toContain("a long answer about oceans");
  });

  it("is deterministic per prompt and varied across prompts", () => {
    expect(answer("Tell me about tide pools")).toEqual(answer("Tell me about tide pools"));
    const openers = ["tide pools", "volcanoes", "medieval castles", "jazz", "origami", "knitting"].map((s) => paragraphs(answer(`tell me about ${s}`).text)[0]?.replace(/\*\*.*?\*\*/g, "X"));
    expect(new Set(openers).size).toBeGreaterThan(1);
    const intros = ["reverse a string", "fizzbuzz", "fibonacci", "factorial", "palindrome", "sort a list"].map((t) => paragraphs(answer(`${t} in python`).text)[0]);
    expect(new Set(intros).size).toBe(intros.length);
  });

  it("still routes the other chips to tools and keeps the [sim:html] probe", () => {
    const withTools = (text: string) =>
      respondDemo({ model: "demo", messages: user(text), tools: allTools }, { tokenDelayMs: 0 }).flatMap((c) => c.toolCalls ?? []);
    expect(withTools(webSuggestions[0]!)).toEqual([{ name: "current_time", arguments: { timeZone: "Asia/Tokyo" } }]);
    expect(withTools(webSuggestions[1]!)).toEqual([{ name: "calculator", arguments: { expression: "12*7" } }]);
    expect(withTools("write a function that returns the current time")).toEqual([]);
    expect(withTools("explain time complexity")).toEqual([]);
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
