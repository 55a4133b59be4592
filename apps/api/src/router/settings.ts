import { maxInstructionsChars, samplingSchema } from "@streamchat/core";
import { z } from "zod";
import { isStorableText } from "../input-schemas.js";
import { authedProcedure, router, type Context } from "../trpc.js";

// Custom instructions (the user's, and a conversation's) go into every request's system message: core's limit.
export { maxInstructionsChars };

export const instructionsSchema = z
  .string()
  .trim()
  .max(maxInstructionsChars, `must be at most ${maxInstructionsChars} characters`)
  .refine(isStorableText, { error: "must not contain NUL or unpaired surrogate characters" });

/** Saved settings, once the user's other tabs and devices are told (the feed's `settings-changed`) to read them again. */
function told<T>(ctx: Pick<Context, "publish"> & { userId: string }, saved: T): T {
  ctx.publish.settingsChanged(ctx.userId);
  return saved;
}

export const settingsRouter = router({
  /**
   * The user's settings that apply to all their chats: their custom instructions ("" when none) and their sampling
   * (temperature, top P, seed; each null: the model's), which a conversation's own settings override one by one.
   */
  get: authedProcedure.query(({ ctx }) => ctx.store.getUserSettings(ctx.userId)),

  /**
   * Replaces the user's custom instructions ("" clears them). Answers started afterwards, on any replica, are given
   * them in their system message; an answer already running keeps what it started with.
   */
  setInstructions: authedProcedure
    .input(z.object({ instructions: instructionsSchema }))
    .mutation(async ({ ctx, input }) => told(ctx, await ctx.store.setInstructions(ctx.userId, input.instructions))),

  /**
   * Sets the settings of the user's sampling it names (null gives one back to the model; those not named stay as they
   * are) and returns the user's settings. Answers started afterwards, on any replica, in a conversation that does not
   * set that setting itself, are sampled with it; one already running keeps what it started with.
   */
  setSampling: authedProcedure
    .input(z.object({ sampling: samplingSchema.partial() }))
    .mutation(async ({ ctx, input }) => told(ctx, await ctx.store.setUserSampling(ctx.userId, input.sampling))),
});
