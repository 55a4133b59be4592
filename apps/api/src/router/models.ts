import { promptRoom, type ModelInfo } from "@streamchat/core";
import { isStoreError, type ChatStore } from "@streamchat/store";
import { z } from "zod";
import { notFound } from "../errors.js";
import { idSchema } from "../input-schemas.js";
import { systemText, type ContextInstructions } from "../runs/context.js";
import { authedProcedure, router } from "../trpc.js";
import { modelListOf } from "./model-list-cache.js";
import { capabilitiesInWords } from "./model-words.js";
import { instructionsSchema } from "./settings.js";

/**
 * The simulator's fault models (sim-error-mid-stream, sim-stall…) exist for tests; offering them in the
 * picker would only let demo users pick a model that fails on purpose. SIM_SHOW_FAULT_MODELS=1 lists them.
 */
export function isFaultModel(name: string): boolean {
  return name.startsWith("sim-");
}

/** A models.list item: the provider's facts plus the capabilities in words for the picker. */
export type ListedModel = ModelInfo & { capabilitiesInWords: string[] };

const listInput = z
  .object({
    /** Read the list anew instead of the one cached for a few seconds (the picker's refresh). */
    refresh: z.boolean().optional(),
  })
  .strict()
  .optional();

const roomInput = z
  .object({
    /** The model a message would go to; the server's default model when absent. */
    model: idSchema.optional(),
    /** The conversation the message would go to: its own instructions count too. A new chat's when absent. */
    conversationId: idSchema.optional(),
    /** A new chat's instructions (no conversationId), which its first message will take along (chat.send): they count too. */
    instructions: instructionsSchema.optional(),
  })
  .strict()
  .refine((input) => input.conversationId === undefined || input.instructions === undefined, {
    error: "instructions are a new chat's; a conversation's own are read from it",
    path: ["instructions"],
  })
  .optional();

/**
 * The instructions a message's run would get: the user's, and the conversation's when it is the user's (NOT_FOUND
 * otherwise: the store's getRunSettings, which runs use, does not check who owns the conversation).
 */
async function roomInstructions(store: ChatStore, userId: string, conversationId: string | undefined, newChat = ""): Promise<ContextInstructions> {
  const [settings, own] = await Promise.all([
    store.getUserSettings(userId),
    conversationId === undefined
      ? undefined
      : store.getConversationSettings(userId, conversationId).catch((error: unknown) => {
          throw isStoreError(error, "not_found") ? notFound("Conversation") : error;
        }),
  ]);
  return { user: settings.instructions, conversation: own?.instructions ?? newChat };
}

export const modelsRouter = router({
  /**
   * How much of the model's window a new message (with its files) may take in the caller's runs before the engine cuts
   * it: core's promptRoom with the caller's custom instructions (and the conversation's), tools, MAX_CONTEXT_TOKENS and the model's
   * calibration, as a run would count them. `limit` and `room` are absent when the model does not say its window.
   */
  room: authedProcedure.input(roomInput).query(async ({ ctx, input, signal }) => {
    const [tools, instructions] = await Promise.all([
      ctx.tools.toolsFor(ctx.userId),
      roomInstructions(ctx.store, ctx.userId, input?.conversationId, input?.instructions),
    ]);
    return promptRoom({
      model: ctx.provider.model,
      modelName: input?.model ?? ctx.provider.defaultModel,
      system: systemText(ctx.config.systemPrompt, instructions),
      tools,
      maxContextTokens: ctx.config.maxContextTokens,
      signal: signal ?? AbortSignal.timeout(30_000),
    });
  }),
  list: authedProcedure.input(listInput).query(async ({ ctx, input }) => {
    const { provider } = ctx;
    let models: ModelInfo[] = [];
    try {
      const runs = ctx.runs.stats();
      models = await modelListOf(provider).get({ refresh: input?.refresh ?? false, stamp: `${runs.startedTotal}/${runs.activeRuns}` });
    } catch {
      // Unreachable provider: the picker still offers the default model; `health` tells why.
    }
    if (!ctx.config.simShowFaultModels) models = models.filter((m) => !isFaultModel(m.name));
    const listed: ListedModel[] = models.map((m) => ({ ...m, capabilitiesInWords: capabilitiesInWords(m) }));
    return { provider: provider.kind, demo: provider.demo, defaultModel: provider.defaultModel, models: listed };
  }),
});
