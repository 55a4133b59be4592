import type { ChatEvent, EventOf } from "@streamchat/core";

/** One tool call of an answer, from `tool-call` until its `tool-result`. */
export interface ToolCard {
  callId: string;
  name: string;
  args: EventOf<"tool-call">["args"];
  state: "running" | "ok" | "error";
  result?: EventOf<"tool-result">["result"];
  error?: EventOf<"tool-result">["error"];
  durationMs?: number;
}

/** Everything the UI shows for one assistant answer (one run), accumulated from its events. */
export interface MessageState {
  runId: string | null;
  model: string | null;
  text: string;
  reasoning: string;
  tools: ToolCard[];
  /** The current status line; cleared when the run ends. */
  status: Pick<EventOf<"status">, "phase" | "message"> | null;
  error: Pick<EventOf<"error">, "code" | "message" | "retryable"> | null;
  done: Pick<EventOf<"done">, "reason" | "usage"> | null;
  /** Server timestamps (`at`) of run-start and of the first answer or reasoning token: live TTFT. */
  startedAt: number | null;
  firstTokenAt: number | null;
  /** Highest event seq applied; events at or below it are already in the state. */
  lastSeq: number;
}

/** One event of a run's log, as `chat.events` delivers it (`tracked(String(seq), event)`). */
export interface SeqEvent {
  seq: number;
  event: ChatEvent;
}

export function emptyMessageState(runId: string | null = null): MessageState {
  return {
    runId,
    model: null,
    text: "",
    reasoning: "",
    tools: [],
    status: null,
    error: null,
    done: null,
    startedAt: null,
    firstTokenAt: null,
    lastSeq: 0,
  };
}

/**
 * Applies one event. Idempotent by seq: an event at or below `lastSeq` returns the same state object,
 * so replays that overlap what was already seen (reconnect, resume after a gap) never duplicate text.
 */
export function applyEvent(state: MessageState, { seq, event }: SeqEvent): MessageState {
  if (seq <= state.lastSeq) return state;
  const next: MessageState = { ...state, lastSeq: seq, runId: state.runId ?? event.runId };
  switch (event.type) {
    case "run-start":
      next.model = event.model;
      next.startedAt = event.at;
      return next;
    case "status":
      next.status = { phase: event.phase, message: event.message };
      return next;
    case "reasoning":
      next.reasoning = state.reasoning + event.text;
      next.firstTokenAt = state.firstTokenAt ?? event.at;
      return next;
    case "token":
      next.text = state.text + event.text;
      next.firstTokenAt = state.firstTokenAt ?? event.at;
      // The status line ("Processing…", "Using tool…") has served its purpose once the answer flows.
      next.status = null;
      return next;
    case "tool-call":
      next.tools = [...state.tools, { callId: event.callId, name: event.name, args: event.args, state: "running" }];
      return next;
    case "tool-result": {
      const finished = (card: ToolCard): ToolCard => ({
        ...card,
        state: event.ok ? "ok" : "error",
        result: event.result,
        error: event.error,
        durationMs: event.durationMs,
      });
      const known = state.tools.some((t) => t.callId === event.callId);
      next.tools = known
        ? state.tools.map((t) => (t.callId === event.callId ? finished(t) : t))
        : [...state.tools, finished({ callId: event.callId, name: event.name, args: undefined, state: "running" })];
      // "Using tool: NAME…" is over once no call is running; the next model round follows.
      if (state.status?.phase === "tool" && !next.tools.some((t) => t.state === "running")) next.status = null;
      return next;
    }
    case "error":
      next.error = { code: event.code, message: event.message, retryable: event.retryable };
      return next;
    case "done":
      next.done = { reason: event.reason, usage: event.usage };
      next.status = null;
      // A cancelled or failed run leaves calls without results; they will never finish.
      next.tools = state.tools.map((t) => (t.state === "running" ? { ...t, state: "error" } : t));
      return next;
  }
}

export function applyEvents(state: MessageState, events: Iterable<SeqEvent>): MessageState {
  let current = state;
  for (const e of events) current = applyEvent(current, e);
  return current;
}

/** True while the run can still produce events. */
export function isStreaming(state: MessageState): boolean {
  return state.done === null;
}

/** Time to first token as far as it is known: from `done.usage`, else live from the event timestamps. */
export function liveTtftMs(state: MessageState): number | null {
  if (state.done?.usage.ttftMs != null) return state.done.usage.ttftMs;
  if (state.startedAt !== null && state.firstTokenAt !== null) return Math.max(0, state.firstTokenAt - state.startedAt);
  return null;
}
