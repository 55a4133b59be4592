import type { ContextUsage } from "@streamchat/core";
import type { RunRecord } from "@streamchat/store";

/** Token use of a conversation, for the UI's meter and totals. */
export interface ConversationUsage {
  /** Prompt tokens summed over every finished run (each run: summed over its model rounds). */
  promptTokens: number;
  /** Answer tokens summed over every finished run. */
  completionTokens: number;
  /**
   * How full the model's context was after the newest run that reports it (`usage.context` of its `done`): the
   * meter near the composer. Null before any such run (or on a provider that says nothing about its window).
   */
  context: ContextUsage | null;
  /** The model of that run: the window belongs to it. */
  contextModel: string | null;
}

/** Totals over the conversation's runs (oldest first, as the store lists them), and the newest context reading. */
export function conversationUsage(runs: readonly RunRecord[]): ConversationUsage {
  let promptTokens = 0;
  let completionTokens = 0;
  let context: ContextUsage | null = null;
  let contextModel: string | null = null;
  for (const run of runs) {
    if (!run.usage) continue;
    promptTokens += run.usage.promptTokens;
    completionTokens += run.usage.completionTokens;
    if (run.usage.context) {
      context = run.usage.context;
      contextModel = run.model;
    }
  }
  return { promptTokens, completionTokens, context, contextModel };
}
