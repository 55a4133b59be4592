import type { ChatEvent, EventOf } from "@streamchat/core/browser";

/** One tool call of an answer, from `tool-call` until its `tool-result`. */
export interface ToolCard {
  callId: string;
  name: string;
  args: EventOf<"tool-call">["args"];
  state: "running" | "ok" | "error";
  result?: EventOf<"tool-result">["result"];
  error?: EventOf<"tool-result">["error"];
  durationMs?: number;
  /** The call needed a person's approval (approval-request), and what was decided. */
  approval?: ToolApproval;
}

export interface ToolApproval {
  /** "builtin" or the MCP server the tool comes from. */
  source: string;
  description?: string | undefined;
  expiresAt: number;
  decision: "waiting" | "approved" | "denied" | "timed-out";
  reason?: string | undefined;
}

/**
 * One block of reasoning: what the model thought in one round, from its first reasoning event until the
 * next thing it did (an answer token, a tool call, the end of the run). Times are server timestamps;
 * null when unknown (an answer rebuilt from stored messages).
 */
export interface ReasoningStep {
  kind: "reasoning";
  text: string;
  startedAt: number | null;
  /** null while the model is still reasoning in this block. */
  endedAt: number | null;
}

/** A tool call in the order it happened; its state lives in `tools` (keyed by callId). */
export interface ToolStep {
  kind: "tool";
  callId: string;
}

/** What the model did before (and between) the answer's text, in order: reasoning of each round, tool calls. */
export type Step = ReasoningStep | ToolStep;

/** Everything the UI shows for one assistant answer (one run), accumulated from its events. */
export interface MessageState {
  runId: string | null;
  model: string | null;
  text: string;
  steps: Step[];
  tools: ToolCard[];
  /** The current status line; cleared when the run ends. */
  status: Pick<EventOf<"status">, "phase" | "message"> | null;
  /**
   * Status messages that change what the answer is (the model refused tools and answers without them): the next status
   * or the first token replaces the status line almost at once, so they are kept to be shown with the answer.
   */
  notes: string[];
  error: Pick<EventOf<"error">, "code" | "message" | "retryable"> | null;
  done: Pick<EventOf<"done">, "reason" | "usage"> | null;
  /** Server timestamps (`at`) of run-start and of the first answer or reasoning token: live TTFT. */
  startedAt: number | null;
  firstTokenAt: number | null;
  /** Highest event seq applied; events at or below it are already in the state. */
  lastSeq: number;
  /**
   * A tool step came after the text so far: the next token starts another model round's text, which goes after a
   * blank line, as the stored answer joins its rounds (answerFromStored), so the answer reads the same after a reload.
   */
  newRound: boolean;
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
    steps: [],
    tools: [],
    status: null,
    notes: [],
    error: null,
    done: null,
    startedAt: null,
    firstTokenAt: null,
    lastSeq: 0,
    newRound: false,
  };
}

/**
 * What a continue shows until its run's log has rebuilt it: the answer it writes on from, streaming again. Without it
 * the answer would blink empty between chat.continue's reply (or the feed's word of it) and the log's first events.
 */
export function continuingState(from: MessageState, runId: string): MessageState {
  return { ...from, runId, status: null, notes: [], error: null, done: null, startedAt: null, firstTokenAt: null, lastSeq: 0 };
}

/**
 * Whether a continue's log, as far as it has arrived, holds less than the answer it writes on from: the log carries
 * that answer again right after its run-start, and only then what the model adds, so until it has caught up the page
 * keeps showing the answer (continuingState). Once the run ends it shows what the log says, whatever that is.
 */
export function behindContinued(live: MessageState, from: MessageState): boolean {
  if (live.done !== null || live.error !== null) return false;
  return live.text.length < from.text.length || live.steps.length < from.steps.length || live.tools.length < from.tools.length;
}

/** Ends a reasoning block still open at the end of `steps` (the model moved on at `at`). */
function closeReasoning(steps: Step[], at: number): Step[] {
  const last = steps.at(-1);
  if (last?.kind !== "reasoning" || last.endedAt !== null) return steps;
  return [...steps.slice(0, -1), { ...last, endedAt: at }];
}

function withToolStep(steps: Step[], callId: string, at: number): Step[] {
  if (steps.some((s) => s.kind === "tool" && s.callId === callId)) return steps;
  return [...closeReasoning(steps, at), { kind: "tool", callId }];
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
      if (event.unsupportedFeature && !state.notes.includes(event.message)) next.notes = [...state.notes, event.message];
      return next;
    case "reasoning": {
      // Reasoning after anything else (a tool round, answer text) is a new block: rounds stay apart.
      const last = state.steps.at(-1);
      next.steps =
        last?.kind === "reasoning" && last.endedAt === null
          ? [...state.steps.slice(0, -1), { ...last, text: last.text + event.text }]
          : [...state.steps, { kind: "reasoning", text: event.text, startedAt: event.at, endedAt: null }];
      next.firstTokenAt = state.firstTokenAt ?? event.at;
      return next;
    }
    case "token":
      next.steps = closeReasoning(state.steps, event.at);
      next.text = state.newRound && state.text !== "" ? `${state.text}\n\n${event.text}` : state.text + event.text;
      next.newRound = false;
      next.firstTokenAt = state.firstTokenAt ?? event.at;
      // The status line ("Processing…", "Using tool…") has served its purpose once the answer flows.
      next.status = null;
      return next;
    case "tool-call":
      next.steps = withToolStep(state.steps, event.callId, event.at);
      next.newRound = true;
      next.tools = state.tools.some((t) => t.callId === event.callId)
        ? state.tools
        : [...state.tools, { callId: event.callId, name: event.name, args: event.args, state: "running" }];
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
      next.steps = withToolStep(state.steps, event.callId, event.at);
      next.newRound = true;
      next.tools = known
        ? state.tools.map((t) => (t.callId === event.callId ? finished(t) : t))
        : [...state.tools, finished({ callId: event.callId, name: event.name, args: undefined, state: "running" })];
      // "Using tool: NAME…" is over once no call is running; the next model round follows.
      if (state.status?.phase === "tool" && !next.tools.some((t) => t.state === "running")) next.status = null;
      return next;
    }
    case "approval-request": {
      const approval: ToolApproval = { source: event.source, description: event.description, expiresAt: event.expiresAt, decision: "waiting" };
      next.steps = withToolStep(state.steps, event.callId, event.at);
      next.newRound = true;
      next.tools = state.tools.some((t) => t.callId === event.callId)
        ? state.tools.map((t) => (t.callId === event.callId ? { ...t, approval } : t))
        : [...state.tools, { callId: event.callId, name: event.name, args: event.args, state: "running", approval }];
      return next;
    }
    case "approval-result": {
      const decision = event.approved ? "approved" : event.timedOut ? "timed-out" : "denied";
      next.tools = state.tools.map((t) =>
        t.callId === event.callId && t.approval ? { ...t, approval: { ...t.approval, decision, reason: event.reason } } : t,
      );
      return next;
    }
    case "error":
      next.error = { code: event.code, message: event.message, retryable: event.retryable };
      return next;
    case "done":
      next.done = { reason: event.reason, usage: event.usage };
      next.status = null;
      next.steps = closeReasoning(state.steps, event.at);
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

/** All reasoning of an answer, its rounds separated by a blank line. */
export function reasoningText(state: Pick<MessageState, "steps">): string {
  return state.steps
    .filter((s): s is ReasoningStep => s.kind === "reasoning")
    .map((s) => s.text)
    .join("\n\n");
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
