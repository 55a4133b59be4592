import type { ChatEvent } from "@streamchat/core";
import type { ConversationExport } from "../export/schema.js";
import { sampleUsage } from "./fixtures.js";

export interface LargeExportOptions {
  /** Messages, one chain of questions and answers (answers with a long `thinking`). Default 2,000. */
  messages?: number;
  /** Runs, each answering every runs-th question. Default 3. */
  runs?: number;
  /** Events of each run's log: reasoning and tool calls, then `done`. Default 3,000. */
  eventsPerRun?: number;
}

/**
 * A large, valid version-1 export, built directly (an import's cost, not an export's, is what the crash test and the
 * import benchmark measure). Message i's content is exactly `message i` (1-based): a test can find one by it.
 */
export function largeExport(options: LargeExportOptions = {}): ConversationExport {
  const messageCount = options.messages ?? 2_000;
  const runCount = options.runs ?? 3;
  const eventsPerRun = options.eventsPerRun ?? 3_000;
  const start = 1_600_000_000_000;
  const runs: ConversationExport["runs"] = [];
  for (let r = 0; r < runCount; r++) {
    const runId = `run-${r}`;
    const events: ConversationExport["runs"][number]["events"] = [];
    for (let seq = 1; seq < eventsPerRun; seq++) {
      const at = start + r * 1_000_000 + seq;
      const event: ChatEvent =
        seq % 2 === 0
          ? { type: "tool-call", runId, at, callId: `call-${seq}`, name: "calculator", args: { expression: `${seq}*${r + 1}` } }
          : { type: "reasoning", runId, at, text: `Step ${seq}: thinking about the next part of the answer, at some length.` };
      events.push({ seq, event });
    }
    events.push({ seq: eventsPerRun, event: { type: "done", runId, at: start + r * 1_000_000 + eventsPerRun, reason: "stop", usage: sampleUsage } });
    runs.push({
      id: runId,
      model: "demo",
      provider: "sim",
      status: "done",
      reason: "stop",
      usage: sampleUsage,
      createdAt: start + r * 1_000_000,
      finishedAt: start + r * 1_000_000 + eventsPerRun,
      events,
    });
  }
  const messages: ConversationExport["messages"] = [];
  for (let i = 1; i <= messageCount; i++) {
    const question = i % 2 === 1;
    messages.push({
      id: i,
      parentId: i === 1 ? null : i - 1,
      runId: runCount === 0 ? null : `run-${Math.floor((i - 1) / 2) % runCount}`,
      createdAt: start + i * 1_000,
      message: question
        ? { role: "user", content: `message ${i}` }
        : { role: "assistant", content: `message ${i}`, thinking: "A long line of reasoning before the answer. ".repeat(10) },
    });
  }
  return {
    format: "streamchat.conversation",
    version: 1,
    exportedAt: start + 10_000_000,
    conversation: { id: "large", title: "A large conversation", createdAt: start, updatedAt: start + messageCount * 1_000 },
    activeMessageId: messageCount === 0 ? null : messageCount,
    messages,
    runs,
  };
}
