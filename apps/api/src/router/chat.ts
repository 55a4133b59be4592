import { z } from "zod";
import { approvalDecisionSchema, emptyUsage, samplingSchema, type Sampling } from "@streamchat/core";
import { attachmentsSchema, checkAttachments, thinkSchema } from "../attachments.js";
import { AppError, notFound } from "../errors.js";
import { idSchema, parsedSync } from "../input-schemas.js";
import { summarize } from "../runs/transcript.js";
import { RunEventFeed } from "./run-event-feed.js";
import { instructionsSchema } from "./settings.js";
import { authedProcedure, router, type Context } from "../trpc.js";

const id = idSchema;
// Emptiness and MAX_MESSAGE_CHARS are checked by the RunManager (shared with REST), which knows the limit.
const message = z.string().max(10_000_000);
const model = id.optional();
const messageId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/**
 * Ask the model to reason first (true, or a level passed to Ollama unchanged); a model without the thinking
 * capability ends the run with model_unsupported.
 */
const think = thinkSchema;
/** Images on the message (DESIGN §9): checked before anything is stored or started (attachments.ts). */
const attachments = attachmentsSchema;

/** A new conversation's own instructions and sampling, stored with it before its first answer reads them. */
const instructions = instructionsSchema.optional();
const sampling = samplingSchema.optional();

/** A new conversation's settings: an existing one's are changed by conversations.setInstructions / setSampling. */
type NewConversationSettings = { conversationId?: string | null | undefined; instructions?: string | undefined; sampling?: Sampling | undefined };
const newConversationOnly = <S extends z.ZodType<NewConversationSettings>>(schema: S): S =>
  schema
    .refine((input) => !input.conversationId || input.instructions === undefined, {
      error: "instructions go with a new conversation; change a conversation's with conversations.setInstructions",
      path: ["instructions"],
    })
    .refine((input) => !input.conversationId || input.sampling === undefined, {
      error: "sampling goes with a new conversation; change a conversation's with conversations.setSampling",
      path: ["sampling"],
    });

/** "12" → 12; tRPC hands us the SSE Last-Event-ID (or ?lastEventId=) as this string. */
const lastEventId = z
  .string()
  .regex(/^\d+$/, { error: "lastEventId must be an event id received from this subscription" })
  .transform(Number)
  .nullish();

function attachmentCheck(ctx: Pick<Context, "provider" | "config">, model: string | undefined) {
  return { model: ctx.provider.model, modelName: model ?? ctx.provider.defaultModel, config: ctx.config };
}

export const chatRouter = router({
  // The inputs of every answer (chat.send, then chat.events) are parsed synchronously (parsedSync says why).
  send: authedProcedure
    .input(
      parsedSync(
        newConversationOnly(
          z.object({
            conversationId: id.nullish(),
            message,
            model,
            clientRequestId: id.optional(),
            think,
            attachments,
            instructions,
            sampling,
          }),
        ),
      ),
    )
    .mutation(async ({ ctx, input, signal }) => {
      await checkAttachments(input.attachments, attachmentCheck(ctx, input.model), signal);
      return ctx.runs.start({
        userId: ctx.userId,
        conversationId: input.conversationId ?? undefined,
        message: input.message,
        model: input.model,
        clientRequestId: input.clientRequestId,
        think: input.think,
        attachments: input.attachments,
        instructions: input.instructions,
        sampling: input.sampling,
      });
    }),

  events: authedProcedure
    .input(parsedSync(z.object({ runId: id, lastEventId })))
    .subscription(async ({ ctx, input, signal }) => {
      const run = await ctx.runs.getRunForUser(ctx.userId, input.runId);
      if (!run) throw notFound("Run");
      if (input.lastEventId) {
        // An id this run never sent (from another run, or made up) would skip its done and end the stream without it.
        const last = await ctx.runs.lastSentSeq(run);
        if (last !== null && input.lastEventId > last) {
          throw new AppError("bad_request", `lastEventId ${input.lastEventId} is not an event of this run: its last event is ${last}.`);
        }
      }
      // Each event as tracked(seq, event). Model failures arrive as error + done events; throwing after this
      // point would make clients reconnect forever.
      return new RunEventFeed((direct) => ctx.runs.subscribe(run.id, input.lastEventId ?? 0, signal, direct));
    }),

  /** `{ cancelled: true }`, or `{ cancelled: false, reason: "ended" | "unreachable" }` (CancelOutcome, run-manager.ts). */
  cancel: authedProcedure
    .input(z.object({ runId: id }))
    .mutation(({ ctx, input }) => ctx.runs.cancel(ctx.userId, input.runId)),

  /** Approves or denies a tool call of the user's run that waits for approval (its approval-request event). */
  approve: authedProcedure
    .input(z.object({ runId: id, callId: id, ...approvalDecisionSchema.shape }))
    .mutation(({ ctx, input, signal }) => ctx.runs.approve(ctx.userId, input, signal)),

  complete: authedProcedure
    .input(newConversationOnly(z.object({ conversationId: id.nullish(), message, model, think, attachments, instructions, sampling })))
    .mutation(async ({ ctx, input, signal }) => {
      await checkAttachments(input.attachments, attachmentCheck(ctx, input.model), signal);
      const started = await ctx.runs.start({
        userId: ctx.userId,
        conversationId: input.conversationId ?? undefined,
        message: input.message,
        model: input.model,
        think: input.think,
        attachments: input.attachments,
        instructions: input.instructions,
        sampling: input.sampling,
      });
      const summary = await summarize(ctx.runs.subscribe(started.runId, 0, signal));
      if (summary.error) throw new AppError(summary.error.code, summary.error.message);
      if (summary.reason === "cancelled") throw new AppError("cancelled");
      return {
        ...started,
        text: summary.text,
        toolCalls: summary.toolCalls,
        usage: summary.usage ?? emptyUsage(),
      };
    }),

  /** A new version of an answer (the previous ones stay): `messageId` is any message of it; default the last answer. */
  regenerate: authedProcedure
    .input(z.object({ conversationId: id, messageId: messageId.optional(), model, think }))
    .mutation(({ ctx, input }) =>
      ctx.runs.regenerate({
        userId: ctx.userId,
        conversationId: input.conversationId,
        messageId: input.messageId,
        model: input.model,
        think: input.think,
      }),
    ),

  /**
   * Writes on from the answer at the end of the active path, cut short by a stop, the length limit or a failure: a new
   * version of it that starts with all of it (the answer stays as the version before). bad_request when the
   * conversation does not end with the model's text.
   */
  continue: authedProcedure
    .input(z.object({ conversationId: id, model, think }))
    .mutation(({ ctx, input }) =>
      ctx.runs.continue({ userId: ctx.userId, conversationId: input.conversationId, model: input.model, think: input.think }),
    ),

  /** A new version of any user message (the original and its answers stay), then its answer. */
  edit: authedProcedure
    .input(z.object({ conversationId: id, messageId, message, model, think, attachments }))
    .mutation(async ({ ctx, input, signal }) => {
      await checkAttachments(input.attachments, attachmentCheck(ctx, input.model), signal);
      return ctx.runs.edit({
        userId: ctx.userId,
        conversationId: input.conversationId,
        messageId: input.messageId,
        message: input.message,
        model: input.model,
        think: input.think,
        attachments: input.attachments,
      });
    }),
});
