import { z } from "zod";

const notStorable = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Text every store keeps exactly as given: no NUL (PostgreSQL refuses it in text; SQLite cuts strings at it in
 * places) and no unpaired surrogate (not valid UTF-8: stored as U+FFFD, so two different ids could become one).
 * Ids, titles and model names are checked with it at the edge; message text needs no check (the store keeps it as
 * JSON, which escapes both).
 */
export function isStorableText(value: string): boolean {
  return !notStorable.test(value);
}

const storable = { error: "must not contain NUL or unpaired surrogate characters" } as const;

/** Conversation, run and client request ids, model names. */
export const idSchema = z.string().min(1).max(200).refine(isStorableText, storable);

/** A conversation title set by the user. */
export const titleSchema = z.string().trim().min(1).max(200).refine(isStorableText, storable);
