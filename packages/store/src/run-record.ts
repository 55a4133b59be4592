import type { CreateRunInput, RunRecord } from "./types.js";

/** A new run's record, as every store creates it: running, no outcome yet. */
export function newRunRecord(input: CreateRunInput, createdAt: number): RunRecord {
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
    owner: input.owner ?? null,
    createdAt,
    finishedAt: null,
  };
}

/** `maxRunningPerUser` as given by the caller: a non-negative integer or none. */
export function runningLimit(input: CreateRunInput): number | undefined {
  const max = input.maxRunningPerUser;
  if (max === undefined) return undefined;
  if (!Number.isInteger(max) || max < 0) throw new RangeError(`maxRunningPerUser must be an integer >= 0 (got ${max}).`);
  return max;
}
