import type { ChatStore, RunRecord } from "./types.js";

/** A new run's record, as both stores create it: running, no outcome yet. */
export function newRunRecord(input: Parameters<ChatStore["createRun"]>[0], createdAt: number): RunRecord {
  return {
    id: input.id,
    conversationId: input.conversationId,
    userId: input.userId,
    model: input.model,
    provider: input.provider,
    clientRequestId: input.clientRequestId ?? null,
    status: "running",
    reason: null,
    usage: null,
    createdAt,
    finishedAt: null,
  };
}
