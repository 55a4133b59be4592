import { describe, expect, it } from "vitest";
import { respondDemo } from "./demo-model.js";
import { demoTitle, isTitleRequest } from "./demo-title.js";
import type { SimChatRequest } from "./types.js";

const instruction =
  "Write a short title (3 to 6 words) for the conversation above. Reply with the title only: no quotes, no punctuation at the end.";

function titleRequest(first: string, extra: Partial<SimChatRequest> = {}): SimChatRequest {
  return {
    model: "demo",
    wire: "ollama",
    stream: false,
    messages: [
      { role: "user", content: first },
      { role: "assistant", content: "Some answer." },
      { role: "user", content: instruction },
    ],
    ...extra,
  } as SimChatRequest;
}

describe("demo titles", () => {
  it("names what the first message asked, in a few words without end punctuation", () => {
    expect(demoTitle("What time is it in Tokyo?")).toBe("Current time in Tokyo");
    expect(demoTitle("what is 12*7?")).toBe("Calculating 12*7");
    expect(demoTitle("Write a Python function that reverses a string")).toBe("Reversing a string in Python");
    expect(demoTitle("Compare SSE and WebSockets in a table")).toBe("SSE vs WebSockets");
    expect(demoTitle("Explain server-sent events")).toBe("Server-sent events (SSE)");
    expect(demoTitle("search my conversations for sourdough")).toBe("Search for sourdough");
    expect(demoTitle("hello there")).toBe("Greeting and introductions");
    expect(demoTitle("Can you tell me about the history of the bicycle please?")).toBe("History of the bicycle");
    // Simulator tags and knobs are not part of the subject.
    expect(demoTitle("[sim:slow] tokens:8 Plan a picnic for Saturday")).toBe("Plan a picnic for Saturday");
    for (const title of ["a", "x y z w v u t s r q p o n m l k"].map(demoTitle)) {
      expect(title.split(" ").length).toBeLessThanOrEqual(6);
      expect(title).not.toMatch(/[.?!]$/);
    }
  });

  it("answers a title request with the title alone (no reasoning, no tool call), even with a [sim:x] tag in the conversation", () => {
    const req = titleRequest("[sim:error-mid-stream] What time is it in Paris?", { think: true, tools: [{ type: "function", function: { name: "current_time" } }] });
    expect(isTitleRequest(req)).toBe(true);
    const chunks = respondDemo(req, { tokenDelayMs: 0 } as Parameters<typeof respondDemo>[1]);
    expect(chunks.map((c) => c.content ?? "").join("")).toBe("Current time in Paris");
    expect(chunks.some((c) => c.thinking || c.toolCalls)).toBe(false);
    expect(chunks.at(-1)).toMatchObject({ done: true, doneReason: "stop" });
  });

  it("is not a title request without a conversation before it, nor when a user asks for a title of something else", () => {
    expect(isTitleRequest({ model: "demo", messages: [{ role: "user", content: instruction }] } as SimChatRequest)).toBe(false);
    expect(isTitleRequest(titleRequest("hi", { messages: [{ role: "user", content: "hi" }, { role: "user", content: "What is a good movie title?" }] }))).toBe(false);
  });
});
