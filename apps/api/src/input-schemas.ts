import { isStorableText } from "@streamchat/core";
import { z } from "zod";

/** Two different ids with unpaired surrogates could become one once stored: see core's storable-text.ts. */
export { isStorableText };

const storable = { error: "must not contain NUL or unpaired surrogate characters" } as const;

/** Conversation, run and client request ids, model names. */
export const idSchema = z.string().min(1).max(200).refine(isStorableText, storable);

/** A conversation title set by the user. */
export const titleSchema = z.string().trim().min(1).max(200).refine(isStorableText, storable);
