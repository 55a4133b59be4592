import { describe, expect, it } from "vitest";
import { fitContext, trimContext } from "./context.js";
import type { ChatMessage } from "./model.js";

const system: ChatMessage = { role: "system", content: "be nice" };
const user = (content: string): ChatMessage => ({ role: "user", content });
const assistant = (content: string): ChatMessage => ({ role: "assistant", content });
const toolCall = (id: string, ...ids: string[]): ChatMessage => ({
  role: "assistant",
  content: "",
  toolCalls: [id, ...ids].map((callId) => ({ id: callId, name: "calculator", args: { expression: "1+1" } })),
});
const toolResult = (id: string): ChatMessage => ({ role: "tool", toolCallId: id, toolName: "calculator", content: "2" });

const contents = (messages: ChatMessage[]) => messages.map((m) => (m.role === "tool" ? `tool:${m.toolCallId}` : `${m.role}:${m.content}`));

describe("trimContext", () => {
  it("returns the messages unchanged when they fit", () => {
    const messages = [system, user("a"), assistant("b"), user("c")];
    expect(trimContext(messages, { maxMessages: 10 })).toEqual(messages);
  });

  it("drops the oldest history first, keeping system messages and the last user message", () => {
    const messages = [system, user("1"), assistant("2"), user("3"), assistant("4"), user("5")];
    expect(contents(trimContext(messages, { maxMessages: 4 }))).toEqual(["system:be nice", "user:3", "assistant:4", "user:5"]);
    expect(contents(trimContext(messages, { maxMessages: 1 }))).toEqual(["system:be nice", "user:5"]);
  });

  it("keeps several leading system messages", () => {
    const messages = [system, { role: "system", content: "tools" } as ChatMessage, user("1"), assistant("2"), user("3")];
    expect(contents(trimContext(messages, { maxMessages: 3 }))).toEqual(["system:be nice", "system:tools", "user:3"]);
  });

  it("drops whole turns, so the kept history starts with a question, never with an answer or a tool result", () => {
    const messages = [system, user("1"), toolCall("a", "b"), toolResult("a"), toolResult("b"), assistant("2"), user("3"), assistant("4"), user("5")];
    // Dropping only user:1 (or the call too) would fit 8 or 5 messages, but leave an answer without its question.
    for (const maxMessages of [8, 6, 5, 4]) {
      expect(contents(trimContext(messages, { maxMessages })), `maxMessages ${maxMessages}`).toEqual(["system:be nice", "user:3", "assistant:4", "user:5"]);
    }
    expect(contents(trimContext(messages, { maxMessages: 9 }))).toEqual(contents(messages));
    expect(contents(trimContext(messages, { maxMessages: 3 }))).toEqual(["system:be nice", "user:5"]);
    // The same with a token budget that falls inside the tool round.
    const fit = fitContext(messages, { maxTokens: 70, estimateTokens: () => 10 });
    expect(contents(fit.messages)).toEqual(["system:be nice", "user:3", "assistant:4", "user:5"]);
    expect(fit).toMatchObject({ droppedMessages: 5, estimatedTokens: 40 });
  });

  it("drops what precedes the first question (a greeting) as one unit, before any turn", () => {
    const messages = [system, assistant("hi"), assistant("how can I help?"), user("1"), assistant("2"), user("3")];
    expect(contents(trimContext(messages, { maxMessages: 5 }))).toEqual(["system:be nice", "user:1", "assistant:2", "user:3"]);
    expect(contents(trimContext(messages, { maxMessages: 6 }))).toEqual(contents(messages));
  });

  it("keeps the current run's tool rounds after the last user message", () => {
    const messages = [system, user("old"), assistant("x"), user("now"), toolCall("a"), toolResult("a")];
    expect(contents(trimContext(messages, { maxMessages: 2 }))).toEqual(["system:be nice", "user:now", "assistant:", "tool:a"]);
  });

  it("trims to a character budget counting content and tool arguments", () => {
    const messages = [system, user("x".repeat(100)), assistant("y".repeat(100)), user("z")];
    // system 7 + z 1 = 8; each old message is 100.
    expect(contents(trimContext(messages, { maxMessages: 50, maxChars: 208 }))).toEqual(contents(messages));
    // The question and its answer go together, though the answer alone would fit.
    expect(contents(trimContext(messages, { maxMessages: 50, maxChars: 120 }))).toEqual(["system:be nice", "user:z"]);
  });

  it("returns the must-keep parts even when they alone exceed the budget", () => {
    const messages = [system, user("x".repeat(1000))];
    expect(trimContext(messages, { maxMessages: 1, maxChars: 10 })).toEqual(messages);
  });

  it("drops a leading orphan tool result", () => {
    const messages = [system, toolResult("gone"), assistant("a"), user("b")];
    expect(contents(trimContext(messages, { maxMessages: 10 }))).toEqual(["system:be nice", "assistant:a", "user:b"]);
  });

  it("handles histories without a user message or without a system message", () => {
    expect(contents(trimContext([assistant("a"), assistant("b")], { maxMessages: 1 }))).toEqual(["assistant:b"]);
    expect(contents(trimContext([user("a"), assistant("b"), user("c")], { maxMessages: 2 }))).toEqual(["user:c"]);
    expect(trimContext([], { maxMessages: 3 })).toEqual([]);
  });

  it("trims to a token budget, oldest turn first, never splitting a tool call from its results", () => {
    // Every message costs 10 tokens in this estimate, whatever its content.
    const estimateTokens = () => 10;
    const messages = [system, user("1"), toolCall("a"), toolResult("a"), assistant("2"), user("3"), assistant("4"), user("now")];
    const fit = (maxTokens: number) => fitContext(messages, { maxTokens, estimateTokens });
    expect(fit(80)).toMatchObject({ droppedMessages: 0, estimatedTokens: 80 });
    // 70 to 40 tokens: the first turn goes whole (its question, the call, its result and the answer).
    for (const budget of [70, 60, 50, 40]) {
      expect(fit(budget)).toMatchObject({ droppedMessages: 4, estimatedTokens: 40 });
      expect(contents(fit(budget).messages)).toEqual(["system:be nice", "user:3", "assistant:4", "user:now"]);
    }
    // Nothing of the history fits: the system prompt and the question stay, over budget.
    expect(fit(5)).toMatchObject({ droppedMessages: 6, estimatedTokens: 20 });
  });

  it("estimates tokens from the text and images by default", () => {
    const image = { type: "image" as const, mimeType: "image/png" as const, data: "AAAA" };
    const messages: ChatMessage[] = [system, { role: "user", content: "old", images: [image] }, assistant("ok"), user("new")];
    const all = fitContext(messages, {});
    expect(all.droppedMessages).toBe(0);
    expect(all.estimatedTokens).toBeGreaterThan(768);
    // The old image is what pushes it over: its turn goes.
    const fitted = fitContext(messages, { maxTokens: 100 });
    expect(fitted.droppedMessages).toBe(2);
    expect(contents(fitted.messages)).toEqual(["system:be nice", "user:new"]);
  });

  it("counts what a message limit drops, and the orphan tool result it exposes", () => {
    const messages = [system, toolResult("gone"), assistant("a"), user("b")];
    expect(fitContext(messages, {})).toMatchObject({ droppedMessages: 1 });
    expect(fitContext([system, user("1"), assistant("2"), user("3")], { maxMessages: 2 })).toMatchObject({ droppedMessages: 2 });
  });
});
