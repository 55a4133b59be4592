import { maxInstructionsChars } from "@streamchat/core";
import { z } from "zod";
import { isStorableText } from "../input-schemas.js";
import { authedProcedure, router } from "../trpc.js";

// Custom instructions (the user's, and a conversation's) go into every request's system message: core's limit.
export { maxInstructionsChars };

export const instructionsSchema = z
  .string()
  .trim()
  .max(maxInstructionsChars, `must be at most ${maxInstructionsChars} characters`)
  .refine(isStorableText, { error: "must not contain NUL or unpaired surrogate characters" });

export const settingsRouter = router({
  /** The user's settings that apply to all their chats: their custom instructions ("" when none). */
  get: authedProcedure.query(({ ctx }) => ctx.store.getUserSettings(ctx.userId)),

  /**
   * Replaces the user's custom instructions ("" clears them). Answers started afterwards, on any replica, are given
   * them in their system message; an answer already running keeps what it started with.
   */
  setInstructions: authedProcedure
    .input(z.object({ instructions: instructionsSchema }))
    .mutation(({ ctx, input }) => ctx.store.setInstructions(ctx.userId, input.instructions)),
});
