import type { ChatEvent, DoneReason, EventOf, Usage } from "./events.js";
import type { ToolFailure } from "./tools.js";

export interface ToolCallSummary {
  callId: string;
  name: string;
  args: unknown;
  /** False until its result came, and for a failed call. */
  ok: boolean;
  result?: unknown;
  error?: ToolFailure;
}

/** A run's whole answer, folded from its events: what a non-streaming caller gets. */
export interface RunSummary {
  /** Its token texts, concatenated (every round). */
  text: string;
  /** Its tool calls in call order, each with its result once that came. */
  toolCalls: ToolCallSummary[];
  /** From its `done`; null before it. */
  usage: Usage | null;
  reason: DoneReason | null;
  /** The run's failure, when it ended with an error event. */
  error: EventOf<"error"> | null;
}

/**
 * Folds a run's events, one at a time, into its summary. The server (chat.complete, POST /api/chat) and the typed
 * client (complete over chat.events) both fold with it, so both ways of asking give the same answer.
 */
export class RunSummaryFold {
  readonly summary: RunSummary = { text: "", toolCalls: [], usage: null, reason: null, error: null };
  private readonly calls = new Map<string, ToolCallSummary>();

  add(event: ChatEvent): void {
    const { summary } = this;
    switch (event.type) {
      case "token":
        summary.text += event.text;
        break;
      case "tool-call": {
        const call: ToolCallSummary = { callId: event.callId, name: event.name, args: event.args, ok: false };
        this.calls.set(event.callId, call);
        summary.toolCalls.push(call);
        break;
      }
      case "tool-result": {
        const call = this.calls.get(event.callId);
        if (call) {
          call.ok = event.ok;
          if (event.result !== undefined) call.result = event.result;
          if (event.error) call.error = event.error;
        }
        break;
      }
      case "error":
        summary.error = event;
        break;
      case "done":
        summary.usage = event.usage;
        summary.reason = event.reason;
        break;
      default:
        break;
    }
  }
}
