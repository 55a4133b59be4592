import type { ChatEvent, EventOf } from "./events.js";
import type { ChatMessage, ToolCall } from "./model.js";
import { toolResultContent, type AnyTool, type ToolOutcome } from "./tools.js";

/** Where a run stood when its process stopped, rebuilt from its event log. */
export interface RunSnapshot {
  /** The messages it had produced, as the run loop would have: assistant messages with their calls, tool results. */
  messages: ChatMessage[];
  /** Its token texts, concatenated. */
  text: string;
  /** Model rounds it completed (one assistant message each). */
  rounds: number;
  /** Calls of its last assistant message without a tool-result yet, in call order. */
  pendingCalls: ToolCall[];
  /** The pending calls that wait for a person: asked (approval-request) and not decided yet. */
  waitingForApproval: ToolCall[];
  /** Logged approval-request events, by callId. */
  requested: Map<string, EventOf<"approval-request">>;
  /** Logged approval-result events, by callId. */
  decided: Map<string, EventOf<"approval-result">>;
  /** The log holds the run's done event: nothing to continue. */
  finished: boolean;
  /** Its last round streamed text without calls (and no done): an answer cut short, not a round to continue. */
  answered: boolean;
}

/**
 * Rebuilds a run's state from its own events (those of one runId, in seq order). `tools` lets a tool's
 * `toModelContent` rebuild the text the model read for a result (MCP tools); otherwise the result as JSON.
 */
export function runSnapshotOf(events: readonly ChatEvent[], tools: readonly AnyTool[] = []): RunSnapshot {
  const messages: ChatMessage[] = [];
  const requested = new Map<string, EventOf<"approval-request">>();
  const decided = new Map<string, EventOf<"approval-result">>();
  let text = "";
  let rounds = 0;
  let finished = false;
  let open: { content: string; thinking: string; calls: ToolCall[] } | undefined;
  /** Calls of the last assistant message written, and which of them have a result. */
  let lastCalls: ToolCall[] = [];
  let results = new Set<string>();
  let lastHadCalls = false;

  const flush = () => {
    if (!open) return;
    const { content, thinking, calls } = open;
    open = undefined;
    if (!content && !thinking && calls.length === 0) return;
    messages.push({ role: "assistant", content, ...(thinking ? { thinking } : {}), ...(calls.length > 0 ? { toolCalls: calls } : {}) });
    rounds += 1;
    lastCalls = calls;
    lastHadCalls = calls.length > 0;
    results = new Set();
  };

  for (const event of events) {
    switch (event.type) {
      case "token":
      case "reasoning":
        // A round's calls come after its text: text after calls is the next round.
        if (open && open.calls.length > 0) flush();
        open ??= { content: "", thinking: "", calls: [] };
        if (event.type === "token") {
          open.content += event.text;
          text += event.text;
        } else open.thinking += event.text;
        break;
      case "tool-call":
        open ??= { content: "", thinking: "", calls: [] };
        open.calls.push({ id: event.callId, name: event.name, args: event.args });
        break;
      case "tool-result": {
        flush();
        results.add(event.callId);
        const outcome: ToolOutcome = event.ok
          ? { ok: true, result: event.result, durationMs: event.durationMs }
          : { ok: false, error: event.error ?? { code: "tool_failed", message: "The tool failed." }, durationMs: event.durationMs };
        messages.push({ role: "tool", toolCallId: event.callId, toolName: event.name, content: modelContentOf(tools, event.name, outcome) });
        break;
      }
      case "approval-request":
        requested.set(event.callId, event);
        break;
      case "approval-result":
        decided.set(event.callId, event);
        break;
      case "done":
        finished = true;
        break;
      default:
        break;
    }
  }
  flush();

  const pendingCalls = lastHadCalls ? lastCalls.filter((call) => !results.has(call.id)) : [];
  return {
    messages,
    text,
    rounds,
    pendingCalls,
    waitingForApproval: pendingCalls.filter((call) => requested.has(call.id) && !decided.has(call.id)),
    requested,
    decided,
    finished,
    answered: rounds > 0 && !lastHadCalls,
  };
}

function modelContentOf(tools: readonly AnyTool[], name: string, outcome: ToolOutcome): string {
  const tool = tools.find((t) => t.name === name);
  if (outcome.ok && tool?.toModelContent) {
    try {
      return tool.toModelContent(outcome.result);
    } catch {
      // A result the tool cannot read back (its shape changed): the JSON is still what it returned.
    }
  }
  return toolResultContent(outcome);
}
