import { z } from "zod";
import type { ChatMessage, ToolCall } from "@streamchat/core";
import type { ChatStore, Conversation, RunRecord, StoredMessage } from "@streamchat/store";
import { notFound } from "../errors.js";
import type { RunManager } from "../runs/run-manager.js";
import { emptyOutcome, outcomeEventTypes, runOutcomeFromEvents } from "../runs/run-outcome.js";
import { authedProcedure, router } from "../trpc.js";

const conversationId = z.string().min(1).max(200);

function conversationView(conversation: Conversation, runs: RunManager) {
  return {
    id: conversation.id,
    title: conversation.title,
    createdAt: conversation.createdAt,
    updatedAt: conversation.updatedAt,
    activeRunId: runs.activeRunId(conversation.id),
  };
}

/** One shape for every role, so clients can read `toolCalls` etc. without narrowing first. */
export interface MessageView {
  id: number;
  role: ChatMessage["role"];
  content: string;
  thinking?: string;
  toolCalls?: ToolCall[];
  toolCallId?: string;
  toolName?: string;
  runId: string | null;
  createdAt: number;
}

function messageView({ id, message, runId, createdAt }: StoredMessage): MessageView {
  const base: MessageView = { id, role: message.role, content: message.content, runId, createdAt };
  switch (message.role) {
    case "assistant":
      return {
        ...base,
        ...(message.thinking ? { thinking: message.thinking } : {}),
        ...(message.toolCalls?.length ? { toolCalls: message.toolCalls } : {}),
      };
    case "tool":
      return { ...base, toolCallId: message.toolCallId, toolName: message.toolName };
    default:
      return base;
  }
}

/**
 * A run as conversations.get shows it. `error` and `toolResults` come from the run's event log, so a
 * page loaded later shows a failed answer's message and tool durations without replaying the run.
 */
function runView(store: ChatStore, run: RunRecord, messages: readonly StoredMessage[]) {
  // Only finished runs that failed or called tools have anything to find in their log, and only their
  // error and tool-result events: the tokens of a long answer are never read. A running run is followed
  // live by the client instead.
  const failed = run.reason === "error" || run.reason === "interrupted";
  const usedTools = messages.some((m) => m.runId === run.id && m.message.role === "tool");
  const outcome =
    run.status === "done" && (failed || usedTools)
      ? runOutcomeFromEvents(store.readEventsOfTypes(run.id, outcomeEventTypes))
      : emptyOutcome();
  return {
    id: run.id,
    status: run.status,
    reason: run.reason,
    usage: run.usage,
    model: run.model,
    createdAt: run.createdAt,
    error: outcome.error,
    toolResults: outcome.toolResults,
  };
}

export const conversationsRouter = router({
  list: authedProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).optional() }).optional())
    .query(({ ctx, input }) =>
      ctx.store
        .listConversations(ctx.userId, input?.limit === undefined ? undefined : { limit: input.limit })
        .map((c) => conversationView(c, ctx.runs)),
    ),

  get: authedProcedure.input(z.object({ conversationId })).query(({ ctx, input }) => {
    const conversation = ctx.store.getConversation(ctx.userId, input.conversationId);
    if (!conversation) throw notFound("Conversation");
    const messages = ctx.store.listMessages(conversation.id);
    const runs = ctx.store.listRuns(conversation.id).map((run) => runView(ctx.store, run, messages));
    return { ...conversationView(conversation, ctx.runs), messages: messages.map(messageView), runs };
  }),

  rename: authedProcedure
    .input(z.object({ conversationId, title: z.string().trim().min(1).max(200) }))
    .mutation(({ ctx, input }) => {
      const renamed = ctx.store.renameConversation(ctx.userId, input.conversationId, input.title);
      if (!renamed) throw notFound("Conversation");
      return conversationView(renamed, ctx.runs);
    }),

  delete: authedProcedure.input(z.object({ conversationId })).mutation(async ({ ctx, input }) => {
    if (!ctx.store.getConversation(ctx.userId, input.conversationId)) throw notFound("Conversation");
    // Stop a run still answering first, so it does not write into a deleted conversation.
    const active = ctx.runs.activeRunId(input.conversationId);
    if (active) {
      ctx.runs.cancel(ctx.userId, active);
      await ctx.runs.whenEnded(active);
    }
    if (!ctx.store.deleteConversation(ctx.userId, input.conversationId)) throw notFound("Conversation");
    return { deleted: true as const };
  }),
});
