import type { ChatEvent, EventOf } from "./events.js";
import type { ChatMessage, ToolCall } from "./model.js";
import { parseToolArgs } from "./providers/call-id.js";
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
  /** Calls of the last assistant message written, and the tool messages of those that have a result. */
  let lastCalls: ToolCall[] = [];
  let results = new Map<string, ChatMessage>();
  let lastHadCalls = false;

  /**
   * Writes the last round's tool messages in call order, as the run loop does once a round's calls have settled;
   * the log has them in the order they finished (parallel calls). A result for no call of the round stays last.
   */
  const writeResults = () => {
    for (const call of lastCalls) {
      const message = results.get(call.id);
      if (message) messages.push(message);
    }
    const ids = new Set(lastCalls.map((call) => call.id));
    for (const [id, message] of results) if (!ids.has(id)) messages.push(message);
  };

  const flush = () => {
    if (!open) return;
    const { content, thinking, calls } = open;
    open = undefined;
    if (!content && !thinking && calls.length === 0) return;
    writeResults();
    messages.push({ role: "assistant", content, ...(thinking ? { thinking } : {}), ...(calls.length > 0 ? { toolCalls: calls } : {}) });
    rounds += 1;
    lastCalls = calls;
    lastHadCalls = calls.length > 0;
    results = new Map();
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
        open.calls.push(loggedCall(event));
        break;
      case "tool-result": {
        flush();
        // The first answer counts: the run loop writes one per call.
        if (results.has(event.callId)) break;
        const outcome: ToolOutcome = event.ok
          ? { ok: true, result: event.result, durationMs: event.durationMs }
          : { ok: false, error: event.error ?? { code: "tool_failed", message: "The tool failed." }, durationMs: event.durationMs };
        results.set(event.callId, { role: "tool", toolCallId: event.callId, toolName: event.name, content: modelContentOf(tools, event.name, outcome) });
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
  writeResults();

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

/**
 * The call as the engine had it. Arguments that did not parse are logged as their raw text without the provider's
 * `argsError`; parsing the text again gives it back (parseToolArgs, as the providers do). Logged text that parses
 * was a JSON string the model sent, not such a call. Without `argsError` Ollama would be sent the text as
 * `arguments` (it wants an object), and a pending call would fail validation with another message.
 */
function loggedCall(event: EventOf<"tool-call">): ToolCall {
  const call: ToolCall = { id: event.callId, name: event.name, args: event.args };
  if (typeof event.args === "string") {
    const { argsError } = parseToolArgs(event.args);
    if (argsError !== undefined) call.argsError = argsError;
  }
  return call;
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

/**
 * Puts the tool messages after the last assistant message in the order of its calls, as the run loop writes a
 * round. For a resumed round: the results logged before the restart are in `messages` before the new ones.
 */
export function roundInCallOrder(messages: ChatMessage[]): void {
  const at = messages.findLastIndex((m) => m.role === "assistant");
  const last = messages[at];
  if (last?.role !== "assistant" || !last.toolCalls) return;
  const order = new Map(last.toolCalls.map((call, i) => [call.id, i]));
  const rank = (m: ChatMessage) => (m.role === "tool" ? (order.get(m.toolCallId) ?? order.size) : order.size);
  const round = messages.slice(at + 1).sort((a, b) => rank(a) - rank(b));
  messages.splice(at + 1, round.length, ...round);
}
