import type { ChatEvent } from "@streamchat/core/browser";
import { applyEvent, emptyMessageState, type MessageState } from "./reducer.js";

/**
 * Accumulated answers by run id, outside React: the subscription writes here at stream speed and the
 * view reads from here once per frame. Kept for the page's lifetime so a conversation opened again
 * resumes from the last seq it has instead of replaying everything.
 */
const states = new Map<string, MessageState>();

export const runCache = {
  get(runId: string): MessageState | undefined {
    return states.get(runId);
  },
  apply(runId: string, seq: number, event: ChatEvent): MessageState {
    const next = applyEvent(states.get(runId) ?? emptyMessageState(runId), { seq, event });
    states.set(runId, next);
    return next;
  },
};
