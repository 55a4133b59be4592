import { emptyUsage, isRetryable } from "@streamchat/core/browser";
import type { RouterOutputs } from "../trpc.js";
import { emptyMessageState, type MessageState, type Step, type ToolCard } from "./reducer.js";

export type ConversationDetail = RouterOutputs["conversations"]["get"];
export type StoredMessageView = ConversationDetail["messages"][number];
export type RunView = ConversationDetail["runs"][number];
/** Where a message is among its versions (edits of a question, regenerated answers); see conversations.get. */
export type MessageVersions = NonNullable<StoredMessageView["versions"]>;

/** A user message and the stored messages of its answer (assistant rounds and tool results). */
export interface Turn {
  user: StoredMessageView;
  answers: StoredMessageView[];
  /** Every run this turn's messages came from, oldest first (a regenerated answer has a newer one). */
  runIds: string[];
}

/** Groups a conversation's messages into turns; system messages are not shown. */
export function buildTurns(messages: readonly StoredMessageView[]): Turn[] {
  const turns: Turn[] = [];
  for (const message of messages) {
    if (message.role === "system") continue;
    if (message.role === "user") {
      turns.push({ user: message, answers: [], runIds: message.runId ? [message.runId] : [] });
      continue;
    }
    const turn = turns.at(-1);
    if (!turn) continue; // an answer without a question cannot be shown sensibly
    turn.answers.push(message);
    if (message.runId && !turn.runIds.includes(message.runId)) turn.runIds.push(message.runId);
  }
  return turns;
}

/**
 * The run whose answer a turn shows: the newest run among its answers, else the one its question started. The
 * messages are the active path, so a turn holds one version of its answer; `runs` (every branch's) are not used:
 * the newest run may be another version's. A regenerate that stored nothing leaves the previous answer on the path.
 */
export function answerRunId(turn: Turn): string | null {
  for (let i = turn.answers.length - 1; i >= 0; i--) {
    const runId = turn.answers[i]!.runId;
    if (runId) return runId;
  }
  return turn.user.runId ?? null;
}

function parseToolContent(content: string): unknown {
  try {
    return JSON.parse(content);
  } catch {
    return content;
  }
}

function toolErrorMessage(result: unknown): string | null {
  if (typeof result !== "object" || result === null || !("error" in result)) return null;
  const error = (result as { error: unknown }).error;
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null && "message" in error) return String(error.message);
  return null;
}

/**
 * The answer of a finished run rebuilt from the stored messages, in the same shape the event reducer
 * produces, so one component renders both. The run's error, tool durations and the features its model refused (the
 * notes the live answer showed) come with the run (conversations.get derives them from its event log).
 */
export function answerFromStored(answers: readonly StoredMessageView[], run: RunView | undefined): MessageState {
  const state = emptyMessageState(run?.id ?? answers.find((m) => m.runId)?.runId ?? null);
  const texts: string[] = [];
  const steps: Step[] = [];
  const tools: ToolCard[] = [];

  for (const message of answers) {
    if (message.role === "assistant") {
      if (message.content) texts.push(message.content);
      // Stored rounds keep their reasoning but not when it happened: no duration to show.
      if (message.thinking) steps.push({ kind: "reasoning", text: message.thinking, startedAt: null, endedAt: null });
      for (const call of message.toolCalls ?? []) {
        tools.push({ callId: call.id, name: call.name, args: call.args, state: "ok" });
        steps.push({ kind: "tool", callId: call.id });
      }
    } else if (message.role === "tool") {
      const result = parseToolContent(message.content);
      const index = tools.findIndex((t) => t.callId === message.toolCallId);
      const errorMessage = toolErrorMessage(result);
      const card: ToolCard = {
        callId: message.toolCallId ?? `tool-${message.id}`,
        name: message.toolName ?? tools[index]?.name ?? "tool",
        args: tools[index]?.args,
        state: errorMessage === null ? "ok" : "error",
        ...(errorMessage === null ? { result } : { error: { code: "tool_failed" as const, message: errorMessage } }),
      };
      if (index >= 0) tools[index] = card;
      else {
        tools.push(card);
        steps.push({ kind: "tool", callId: card.callId });
      }
    }
  }

  // Durations and typed errors of the calls, as the run's tool-result events reported them.
  const results = new Map((run?.toolResults ?? []).map((r) => [r.callId, r]));
  const withResults = tools.map((card): ToolCard => {
    const result = results.get(card.callId);
    if (!result) return card;
    const finished: ToolCard = { ...card, state: result.ok ? "ok" : "error", durationMs: result.durationMs };
    if (result.error) finished.error = result.error;
    return finished;
  });

  return {
    ...state,
    model: run?.model ?? null,
    text: texts.join("\n\n"),
    steps,
    tools: withResults,
    notes: (run?.unsupportedFeatures ?? []).map((f) => f.message),
    error: run?.error ? { ...run.error, retryable: isRetryable(run.error.code) } : null,
    done: { reason: run?.reason ?? "stop", usage: run?.usage ?? emptyUsage() },
  };
}
