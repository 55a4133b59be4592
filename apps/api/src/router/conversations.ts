import { z } from "zod";
import type { ChatMessage, ToolCall } from "@streamchat/core";
import type { Conversation, StoredMessage } from "@streamchat/store";
import { notFound } from "../errors.js";
import type { RunManager } from "../runs/run-manager.js";
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
    // The store has no per-conversation run listing; every run is referenced by its messages
    // (the user message that started it, or the answer of a regenerate).
    const runIds = new Set<string>();
    for (const m of messages) if (m.runId) runIds.add(m.runId);
    const active = ctx.runs.activeRunId(conversation.id);
    if (active) runIds.add(active);
    const runs = [...runIds].flatMap((runId) => {
      const run = ctx.store.getRun(runId);
      return run ? [{ id: run.id, status: run.status, reason: run.reason, usage: run.usage, model: run.model }] : [];
    });
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
