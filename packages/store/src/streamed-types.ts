import type { ChatEvent } from "@streamchat/core";

/**
 * Event types streamed as many small chunks: most rows of a log. The `events_not_streamed` index (SQLite
 * migration 2, PostgreSQL migration 1) leaves them out, so readEventsOfTypes for the other types reads only those.
 * Its predicate is `type NOT IN ('token', 'reasoning')`; a query uses the index when it repeats that predicate
 * word for word (SQLite matches partial-index predicates by their terms).
 */
export const notStreamedPredicate = "type NOT IN ('token', 'reasoning')";

const streamed: ReadonlySet<string> = new Set<ChatEvent["type"]>(["token", "reasoning"]);

/** Whether a readEventsOfTypes query may add `notStreamedPredicate` (and so use the index). */
export function onlyNotStreamed(types: readonly ChatEvent["type"][]): boolean {
  return types.every((type) => !streamed.has(type));
}
