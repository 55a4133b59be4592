import type { ChatEvent, ChatMessage } from "@streamchat/core";
import type { ChatStore } from "../types.js";
import { sampleUsage } from "./fixtures.js";

/** A user message with an image, as chat.send stores it (the data: a PNG signature). */
export const withImage: ChatMessage = {
  role: "user",
  content: "And this photo? `code` *stars* # not a heading",
  images: [{ type: "image", mimeType: "image/png", data: "iVBORw0KGgo=" }],
};

/**
 * A conversation with every part an export carries, on branches:
 *   u1 "What time is it in Tokyo?" (r1)
 *   ├─ a1 tool call → t1 result → f1 "It is 14:05 in Tokyo." (r1: reasoning in 3 chunks, tokens, tool round, done)
 *   └─ a2 "Tokyo: 14:06." (r2, a regenerate: reasoning in 2 chunks, done)           ← the active path ends here
 *   u1' with an image (r3, an edit of the first message) → b1 "A tower." (r3, finished at the length limit)
 */
export async function exportSeed(store: ChatStore, conversationId = "c1") {
  await store.createConversation({ id: conversationId, userId: "alice", title: "Trip to Tokyo 🗼" });
  const say = async (runId: string | null, message: ChatMessage, parentId?: number | null) =>
    (await store.appendMessage({ conversationId, runId, message, ...(parentId === undefined ? {} : { parentId }) })).id;
  const log = async (runId: string, events: Array<Record<string, unknown> & { type: ChatEvent["type"] }>, firstSeq = 1) => {
    let seq = firstSeq;
    for (const event of events) void store.appendEvent(runId, seq++, { runId, at: 5_000 + seq, ...event } as ChatEvent);
  };

  await store.createRun({ id: "r1", conversationId, userId: "alice", model: "qwen3", provider: "ollama", clientRequestId: "req-1" });
  const u1 = await say("r1", { role: "user", content: "What time is it in Tokyo?" });
  await log("r1", [
    { type: "run-start", conversationId, model: "qwen3", provider: "ollama" },
    { type: "status", phase: "thinking", message: "Processing your question…" },
    { type: "reasoning", text: "The user " },
    { type: "reasoning", text: "wants the " },
    { type: "reasoning", text: "time." },
    { type: "tool-call", callId: "t1", name: "current_time", args: { timeZone: "Asia/Tokyo" } },
    { type: "tool-result", callId: "t1", name: "current_time", ok: true, result: { iso: "2026-01-01T05:05:00Z" }, durationMs: 4 },
    { type: "token", text: "It is " },
    { type: "token", text: "14:05 in Tokyo." },
    { type: "done", reason: "stop", usage: sampleUsage },
  ]);
  await say("r1", {
    role: "assistant",
    content: "",
    thinking: "The user wants the time.",
    toolCalls: [{ id: "t1", name: "current_time", args: { timeZone: "Asia/Tokyo" } }],
  });
  await say("r1", { role: "tool", toolCallId: "t1", toolName: "current_time", content: '{"iso":"2026-01-01T05:05:00Z"}' });
  await say("r1", { role: "assistant", content: "It is 14:05 in Tokyo." });
  await store.finishRun("r1", { reason: "stop", usage: sampleUsage });

  await store.createRun({ id: "r2", conversationId, userId: "alice", model: "qwen3", provider: "ollama" });
  await store.rewindActivePath(conversationId, u1);
  await log("r2", [
    { type: "reasoning", text: "Again: " },
    { type: "token", text: "Tokyo: " },
    { type: "reasoning", text: "check the clock." },
    { type: "token", text: "14:06." },
    { type: "error", code: "tool_timeout", message: "slow clock", retryable: true },
    { type: "done", reason: "stop", usage: { ...sampleUsage, completionTokens: 3 } },
  ], 3);
  const a2 = await say("r2", { role: "assistant", content: "Tokyo: 14:06." });
  await store.finishRun("r2", { reason: "stop", usage: { ...sampleUsage, completionTokens: 3 } });

  await store.createRun({ id: "r3", conversationId, userId: "alice", model: "llava", provider: "ollama" });
  await say("r3", withImage, null);
  await say("r3", { role: "assistant", content: "A tower." });
  await log("r3", [{ type: "done", reason: "length", usage: sampleUsage }]);
  await store.finishRun("r3", { reason: "length", usage: sampleUsage });

  await store.switchBranch(conversationId, a2);
  await store.flush();
  return { u1, a2 };
}
