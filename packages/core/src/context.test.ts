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

  it("never separates an assistant tool call from its results", () => {
    const messages = [system, user("1"), toolCall("a", "b"), toolResult("a"), toolResult("b"), assistant("2"), user("3")];
    // 7 messages; dropping user:1 leaves 6 > 5, so the whole call unit (3 messages) goes with it.
    expect(contents(trimContext(messages, { maxMessages: 5 }))).toEqual(["system:be nice", "assistant:2", "user:3"]);
    expect(contents(trimContext(messages, { maxMessages: 6 }))).toEqual([
      "system:be nice",
      "assistant:",
      "tool:a",
      "tool:b",
      "assistant:2",
      "user:3",
    ]);
  });

  it("keeps the current run's tool rounds after the last user message", () => {
    const messages = [system, user("old"), assistant("x"), user("now"), toolCall("a"), toolResult("a")];
    expect(contents(trimContext(messages, { maxMessages: 2 }))).toEqual(["system:be nice", "user:now", "assistant:", "tool:a"]);
  });

  it("trims to a character budget counting content and tool arguments", () => {
    const messages = [system, user("x".repeat(100)), assistant("y".repeat(100)), user("z")];
    // system 7 + z 1 = 8; each old message is 100.
    expect(contents(trimContext(messages, { maxMessages: 50, maxChars: 120 }))).toEqual(["system:be nice", `assistant:${"y".repeat(100)}`, "user:z"]);
    expect(contents(trimContext(messages, { maxMessages: 50, maxChars: 50 }))).toEqual(["system:be nice", "user:z"]);
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
    expect(contents(trimContext([user("a"), assistant("b"), user("c")], { maxMessages: 2 }))).toEqual(["assistant:b", "user:c"]);
    expect(trimContext([], { maxMessages: 3 })).toEqual([]);
  });

  it("trims to a token budget, oldest first, never splitting a tool call from its results", () => {
    // Every message costs 10 tokens in this estimate, whatever its content.
    const estimateTokens = () => 10;
    const messages = [system, user("1"), toolCall("a"), toolResult("a"), assistant("2"), user("3"), assistant("4"), user("now")];
    const fit = (maxTokens: number) => fitContext(messages, { maxTokens, estimateTokens });
    expect(fit(80)).toMatchObject({ droppedMessages: 0, estimatedTokens: 80 });
    // 70 tokens: user:1 goes (70 left, fits).
    expect(contents(fit(70).messages)).toEqual(["system:be nice", "assistant:", "tool:a", "assistant:2", "user:3", "assistant:4", "user:now"]);
    // 60 or 50 tokens: the call and its result go together (50 left), never the call alone.
    for (const budget of [60, 50]) {
      expect(fit(budget)).toMatchObject({ droppedMessages: 3, estimatedTokens: 50 });
      expect(contents(fit(budget).messages)).toEqual(["system:be nice", "assistant:2", "user:3", "assistant:4", "user:now"]);
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
    // The old image is what pushes it over: dropping that message alone fits.
    const fitted = fitContext(messages, { maxTokens: 100 });
    expect(fitted.droppedMessages).toBe(1);
    expect(contents(fitted.messages)).toEqual(["system:be nice", "assistant:ok", "user:new"]);
  });

  it("counts what a message limit drops, and the orphan tool result it exposes", () => {
    const messages = [system, toolResult("gone"), assistant("a"), user("b")];
    expect(fitContext(messages, {})).toMatchObject({ droppedMessages: 1 });
    expect(fitContext([system, user("1"), assistant("2"), user("3")], { maxMessages: 2 })).toMatchObject({ droppedMessages: 2 });
  });
});
