import { z } from "zod";
import type { ChatMessage, ToolCall } from "@streamchat/core";
import type { ChatStore, Conversation, RunRecord, StoredMessage } from "@streamchat/store";
import { notFound } from "../errors.js";
import { idSchema, titleSchema } from "../input-schemas.js";
import { emptyOutcome, outcomeEventTypes, runOutcomeFromEvents } from "../runs/run-outcome.js";
import { authedProcedure, router } from "../trpc.js";
import { conversationFeedProcedure } from "./conversation-feed.js";

const conversationId = idSchema;

function conversationView(conversation: Conversation, activeRunId: string | null) {
  return {
    id: conversation.id,
    title: conversation.title,
    createdAt: conversation.createdAt,
    updatedAt: conversation.updatedAt,
    activeRunId,
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
async function runView(store: ChatStore, run: RunRecord, messages: readonly StoredMessage[]) {
  // Only finished runs that failed or called tools have anything to find in their log, and only their
  // error and tool-result events: the tokens of a long answer are never read. A running run is followed
  // live by the client instead.
  const failed = run.reason === "error" || run.reason === "interrupted";
  const usedTools = messages.some((m) => m.runId === run.id && m.message.role === "tool");
  const outcome =
    run.status === "done" && (failed || usedTools)
      ? runOutcomeFromEvents(await store.readEventsOfTypes(run.id, outcomeEventTypes))
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

/** The conversations of the user answering now, on any process: the running runs are few (MAX_RUNS_PER_USER each). */
async function activeRunsOf(store: ChatStore, userId: string): Promise<Map<string, string>> {
  const running = await store.listRunningRuns();
  return new Map(running.filter((run) => run.userId === userId).map((run) => [run.conversationId, run.id]));
}

export const conversationsRouter = router({
  list: authedProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).optional() }).optional())
    .query(async ({ ctx, input }) => {
      const [conversations, active] = await Promise.all([
        ctx.store.listConversations(ctx.userId, input?.limit === undefined ? undefined : { limit: input.limit }),
        activeRunsOf(ctx.store, ctx.userId),
      ]);
      return conversations.map((c) => conversationView(c, active.get(c.id) ?? null));
    }),

  get: authedProcedure.input(z.object({ conversationId })).query(async ({ ctx, input }) => {
    const conversation = await ctx.store.getConversation(ctx.userId, input.conversationId);
    if (!conversation) throw notFound("Conversation");
    const [messages, records] = await Promise.all([ctx.store.listMessages(conversation.id), ctx.store.listRuns(conversation.id)]);
    const runs = await Promise.all(records.map((run) => runView(ctx.store, run, messages)));
    const active = records.find((run) => run.status === "running")?.id ?? null;
    return { ...conversationView(conversation, active), messages: messages.map(messageView), runs };
  }),

  rename: authedProcedure
    .input(z.object({ conversationId, title: titleSchema }))
    .mutation(async ({ ctx, input }) => {
      const renamed = await ctx.store.renameConversation(ctx.userId, input.conversationId, input.title);
      if (!renamed) throw notFound("Conversation");
      ctx.publish.titleChanged(ctx.userId, renamed.id, renamed.title);
      return conversationView(renamed, (await ctx.store.activeRun(renamed.id))?.id ?? null);
    }),

  delete: authedProcedure.input(z.object({ conversationId })).mutation(async ({ ctx, input }) => {
    if (!(await ctx.store.getConversation(ctx.userId, input.conversationId))) throw notFound("Conversation");
    // Stop a run still answering here first, so it does not write into a deleted conversation. (A run answering
    // on another process finds its conversation gone at its next write and stops.)
    const active = ctx.runs.activeRunId(input.conversationId);
    if (active) {
      await ctx.runs.cancel(ctx.userId, active);
      await ctx.runs.whenEnded(active);
    }
    if (!(await ctx.store.deleteConversation(ctx.userId, input.conversationId))) throw notFound("Conversation");
    ctx.publish.conversationDeleted(ctx.userId, input.conversationId);
    return { deleted: true as const };
  }),

  feed: conversationFeedProcedure,
});
