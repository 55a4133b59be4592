import type { RunView, StoredMessageView } from "../chat/history.js";

/**
 * The model a conversation was last answered by: the run of the newest message on its active path that a run wrote
 * (what the reader is looking at), else of its newest run. Null for a conversation no run answered yet.
 */
export function conversationModelOf(detail: { messages: readonly Pick<StoredMessageView, "runId">[]; runs: readonly Pick<RunView, "id" | "model">[] } | undefined): string | null {
  if (!detail) return null;
  const byId = new Map(detail.runs.map((run) => [run.id, run.model]));
  for (let i = detail.messages.length - 1; i >= 0; i--) {
    const runId = detail.messages[i]!.runId;
    const model = runId === null ? undefined : byId.get(runId);
    if (model) return model;
  }
  return detail.runs.at(-1)?.model ?? null;
}

/**
 * The model the composer uses: one picked in this conversation since it was opened, else the one that answered it last,
 * else the last one picked anywhere (what a new chat starts with). A model the server no longer lists gives way to the
 * next; null lets the server use its default.
 */
export function effectiveModel(input: {
  picked: string | null;
  conversation: string | null;
  global: string | null;
  listed: (name: string) => boolean;
}): string | null {
  for (const name of [input.picked, input.conversation, input.global]) if (name && input.listed(name)) return name;
  return null;
}
